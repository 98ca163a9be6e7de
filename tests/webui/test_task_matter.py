"""Every task shows its matter: the proposal on the Board's steps, the application on its
assessment, the list on "send the list", the partner's mapped needs for its focal point, the
earlier drafts for a consultation; every task page links to its procedure, and a Board
member's seat task goes straight to the silent procedure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.workflows.board.test_membership import (
    ASSESSMENT,
    apply_and_express_interest,
    two_on_a_list,
)
from tests.workflows.conftest import Iisg, methodology_and_board
from tests.workflows.mappings.test_response_mapping import (
    ASKED,
    Mapping,
    deliver,
    mapping,
    open_mapping,
    partners_answer,
)
from workflows.inbox.attaching import start_with_documents, upload_for_later
from workflows.inbox.documents import check_upload, documents_directory
from workflows.people import accounts
from workflows.settings import DEFAULT_MIN_NOTICE

__all__ = ["mapping"]  # the response mapping's people and needs, as a fixture here too

MakePerson = Callable[..., Participant]
WORK_PROGRAMME = "The Board adopts the IISG work programme 2027.\n\nIt covers the three pillars."


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: MakePerson) -> Iisg:
    """The methodology from bpmn/, the Secretariat and the seven Board members."""
    return methodology_and_board(db, clock, make_person)


def put_to_the_board(iisg: Iisg, *, with_file: bool = True) -> int:
    """The Secretariat puts the work programme to the Board, with its file."""

    def work(session: Session) -> int:
        now = iisg.clock.now()
        documents = []
        if with_file:
            upload = check_upload("work-programme-2027.txt", b"The work programme 2027.\n")
            document = upload_for_later(
                session,
                upload,
                uploader=iisg.secretariat,
                now=now,
                directory=documents_directory(),
            )
            documents = [document.id]
        instance = start_with_documents(
            session,
            iisg.secretariat,
            "board_decision",
            {
                "subject": "IISG work programme 2027",
                "proposal": WORK_PROGRAMME,
                "documents": documents,
            },
            now,
            notice=DEFAULT_MIN_NOTICE,
        )
        return int(instance.id)

    instance_id: int = iisg.db.run(work)
    return instance_id


def section(page: str, heading_id: str) -> str:
    """The words of the main region's section headed by `heading_id`."""
    found = main_region(page).xpath(f".//section[@aria-labelledby='{heading_id}']")
    assert found, f"no section '{heading_id}' in the main region"
    return " ".join(found[0].text_content().split())


def test_choose_how_the_board_decides_shows_the_proposal_and_its_documents_above_the_methodology(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = put_to_the_board(iisg)
    task = iisg.task(iisg.secretariat, "choose_method", instance_id)

    page = browser("secretariat").text(f"/tasks/{task.id}")

    matter = section(page, "matter")
    assert matter.startswith("The proposal to the Board Subject IISG work programme 2027")
    assert "The Board adopts the IISG work programme 2027. It covers the three pillars." in matter
    assert "Its documents work-programme-2027.txt" in matter
    text = main_text(page)
    assert text.index("The proposal to the Board") < text.index("What the methodology asks")
    # The methodology's words hold for any matter, not only membership.
    asks = section(page, "asks")
    assert "list of potential members" not in asks
    assert "whatever the matter is" in asks
    link = main_region(page).xpath(".//a[text()='work-programme-2027.txt']")
    assert link and link[0].get("href", "").startswith("/documents/")


def test_a_board_members_seat_task_shows_the_frozen_proposal_and_no_claim(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = put_to_the_board(iisg, with_file=False)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    task = iisg.task(iisg.board["MK"], "answer_silent_procedure", instance_id)

    page = browser("board-mk").text(f"/tasks/{task.id}")

    assert "Subject IISG work programme 2027" in section(page, "matter")
    assert "The proposal has no documents." in section(page, "matter")
    text = main_text(page)
    assert "Claim this task" not in text
    assert "Everyone who holds this role sees this task" not in text


def test_a_board_members_inbox_card_opens_the_silent_procedure_page(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = put_to_the_board(iisg, with_file=False)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})

    inbox = main_region(browser("board-mk").text("/inbox"))

    [card] = inbox.xpath(".//li[contains(@class, 'card')]")
    [link] = card.xpath(".//h3/a")
    assert link.text_content() == "Answer the silent procedure"
    assert link.get("href") == f"/silent-procedures/{instance_id}"
    assert not card.xpath(".//button[contains(., 'Claim')]")


def test_assessing_the_application_shows_what_the_applicant_submitted(
    iisg: Iisg, make_person: MakePerson, browser: Callable[..., Browser]
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "OSCE", "OSCE")
    task = iisg.task(iisg.secretariat, "assess_application", instance_id)

    matter = section(browser("secretariat").text(f"/tasks/{task.id}"), "matter")

    assert matter.startswith("The application Express interest in IISG membership")
    assert "By applicant-osce" in matter
    assert "Name of the country/Organisation OSCE" in matter
    assert "WB CTi focal point: name Ana Petrović" in matter
    assert "Maria Rossi" in matter


def test_sending_the_list_shows_each_application_on_it_with_its_assessment(
    iisg: Iisg, make_person: MakePerson, browser: Callable[..., Browser]
) -> None:
    a = apply_and_express_interest(
        iisg, make_person("applicant-a", Grant("applicant")), "ORGA", "Organisation A"
    )
    b = apply_and_express_interest(
        iisg, make_person("applicant-b", Grant("applicant")), "ORGB", "Organisation B"
    )
    spring = ASSESSMENT | {"board_list": "Spring 2027"}
    iisg.complete(iisg.secretariat, "assess_application", a, spring)
    iisg.complete(
        iisg.secretariat,
        "assess_application",
        b,
        spring | {"eu_values": "does_not_meet", "eu_values_comment": "Unclear."},
    )
    task = iisg.task(iisg.secretariat, "send_list_to_board", a)

    page = browser("secretariat").text(f"/tasks/{task.id}")

    matter = section(page, "matter")
    assert matter.startswith("The applications on this list Organisation A (ORGA)")
    assert "Organisation B (ORGB), international organisation" in matter
    assert "like-minded partner meets: Shares the IISG's aims in the region." in matter
    assert "does not meet: Unclear." in matter
    links = main_region(page).xpath(".//section[@aria-labelledby='matter']//h3/a/@href")
    assert links == [f"/instances/{a}", f"/instances/{b}"]


def test_the_list_once_sent_leaves_the_board_steps_showing_the_proposal(
    iisg: Iisg, make_person: MakePerson, browser: Callable[..., Browser]
) -> None:
    a, _b, _applicant = two_on_a_list(iisg, make_person)
    task = iisg.task(iisg.secretariat, "choose_method", a)

    matter = section(browser("secretariat").text(f"/tasks/{task.id}"), "matter")

    assert "Subject IISG membership, list 'Spring 2027': Organisation A, Organisation B" in matter


def test_a_focal_point_delivering_information_sees_the_partners_mapped_needs_in_the_pillar(
    mapping: Mapping, browser: Callable[..., Browser]
) -> None:
    instance_id = open_mapping(mapping.iisg)
    task = mapping.iisg.task(mapping.fp("AL", "WBCTi"), "deliver_information", instance_id)

    page = browser("fp-al-wbcti").text(f"/tasks/{task.id}")

    matter = section(page, "matter")
    assert matter.startswith("The mapped needs of AL in WBCTi")
    assert "Align the law on preventing violent extremism with the EU acquis." in matter
    assert "A referral mechanism for radicalised persons." in matter
    # Another pillar's needs, and another partner's, are not this task's.
    assert "Train border police" not in matter
    assert "A national coordinator" not in matter
    first = mapping.needs["AL-WBCTi"][0]
    assert main_region(page).xpath(f".//a[@href='/database/needs/{first}']")


def test_the_consultation_on_the_first_draft_shows_the_draft(
    mapping: Mapping, browser: Callable[..., Browser]
) -> None:
    iisg = mapping.iisg
    instance_id = open_mapping(iisg)
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)
    iisg.complete(
        iisg.secretariat,
        "prepare_first_draft",
        instance_id,
        {"first_draft": "Legal framework: AL aligned its law.\n\nCapacity: training held."},
    )
    for pillar in ("WBCTi", "WBCSCi", "WBBSi"):
        iisg.complete(mapping.support_group[pillar], "add_project_support", instance_id, {})
    task = iisg.task(iisg.secretariat, "consult_on_first_draft", instance_id)

    matter = section(browser("secretariat").text(f"/tasks/{task.id}"), "matter")

    assert matter.startswith(
        "The earlier drafts What was written on this procedure's earlier steps, newest first."
    )
    newest = matter.index("Prepare the first draft of the response mapping document")
    assert "First draft Legal framework: AL aligned its law. Capacity: training held." in matter
    assert newest < matter.index("Prepare the draft calendar")


def test_every_task_page_links_to_its_procedure_and_the_procedure_links_to_its_open_tasks(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = put_to_the_board(iisg, with_file=False)
    task = iisg.task(iisg.secretariat, "choose_method", instance_id)
    secretariat = browser("secretariat")

    page = main_region(secretariat.text(f"/tasks/{task.id}"))
    [procedure] = page.xpath(".//dl[@class='facts']//a")
    assert procedure.get("href") == f"/instances/{instance_id}"
    assert procedure.text_content() == "Board decision: IISG work programme 2027"

    instance = main_region(secretariat.text(f"/instances/{instance_id}"))
    assert instance.xpath(f".//a[@href='/tasks/{task.id}']/text()") == [
        "Choose how the Board decides"
    ]


def test_a_board_member_links_to_the_procedure_and_sees_the_others_seats_unlinked(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = put_to_the_board(iisg, with_file=False)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    own = iisg.task(iisg.board["MK"], "answer_silent_procedure", instance_id)
    member = browser("board-mk")

    page = main_region(member.text(f"/tasks/{own.id}"))
    assert page.xpath(f".//dl[@class='facts']//a[@href='/instances/{instance_id}']")

    instance = main_region(member.text(f"/instances/{instance_id}"))
    task_links = [href for href in instance.xpath(".//a/@href") if href.startswith("/tasks/")]
    # Its own seat's task is a link; the other seats' and the Secretariat's are not.
    assert task_links == [f"/tasks/{own.id}"]


def test_a_step_without_shows_has_no_matter_section(
    iisg: Iisg, make_person: MakePerson, browser: Callable[..., Browser]
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    instance_id = iisg.start(
        "membership",
        {
            "how_it_began": "invitation",
            "organisation_name": "OSCE",
            "organisation_code": "OSCE",
            "member_group": "international_partner",
            "partner_type": "international_organisation",
            "applicant_username": applicant.username,
        },
        notice=timedelta(0),
    )
    task = iisg.task(iisg.secretariat, "send_invitation", instance_id)

    page = main_region(browser("secretariat").text(f"/tasks/{task.id}"))

    assert not page.xpath(".//section[@aria-labelledby='matter']")


def test_the_secretariat_sees_which_support_group_members_have_contributed(
    mapping: Mapping, make_person: MakePerson, browser: Callable[..., Browser]
) -> None:
    """Response mapping methodology 2022, I.2: the other members of the Support Group send
    the project support they gave; the procedure's page tells the Secretariat, per pillar,
    which member organisations have contributed and which have not yet."""
    iisg = mapping.iisg
    make_person("sg-de-wbcti", Grant("support_group", "DE", "WBCTi"))
    instance_id = open_mapping(iisg)
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)
    iisg.complete(mapping.support_group["WBCTi"], "add_project_support", instance_id, {})

    seen = main_text(browser("secretariat").text(f"/instances/{instance_id}"))

    assert "The Support Group's contributions" in seen
    assert "WBBSi EC not yet" in seen
    assert "WBCSCi EC not yet" in seen
    assert "WBCTi DE not yet" in seen
    assert "WBCTi EC contributed" in seen
    # A Support Group member who took part reads the procedure, not who else contributed.
    other = main_text(browser("sg-wbcti").text(f"/instances/{instance_id}"))
    assert "Annual response mapping" in other
    assert "The Support Group's contributions" not in other


def test_a_partners_focal_point_reads_the_draft_calendar_it_is_asked_to_agree(
    mapping: Mapping, browser: Callable[..., Browser]
) -> None:
    """Response mapping 2022, preparatory phase, step 1: the WB partners are consulted on
    the draft calendar and agree it; each partner's task page shows the calendar itself."""
    iisg = mapping.iisg
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    iisg.complete(
        iisg.secretariat,
        "prepare_draft_calendar",
        instance_id,
        {"calendar": "Request in week 1.\n\nInput in four weeks; Board in ten."},
    )
    task = iisg.task(mapping.fp("AL", "WBCTi"), "agree_calendar", instance_id)

    page = browser("fp-al-wbcti").text(f"/tasks/{task.id}")

    matter = section(page, "matter")
    assert matter.startswith("The draft calendar Prepare the draft calendar")
    assert "Draft calendar Request in week 1. Input in four weeks; Board in ten." in matter
    text = main_text(page)
    assert "Agree the draft calendar or comment on it" in text
    assert "For Albania Due 30 Nov 2026, 09:00 UTC" in text  # five working days
    assert "Answer (required) Agree Comment: we would change something Your comment" in text


def test_the_secretariat_reads_each_partners_answer_to_the_draft_calendar(
    mapping: Mapping, browser: Callable[..., Browser]
) -> None:
    """Preparatory phase, step 1: the Secretariat "consults and agrees with WB partners":
    its step shows every partner's answer and comment before it records the agreement."""
    iisg = mapping.iisg
    instance_id = iisg.start("response_mapping", {"report_year": 2026})
    iisg.complete(iisg.secretariat, "prepare_draft_calendar", instance_id, {"calendar": "Week 1."})
    partners_answer(
        iisg,
        instance_id,
        "agree_calendar",
        {"ME": {"agreement_answer": "comment", "agreement_comment": "Move the Board to June."}},
    )
    task = iisg.task(iisg.secretariat, "agree_calendar_with_wb_partners", instance_id)

    matter = section(browser("secretariat").text(f"/tasks/{task.id}"), "matter")

    assert "The WB partners' answers" in matter
    assert "Montenegro Comments Move the Board to June." in matter
    assert "Albania Agrees" in matter
