"""Checking a value a member gives a need or a response, in words they can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from models.mapping import NEED_KINDS, NEED_STATUSES, PERSPECTIVES, SUB_PILLARS
from workflows.needs_database.terms import (
    NO_SUB_PILLAR,
    PERIODS,
    RESPONSE_STATUSES,
    SUB_PILLAR_TITLES,
)
from workflows.refusals import RequestRefused


def checked_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """`value` when it is one of `allowed`; RequestRefused in plain words otherwise."""
    text = str(value or "").strip()
    if text not in allowed:
        raise RequestRefused(f"'{text}' is not a {name}; choose one of: {', '.join(allowed)}.")
    return text


def checked_text(name: str, value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise RequestRefused(f"The {name} is empty; describe it.")
    return text


def checked_need_value(name: str, value: Any) -> Any:
    if name == "description":
        return checked_text("description", value)
    if name == "status":
        return checked_choice("status", value, NEED_STATUSES)
    if name == "kind":
        return checked_choice("kind of need", value, NEED_KINDS)
    if name == "perspective":
        return checked_choice("perspective", value, PERSPECTIVES)
    # Required: the reports are built "along the four sub-pillars" (response mapping
    # methodology, I.2); "none" is only a filter for needs recorded before it was.
    if value in (None, "", NO_SUB_PILLAR):
        raise RequestRefused(
            "The sub-pillar is missing; choose the one the need belongs to: "
            f"{', '.join(SUB_PILLAR_TITLES.values())}."
        )
    return checked_choice("sub-pillar", value, SUB_PILLARS)


def refuse_unknown(changes: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise RequestRefused(
            f"{', '.join(unknown)} cannot be changed on a {what}; "
            f"what can be changed: {', '.join(allowed)}."
        )


def checked_response_value(name: str, value: Any) -> Any:
    if name == "description":
        return checked_text("response", value)
    if name == "period":
        return checked_choice("period", value, PERIODS)
    if name == "status":
        return checked_choice("status", value, RESPONSE_STATUSES)
    if name == "year":
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise RequestRefused(f"'{value}' is not a year.") from None
    return str(value or "").strip()[:255] or None
