"""The RestrictedPython sandbox that every script, condition and timer expression runs in.

SpiffWorkflow's default environment is plain exec/eval. This one compiles with
RestrictedPython (no imports, no dunder attributes, no `open`, no `__import__`) and runs
with guarded attribute, item and iteration access and a short list of safe builtins.

Each run has a time budget: every pass of a loop (a `while`, a `for`, a comprehension) checks
the clock, so a script that never ends stops with an error instead of holding a web worker
or the scheduler forever; `range` is capped so no single builtin call runs for long.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine import sandbox_sizes
from engine.errors import SandboxViolation

# How long one script, condition or timer expression may run, in seconds of wall-clock time.
TIME_LIMIT_SECONDS = 2.0
# The longest `range` a diagram may ask for: enough for any list of seats or pillars.
MAX_RANGE = 100_000


class ScriptTimeLimit(SandboxViolation):
    """A script or expression ran past the sandbox's time limit."""


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SandboxViolation(
            f"range() of {len(numbers)} numbers is too long for a diagram (at most {MAX_RANGE})"
        )
    return numbers


_EXTRA_BUILTINS: dict[str, Any] = {
    "range": _bounded_range,
    "pow": sandbox_sizes.bounded_pow,
    "all": all,
    "any": any,
    "dict": dict,
    "enumerate": enumerate,
    "filter": filter,
    "list": list,
    "map": map,
    "max": max,
    "min": min,
    "reversed": reversed,
    "set": set,
    "sum": sandbox_sizes.bounded_sum,
}


def _builtins() -> dict[str, Any]:
    builtins = dict(safe_builtins)
    builtins.update(_EXTRA_BUILTINS)
    return builtins


def _guards() -> dict[str, Any]:
    return {
        "__builtins__": _builtins(),
        "_getattr_": _getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": sandbox_sizes.in_place,
        **sandbox_sizes.guards(),
    }


_safer_getattr: Callable[..., Any] = safer_getattr


def _getattr(owner: Any, name: str, *default: Any) -> Any:
    """RestrictedPython's attribute guard; a text's padding, replacing and joining methods
    come back checked for the length they would build."""
    return sandbox_sizes.bounded_method(owner, name, _safer_getattr(owner, name, *default))


# Builtins the sandbox does not provide that reach beyond the procedure's data. Naming one
# would only fail when the step runs; refusing it at compile time lets the linter say so.
_OUTSIDE_NAMES = frozenset({"open", "compile", "globals", "locals", "getattr", "breakpoint"})


class _DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus no imports and no builtins that reach past the data."""

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in _OUTSIDE_NAMES:
            self.error(node, f'"{node.id}" is not available in a diagram')
        return super().visit_Name(node)

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "imports are not allowed in a diagram")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "imports are not allowed in a diagram")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """`a * b`, `a ** b`, `a << b`, `a + b` and `a % b` become calls of their size guards."""
        guarded = sandbox_sizes.GUARDED_OPERATORS.get(type(node.op))
        if guarded is None:
            checked: ast.AST = self.node_contents_visit(node)
            return checked
        # Written with constants only: say so now, so the editor and the linter refuse it.
        too_big = sandbox_sizes.constant_too_big(node)
        if too_big is not None:
            self.error(node, too_big)
            return node
        visited = self.node_contents_visit(node)
        call = ast.Call(
            func=ast.Name(id=guarded[0], ctx=ast.Load()),
            args=[visited.left, visited.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        """`f"{x:>{w}}"`: the format after the colon goes through its size guard first."""
        visited: ast.FormattedValue = self.node_contents_visit(node)
        if visited.format_spec is None:
            return visited
        checked = ast.Call(
            func=ast.Name(id=sandbox_sizes.FORMAT_SPEC_GUARD, ctx=ast.Load()),
            args=[visited.format_spec],
            keywords=[],
        )
        visited.format_spec = ast.JoinedStr(
            values=[ast.FormattedValue(value=checked, conversion=-1, format_spec=None)]
        )
        return ast.fix_missing_locations(ast.copy_location(visited, node))

    def visit_While(self, node: ast.While) -> ast.AST:
        checked = self.node_contents_visit(node)
        _count_each_pass(node)
        return checked


def _count_each_pass(loop: ast.While) -> None:
    """Put `_step_()` first in the loop's body: the call that checks the time budget."""
    step = ast.Expr(ast.Call(func=ast.Name(id="_step_", ctx=ast.Load()), args=[], keywords=[]))
    for node in ast.walk(step):
        ast.copy_location(node, loop)
    loop.body.insert(0, step)


class _Budget:
    """The time one run may take; `step` and `getiter` stop the run once it is spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def step(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptTimeLimit(
                f"did not finish within {self.seconds:g} seconds and was stopped; "
                "look for a loop that never ends"
            )

    def getiter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.step()
            yield item

    def guards(self) -> dict[str, Callable[..., Any]]:
        return {"_step_": self.step, "_getiter_": self.getiter}


def _explain(errors: Sequence[str]) -> str:
    return "; ".join(e.removeprefix("Line 1: ") for e in errors)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression (a condition, a timer value) under the sandbox's rules."""
    try:
        result = compile_restricted_eval(source.strip(), "<expression>", policy=_DiagramPolicy)
    except SyntaxError as err:  # pragma: no cover - RestrictedPython reports these as errors
        raise SandboxViolation(f"is not a valid expression: {err.msg}") from err
    if result.errors or result.code is None:
        raise SandboxViolation(_explain(result.errors) or "is not a valid expression")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script task's code under the sandbox's rules."""
    result = compile_restricted_exec(source, "<script>", policy=_DiagramPolicy)
    if result.errors or result.code is None:
        raise SandboxViolation(_explain(result.errors) or "is not a valid script")
    return result.code


class SandboxEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """Task data as variables, RestrictedPython as the interpreter."""

    def __init__(self, functions: dict[str, Any] | None = None) -> None:
        globals_ = _guards()
        globals_.update(functions or {})
        super().__init__(globals_)

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Any = None
    ) -> Any:
        code = compile_expression(expression)
        scope: dict[str, Any] = dict(context)
        scope.update(external_context or {})
        scope.update(self.globals)  # last, so task data can never replace a guard
        scope.update(_Budget(TIME_LIMIT_SECONDS).guards())
        return eval(code, scope)  # noqa: S307 - restricted code object, guarded globals

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = compile_script(script)
        self.check_for_overwrite(context, external_context or {})
        context.update(external_context or {})
        context.update(self.globals)
        budget = _Budget(TIME_LIMIT_SECONDS).guards()
        context.update(budget)
        try:
            exec(code, context)  # noqa: S102 - restricted code object, guarded globals
        finally:
            for name in budget:
                context.pop(name, None)
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def script_engine(functions: dict[str, Any] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine that runs everything in the sandbox.

    Diagrams get the date helpers of engine.dates; service tasks go to registered handlers.
    """
    from engine.dates import DIAGRAM_FUNCTIONS
    from engine.services import ServiceScriptEngine

    return ServiceScriptEngine(
        environment=SandboxEnvironment({**DIAGRAM_FUNCTIONS, **(functions or {})})
    )
