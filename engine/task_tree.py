"""The steps a save looks at (those ready and those waiting), found in one walk of the task
tree, called processes included.

SpiffWorkflow's `get_tasks(state=READY | WAITING)` finds the same tasks in the same order,
but its general iterator (any filter, any depth, breadth or depth first) costs three times
as much, on every save. This walk follows what it does for that query exactly: depth
first, a task's called process (if it has one) before its children, no descent below a task
only predicted (MAYBE, LIKELY) except into its called process. (SpiffWorkflow 3.2 means not
to descend into the called process of a finished task, but its test, `state >=
FINISHED_MASK`, holds for no single state, so it always does; so does this walk.)
tests/conftest.py compares the two at every save of the test suite.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState

_OPEN = TaskState.READY | TaskState.WAITING


def ready_or_waiting(workflow: BpmnWorkflow) -> list[Task]:
    """The tasks of `workflow` (the top workflow) that are READY or WAITING, in the order of
    `workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)`."""
    called = workflow.subprocesses
    found: list[Task] = []
    to_visit: list[Task] = [workflow.task_tree]
    while to_visit:
        task = to_visit.pop()
        state = task.state
        if state & _OPEN:
            found.append(task)
        process = called.get(task.id)
        if not task._children and process is None:
            continue
        if state < TaskState.FUTURE and process is None:
            continue  # only predicted: what follows it is predicted too
        tasks = task.workflow.tasks
        following = [tasks[child] for child in task._children]
        if process is not None:
            following.insert(0, process.task_tree)
        to_visit.extend(reversed(following))
    return found
