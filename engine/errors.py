"""Errors the engine raises, each with a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field


class EngineError(Exception):
    """Base of every error the engine reports to its callers."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram: where (file, line, element id and name) and why, in
    plain words.

    `kind` says which check found it: "xml" (not readable, refused), "xsd" (the BPMN 2.0
    schema), "lint" (the project's rules and SpiffWorkflow's parser) or "reachability";
    two problems saying the same thing about the same place are equal whichever check
    found them.
    """

    file: str
    element_id: str | None
    message: str
    line: int | None = None
    kind: str = field(default="lint", compare=False)
    element_name: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            name = f" '{self.element_name}'" if self.element_name else ""
            where += f" [{self.element_id}{name}]"
        return f"{where}: {self.message}"


class DiagramRejected(EngineError):
    """A diagram (or a set of them) cannot be used; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class SandboxViolation(EngineError):
    """An expression or script tried something the sandbox does not allow."""


class FormInvalid(EngineError):
    """Submitted data does not satisfy the task's form; `errors` maps field to reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors.items()))


class Refused(FormInvalid):
    """A rule a person can break (a date, a choice, a state) refused their request.

    Raised by the engine and by service operations; `errors` maps the field the person typed
    to a sentence in their words. It is never a failure of the diagram: the unit of work
    rolls back, the web shows the sentence beside the field with everything typed kept, and
    the API answers 422.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__({field: message})


def refusal_within(err: BaseException) -> Refused | None:
    """The Refused that `err` was raised from (SpiffWorkflow wraps what a service raises)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, Refused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class StepFailed(EngineError):
    """A step of a diagram failed: a bug of the methodology, never the person's doing.

    Its words name the step and the kind of failure, never the failure's own text, which may
    carry SQL, its parameters, file paths or memory addresses (that goes to the log). Who
    was acting, and in which procedure, is kept for the report to the Secretariat.
    """

    def __init__(
        self,
        what: str,
        step: str | None,
        failure: str,
        *,
        actor: str,
        instance_id: int | None,
        process: str | None = None,
    ) -> None:
        self.what, self.step, self.failure = what, step, failure
        self.actor, self.instance_id, self.process = actor, instance_id, process
        where = f"the step '{step}'" if step else "a step"
        super().__init__(
            f"{what} could not go on: {where} of the methodology went wrong ({failure})"
        )


class TaskNotFound(EngineError):
    """No such task."""


class TaskAlreadyDone(EngineError):
    """The task was completed or withdrawn before this request reached it."""


class ProcedureEnded(TaskAlreadyDone):
    """The procedure has ended (completed, or withdrawn): nothing more can be done in it."""


class NotAllowed(EngineError):
    """The user may not act on this task."""


class ClaimedByOther(NotAllowed):
    """The task is the user's to take, but someone else has claimed it (the API's 409)."""


class ConcurrentUpdate(EngineError):
    """Someone else saved the same instance first; the unit of work should be retried."""


class UnknownProcess(EngineError):
    """No active version of the named process."""
