"""The numbers a methodology leaves open, written once in the diagram.

A script step's properties (`spiffworkflow:property` on a script task, e.g.
`default_deadline_working_days` = 10) are those numbers: the step's script reads them as
`properties["name"]`, and any text that names one (a form's title or help text, a step's
documentation) writes `{name}`, filled from the same property when it is shown. Changing
the property changes the default and every text that tells of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The texts of a form a person reads.
_TEXT_KEYS = ("title", "description")


def step_properties(task_spec: Any) -> dict[str, str]:
    """The properties a diagram gives one step."""
    extensions = getattr(task_spec, "extensions", None) or {}
    return {str(k): str(v) for k, v in extensions.get("properties", {}).items()}


def methodology_numbers(spec: Any, subprocess_specs: Mapping[str, Any]) -> dict[str, str]:
    """Every script step's properties in a process and the processes it calls, by name."""
    numbers: dict[str, str] = {}
    for process in [*subprocess_specs.values(), spec]:  # the process's own win
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, ScriptTask):
                numbers.update(step_properties(task_spec))
    return numbers


def fill_numbers(text: str, numbers: Mapping[str, str]) -> str:
    """`text` with each `{name}` of a known number replaced by its value; others kept."""
    return _PLACEHOLDER.sub(lambda m: numbers.get(m.group(1), m.group(0)), text)


def fill_form_numbers(schema: dict[str, Any], numbers: Mapping[str, str]) -> dict[str, Any]:
    """A copy of a form whose titles and help texts name the numbers as they are now."""
    return _filled(schema, numbers)  # type: ignore[no-any-return]


def _filled(value: Any, numbers: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: fill_numbers(v, numbers)
            if k in _TEXT_KEYS and isinstance(v, str)
            else _filled(v, numbers)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_filled(item, numbers) for item in value]
    return value


def unfilled(texts: Iterable[str], numbers: Mapping[str, str]) -> list[str]:
    """The placeholders among `texts` that name no number of the diagram."""
    return sorted(
        {m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text)} - set(numbers)
    )
