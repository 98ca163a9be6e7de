"""A request's JSON body, read strictly: only what JSON carries exactly and every database stores.

Python's reader takes NaN and Infinity, reads 1e400 as infinity and integers of any size, keeps
a lone UTF-16 surrogate ("\\ud800", half a character) in a string, and recurses once for each
level of nesting (5,000 levels is a RecursionError). Each of those is refused here, naming where
in the body it is, before anything else reads the body.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
# The largest integer every JSON reader holds exactly (a double's 53 bits).
SAFE_INTEGER = 2**53 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


class UnfitBody(ValueError):
    """The body is not JSON this application takes; `field` is the path to what is wrong
    ("data/comment", "data/rows/0"), or "body" for the body as a whole."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class _Unfit:
    """What the reader found in place of a value JSON cannot carry, until its path is known."""

    def __init__(self, message: str) -> None:
        self.message = message


_NOT_A_NUMBER = _Unfit("JSON has no NaN or Infinity; send a finite number")
_TOO_LARGE = _Unfit("the number is too large to store; send a smaller one")
_INEXACT = _Unfit(
    f"whole numbers beyond ±{SAFE_INTEGER} (2^53 - 1) do not survive JSON exactly; "
    "send a smaller number, or the number as text"
)


def _too_deep() -> UnfitBody:
    return UnfitBody("body", f"it is nested more than {MAX_DEPTH} levels deep; send less")


def _integer(text: str) -> int | _Unfit:
    # JSON has no leading zeros: more than 16 digits is beyond SAFE_INTEGER (and int() of
    # thousands of digits is slow, and refused past 4,300).
    if len(text.lstrip("-")) > len(str(SAFE_INTEGER)):
        return _INEXACT
    number = int(text)
    return number if abs(number) <= SAFE_INTEGER else _INEXACT


def _float(text: str) -> float | _Unfit:
    number = float(text)
    return _TOO_LARGE if number in (float("inf"), float("-inf")) else number


def read_json_body(data: bytes) -> Any:
    """The body parsed; UnfitBody naming the field when it is not JSON this application takes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnfitBody("body", "send the body as UTF-8 text") from err
    try:
        value = json.loads(
            text,
            parse_constant=lambda _constant: _NOT_A_NUMBER,
            parse_int=_integer,
            parse_float=_float,
        )
    except ValueError as err:
        raise UnfitBody("body", f"it is not valid JSON ({err})") from err
    except RecursionError as err:  # the reader's own limit, near a thousand levels
        raise _too_deep() from err
    _check(value, "", 0)
    return value


def _check(value: Any, path: str, depth: int) -> None:
    """Raise UnfitBody at the first value under `path` that no database stores as sent."""
    where = path or "body"
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, _Unfit):
        raise UnfitBody(where, value.message)
    if isinstance(value, str):
        _check_text(value, where, "the text")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where, "a field name in it")
            _check(item, f"{path}/{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}/{index}" if path else str(index), depth + 1)


def _check_text(text: str, where: str, what: str) -> None:
    if "\x00" in text:
        # PostgreSQL stores no NUL character in text or JSON; no form asks for one.
        raise UnfitBody(where, f"{what} may not contain the NUL character (\\u0000)")
    if not text.isascii() and _SURROGATE.search(text):
        raise UnfitBody(
            where,
            f"{what} holds half of a UTF-16 surrogate pair (\\ud800-\\udfff), which is no "
            "character; send the text as valid Unicode",
        )
