"""Scripts, conditions and timers run in a sandbox: no imports, no files, no escapes.

Each hostile probe tries to write a file. The linter must refuse it, naming the element; past
the linter, both a workflow built straight on SpiffWorkflow with the sandbox and the engine's
own start must fail on it and leave no file; and the same workflow on SpiffWorkflow's own,
unrestricted script engine does write the file, so the probes are real.
"""

from __future__ import annotations

import re
import resource
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import func, select

from engine.diagrams.bundle import DiagramBundle, check_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.errors import EngineError, SandboxViolation
from engine.instances.assignment import Participant
from engine.instances.dry_run import dry_run
from engine.instances.loading import load
from engine.instances.script_engine import script_engine
from engine.sandbox.restricted import MEMORY_LIMIT_BYTES, TIME_LIMIT_SECONDS, SandboxEnvironment
from models import ProcessInstance
from tests.conftest import TEST_BPMN, Clock, Database
from tests.engine.conftest import Procedures
from workflows.people.roles import known_roles

TEMPLATE = (TEST_BPMN / "hostile" / "sandbox_probe.bpmn.template").read_text(encoding="utf-8")
HARMLESS = {"SCRIPT": "noted = True", "CONDITION": "True", "TIMER": '"PT1H"'}
# The classic escape: from a tuple to object's subclasses to a module's real builtins.
ESCAPE = (
    '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "_wrap_close"][0]'
    '.__init__.__globals__["__builtins__"]["open"](target, "w").write("escaped")'
)
# (placeholder, hostile code, the element the linter must name)
PROBES = {
    "import_in_script": ("SCRIPT", "import os\nos.makedirs(target)", "script"),
    "open_in_script": ("SCRIPT", 'open(target, "w").write("written")', "script"),
    "escape_in_script": ("SCRIPT", f"escaped = {ESCAPE}", "script"),
    "dunder_import_in_condition": (
        "CONDITION",
        '__import__("os").makedirs(target) is None',
        "f_yes",
    ),
    "open_in_condition": ("CONDITION", 'open(target, "w").write("written") > 0', "f_yes"),
    "escape_in_condition": ("CONDITION", f"{ESCAPE} > 0", "f_yes"),
    "dunder_import_in_timer": (
        "TIMER",
        '__import__("os").makedirs(target) or "PT1H"',
        "wait_timer",
    ),
    "open_in_timer": ("TIMER", 'open(target, "w").write("written") and "PT1H"', "wait_timer"),
    "escape_in_timer": ("TIMER", f'{ESCAPE} and "PT1H"', "wait_timer"),
}


def probe_diagram(**code: str) -> str:
    """The probe diagram with the given SCRIPT, CONDITION and TIMER (harmless otherwise)."""
    text = TEMPLATE
    for placeholder, default in HARMLESS.items():
        text = text.replace(f">{placeholder}<", f">{escape(code.get(placeholder, default))}<")
    return text


def run_unchecked(diagram: str, engine: PythonScriptEngine, data: dict[str, Any]) -> BpmnWorkflow:
    """Parse and run a diagram straight through SpiffWorkflow, as if the linter had missed it."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(diagram.encode("utf-8"), filename="probe.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("probe"), {}, script_engine=engine)
    workflow.get_next_task().data.update(data)
    workflow.do_engine_steps()
    return workflow


def causes(err: BaseException | None) -> list[BaseException]:
    """An exception and everything it was raised from."""
    found: list[BaseException] = []
    while err is not None:
        found.append(err)
        err = err.__cause__ or err.__context__
    return found


@pytest.mark.parametrize(("placeholder", "code", "element_id"), PROBES.values(), ids=PROBES)
def test_linter_refuses_hostile_code_naming_the_element(
    placeholder: str, code: str, element_id: str
) -> None:
    bundle, problems = check_bundle(
        {"probe.bpmn": probe_diagram(**{placeholder: code})}, known_roles()
    )

    assert bundle is None
    assert [(p.file, p.element_id) for p in problems] == [("probe.bpmn", element_id)]
    assert "not allowed" in problems[0].message or "not available" in problems[0].message


@pytest.mark.parametrize(("placeholder", "code", "element_id"), PROBES.values(), ids=PROBES)
def test_sandbox_stops_hostile_code_that_got_past_the_linter(
    placeholder: str, code: str, element_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "pwned"
    diagram = probe_diagram(**{placeholder: code})

    with pytest.raises(WorkflowTaskException) as raised:
        run_unchecked(diagram, script_engine(), {"target": str(target)})

    assert any(isinstance(err, SandboxViolation) for err in causes(raised.value))
    assert not target.exists()


def deploy_unchecked(db: Database, clock: Clock, diagram: str) -> None:
    """Deploy a diagram without the linter, as if it had slipped past the checks."""
    parser = SpiffBpmnParser()
    root = etree.fromstring(diagram.encode("utf-8"))
    parser.add_bpmn_xml(root, filename="probe.bpmn")
    bundle = DiagramBundle(
        {"probe.bpmn": diagram}, {"probe.bpmn": root.getroottree()}, parser, {"probe": "probe.bpmn"}
    )
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))


@pytest.mark.parametrize(("placeholder", "code", "element_id"), PROBES.values(), ids=PROBES)
def test_engine_will_not_start_hostile_code_deployed_past_the_linter(
    placeholder: str, code: str, element_id: str, tmp_path: Path, db: Database, clock: Clock
) -> None:
    target = tmp_path / "pwned"
    deploy_unchecked(db, clock, probe_diagram(**{placeholder: code}))

    with pytest.raises(EngineError, match="of the methodology went wrong") as raised:
        Procedures(db, clock).start("probe", {"target": str(target)})

    assert any(isinstance(err, SandboxViolation) for err in causes(raised.value))
    assert not target.exists()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_restored_instance_runs_in_the_sandbox_again(procedures: Procedures) -> None:
    instance_id = procedures.start("lane_task", {"seat": "AL"})

    with procedures.db.session() as session:
        restored = load(session, instance_id).workflow

    assert isinstance(restored.script_engine.environment, SandboxEnvironment)


@pytest.mark.parametrize(("placeholder", "code", "element_id"), PROBES.values(), ids=PROBES)
def test_the_probes_do_harm_without_the_sandbox(
    placeholder: str, code: str, element_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "pwned"

    run_unchecked(
        probe_diagram(**{placeholder: code}), PythonScriptEngine(), {"target": str(target)}
    )

    assert target.exists()


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ('__import__("os")', "evaluate"),
        ('open("/etc/passwd").read()', "evaluate"),
        ("().__class__.__base__.__subclasses__()", "evaluate"),
        ("import os", "execute"),
        ('open(target, "w").write("written")', "execute"),
        ("subclasses = ().__class__.__base__.__subclasses__()", "execute"),
    ],
)
def test_sandbox_environment_refuses_before_running_anything(
    source: str, kind: str, tmp_path: Path
) -> None:
    sandbox = SandboxEnvironment()
    context = {"target": str(tmp_path / "pwned")}

    with pytest.raises(SandboxViolation):
        if kind == "evaluate":
            sandbox.evaluate(source, context)
        else:
            sandbox.execute(source, context)

    assert not (tmp_path / "pwned").exists()
    assert set(context) == {"target"}


def test_sandbox_guards_attribute_access_at_run_time() -> None:
    sandbox = SandboxEnvironment()

    # Compiles (no dunder in the code), but str.format could reach dunders through a field.
    with pytest.raises(NotImplementedError):
        sandbox.evaluate('"{0.__class__}".format(seat)', {"seat": "AL"})
    assert sandbox.evaluate('seat.lower() + "!"', {"seat": "AL"}) == "al!"


ORDINARY_SCRIPT = """\
total = sum([1, 2, 3])
tally = {}
tally["yes"] = total
for seat in ["AL", "BA", "XK"]:
    tally[seat] = len(seat)
count = 0
for value in tally.values():
    count += 1
"""


def test_ordinary_scripts_conditions_and_timers_still_run(db: Database, clock: Clock) -> None:
    diagram = probe_diagram(SCRIPT=ORDINARY_SCRIPT, CONDITION="total == 6 and count == 4")
    bundle, problems = check_bundle({"probe.bpmn": diagram}, known_roles())
    assert problems == []
    assert bundle is not None
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))
    procedures = Procedures(db, clock)

    instance_id = procedures.start("probe")

    data = procedures.step_data(instance_id, "script")
    assert (data["total"], data["count"]) == (6, 4)
    assert data["tally"] == {"yes": 6, "AL": 2, "BA": 2, "XK": 2}
    assert procedures.timers(instance_id) == {"wait": clock.now() + timedelta(hours=1)}
    clock.move(hours=1)
    assert procedures.fire_timers(instance_id) == ["wait"]
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["after_yes"]


# Memory bombs: one operation that asks for gigabytes. The time limit is checked between
# steps and cannot stop one; the size guards refuse it before anything is allocated.
HUGE = 10**10
MEMORY_BOMBS = {
    "text_times_a_number": ('"x" * huge', "would build a text of 10,000,000,000 characters"),
    "number_times_a_text": ('huge * "x"', "would build a text of 10,000,000,000 characters"),
    "list_times_a_number": ("[0] * huge", "would build a list of 10,000,000,000 items"),
    "text_times_two_to_the_40": ('"a" * 2 ** forty', "a text of 1,099,511,627,776 characters"),
    "tower_of_powers": ("10 ** 10 ** ten", "a number of about 10,000,000,000 digits"),
    "pow_builtin": ("pow(10, huge)", "a number of about 10,000,000,000 digits"),
    "shift_left": ("1 << huge", "a number of about 3,010,299,957 digits"),
    "square_of_a_big_number": ("(7 ** 3000) * (7 ** 3000)", "a number of about 5,0"),
    "padding": ('"x".ljust(huge)', "'ljust()' would build a text of 10,000,000,000"),
    "replacing": ('("x" * 1000).replace("x", "y" * 999999)', "would build a text of 999,999,000"),
    "joining": ('"".join(["y" * 999999] * 1000)', "'join()' would build a text of 999,999,000"),
    "percent_width": ('"%10000000000d" % 1', "'%' with a width of 10000000000 would build"),
    "percent_star_width": ('"%*d" % (huge, 1)', "'%' with a width of 10000000000 would build"),
    "f_string_width": ('f"{1:>{huge}}"', "'{:>10000000000}' with a width of 10000000000"),
}
LIMIT_WORDS = "a diagram may"


@pytest.mark.parametrize(("expression", "words"), MEMORY_BOMBS.values(), ids=MEMORY_BOMBS)
def test_a_memory_bomb_is_refused_at_once_saying_how_big_it_would_be(
    expression: str, words: str
) -> None:
    began = time.monotonic()

    with pytest.raises(SandboxViolation, match=re.escape(words)) as refused:
        SandboxEnvironment().evaluate(expression, {"huge": HUGE, "forty": 40, "ten": 10})

    assert time.monotonic() - began < 0.5
    assert LIMIT_WORDS in str(refused.value)


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ('text = "x"\ntext *= huge', "would build a text of 10,000,000,000 characters"),
        ("items = [0]\nitems *= huge", "would build a list of 10,000,000,000 items"),
        ("items = [0]\nwhile True:\n    items += items", "would build a list of 1,048,576 items"),
        ('text = "%10000000000d"\ntext %= 1', "'%' with a width of 10000000000 would build"),
        ("items = [0]\nwhile True:\n    items.extend(items)", "'extend()' would build a list"),
        ("rows = [[0] * 1000] * 2000\nflat = sum(rows, [])", "would build a list of 2,000,000"),
        ('text = "x"\nwhile True:\n    text = text + text', "a text of 1,048,576 characters"),
    ],
    ids=[
        "text_times_in_place",
        "list_times_in_place",
        "list_doubling",
        "percent_in_place",
        "list_extended_by_itself",
        "sum_of_lists",
        "text_doubling",
    ],
)
def test_a_script_that_builds_too_much_step_by_step_is_refused_before_memory_runs_out(
    script: str, words: str
) -> None:
    began = time.monotonic()

    with pytest.raises(SandboxViolation, match=re.escape(words)):
        SandboxEnvironment().execute(script, {"huge": HUGE})

    # Well inside the time limit: the size guard stopped it, not the clock.
    assert time.monotonic() - began < 0.5


@pytest.mark.parametrize(
    ("placeholder", "code", "element_id", "words"),
    [
        ("SCRIPT", 'padding = "x" * 10 ** 10', "script", "a text of 10,000,000,000 characters"),
        ("CONDITION", 'len("0" * 2 ** 40) > 0', "f_yes", "a text of 1,099,511,627,776 characters"),
        ("TIMER", '"PT%dH" % (10 ** 10 ** 10)', "wait_timer", "about 10,000,000,000 digits"),
    ],
    ids=["script", "condition", "timer"],
)
def test_a_memory_bomb_written_in_the_diagram_is_refused_by_the_linter(
    placeholder: str, code: str, element_id: str, words: str
) -> None:
    began = time.monotonic()

    bundle, problems = check_bundle(
        {"probe.bpmn": probe_diagram(**{placeholder: code})}, known_roles()
    )

    assert time.monotonic() - began < 5
    assert bundle is None
    assert [(p.file, p.element_id) for p in problems] == [("probe.bpmn", element_id)]
    assert "is not allowed" in problems[0].message and words in problems[0].message


def test_ordinary_arithmetic_and_text_within_the_limits_still_work() -> None:
    sandbox = SandboxEnvironment()
    seats = ["AL", "BA", "ME", "MK", "RS", "XK", "EU"]

    assert sandbox.evaluate("2 ** 10 + 3 * 4 - (1 << 3)", {}) == 1028
    assert sandbox.evaluate("days * 24 * 60", {"days": 10}) == 14400
    assert sandbox.evaluate("2.5 ** 2 + pow(3, 4) + pow(3, 4, 5)", {}) == 6.25 + 81 + 1
    assert sandbox.evaluate('", ".join(seats) + "." + "-" * 3', {"seats": seats}) == (
        "AL, BA, ME, MK, RS, XK, EU.---"
    )
    assert sandbox.evaluate('"7".zfill(3) + "ab".ljust(4, ".") + "a-b".replace("-", "+")', {}) == (
        "007ab..a+b"
    )
    assert sandbox.evaluate("len([0] * 1000000)", {}) == 1_000_000
    assert (
        sandbox.evaluate(
            '"%s: %5.1f%%" % (seat, 12.345) + f" {7:>3} {days:,}"',
            {
                "seat": "AL",
                "days": 1000,
            },
        )
        == "AL:  12.3%   7 1,000"
    )
    assert sandbox.evaluate("17 % 5 + 2.5 % 1", {}) == 2.5
    assert sandbox.evaluate("sum([1, 2, 3]) + len(sum([[1], [2, 3]], []))", {}) == 9
    assert sandbox.evaluate("sum([(1,), (2, 3)], ())", {}) == (1, 2, 3)
    extended: dict[str, Any] = {}
    sandbox.execute("seats = ['AL']\nseats.extend(['BA', 'XK'])", extended)
    assert extended["seats"] == ["AL", "BA", "XK"]
    context: dict[str, Any] = {}
    sandbox.execute("answers = [1]\nsame = answers\nanswers *= 2\nanswers += [3]", context)
    assert context["answers"] == context["same"] == [1, 1, 3]  # lists still grow in place


# Work that runs inside builtins: the clock is checked at every call of a function or lambda,
# at every item `map`, `filter`, `enumerate` and `reversed` hand on and every pass of a loop,
# so none of these can run on inside a C loop. The corpus runs with a short limit.
SHORT_LIMIT = 0.5
MARGIN = 1.5
HELD_MANY_TIMES = "r = list(range(100000))\nrows = [r for _ in range(10000)]"
OTHER_ROWS = "q = list(range(100000))\nothers = [q for _ in range(10000)]"
NESTED = "x = any(map(lambda a: any(map(lambda b: False, range(100000))), range(100000)))"
BYPASSES = {
    "nested_map_with_lambdas": NESTED,
    "nested_filter_with_lambdas": (
        "x = list(filter(lambda a: any(filter(lambda b: b < 0, range(100000))), range(100000)))"
    ),
    "nested_sum_with_lambdas": (
        "x = sum(map(lambda a: sum(map(lambda b: b, range(100000))), range(100000)))"
    ),
    "sorting_again_and_again": (
        "rows = [list(range(100000))] * 100000\n"
        "x = list(map(lambda row: row.sort(key=lambda v: -v), rows))"
    ),
    "builtin_mapped_over_a_list": "r = list(range(100000))\nx = sum(map(r.count, r))",
    "builtin_mapped_then_searched": "r = list(range(100000))\nx = -1 in map(r.count, r)",
    "enumerated_and_reversed": (
        "r = list(range(100000))\nx = max(map(lambda p: r.index(p[1]), enumerate(reversed(r))))"
    ),
    "a_sum_per_item": "x = [sum(range(100000)) for a in range(100000)]",
    "comprehension_bomb": "x = [a * b for a in range(100000) for b in range(100000)]",
    "nested_comprehensions": (
        "x = [[[c for c in range(100000)] for b in range(100000)] for a in range(100000)]"
    ),
    "comprehension_of_big_lists": "x = [[0] * 1000000 for a in range(100000)]",
    "join_of_a_generator": 'x = "".join(str(a) for a in range(100000) for b in range(100000))',
    "join_of_a_map": 'x = "-".join(map(lambda a: "".join(map(str, range(100000))), range(100000)))',
    "exponential_recursion": "f = lambda n: f(n - 1) + f(n - 1) if n else 1\nx = f(60)",
    "exponential_recursion_in_def": (
        "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(60)"
    ),
    "deep_recursion": "f = lambda n: f(n - 1) if n else 0\nx = f(10 ** 6)",
    "caught_and_carried_on": (
        f"while True:\n    try:\n        {NESTED}\n    except Exception:\n        pass"
    ),
    "huge_range_summed": "x = sum(range(10 ** 12))",
    "huge_range_listed": "x = list(range(10 ** 12))",
    "huge_range_as_a_set": "x = set(range(10 ** 12))",
    "huge_range_any": "x = any(a < 0 for a in range(10 ** 12))",
    "huge_range_all": "x = all(map(lambda a: a >= 0, range(10 ** 12)))",
    "huge_range_min_max": "x = min(range(10 ** 12)) + max(range(10 ** 12))",
    "huge_range_joined": 'x = ",".join(map(str, range(10 ** 12)))',
    "huge_range_as_keys": "x = dict.fromkeys(range(10 ** 12))",
    "percent_s_times_n": 'x = ("%s" * 10 ** 10) % ()',
    "text_of_a_huge_number": "x = str(10 ** 100000)",
    "number_from_a_huge_text": 'x = int("9" * 100000)',
    "pow_with_a_large_exponent": "x = pow(7, 10 ** 9)",
    # One C call through a value that holds the same long list many times: small to build,
    # gigabytes to print and a billion items to compare.
    "text_of_a_list_held_many_times": f"{HELD_MANY_TIMES}\nx = str(rows)",
    "repr_of_a_list_held_many_times": f"{HELD_MANY_TIMES}\nx = repr(rows)",
    "f_string_of_a_list_held_many_times": f'{HELD_MANY_TIMES}\nx = f"{{rows}}"',
    "f_string_repr_with_a_format": f'{HELD_MANY_TIMES}\nx = f"{{rows!r:>10}}"',
    "percent_of_a_list_held_many_times": f'{HELD_MANY_TIMES}\nx = "%s" % (rows,)',
    "percent_in_place_of_a_list_held_many_times": f'{HELD_MANY_TIMES}\nx = "%r"\nx %= (rows,)',
    "text_of_an_error_holding_it": f"{HELD_MANY_TIMES}\nx = str(ValueError(rows))",
    "text_of_a_dict_holding_it": f'{HELD_MANY_TIMES}\nx = str({{"rows": rows, "again": rows}})',
    "map_str_over_lists_held_many_times": (
        f'{HELD_MANY_TIMES}\nx = "".join(map(str, [rows, rows]))'
    ),
    "equal_of_two_such_lists": f"{HELD_MANY_TIMES}\n{OTHER_ROWS}\nx = rows == others",
    "less_than_of_two_such_lists": f"{HELD_MANY_TIMES}\n{OTHER_ROWS}\nx = rows < others",
    "in_of_a_long_list": f"{HELD_MANY_TIMES}\nx = list(range(99999)) + [-1] in rows",
    "hash_of_nested_tuples": "t = (*range(100000),)\nx = hash((t,) * 10000)",
    "sort_of_a_list_held_many_times": f"{HELD_MANY_TIMES}\nrows.sort()",
    "sort_from_the_type": f"{HELD_MANY_TIMES}\nlist.sort(rows)",
    "count_in_a_list_held_many_times": f"{HELD_MANY_TIMES}\nx = rows.count(list(range(100000)))",
    "max_of_a_list_held_many_times": f"{HELD_MANY_TIMES}\nx = max(rows)",
    "padding_from_the_type": 'x = str.ljust("x", 10 ** 9)',
    "join_from_the_type": 'x = str.join("", ["y" * 999999] * 1000)',
}


def peak_memory() -> int:
    """The most memory the test process has held so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize("script", BYPASSES.values(), ids=BYPASSES)
def test_work_inside_builtins_stops_within_the_time_and_memory_limits(script: str) -> None:
    began, peak_before = time.monotonic(), peak_memory()

    with pytest.raises(SandboxViolation) as stopped:
        SandboxEnvironment(time_limit=SHORT_LIMIT).execute(script, {})

    assert time.monotonic() - began < SHORT_LIMIT + MARGIN
    # The process grew at most by the memory limit (and what one checked step can take).
    assert peak_memory() - peak_before < MEMORY_LIMIT_BYTES + 64 * 2**20
    said = str(stopped.value)
    assert "was stopped" in said or "a diagram may" in said or "too long for a diagram" in said


def test_ordinary_uses_of_map_filter_and_lambdas_still_work() -> None:
    sandbox = SandboxEnvironment()
    seats = ["AL", "BA", "ME", "XK"]

    assert sandbox.evaluate("list(map(lambda s: s.lower(), seats))", {"seats": seats}) == [
        "al",
        "ba",
        "me",
        "xk",
    ]
    assert sandbox.evaluate('list(filter(lambda s: s != "ME", seats))', {"seats": seats}) == [
        "AL",
        "BA",
        "XK",
    ]
    assert sandbox.evaluate("dict(enumerate(reversed(seats), 1))", {"seats": seats}) == {
        1: "XK",
        2: "ME",
        3: "BA",
        4: "AL",
    }
    context: dict[str, Any] = {"seats": seats}
    sandbox.execute(
        "def first(items):\n    return items[0]\nx = first(seats)",
        context,
    )
    assert context["x"] == "AL"


def test_ordinary_conversions_to_text_and_comparisons_still_work() -> None:
    sandbox = SandboxEnvironment()
    seats = ["AL", "BA", "ME", "XK"]
    tally = {"yes": 3, "no": 1, "seats": seats, "when": (2024, 5)}
    context = {"seats": seats, "tally": tally, "days": 12, "seat": "AL"}

    assert sandbox.evaluate('f"{seat}: {days} days, {seats!r}"', context) == (
        "AL: 12 days, ['AL', 'BA', 'ME', 'XK']"
    )
    assert sandbox.evaluate("str(tally)", context) == str(tally)
    assert sandbox.evaluate("repr(seats) + str(days) + str()", context) == str(seats) + "12"
    assert sandbox.evaluate('"%s has %d seats: %r" % (seat, days, seats)', context) == (
        "AL has 12 seats: ['AL', 'BA', 'ME', 'XK']"
    )
    assert sandbox.evaluate('"%(yes)d of %(seats)s" % tally', context) == (
        "3 of ['AL', 'BA', 'ME', 'XK']"
    )
    assert sandbox.evaluate("len(str(list(range(100000))))", {}) == 688_890
    assert sandbox.evaluate(
        'isinstance(seat, str) and not isinstance(days, str) and str(b"ok", "ascii")', context
    ) == ("ok")
    assert sandbox.evaluate("list(map(str.lower, seats))", context) == ["al", "ba", "me", "xk"]
    assert sandbox.evaluate(
        'seats == ["AL", "BA", "ME", "XK"] and "ME" in seats and seats < ["B"] and 1 < days <= 12',
        context,
    )
    assert sandbox.evaluate(
        "max(seats) + min(seats, key=len) + str(max(3, days)) + str(hash((1, 2)) == hash((1, 2)))",
        context,
    ) == ("XKAL12True")
    assert sandbox.evaluate("seats.index('ME') + seats.count('AL')", context) == 3
    looped: dict[str, Any] = {}
    sandbox.execute("items = [1]\nitems.append(items)\ntext = str(items)", looped)
    assert looped["text"] == "[1, [...]]"


FOLLOW_UP = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
id="Definitions_probe" targetNamespace="https://iisg.example/tests">
  <bpmn:process id="probe" name="Sandbox probe" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_secretariat" name="Secretariat">\
<bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming>\
<bpmn:outgoing>f2</bpmn:outgoing></bpmn:manualTask>
    <bpmn:scriptTask id="tally" name="Tally the answers"><bpmn:incoming>f2</bpmn:incoming>\
<bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="tally" />
    <bpmn:sequenceFlow id="f3" sourceRef="tally" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
FULL_LIMIT = TIME_LIMIT_SECONDS + MARGIN


def test_a_step_stopped_by_the_time_limit_fails_naming_it_and_saves_nothing(
    db: Database, clock: Clock, secretariat: Participant
) -> None:
    deploy_unchecked(db, clock, FOLLOW_UP.replace("SCRIPT", escape(NESTED)))
    procedures = Procedures(db, clock)
    instance_id = procedures.start("probe")
    review = procedures.task(instance_id, "review")
    stored, audited = procedures.instance(instance_id).state_json, procedures.audit_count()
    began = time.monotonic()

    with pytest.raises(
        EngineError, match="the step 'Tally the answers' of the methodology went wrong"
    ) as failed:
        procedures.complete(review.id, {}, secretariat)

    assert time.monotonic() - began < FULL_LIMIT  # the worker is free again
    assert f"did not finish within {TIME_LIMIT_SECONDS:g} seconds" in str(failed.value)
    assert procedures.instance(instance_id).state_json == stored
    assert procedures.audit_count() == audited
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["review"]


@pytest.mark.parametrize(
    ("placeholder", "code"),
    [
        ("CONDITION", NESTED.removeprefix("x = ")),
        ("TIMER", f'{NESTED.removeprefix("x = ")} or "PT1H"'),
    ],
    ids=["condition", "timer"],
)
def test_a_condition_or_timer_stopped_by_the_time_limit_starts_nothing(
    placeholder: str, code: str, db: Database, clock: Clock
) -> None:
    deploy_unchecked(db, clock, probe_diagram(**{placeholder: code}))
    audited = Procedures(db, clock).audit_count()
    began = time.monotonic()

    with pytest.raises(EngineError, match="was stopped"):
        Procedures(db, clock).start("probe")

    assert time.monotonic() - began < FULL_LIMIT
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
    assert Procedures(db, clock).audit_count() == audited


def test_the_dry_run_reports_a_script_stopped_by_the_time_limit(db: Database, clock: Clock) -> None:
    bundle, problems = check_bundle({"probe.bpmn": probe_diagram(SCRIPT=NESTED)}, known_roles())
    assert problems == [] and bundle is not None
    began = time.monotonic()

    with db.session() as session:
        report = dry_run(session, "probe", bundle.spec("probe"), bundle.files, now=clock.now())

    assert time.monotonic() - began < FULL_LIMIT
    assert [f.element_id for f in report.findings] == ["script"]
    assert f"did not finish within {TIME_LIMIT_SECONDS:g} seconds" in report.findings[0].message
