"""The RestrictedPython sandbox that every script, condition and timer expression runs in.

SpiffWorkflow's default environment is plain exec/eval. This one compiles with
RestrictedPython (no imports, no dunder attributes, no `open`, no `__import__`) and runs
with guarded attribute, item and iteration access and a short list of safe builtins.

Each run has a time budget and a memory budget, checked at every step the script takes:
every pass of a loop (a `while`, a `for`, a comprehension), every call of a function or a
lambda (also when a builtin such as `map` or `sorted` calls it), and every item that `map`,
`filter`, `enumerate` and `reversed` hand on (also to a builtin that consumes them in C, such
as `any` or `list`). Between two steps the script can only do one operation on values it
already holds, each bounded by engine.sandbox.sizes and `range`'s cap; so a script that never
ends or keeps growing stops with an error instead of holding a web worker or the scheduler.
"""

from __future__ import annotations

import ast
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
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
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from engine.errors import SandboxViolation
from engine.sandbox import sizes

# How long one script, condition or timer expression may run, in seconds of wall-clock time.
TIME_LIMIT_SECONDS = 2.0
# How much one run may grow the server process beyond the largest it has been so far.
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024
# How often a run looks at the process's memory (reading it costs about a microsecond).
_MEMORY_CHECK_SECONDS = 0.001
# The longest `range` a diagram may ask for: enough for any list of seats or pillars.
MAX_RANGE = 100_000


class ScriptTimeLimit(SandboxViolation):
    """A script or expression ran past the sandbox's time limit."""


class ScriptMemoryLimit(SandboxViolation):
    """A script or expression took more memory than the sandbox allows."""


@dataclass(slots=True)
class _Run:
    """The budget of the run going on in this thread: when it must end, how big it may grow."""

    seconds: float
    deadline: float
    peak_limit: int  # 0 until the first memory check
    next_memory_check: float


# The run under way in this thread (each web request and the scheduler have their own).
_RUN: ContextVar[_Run | None] = ContextVar("sandbox_run", default=None)


def _peak_memory() -> int:
    """The most memory this process has held so far, in bytes (Linux counts kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def step() -> None:
    """One step of the run under way: stop it once its time or its memory is spent."""
    run = _RUN.get()
    if run is None:  # not inside a run: a lambda kept from one, called by nothing here
        return
    now = time.monotonic()
    if now > run.deadline:
        raise ScriptTimeLimit(
            f"did not finish within {run.seconds:g} seconds and was stopped; "
            "look for a loop or a function that repeats too often"
        )
    if now >= run.next_memory_check:
        run.next_memory_check = now + _MEMORY_CHECK_SECONDS
        if not run.peak_limit:  # the first check: what the process held when the run began
            run.peak_limit = _peak_memory() + MEMORY_LIMIT_BYTES
        elif _peak_memory() > run.peak_limit:
            raise ScriptMemoryLimit(
                f"took more than {MEMORY_LIMIT_BYTES // 2**20} MB of memory and was stopped; "
                "look for a list or a text that keeps growing"
            )


def checked(iterable: Iterable[Any]) -> Iterator[Any]:
    """The items of `iterable`, one step of the run each."""
    for item in iterable:
        step()
        yield item


class limits:
    """Run sandboxed code within `seconds` and the memory limit; an expression evaluated
    while a script runs (a service task's parameters) counts as part of that script.

    A class rather than a generator: it is entered for every condition, so it stays cheap.
    """

    __slots__ = ("seconds", "token")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.token: Token[_Run | None] | None = None

    def __enter__(self) -> None:
        if _RUN.get() is None:
            now = time.monotonic()
            # The memory reading waits for the first check: most runs end well before it.
            run = _Run(self.seconds, now + self.seconds, 0, now + _MEMORY_CHECK_SECONDS)
            self.token = _RUN.set(run)

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, _: Any) -> None:
        if self.token is None:
            return
        _RUN.reset(self.token)
        if isinstance(err, RecursionError):
            raise SandboxViolation(
                "calls itself too deeply and was stopped; look for a function that never "
                "stops calling itself"
            ) from err
        if isinstance(err, MemoryError):
            raise ScriptMemoryLimit("ran out of memory and was stopped") from err
        # Python's own cap on converting whole numbers to and from text, said in words.
        if isinstance(err, ValueError) and "integer string conversion" in str(err):
            raise SandboxViolation(
                f"would convert a number of more than {sys.get_int_max_str_digits():,} digits "
                "to or from text; a diagram may not"
            ) from err


def _lazy(kind: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
    """A builtin that hands on items one by one, each item a step of the run: a builtin
    that consumes it in C (`any`, `list`, `sum`) cannot run on unchecked."""

    def stepping(*args: Any, **kwargs: Any) -> Iterator[Any]:
        return checked(kind(*args, **kwargs))

    stepping.__name__ = stepping.__qualname__ = getattr(kind, "__name__", "lazy")
    return stepping


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SandboxViolation(
            f"range() of {len(numbers)} numbers is too long for a diagram (at most {MAX_RANGE})"
        )
    return numbers


_EXTRA_BUILTINS: dict[str, Any] = {
    "range": _bounded_range,
    "pow": sizes.bounded_pow,
    "all": all,
    "any": any,
    "dict": dict,
    "enumerate": _lazy(enumerate),
    "filter": _lazy(filter),
    "list": list,
    "map": _lazy(map),
    "max": sizes.bounded_max,
    "min": sizes.bounded_min,
    "reversed": _lazy(reversed),
    "set": set,
    "sum": sizes.bounded_sum,
    "str": sizes.BoundedText,
    "repr": sizes.bounded_repr,
    "hash": sizes.bounded_hash,
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
        "_getiter_": checked,
        "_step_": step,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": sizes.in_place,
        **sizes.guards(),
    }


_safer_getattr: Callable[..., Any] = safer_getattr


def _getattr(owner: Any, name: str, *default: Any) -> Any:
    """RestrictedPython's attribute guard; a text's padding, replacing and joining methods
    come back checked for the length they would build."""
    return sizes.bounded_method(owner, name, _safer_getattr(owner, name, *default))


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
        guarded = sizes.GUARDED_OPERATORS.get(type(node.op))
        if guarded is None:
            checked: ast.AST = self.node_contents_visit(node)
            return checked
        # Written with constants only: say so now, so the editor and the linter refuse it.
        too_big = sizes.constant_too_big(node)
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
        """`f"{x:>{w}}"`: the value and the format after the colon go through their size
        guards first."""
        visited: ast.FormattedValue = self.node_contents_visit(node)
        visited.value = _guarded(sizes.AS_TEXT_GUARD, visited.value)
        if visited.format_spec is None:
            return ast.fix_missing_locations(visited)
        checked = ast.Call(
            func=ast.Name(id=sizes.FORMAT_SPEC_GUARD, ctx=ast.Load()),
            args=[visited.format_spec],
            keywords=[],
        )
        visited.format_spec = ast.JoinedStr(
            values=[ast.FormattedValue(value=checked, conversion=-1, format_spec=None)]
        )
        return ast.fix_missing_locations(ast.copy_location(visited, node))

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """`a == b < c`, `a in b`: each operand that is not a constant goes through the size
        guard of comparisons (`_compared_(a) == _compared_(b) < ...`), which hands it back
        unchanged, so each is still evaluated once and in order."""
        visited: ast.Compare = self.node_contents_visit(node)
        if all(isinstance(op, ast.Is | ast.IsNot) for op in visited.ops):
            return visited  # identity goes through nothing
        visited.left = _guarded(sizes.COMPARED_GUARD, visited.left)
        visited.comparators = [
            _guarded(sizes.COMPARED_GUARD, value) for value in visited.comparators
        ]
        return visited

    def visit_While(self, node: ast.While) -> ast.AST:
        """Each pass of a `while` is a step of the run."""
        visited: ast.While = self.node_contents_visit(node)
        visited.body.insert(0, _step_statement(node))
        return visited

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        """Each call of a function is a step of the run (recursion, callbacks from C)."""
        visited: ast.FunctionDef = super().visit_FunctionDef(node)  # type: ignore[assignment]
        visited.body.insert(0, _step_statement(node))
        return visited

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        """Each call of a lambda is a step: `lambda x: body` becomes
        `lambda x: _step_() or body` (`_step_()` returns None)."""
        visited: ast.Lambda = super().visit_Lambda(node)  # type: ignore[assignment]
        visited.body = ast.copy_location(
            ast.BoolOp(op=ast.Or(), values=[_step_call(node), visited.body]), node
        )
        return visited


def _guarded(guard: str, value: ast.expr) -> ast.expr:
    """`guard(value)` in place of `value`; a constant as it is (its size is known)."""
    if isinstance(value, ast.Constant):
        return value
    call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[value], keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, value))


def _step_call(at: ast.AST) -> ast.Call:
    """`_step_()`, placed at `at`: the call that checks the run's budget."""
    call = ast.Call(func=ast.Name(id="_step_", ctx=ast.Load()), args=[], keywords=[])
    for node in ast.walk(call):
        ast.copy_location(node, at)
    return call


def _step_statement(at: ast.AST) -> ast.Expr:
    """`_step_()` as a statement of its own, placed at `at`."""
    return ast.copy_location(ast.Expr(_step_call(at)), at)


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

    def __init__(
        self, functions: dict[str, Any] | None = None, *, time_limit: float | None = None
    ) -> None:
        globals_ = _guards()
        globals_.update(functions or {})
        super().__init__(globals_)
        self.time_limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Any = None
    ) -> Any:
        code = compile_expression(expression)
        scope: dict[str, Any] = dict(context)
        scope.update(external_context or {})
        scope.update(self.globals)  # last, so task data can never replace a guard
        with limits(self.time_limit):
            return eval(code, scope)  # noqa: S307 - restricted code object, guarded globals

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = compile_script(script)
        self.check_for_overwrite(context, external_context or {})
        context.update(external_context or {})
        context.update(self.globals)
        try:
            with limits(self.time_limit):
                exec(code, context)  # noqa: S102 - restricted code object, guarded globals
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True
