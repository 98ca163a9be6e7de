"""Service tasks: named operations a diagram calls, implemented in Python and registered here.

A diagram names an operation with `spiffworkflow:serviceTaskOperator id="..."`; its
parameters are sandboxed expressions. The handler runs inside the caller's unit of work
(session, time, actor, instance) and returns a JSON-serializable result, which lands in the
task's result variable. The engine never imports the handlers: the layers above register them
(the engine's own, `reschedule_timer`, is registered beside the script engine).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task
from sqlalchemy.orm import Session

from engine.errors import EngineError


@dataclass(frozen=True)
class OperationContext:
    """Where an engine operation runs: its unit of work, instance, actor and time."""

    session: Session
    instance_id: int
    actor: str
    now: datetime


@dataclass(frozen=True)
class ServiceCall:
    """One service task's call: its context, evaluated parameters and the task itself."""

    context: OperationContext
    params: Mapping[str, Any]
    task: Task

    @property
    def data(self) -> Mapping[str, Any]:
        """The task's data (read it; write results through the return value)."""
        return dict(self.task.data)


Handler = Callable[[ServiceCall], Any]
_handlers: dict[str, Handler] = {}
_current: ContextVar[OperationContext | None] = ContextVar("iisg_operation", default=None)


def register(name: str) -> Callable[[Handler], Handler]:
    """Register `handler` as the operation `name` (a decorator)."""

    def decorate(handler: Handler) -> Handler:
        _handlers[name] = handler
        return handler

    return decorate


def operations() -> frozenset[str]:
    """The names a service task may use."""
    return frozenset(_handlers)


@contextmanager
def operation(context: OperationContext) -> Iterator[OperationContext]:
    """Make `context` the one service tasks see while the enclosed engine work runs."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def maybe_current_operation() -> OperationContext | None:
    """The running operation's context, or None outside one (a linter check, a test)."""
    return _current.get()


def current_operation() -> OperationContext:
    """The running operation's context; service tasks run only inside one."""
    found = _current.get()
    if found is None:
        raise EngineError("a service task ran outside an engine operation")
    return found


class ServiceScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's script engine, with service tasks dispatched to registered handlers."""

    def call_service(self, task: Task, **kwargs: Any) -> str:
        name = kwargs.get("operation_name", "")
        handler = _handlers.get(name)
        if handler is None:
            raise WorkflowTaskException(f"there is no operation '{name}'", task=task)
        params = {key: p["value"] for key, p in kwargs.get("operation_params", {}).items()}
        try:
            result = handler(ServiceCall(current_operation(), params, task))
        except EngineError as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err
        except Exception as err:
            # Not the operation's own words (they may hold SQL): the step and the kind only.
            raise WorkflowTaskException(
                f"the operation '{name}' failed", task=task, exception=err
            ) from err
        return json.dumps(result, default=str)
