"""How big a value one operation of a diagram may build.

The sandbox's time limit is checked between steps, so it cannot stop a single operation
that asks for gigabytes: `"x" * 10**10`, `[0] * 10**10`, `10 ** 10 ** 10`, `1 << 2**40`,
`pow(10, 10**10)`, `"%10000000000d" % 1`. The sandbox's compiler turns `*`, `**`, `<<`,
`+` and `%` into calls of the guards below, which work out the size of the result first and
refuse it when it is too big; the in-place forms (`*=`, `+=`, `%=`), `pow()`, a text's
padding, replacing and joining methods and the width of an f-string's format go through
the same checks.

A conversion to text (`str`, `repr`, an f-string, `%`), a comparison (`==`, `<`, `in`), a
`hash` and a list's sort or search go through everything a value holds, in one C call that
no clock check interrupts; a list that holds the same long list 10,000 times is small to
build and gigabytes to print. Those operations first walk the value with a budget (see
`reaches_past`) and are refused when it is spent.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, cast

from engine.errors import SandboxViolation

# The longest text, list or tuple one operation may build: far beyond any list of seats,
# pillars or needs, far below what would exhaust a server's memory.
MAX_LENGTH = 1_000_000
# The most digits a whole number may have (about 10,000 bits); a procedure counts days,
# seats and answers.
MAX_DIGITS = 3_000

_DIGITS_PER_BIT = math.log10(2)
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _what(value: Any, length: int) -> str:
    if isinstance(value, str):
        return f"a text of {length:,} characters"
    if isinstance(value, bytes | bytearray):
        return f"{length:,} bytes"
    return f"a list of {length:,} items"


def _check_length(symbol: str, sequence: Any, length: int) -> None:
    if length > MAX_LENGTH:
        raise SandboxViolation(
            f"'{symbol}' would build {_what(sequence, length)}; a diagram may build at most "
            f"{_what(sequence, MAX_LENGTH)} in one step"
        )


def _check_digits(symbol: str, digits: float) -> None:
    if digits > MAX_DIGITS:
        raise SandboxViolation(
            f"'{symbol}' would compute a number of about {math.ceil(digits):,} digits; a "
            f"diagram may compute numbers of at most {MAX_DIGITS:,} digits"
        )


def _is_whole(value: Any) -> bool:
    return isinstance(value, int)


def _bits(number: int) -> int:
    return abs(number).bit_length()


def check_product(left: Any, right: Any) -> None:
    """Refuse `left * right` when it would be a sequence or a number too big to build."""
    if isinstance(left, _SEQUENCES) and _is_whole(right):
        _check_length("*", left, len(left) * max(right, 0))
    elif isinstance(right, _SEQUENCES) and _is_whole(left):
        _check_length("*", right, len(right) * max(left, 0))
    elif _is_whole(left) and _is_whole(right):
        _check_digits("*", (_bits(left) + _bits(right)) * _DIGITS_PER_BIT)


def check_sum(left: Any, right: Any) -> None:
    """Refuse `left + right` when it would join two sequences into one too long."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length("+", left, len(left) + len(right))


def check_power(base: Any, exponent: Any) -> None:
    """Refuse `base ** exponent` when the whole number it makes has too many digits."""
    if _is_whole(base) and _is_whole(exponent) and exponent > 0 and abs(base) > 1:
        _check_digits("**", exponent * math.log10(abs(base)))


def check_shift(number: Any, places: Any) -> None:
    """Refuse `number << places` when the result has too many digits."""
    if _is_whole(number) and _is_whole(places) and places > 0 and number != 0:
        _check_digits("<<", (_bits(number) + places) * _DIGITS_PER_BIT)


# A conversion of %-formatting, with its width and precision: "%-10.3f", "%(seat)5s", "%*d".
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _check_width(symbol: str, digits: str) -> None:
    """Refuse a width or precision (written as digits) that pads a text past the limit."""
    if len(digits) > len(str(MAX_LENGTH)) or int(digits) > MAX_LENGTH:
        shown = digits if len(digits) <= 20 else f"{digits[:20]}..."
        raise SandboxViolation(
            f"'{symbol}' with a width of {shown} would build a text longer than a diagram may "
            f"build in one step (at most {MAX_LENGTH:,} characters)"
        )


def check_remainder(left: Any, right: Any) -> None:
    """Refuse `text % values` when a width or precision in the text is too big, or when the
    values would make too long a text."""
    if isinstance(left, bytes | bytearray):
        left = bytes(left).decode("latin-1")
    if not isinstance(left, str):
        return
    check_text("%", right)
    stars = False
    for width, precision in _PERCENT_SPEC.findall(left):
        for digits in (width, precision):
            if digits == "*":
                stars = True
            elif digits:
                _check_width("%", digits)
    if stars:  # the widths come with the values
        values = right if isinstance(right, tuple) else (right,)
        for value in values:
            if _is_whole(value) and abs(value) > MAX_LENGTH:
                _check_width("%", str(abs(value)))


def format_spec(spec: Any) -> Any:
    """An f-string's format (what follows the colon), refused when its width is too big."""
    if isinstance(spec, str):
        for digits in _DIGITS.findall(spec):
            _check_width(f"{{:{spec[:20]}}}", digits)
    return spec


# Whatever str() and == show or go through of each kind of value, besides containers.
_FLAT = frozenset({str, int, float, bool, type(None), bytes, bytearray})
_HOLDERS: tuple[type, ...] = (
    list,
    tuple,
    set,
    frozenset,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)


def _contents(value: Any) -> Iterable[Any] | None:
    """What str() or == of `value` goes through, or None when it holds nothing to go through."""
    if isinstance(value, _HOLDERS):
        return cast(Iterable[Any], value)
    if isinstance(value, dict):
        return chain(value, value.values())  # the order does not matter to a count
    if isinstance(value, BaseException):  # str(error) shows what it was raised with
        return value.args
    if isinstance(value, slice):
        return (value.start, value.stop, value.step)
    return None


def reaches_past(value: Any, budget: int) -> bool:
    """Whether converting `value` to text (or comparing it) would go through more than
    `budget` characters: each text counts its length, each whole number its digits, each
    item two more (its separator). A value reached several times counts each time, as str()
    and == go through it each time; a container inside itself counts once ("[...]"). The
    walk stops as soon as the budget is spent."""
    left = budget
    inside: set[int] = set()  # the containers being gone through
    parents: list[tuple[Iterator[Any], int]] = []  # and where each was reached from
    items: Iterator[Any] = iter((value,))
    while True:
        for item in items:
            kind = type(item)
            if kind is str or kind is bytes:
                left -= len(item) + 2
            elif kind is int:
                left -= item.bit_length() // 3 + 2
            elif kind in _FLAT:
                left -= 8
            else:
                contents = _contents(item)
                left -= 2
                if contents is not None and id(item) not in inside:
                    inside.add(id(item))
                    parents.append((items, id(item)))
                    items = iter(contents)
                    break
            if left < 0:
                return True
        else:  # this container is done: back to the one that holds it
            if not parents:
                return False
            items, done = parents.pop()
            inside.discard(done)
        if left < 0:
            return True


def check_text(symbol: str, value: Any) -> None:
    """Refuse converting `value` to text when the text would be too long."""
    if type(value) not in _FLAT and reaches_past(value, MAX_LENGTH):
        raise SandboxViolation(
            f"'{symbol}' would build a text of more than {MAX_LENGTH:,} characters (does a "
            "list hold the same long list many times?); a diagram may build at most "
            f"{MAX_LENGTH:,} characters in one step"
        )


def check_compared(symbol: str, value: Any) -> None:
    """Refuse comparing, hashing or sorting `value` when that would go through too much."""
    if type(value) not in _FLAT and reaches_past(value, MAX_LENGTH):
        raise SandboxViolation(
            f"'{symbol}' would go through more than {MAX_LENGTH:,} items and characters (does "
            "a list hold the same long list many times?); a diagram may go through at "
            f"most {MAX_LENGTH:,} in one step"
        )


def as_text(value: Any) -> Any:
    """An f-string's value, refused when its text would be too long (then converted as is)."""
    check_text("f-string", value)
    return value


def compared(value: Any) -> Any:
    """An operand of `==`, `<`, `in` and the like, refused when comparing it would go through
    too much."""
    check_compared("comparison", value)
    return value


def bounded_repr(value: Any) -> str:
    """The builtin `repr`, within the limits."""
    check_text("repr()", value)
    return repr(value)


def bounded_hash(value: Any) -> int:
    """The builtin `hash`, within the limits."""
    check_compared("hash()", value)
    return hash(value)


class _TextType(type):
    """The sandbox's `str` is still the type of every text: `isinstance(x, str)` holds."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, str)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, str)


class BoundedText(str, metaclass=_TextType):
    """The builtin `str`: `str(value)` is refused when the text would be too long; its
    methods (`str.upper`, `str.join`) are str's own."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs:
            check_text("str()", args[0])
        return str(*args, **kwargs)


BoundedText.__name__ = BoundedText.__qualname__ = "str"


def multiply(left: Any, right: Any) -> Any:
    """`left * right`, within the limits."""
    check_product(left, right)
    return left * right


def add(left: Any, right: Any) -> Any:
    """`left + right`, within the limits."""
    check_sum(left, right)
    return left + right


def remainder(left: Any, right: Any) -> Any:
    """`left % right`, within the limits."""
    check_remainder(left, right)
    return left % right


def power(base: Any, exponent: Any) -> Any:
    """`base ** exponent`, within the limits."""
    check_power(base, exponent)
    return base**exponent


def shift_left(number: Any, places: Any) -> Any:
    """`number << places`, within the limits."""
    check_shift(number, places)
    return number << places


def bounded_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """The builtin `pow`; without a modulus, within the limits of `**`."""
    if modulus is None:
        return power(base, exponent)
    return pow(base, exponent, modulus)


def _padding(text: Any, method: Callable[..., Any], name: str) -> Callable[..., Any]:
    def padded(width: Any, *rest: Any) -> Any:
        if _is_whole(width):
            _check_length(f"{name}()", text, width)
        return method(width, *rest)

    return padded


def _replacing(text: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    def replaced(old: Any, new: Any, count: Any = -1) -> Any:
        if isinstance(old, _SEQUENCES) and isinstance(new, _SEQUENCES) and _is_whole(count):
            found = text.count(old) if old else len(text) + 1
            if count >= 0:
                found = min(found, count)
            _check_length("replace()", text, len(text) + found * max(len(new) - len(old), 0))
        return method(old, new, count)

    return replaced


def _joining(separator: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    def joined(parts: Any) -> Any:
        parts = list(parts)
        length = sum(len(p) for p in parts if isinstance(p, _SEQUENCES))
        _check_length("join()", separator, length + len(separator) * max(len(parts) - 1, 0))
        return method(parts)

    return joined


def _tabs(text: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    def expanded(tabsize: Any = 8) -> Any:
        if _is_whole(tabsize):
            tab = "\t" if isinstance(text, str) else b"\t"
            _check_length("expandtabs()", text, len(text) + text.count(tab) * max(tabsize, 0))
        return method(tabsize)

    return expanded


def _extending(items: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
    def extended(more: Any) -> Any:
        if isinstance(more, (*_SEQUENCES, set, frozenset, dict)):
            _check_length("extend()", items, len(items) + len(more))
        return method(more)

    return extended


def _going_through(items: Any, method: Callable[..., Any], name: str) -> Callable[..., Any]:
    def went_through(*args: Any, **kwargs: Any) -> Any:
        check_compared(f"{name}()", items)
        return method(*args, **kwargs)

    return went_through


# A list's methods that compare its items with one another or with a value.
_COMPARING = frozenset({"sort", "count", "index", "remove"})


def _unbound(kind: type, name: str) -> Callable[..., Any]:
    """`str.ljust`, `list.extend` and the like taken from the type: the same checks as when
    taken from a value."""

    def called(owner: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(owner, kind):  # Python's own error for a method of another type
            return getattr(kind, name)(owner, *args, **kwargs)
        return bounded_method(owner, name, getattr(owner, name))(*args, **kwargs)

    return called


_CHECKED_TYPES = (str, bytes, bytearray, list, tuple)
_CHECKED_NAMES = frozenset({"ljust", "rjust", "center", "zfill", "replace", "join"}) | frozenset(
    {"expandtabs", "extend"} | _COMPARING
)


def bounded_method(owner: Any, name: str, found: Any) -> Any:
    """A method that can build a long text or list from a short one (padding, replacing,
    joining; a list extended by itself), checked for the length it would build before it
    runs; a list's sorting and searching, checked for what it would go through; anything
    else as is."""
    if not callable(found):
        return found
    if isinstance(owner, type) and issubclass(owner, _CHECKED_TYPES) and name in _CHECKED_NAMES:
        return _unbound(owner, name)
    if isinstance(owner, list | tuple) and name in _COMPARING:
        return _going_through(owner, found, name)
    if isinstance(owner, list) and name == "extend":
        return _extending(owner, found)
    if not isinstance(owner, str | bytes | bytearray):
        return found
    if name in ("ljust", "rjust", "center", "zfill"):
        return _padding(owner, found, name)
    if name == "replace":
        return _replacing(owner, found)
    if name == "join":
        return _joining(owner, found)
    if name == "expandtabs":
        return _tabs(owner, found)
    return found


def bounded_sum(values: Any, start: Any = 0) -> Any:
    """The builtin `sum`; adding up lists or tuples is held to the limits of `+`, its length
    worked out before anything is built."""
    if not isinstance(start, list | tuple):
        return sum(values, start)
    parts = list(values)
    if not all(type(part) is type(start) for part in parts):
        return sum(parts, start)  # refused by Python itself: a list and a tuple do not add
    _check_length("sum()", start, len(start) + sum(len(part) for part in parts))
    # Joined in one pass: the builtin would copy the growing list once per part.
    return type(start)(chain(start, *parts))


def _bounded_extreme(extreme: Callable[..., Any], name: str) -> Callable[..., Any]:
    def chosen(*args: Any, **kwargs: Any) -> Any:
        items = args if len(args) != 1 else args[0]
        if not isinstance(items, list | tuple | set | frozenset | dict):
            items = list(items)  # each item a step of the run when it comes from map()
        check_compared(f"{name}()", items)
        return extreme(items, **kwargs)

    chosen.__name__ = chosen.__qualname__ = name
    return chosen


bounded_max = _bounded_extreme(max, "max")
bounded_min = _bounded_extreme(min, "min")


# The name each guarded operator's calls go to, and the guard itself.
GUARDED_OPERATORS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Mult: ("_mul_", multiply),
    ast.Add: ("_add_", add),
    ast.Pow: ("_pow_", power),
    ast.LShift: ("_lshift_", shift_left),
    ast.Mod: ("_mod_", remainder),
}
FORMAT_SPEC_GUARD = "_format_spec_"
AS_TEXT_GUARD = "_as_text_"
COMPARED_GUARD = "_compared_"

# The in-place forms keep their meaning (a list grows in place) after the same checks.
IN_PLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
}
_IN_PLACE_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "+=": check_sum,
    "*=": check_product,
    "%=": check_remainder,
}


def in_place(op: str, target: Any, value: Any) -> Any:
    """`target op= value` for the operators a diagram may use, within the limits."""
    if op not in IN_PLACE:
        raise SandboxViolation(f"the operator {op} is not allowed in a diagram")
    check = _IN_PLACE_CHECKS.get(op)
    if check is not None:
        check(target, value)
    return IN_PLACE[op](target, value)


def guards() -> dict[str, Callable[..., Any]]:
    """The guard functions by the names the compiled code calls them."""
    found: dict[str, Callable[..., Any]] = dict(GUARDED_OPERATORS.values())
    found[FORMAT_SPEC_GUARD] = format_spec
    found[AS_TEXT_GUARD] = as_text
    found[COMPARED_GUARD] = compared
    return found


class _NotConstant(Exception):
    pass


def _fold(node: ast.expr) -> Any:
    """The value of an expression written with constants only, worked out through the same
    guards (so a bomb written as constants raises SandboxViolation while it is compiled);
    _NotConstant for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _fold(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in GUARDED_OPERATORS:
        left, right = _fold(node.left), _fold(node.right)
        _name, guard = GUARDED_OPERATORS[type(node.op)]
        return guard(left, right)
    raise _NotConstant


def constant_too_big(node: ast.BinOp) -> str | None:
    """Why an operation of constants builds too much, or None (also when it is not constant)."""
    try:
        _fold(node)
    except SandboxViolation as refused:
        return str(refused)
    except Exception:  # not constant, or a type error left for run time to report
        return None
    return None
