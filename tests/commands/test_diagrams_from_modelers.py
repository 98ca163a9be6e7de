"""Diagrams as other modelers save them (Camunda Modeler, bpmn.io, Activiti-style names, other
encodings), checked by `iisg validate` and `iisg deploy`: each file gets its outcome in words,
the same alone as in a batch, and never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from commands.cli import main
from models import ProcessDefinition
from tests.conftest import Database

CORPUS = Path(__file__).parents[1] / "engine" / "diagrams" / "corpus"
VALID = "valid"

# Each file of the corpus and what `iisg validate` must say of it: valid, or words of each of its
# problems (a tuple: one line each, all reported together).
OUTCOMES: dict[str, str | tuple[str, ...]] = {
    "camunda_export.bpmn": VALID,
    "Uppercase_Extension.BPMN": VALID,
    "activiti_style.bpmn20.xml": VALID,
    "saved_as.xml": VALID,
    "latin1_prolog.bpmn": VALID,
    "utf16_prolog.bpmn": VALID,
    "iso_timers.bpmn": VALID,
    "expression_timers.bpmn": VALID,
    "callee.bpmn": VALID,
    "caller.bpmn": VALID,
    "twice_one.bpmn": VALID,
    "twice_two.bpmn": VALID,
    "python_condition.bpmn": VALID,
    "same_name/first/request.bpmn": VALID,
    "same_name/second/request.bpmn": "[Activity_1 'Check the request']: the lane 'Press office' "
    "is not a known role",
    "calls_twice_defined.bpmn": "[Activity_1 'Run the called process']: calls the process "
    "'corpus_twice', which twice_one.bpmn and twice_two.bpmn both define",
    "declared_utf8_latin1_bytes.bpmn": ":15: its characters at line 15 are not in the encoding "
    "it declares (UTF-8); save the diagram again as UTF-8",
    "unknown_encoding.bpmn": "declares the encoding 'X-MARTIAN-1', which is not known here",
    "empty.bpmn": "the file is empty",
    "not_xml.bpmn": "is not XML: it does not begin with an element",
    "picture.xml": "is not XML: it does not begin with an element",
    "plain_task.bpmn": "[Activity_1 'Check the request']: this is a plain task, which says "
    "neither who does it nor what runs: nobody would be offered it. Make it a user task in "
    "the lane of the role that "
    "does it (with a form and documentation), or a script task",
    "not_executable.bpmn": 'defines no executable process: set isExecutable="true"',
    "juel_condition.bpmn": "[Flow_yes 'yes']: the expression '${approved}' is written in Camunda's "
    "JUEL (${...}); expressions here are Python over the task's data: write approved",
    "juel_compound_condition.bpmn": "is written in Camunda's JUEL (${...}); expressions here "
    "are Python over the task's data: write amount > 100 and not rejected",
    "feel_condition.bpmn": "[Flow_yes 'yes']: the expression '= approved' is written in FEEL "
    "(= ...); expressions here are Python over the task's data: write approved",
    "date_without_zone.bpmn": "the timer date '2030-01-01T09:00:00' has no time zone",
    "duration_not_iso.bpmn": "the timer value 'one hour' is not an ISO 8601 duration or cycle",
    # bpmn-js writes correlation expressions as formalExpression: SpiffWorkflow's preprocessing
    # accepts them, and so does the schema check.
    "message_correlation.bpmn": VALID,
    "multi_instance.bpmn": VALID,
    "pools_and_lanes.bpmn": VALID,
    "data_store_newline.bpmn": ":3 [DataStore_register 'Register of members']: the data store "
    "'Register of members' is not one the system keeps, so no step could read or write it",
    "data_store_reference_only.bpmn": ":9 [Activity_file 'File the decision']: this step writes "
    "to 'Archive of decisions', which is neither a data object of its process nor a data store "
    "the system keeps",
    "unknown_message.bpmn": ":9 [Event_wait 'Reply received']: the event names the message "
    "'Message_answer', which this diagram does not define; choose one of its messages ('Reply')",
    "several_mistakes.bpmn": (
        ":36 [Event_other_end 'Not announced']: does not follow the BPMN 2.0 schema: Element "
        "'bpmn:endEvent', attribute 'colour': The attribute 'colour' is not allowed.",
        ":12 [Activity_announce 'Announce the decision']: the lane 'Press office' is not a "
        "known role",
        ":12 [Activity_announce 'Announce the decision']: this user task has 2 outgoing sequence "
        "flows, but a user task may have only one: lead its flow into a gateway after it",
        ":30 [Flow_yes 'Yes']: the expression '${confirmed}' is written in Camunda's JUEL",
        ":3 [corpus_several 'Everything at once']: this process has no start event, so it "
        "could never begin",
    ),
}


@pytest.fixture
def iisg(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path / "instance"))
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    """The command as an operator runs it; an exception escaping it fails the test."""
    result = runner.invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def validate(runner: CliRunner, *names: str) -> Result:
    return run(runner, "validate", *[str(CORPUS / name) for name in names])


def lines_about(output: str, name: str) -> list[str]:
    """The problem lines of one file (named by its path as given)."""
    return [line for line in output.splitlines() if line.startswith(f"{CORPUS / name}:")]


def test_the_corpus_holds_exactly_the_files_the_table_names() -> None:
    on_disk = {
        str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*") if path.suffix != ".json"
    }
    assert on_disk - {"same_name", "same_name/first", "same_name/second"} == set(OUTCOMES)


@pytest.mark.parametrize(("name", "outcome"), OUTCOMES.items(), ids=list(OUTCOMES))
def test_each_file_alone_gets_its_outcome(iisg: CliRunner, name: str, outcome: str) -> None:
    result = validate(iisg, name)

    if outcome == VALID:
        assert result.exit_code == 0, result.output
        assert result.output == "1 file(s) valid.\n"
    else:
        assert result.exit_code == 1
        expected = (outcome,) if isinstance(outcome, str) else outcome
        found = lines_about(result.output, name)
        assert len(found) == len(expected), found
        for line, words in zip(found, expected, strict=True):
            assert words in line


def test_a_batch_reports_every_file_as_it_is_reported_alone(iisg: CliRunner) -> None:
    names = list(OUTCOMES)
    alone = {name: lines_about(validate(iisg, name).output, name) for name in names}

    batch = validate(iisg, *names)

    assert batch.exit_code == 1
    refused = [name for name, outcome in OUTCOMES.items() if outcome != VALID]
    assert f"problem(s) found in {len(refused)} of {len(names)} file(s)." in batch.output
    for name in names:
        assert lines_about(batch.output, name) == alone[name], name


def test_a_missing_file_or_a_folder_is_named_with_its_reason(
    iisg: CliRunner, tmp_path: Path
) -> None:
    result = run(iisg, "validate", str(tmp_path / "nowhere.bpmn"), str(tmp_path))

    assert result.exit_code == 1
    assert f"{tmp_path / 'nowhere.bpmn'}: there is no such file" in result.output
    assert f"{tmp_path}: is a folder: name the diagram files in it" in result.output


def test_a_form_named_on_its_own_is_checked_as_a_form(iisg: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"type": "object",')

    result = run(
        iisg, "validate", str(CORPUS / "corpus_confirm.json"), str(tmp_path / "broken.json")
    )

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path / 'broken.json'}: is a form but not valid JSON "
        "(line 1: Expecting property name enclosed in double quotes)",
        "1 problem(s) found in 1 of 2 file(s).",
    ]


def corpus_folder(tmp_path: Path, folder: str, *names: str, rename: str | None = None) -> Path:
    """A folder holding some corpus files and the form they use, as an operator would deploy."""
    target = tmp_path / folder
    target.mkdir()
    shutil.copy(CORPUS / "corpus_confirm.json", target)
    for name in names:
        shutil.copy(CORPUS / name, target / (rename or Path(name).name))
    return target


def stored(db: Database) -> list[tuple[str, int, str, str]]:
    with db.session() as session:
        rows = session.scalars(
            select(ProcessDefinition).order_by(
                ProcessDefinition.process_key, ProcessDefinition.version
            )
        )
        return [(d.process_key, d.version, d.status, d.source_name) for d in rows]


def test_deploy_of_a_missing_folder_says_so(iisg: CliRunner, db: Database) -> None:
    result = run(iisg, "deploy", "/no/such/dir")

    assert result.exit_code == 1
    assert "/no/such/dir: there is no such folder; nothing was deployed" in result.output
    assert stored(db) == []


def test_deploy_reads_every_extension_and_encoding(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    folder = corpus_folder(
        tmp_path, "modelers", "activiti_style.bpmn20.xml", "saved_as.xml", "latin1_prolog.bpmn"
    )

    result = run(iisg, "deploy", str(folder))

    assert result.exit_code == 0, result.output
    assert stored(db) == [
        ("Process_0xml", 1, "active", "saved_as.xml"),
        ("Process_1", 1, "active", "latin1_prolog.bpmn"),
        ("request_check", 1, "active", "activiti_style.bpmn20.xml"),
    ]
    with db.session() as session:
        latin1 = session.scalars(
            select(ProcessDefinition).where(ProcessDefinition.process_key == "Process_1")
        ).one()
        assert latin1.name == "Procédure d'accès"
        assert "Le Secrétariat vérifie la demande reçue." in latin1.bpmn_xml


def test_deploy_refuses_a_folder_where_two_files_define_one_process(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    folder = corpus_folder(tmp_path, "both", "camunda_export.bpmn", "Uppercase_Extension.BPMN")

    result = run(iisg, "deploy", str(folder))

    assert result.exit_code == 1
    assert (
        "Uppercase_Extension.BPMN:3 [Process_1]: defines the process 'Process_1', which "
        "camunda_export.bpmn also defines" in result.output
    )
    assert (
        "camunda_export.bpmn:3 [Process_1 'Request check']: defines the process 'Process_1', which "
        "Uppercase_Extension.BPMN also defines" in result.output
    )
    assert stored(db) == []


def test_deploy_refuses_a_non_executable_diagram_beside_good_ones(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    folder = corpus_folder(tmp_path, "mixed", "saved_as.xml", "not_executable.bpmn")

    result = run(iisg, "deploy", str(folder))

    assert result.exit_code == 1
    assert "not_executable.bpmn: defines no executable process" in result.output
    assert stored(db) == []


def test_an_unrelated_diagram_with_the_same_process_id_is_refused_unless_asked(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    ours = corpus_folder(tmp_path, "ours", "camunda_export.bpmn")
    assert run(iisg, "deploy", str(ours)).exit_code == 0
    theirs = corpus_folder(tmp_path, "theirs", "Uppercase_Extension.BPMN")

    refused = run(iisg, "deploy", str(theirs))

    assert refused.exit_code == 1
    assert (
        "Uppercase_Extension.BPMN [Process_1]: defines the process 'Process_1', which is "
        "already deployed from another file, camunda_export.bpmn ('Request check', version 1); "
        "deploying it would replace that procedure. Give this process another id, or, if it is "
        "meant to replace it, deploy with --replace-process Process_1" in refused.output
    )
    assert stored(db) == [("Process_1", 1, "active", "camunda_export.bpmn")]

    # Replacing it changes a procedure in force: the Board adopts it, or the operator says
    # why not (tests/commands/test_cli.py walks that rule).
    replaced = run(
        iisg,
        "deploy",
        str(theirs),
        "--replace-process",
        "Process_1",
        "--without-board-adoption",
        "--reason",
        "the request check is redrawn in another modeler",
    )

    assert replaced.exit_code == 0, replaced.output
    assert "Process_1: deployed as version 2" in replaced.output
    assert stored(db) == [
        ("Process_1", 1, "retired", "camunda_export.bpmn"),
        ("Process_1", 2, "active", "Uppercase_Extension.BPMN"),
    ]


def test_a_new_version_of_the_same_file_needs_no_flag(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    first = corpus_folder(tmp_path, "first", "camunda_export.bpmn")
    assert run(iisg, "deploy", str(first)).exit_code == 0
    # The same diagram edited in another copy of the folder: its file name says it is the same.
    second = corpus_folder(tmp_path, "second", "saved_as.xml", rename="camunda_export.bpmn")

    result = run(iisg, "deploy", str(second))

    assert result.exit_code == 0, result.output
    assert stored(db) == [
        ("Process_0xml", 1, "active", "camunda_export.bpmn"),
        ("Process_1", 1, "active", "camunda_export.bpmn"),
    ]
