"""The Secretariat amends a methodology in the editor: opens membership, adds a step, sees
what is wrong, saves a draft, proposes it; the Board adopts it; new applications take the
new step (PROCEDURES.md, section 5)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.diagrams.changes import ElementChange, FlowChange, FormChange
from engine.errors import EngineError
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, Decision, ProcessDefinition, ProcessInstance
from tests.workflows.board.test_membership import application, expression_of_interest
from tests.workflows.conftest import Iisg
from tests.workflows.membership_amendment import (
    DOCUMENTATION,
    NEW_FORM,
    NEW_TASK,
    NEW_TASK_NAME,
    amended_forms,
    membership_forms,
    membership_in_force,
    replace_once,
    with_new_step,
)
from workflows.methodology.diagrams import BPMN_DIR
from workflows.methodology.editor import (
    DraftCheck,
    DraftRejected,
    changes_between,
    check_draft,
    editable_bundle,
    propose_draft,
    save_draft,
    version_history,
)

MakePerson = Callable[..., Participant]

THE_CHANGE_LIST = [
    f'New user task: "{NEW_TASK_NAME}", done by the Secretariat, with the form "{NEW_FORM}".'
    f' It says: "{DOCUMENTATION}"',
    f'New flow from "{NEW_TASK_NAME}" to "Member group?".',
    f'The flow from "Record the expression of interest" now leads to "{NEW_TASK_NAME}" '
    'instead of "Member group?".',
    f'New form "{NEW_FORM}" (The expression of interest is complete) with the fields: '
    "complete, completeness_note.",
]


def check(iisg: Iisg, xml: str, forms: dict[str, str], process: str = "membership") -> DraftCheck:
    with iisg.db.session() as s:
        return check_draft(s, process, xml, forms, now=iisg.clock.now())


def save(iisg: Iisg, xml: str, forms: dict[str, str], process: str = "membership") -> int:
    def work(session: Session) -> int:
        saved = save_draft(session, process, xml, forms, actor="secretariat", now=iisg.clock.now())
        return saved.version

    version: int = iisg.db.run(work)
    return version


def versions(iisg: Iisg, process: str = "membership") -> dict[int, str]:
    with iisg.db.session() as s:
        rows = s.scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == process))
        return {row.version: row.status for row in rows}


def stored_rows(iisg: Iisg) -> dict[str, int]:
    with iisg.db.session() as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (ProcessDefinition, ProcessInstance, AuditEvent, Decision)
        }


def propose(
    iisg: Iisg, version: int, summary: str = "Incomplete applications waste the Board's time."
) -> int:
    def work(session: Session) -> int:
        draft = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == "membership", ProcessDefinition.version == version
            )
        ).one()
        return propose_draft(session, draft, iisg.secretariat, summary, now=iisg.clock.now()).id

    amendment: int = iisg.db.run(work)
    return amendment


def board_adopts_by_silent_procedure(iisg: Iisg, amendment: int) -> None:
    iisg.complete(iisg.secretariat, "choose_method", amendment, {"method": "silent_procedure"})
    for seat in iisg.board:
        iisg.answer(seat, amendment, "no_objection")


def adopt_the_new_step(iisg: Iisg) -> int:
    """Save the amended membership as a draft, propose it and have the Board adopt it."""
    version = save(iisg, with_new_step(), amended_forms())
    board_adopts_by_silent_procedure(iisg, propose(iisg, version))
    return version


def test_the_editor_opens_the_version_in_force_with_its_own_forms(iisg: Iisg) -> None:
    with iisg.db.session() as s:
        definition, xml, forms = editable_bundle(s, "membership")

    assert (definition.version, definition.status) == (1, "active")
    assert xml == membership_in_force()
    assert forms == membership_forms()  # not the forms of the Board decision it calls


def test_a_new_user_task_without_form_or_documentation_is_a_lint_error_on_that_task(
    iisg: Iisg,
) -> None:
    found = check(iisg, with_new_step(form=False, documentation=False), membership_forms())

    assert not found.ok
    assert [(p.kind, p.element_id, p.severity) for p in found.problems] == [
        ("lint", NEW_TASK, "error"),
        ("lint", NEW_TASK, "error"),
    ]
    assert "this user task has no form" in found.problems[0].message
    assert "this user task has no documentation" in found.problems[1].message
    assert found.problems[0].file == "membership.bpmn" and found.problems[0].line
    with pytest.raises(DraftRejected, match="this user task has no form"):
        save(iisg, with_new_step(form=False, documentation=False), membership_forms())
    assert versions(iisg) == {1: "active"}


def test_with_its_form_and_documentation_the_new_step_saves_as_a_draft(iisg: Iisg) -> None:
    found = check(iisg, with_new_step(), amended_forms())

    assert found.ok
    assert [p.severity for p in found.problems] == ["warning"]  # made-up data, see below
    # The dry run starts the procedure; opening an application needs a real applicant login,
    # which made-up answers cannot give: a warning, not an error.
    assert found.dry_run[0] == "A possible partner is identified, or reaches out"
    assert (found.problems[0].kind, found.problems[0].element_id) == (
        "dry_run",
        "open_the_application",
    )

    assert save(iisg, with_new_step(), amended_forms()) == 2
    assert versions(iisg) == {1: "active", 2: "draft"}
    with iisg.db.session() as s:
        draft, xml, forms = editable_bundle(s, "membership")  # the newest draft now
        assert (draft.version, draft.created_by) == (2, "secretariat")
        assert forms == amended_forms()
        assert NEW_TASK in xml
    # Saving the same diagram again keeps the version.
    assert save(iisg, with_new_step(), amended_forms()) == 2
    assert versions(iisg) == {1: "active", 2: "draft"}


def test_the_change_list_says_what_the_amendment_adds_and_reconnects(iisg: Iisg) -> None:
    save(iisg, with_new_step(), amended_forms())
    with iisg.db.session() as s:
        in_force, _, _ = editable_bundle(s, "membership", 1)
        draft, _, _ = editable_bundle(s, "membership", 2)
        changes = changes_between(in_force, draft)

    assert changes.elements.added == [
        ElementChange(NEW_TASK, "user task", NEW_TASK_NAME),
    ]
    assert changes.elements.removed == [] and changes.elements.changed == []
    assert changes.flows.added == [FlowChange("flow_checked", NEW_TASK, "by_member_group", None)]
    assert changes.flows.changed == [
        FlowChange(
            "flow_to_member_group",
            "record_the_expression_of_interest",
            NEW_TASK,
            None,
            field="target",
            before="by_member_group",
            after=NEW_TASK,
        )
    ]
    assert changes.forms.added == [
        FormChange(
            NEW_FORM, "The expression of interest is complete", ["complete", "completeness_note"]
        )
    ]
    assert changes.documentation == []
    assert changes.element_ids.added == {NEW_TASK, "flow_checked"}
    assert changes.element_ids.changed == {"flow_to_member_group"}
    assert changes.summary() == THE_CHANGE_LIST
    json.dumps(dataclasses.asdict(changes))  # what the editor's API sends as it is


def test_documentation_and_form_changes_are_listed_too(iisg: Iisg) -> None:
    reworded = replace_once(
        membership_in_force(),
        "Send the official invitation, with the expression of interest form",
        "Send the official invitation by registered letter, with the expression of interest form",
    )
    forms = membership_forms()
    invitation = json.loads(forms["membership_invitation.json"])
    invitation["properties"]["registered_letter_number"] = {"type": "string", "title": "Number"}
    invitation["required"].append("invitation_reference")
    forms["membership_invitation.json"] = json.dumps(invitation)
    save(iisg, reworded, forms)

    with iisg.db.session() as s:
        changes = changes_between(
            editable_bundle(s, "membership", 1)[0], editable_bundle(s, "membership", 2)[0]
        )

    [documentation] = changes.documentation
    assert documentation.id == "send_invitation"
    assert "by registered letter" in documentation.after
    assert changes.forms.changed == [
        FormChange(
            "membership_invitation.json",
            "The official invitation",
            added_fields=["registered_letter_number"],
            changed_fields=["invitation_reference"],  # now required
        )
    ]
    assert changes.element_ids.changed == {"send_invitation"}


SCRIPT_WITH_IMPORT = replace_once(
    membership_in_force(),
    'subject = board_matter["subject"]',
    'import os\nsubject = board_matter["subject"]',
)
WITH_ENTITY = replace_once(
    membership_in_force(),
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY who "the Board">]>',
)
TWENTY_MEGABYTES = replace_once(
    membership_in_force(),
    "</bpmn:definitions>",
    "<!-- " + "x" * (20 * 1024 * 1024) + " -->\n</bpmn:definitions>",
)
DANGLING_FLOW = replace_once(
    membership_in_force(),
    '<bpmn:sequenceFlow id="flow_to_open"',
    '<bpmn:sequenceFlow id="flow_to_nowhere" sourceRef="start" targetRef="no_such_step" />\n'
    '    <bpmn:sequenceFlow id="flow_to_open"',
)
REFUSED = {
    # case: (diagram, forms, (kind, element id, file), words)
    "script_importing_os": (
        SCRIPT_WITH_IMPORT,
        membership_forms(),
        ("lint", "prepare_the_matter", "membership.bpmn"),
        "the script is not allowed: imports are not allowed in a diagram",
    ),
    "xml_entity": (
        WITH_ENTITY,
        membership_forms(),
        ("xml", None, "membership.bpmn"),
        "declares a DOCTYPE or an ENTITY",
    ),
    "twenty_megabytes": (
        TWENTY_MEGABYTES,
        membership_forms(),
        ("xml", None, "membership.bpmn"),
        "the file is 20.0 MB; a diagram may be at most 2 MB",
    ),
    "dangling_sequence_flow": (
        DANGLING_FLOW,
        membership_forms(),
        ("lint", "flow_to_nowhere", "membership.bpmn"),
        "the sequence flow goes to 'no_such_step', which is not a step of this process",
    ),
    "form_not_json": (
        membership_in_force(),
        membership_forms() | {"membership_invitation.json": '{\n  "type": "object",\n  oops\n}'},
        ("form", None, "membership_invitation.json"),
        "is not valid JSON: Expecting property name enclosed in double quotes (line 3, column 3)",
    ),
    "form_not_a_json_schema": (
        membership_in_force(),
        membership_forms() | {"membership_invitation.json": '{"type": "form-with-fields"}'},
        ("form", None, "membership_invitation.json"),
        "is not a valid JSON Schema:",
    ),
}


@pytest.mark.parametrize(("xml", "forms", "where", "words"), REFUSED.values(), ids=REFUSED)
def test_an_unsafe_or_broken_draft_is_refused_with_its_reason_and_nothing_is_stored(
    iisg: Iisg, xml: str, forms: dict[str, str], where: tuple[str, str | None, str], words: str
) -> None:
    before = stored_rows(iisg)

    found = check(iisg, xml, forms)

    assert not found.ok
    errors = [p for p in found.problems if p.severity == "error"]
    assert (errors[0].kind, errors[0].element_id, errors[0].file) == where
    assert words in errors[0].message
    with pytest.raises(DraftRejected) as refused:
        save(iisg, xml, forms)
    assert words in str(refused.value)
    assert refused.value.problems == found.problems
    assert found.dry_run == []  # nothing runs that did not pass every check
    assert stored_rows(iisg) == before
    assert versions(iisg) == {1: "active"}


def test_a_form_that_is_not_json_names_its_line_and_column(iisg: Iisg) -> None:
    _, forms, _, _ = REFUSED["form_not_json"]
    [problem, *_] = [
        p for p in check(iisg, membership_in_force(), forms).problems if p.kind == "form"
    ]

    assert (problem.file, problem.line) == ("membership_invitation.json", 3)


def test_a_step_nothing_leads_to_is_a_reachability_error(iisg: Iisg) -> None:
    unconnected = with_new_step(connected=False)

    found = check(iisg, unconnected, amended_forms())

    assert [(p.kind, p.element_id, p.severity) for p in found.problems] == [
        ("reachability", NEW_TASK, "error")
    ]
    assert "no path leads to this step from a start event" in found.problems[0].message


def test_the_dry_run_takes_the_silent_procedure_to_its_end_and_keeps_nothing(iisg: Iisg) -> None:
    before = stored_rows(iisg)
    with iisg.db.session() as s:
        _, xml, forms = editable_bundle(s, "silent_procedure")

    found = check(iisg, xml, forms, process="silent_procedure")

    assert found.ok and found.problems == []
    assert found.dry_run.count("Answer the silent procedure") == 7
    assert found.dry_run[-2:] == ["Close: every seat answered or one objected", "Decision recorded"]
    assert stored_rows(iisg) == before


def test_the_diagram_must_define_the_procedure_it_is_saved_for(iisg: Iisg) -> None:
    found = check(iisg, membership_in_force(), membership_forms(), process="silent_procedure")

    assert not found.ok
    assert any(
        "the diagram must define the procedure 'silent_procedure'" in p.message
        for p in found.problems
    )


def test_proposed_and_adopted_the_new_step_is_in_every_new_application_only(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    later_applicant = make_person("applicant-undp", Grant("applicant"))
    before = iisg.start("membership", application("OSCE", "OSCE", applicant.username))
    version = save(iisg, with_new_step(), amended_forms())

    amendment = propose(iisg, version)

    assert versions(iisg) == {1: "active", 2: "proposed"}
    with iisg.db.session() as s:
        drafted = s.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == amendment, AuditEvent.kind == "task.completed"
            )
        ).one()
    assert drafted.payload["data"] == {
        "draft_version": 2,
        "changes": "\n".join(f"- {line}" for line in THE_CHANGE_LIST),
    }
    iisg.clock.move(hours=1)
    board_adopts_by_silent_procedure(iisg, amendment)
    adopted_at = iisg.clock.now()

    assert versions(iisg) == {1: "retired", 2: "active"}
    decision = iisg.decision(amendment)
    assert decision.outcome == "adopted"
    # The proposer is the Secretariat member who proposed it from the editor.
    assert decision.text.startswith(
        "Proposed by secretariat (Secretariat).\n\nIncomplete applications"
    )
    assert NEW_TASK_NAME in decision.text

    after = iisg.start("membership", application("UNDP", "UNDP", later_applicant.username))
    iisg.complete(
        applicant, "submit_expression_of_interest", before, expression_of_interest("OSCE")
    )
    iisg.complete(
        later_applicant, "submit_expression_of_interest", after, expression_of_interest("UNDP")
    )
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, before)] == ["assess_application"]
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, after)] == [NEW_TASK]
    iisg.complete(iisg.secretariat, NEW_TASK, after, {"complete": True})
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, after)] == ["assess_application"]

    with iisg.db.session() as s:
        history = {entry.version: entry for entry in version_history(s, "membership")}
    assert list(history) == [2, 1]
    assert history[2].created_by == "secretariat"
    assert history[2].adopted_by_decision_id == decision.id
    assert history[2].decision_subject == (
        "Amendment of the methodology: Becoming an IISG member (version 2)"
    )
    assert history[2].activated_at == adopted_at
    assert history[2].instances_running == 1
    assert (history[1].status, history[1].retired_at) == ("retired", adopted_at)
    assert history[1].instances_running == 1  # the application started before
    assert history[1].created_by == "tests"
    assert history[1].retired_at == history[1].created_at + timedelta(hours=1)


def test_only_a_draft_can_be_proposed(iisg: Iisg) -> None:
    with iisg.db.session() as s:
        in_force, _, _ = editable_bundle(s, "membership")
        with pytest.raises(EngineError, match="version 1 of 'membership' is active; only a draft"):
            propose_draft(s, in_force, iisg.secretariat, "No change.", now=iisg.clock.now())


def test_the_editor_resolves_calls_against_the_versions_in_force(iisg: Iisg) -> None:
    # A draft of board_decision is not in force: membership's call still checks against v1.
    board = (BPMN_DIR / "board_decision.bpmn").read_text()
    save(
        iisg,
        board.replace("Matter put to the Board", "A matter goes to the Board"),
        {p.name: p.read_text() for p in BPMN_DIR.glob("board_decision_*.json")},
        process="board_decision",
    )

    assert check(iisg, with_new_step(), amended_forms()).ok
    assert versions(iisg, "board_decision") == {1: "active", 2: "draft"}
