"""The Board's pages: answering a silent procedure in one click, what each person sees of it,
the decision register and its exports, and the member register."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from engine.instances.claims import claim_task
from models import AuditEvent, Decision, FocalPoint, HumanTask, Organisation
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    elements,
    links,
    main_region,
    main_text,
    snapshot,
    values,
    words,
)
from tests.webui.test_api import Api, token_for
from tests.workflows.board.test_membership import two_on_a_list
from tests.workflows.conftest import Iisg, methodology_and_board
from workflows.board.frozen import text_hash
from workflows.board.register_csv import CSV_HEADER
from workflows.board.silent_procedure import time_left
from workflows.people import accounts

PROPOSAL = "The Board admits the OSCE as an IISG member.\n\nIt takes effect at once."
ANSWER = "answer_silent_procedure"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat and the seven Board members."""
    return methodology_and_board(db, clock, make_person)


def launch(iisg: Iisg, subject: str = "Membership of the OSCE") -> int:
    """The Secretariat launches a silent procedure (deadline: ten working days)."""
    return iisg.start("silent_procedure", {"subject": subject, "proposal": PROPOSAL})


def page_of(instance_id: int) -> str:
    return f"/silent-procedures/{instance_id}"


def answer_url(instance_id: int) -> str:
    return f"/silent-procedures/{instance_id}/answer"


def plain(html: str) -> str:
    """The words of the page's main region, as a person reads them."""
    return main_text(html)


def seat_row(html: str, seat: str) -> str:
    """The words of one seat's row in the (first) seats table."""
    rows = elements(main_region(html), f'.//table//tr[th[@scope="row"]="{seat}"]')
    assert rows, f"no row for {seat}"
    return words(rows[0])


def facts(page: str) -> dict[str, str]:
    """The facts a page lists (its terms and what each says), as a person reads them."""
    found: dict[str, str] = {}
    for pair in main_region(page).xpath(".//dl[@class='facts']/div"):
        term, *said = [" ".join(e.text_content().split()) for e in pair.xpath("./dt|./dd")]
        found[term] = " ".join(said)
    return found


def seat_task(db: Database, instance_id: int, seat: str) -> HumanTask:
    with db.session() as session:
        return session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == ANSWER,
                HumanTask.organisation == seat,
            )
        ).one()


def refused_attempts(db: Database) -> int:
    with db.session() as session:
        return len(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == "task.refused")).all()
        )


def test_a_board_member_answers_no_objection_in_one_click_and_then_sees_which_seats_answered(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    iisg.answer("BA", instance_id, "no_objection")
    albania = browser("board-al")

    before = albania.text(page_of(instance_id))
    seen = plain(before)
    assert "Membership of the OSCE" in seen
    assert "The Board admits the OSCE as an IISG member." in seen
    assert text_hash(PROPOSAL) in seen
    assert "14 days left" in seen
    assert "no_objection" in values(main_region(before), ".//form//input[@name='answer']/@value")
    # Not yet answered: how the others stand is not shown.
    assert "Once your seat has answered, you see which seats have answered." in seen
    assert "Bosnia and Herzegovina" not in before

    response = albania.submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "no_objection"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == page_of(instance_id)
    done = seat_task(db, instance_id, "AL")
    assert (done.status, done.completed_by) == ("completed", "board-al")
    assert done.submitted == {"answer": "no_objection"}
    after = albania.text(page_of(instance_id))
    assert "Your answer is recorded: no objection." in plain(after)
    assert 'value="no_objection"' not in after
    assert "2 of 7 seats have answered." in plain(after)
    assert seat_row(after, "Bosnia and Herzegovina") == "Bosnia and Herzegovina answered"
    assert seat_row(after, "Kosovo*") == "Kosovo* not answered yet"
    assert "Albania: no objection, by board-al" in plain(after)


def test_an_objection_without_a_reason_is_refused_with_the_message_and_changes_nothing(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    before = snapshot(db, instance_id)

    response = browser("board-rs").submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "objection", "reason": "  "}
    )

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    (error,) = elements(form, './/*[@id="objection-reason-error"]')
    assert "Reason for the objection: this field is required" in words(error)
    assert "Reason for the objection: this field is required" in words(form)
    assert values(form, './/*[@aria-invalid="true"]/@name') == ["reason"]
    assert snapshot(db, instance_id) == before
    assert seat_task(db, instance_id, "RS").status == "open"


def test_an_objection_with_its_reason_breaks_the_silence_and_the_page_says_so(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    serbia = browser("board-rs")

    response = serbia.submit(
        page_of(instance_id),
        answer_url(instance_id),
        {"answer": "objection", "reason": "The criteria are not met."},
    )

    assert response.status_code == 302
    page = serbia.text(page_of(instance_id))
    text = plain(page)
    assert "Time left closed" in text
    assert "silence broken by the objection of Serbia, The criteria are not met." in text
    assert "Final outcome not yet: the matter goes to the next Board meeting" in text
    assert "on the next Board meeting's agenda" in text
    assert seat_row(page, "Serbia").startswith(
        "Serbia objection The criteria are not met. board-rs"
    )
    # No deadline passed: Albania's silence counts for nothing; it gave no answer.
    assert seat_row(page, "Albania") == "Albania no answer nobody"


def test_a_board_member_of_another_seat_gets_no_buttons_and_a_direct_post_is_refused(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("board-fr", Grant("board_member", "FR"))
    instance_id = launch(iisg)
    before = snapshot(db, instance_id)
    other = browser("board-fr")

    page = other.text(page_of(instance_id))
    assert 'value="no_objection"' not in page and 'name="reason"' not in page

    response = other.submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "no_objection"}
    )

    assert response.status_code == 403
    assert "nothing was changed" in main_text(response.get_data(as_text=True))
    assert snapshot(db, instance_id) == before


def test_a_seat_claimed_by_its_member_shows_the_alternate_no_buttons_and_refuses_their_post(
    db: Database,
    clock: Clock,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("alternate-al", Grant("board_member", "AL"))
    instance_id = launch(iisg)
    task_id = seat_task(db, instance_id, "AL").id
    db.run(lambda s: claim_task(s, task_id, participant=iisg.board["AL"], now=clock.now()))
    before = snapshot(db, instance_id)
    alternate = browser("alternate-al")

    assert 'value="no_objection"' not in alternate.text(page_of(instance_id))
    response = alternate.submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "no_objection"}
    )

    assert response.status_code == 403
    assert snapshot(db, instance_id) == before


def test_the_designated_alternate_answers_for_the_seat_and_the_record_says_who(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("alternate-me", Grant("board_member", "ME"))
    instance_id = launch(iisg)

    response = browser("alternate-me").submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "no_objection"}
    )

    assert response.status_code == 302
    assert seat_task(db, instance_id, "ME").completed_by == "alternate-me"
    assert 'value="no_objection"' not in browser("board-me").text(page_of(instance_id))


def test_a_second_answer_for_the_same_seat_is_refused_as_already_done_and_logged(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    iisg.answer("AL", instance_id, "no_objection")
    before = snapshot(db, instance_id)[:2]

    response = browser("board-al").submit(
        page_of(instance_id), answer_url(instance_id), {"answer": "objection", "reason": "Late."}
    )

    assert response.status_code == 409
    assert "nothing was changed" in main_text(response.get_data(as_text=True))
    assert snapshot(db, instance_id)[:2] == before
    assert refused_attempts(db) == 1


def test_after_the_deadline_the_page_shows_each_seats_answer_or_silence(
    db: Database, clock: Clock, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    iisg.answer("AL", instance_id, "no_objection")
    answered_at = clock.now()
    clock.move(days=14, minutes=1)
    bosnia = browser("board-ba")

    # Past the deadline, before the scheduler has closed it: no more answers.
    waiting = bosnia.text(page_of(instance_id))
    assert "the deadline has passed" in plain(waiting)
    assert 'value="no_objection"' not in waiting
    late = bosnia.submit(page_of(instance_id), answer_url(instance_id), {"answer": "no_objection"})
    assert late.status_code == 409
    assert "an answer after it changes nothing" in main_text(late.get_data(as_text=True))
    assert seat_task(db, instance_id, "BA").status == "open"
    assert refused_attempts(db) == 1

    iisg.scheduler_pass()

    page = bosnia.text(page_of(instance_id))
    text = plain(page)
    assert "Each seat's answer or silence" in text
    assert "Time left closed" in text
    assert "adopted: silence at the deadline" in text
    assert seat_row(page, "Albania").startswith("Albania no objection board-al")
    assert answered_at.strftime("%H:%M UTC") in seat_row(page, "Albania")
    for seat in ("Bosnia and Herzegovina", "Kosovo*", "European Commission"):
        assert seat_row(page, seat) == f"{seat} silence (counts as agreement) nobody"
    assert "Bosnia and Herzegovina: did not answer" not in text
    assert "Bosnia and Herzegovina: silence (counts as agreement)" in text


def test_the_secretariat_sees_what_each_seat_answered_and_the_extension_task(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    iisg.answer("XK", instance_id, "no_objection")
    extension = iisg.task(iisg.secretariat, "extend_deadline", instance_id)

    page = browser("secretariat").text(page_of(instance_id))

    assert seat_row(page, "Kosovo*").startswith("Kosovo* no objection board-xk")
    assert seat_row(page, "Serbia") == "Serbia not answered yet"
    task_links = elements(main_region(page), f'.//a[@href="/tasks/{extension.id}"]')
    assert [words(link) for link in task_links] == ["Extend the deadline (once)"]
    assert 'value="no_objection"' not in page


def test_a_board_member_sees_the_seats_but_not_what_they_answered_while_it_runs(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    iisg.answer("XK", instance_id, "no_objection")
    iisg.answer("EC", instance_id, "no_objection")

    page = browser("board-ec").text(page_of(instance_id))

    assert seat_row(page, "Kosovo*") == "Kosovo* answered"
    assert "board-xk" not in page
    assert "Extend the deadline" not in page


def test_the_inbox_task_links_to_the_silent_procedure_page(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    task = seat_task(db, instance_id, "MK")

    page = browser("board-mk").text(f"/tasks/{task.id}")

    assert page_of(instance_id) in links(main_region(page))


def test_a_procedure_without_a_silent_procedure_is_not_found(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    assert browser("board-al").get(page_of(999999)).status_code == 404


def _two_decisions(iisg: Iisg) -> tuple[int, int]:
    """One adopted by silence at the deadline, then one that Serbia objected to."""
    adopted = launch(iisg, "Work programme 2027")
    iisg.answer("AL", adopted, "no_objection")
    iisg.clock.move(days=15)
    iisg.scheduler_pass()
    iisg.clock.move(hours=1)
    refused = launch(iisg, "Membership of the OSCE")
    iisg.answer("EC", refused, "no_objection")
    iisg.answer("RS", refused, "objection", "=HYPERLINK(evil) The criteria are not met.")
    return adopted, refused


def test_the_register_lists_decisions_newest_first_with_their_outcomes(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("member-al", Grant("member", "AL"))
    _two_decisions(iisg)

    page = browser("member-al").text("/decisions")

    text = plain(page)
    assert text.index("Membership of the OSCE") < text.index("Work programme 2027")
    assert "adopted: silence at the deadline" in text
    assert (
        "silence broken by the objection of Serbia, =HYPERLINK(evil) The criteria are not met.; "
        "on the next meeting's agenda" in text
    )
    assert "silent procedure" in text
    assert "/decisions.csv" in links(main_region(page))
    assert "/decisions/print" in links(main_region(page))
    assert "/decisions" in links(page)  # the navigation offers it to members


def test_the_csv_has_a_header_and_one_row_per_decision_per_seat(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    _two_decisions(iisg)

    response = browser("board-al").get("/decisions.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="iisg-board-decisions.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_HEADER
    body = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert len(body) == 14
    assert [r["subject"] for r in body] == ["Membership of the OSCE"] * 7 + [
        "Work programme 2027"
    ] * 7
    serbia = next(
        r for r in body if r["subject"].startswith("Membership") and r["seat"] == "Serbia"
    )
    assert (serbia["answer"], serbia["answered_by"]) == ("objection", "board-rs")
    # A cell a spreadsheet would run as a formula is written as text.
    assert serbia["reason"] == "'=HYPERLINK(evil) The criteria are not met."
    assert (serbia["outcome"], serbia["outcome_reason"]) == ("silence_broken", "objection")
    assert serbia["final_outcome"] == ""
    assert serbia["on_next_meeting_agenda"] == "yes"
    kosovo = next(r for r in body if r["subject"].startswith("Work") and r["seat"] == "Kosovo*")
    assert (kosovo["answer"], kosovo["answered_by"], kosovo["reason"]) == ("silence", "", "")
    assert kosovo["text_sha256"] == text_hash(PROPOSAL)


def test_a_decision_page_shows_the_text_its_hash_each_seat_and_the_next_step(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    _, refused = _two_decisions(iisg)
    decision_id = iisg.decision(refused).id

    page = browser("board-me").text(f"/decisions/{decision_id}")

    text = plain(page)
    assert "The Board admits the OSCE as an IISG member." in text
    assert text_hash(PROPOSAL) in text
    assert "silence broken by the objection of Serbia" in text
    assert "on the next Board meeting's agenda" in text
    assert seat_row(page, "Serbia").startswith("Serbia objection =HYPERLINK(evil)")
    assert seat_row(page, "European Commission").startswith(
        "European Commission no objection board-ec"
    )
    assert f"/instances/{refused}" in links(main_region(page))


def test_a_meeting_decision_shows_its_minutes(
    db: Database, clock: Clock, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    def record(session: Session) -> int:
        decision = Decision(
            method="meeting",
            subject="Calendar of the 2027 response mapping",
            text="The Board agrees the calendar.",
            text_sha256=text_hash("The Board agrees the calendar."),
            documents=["calendar-2027.pdf", {"name": "annex.docx", "url": "x"}],
            launched_at=clock.now(),
            closed_at=clock.now(),
            outcome="adopted",
            outcome_reason="meeting of 2026-11-20",
            minutes="Agreed without discussion.",
            recorded_by="secretariat",
        )
        session.add(decision)
        session.flush()
        return decision.id

    decision_id: int = db.run(record)

    text = plain(browser("board-al").text(f"/decisions/{decision_id}"))

    assert "adopted at a meeting of 2026-11-20" in text
    assert "Agreed without discussion." in text
    assert "calendar-2027.pdf" in text and "annex.docx" in text


def test_the_printable_register_carries_every_answer_and_prints_without_navigation(
    db: Database, iisg: Iisg, app: Any, browser: Callable[..., Browser]
) -> None:
    _two_decisions(iisg)

    page = browser("secretariat").text("/decisions/print")

    assert "IISG Board decision register" in plain(page)
    assert seat_row(page, "Serbia").startswith("Serbia objection")
    css = browser("secretariat").text("/static/app.css")
    assert "@media print" in css


def _register(db: Database, clock: Clock) -> None:
    def work(session: Session) -> None:
        for code, name, group in (
            ("XK", "Kosovo", "wb_partner"),
            (
                "OSCE",
                "Organization for Security and Co-operation in Europe",
                "international_partner",
            ),
        ):
            session.add(
                Organisation(
                    code=code,
                    name=name,
                    member_group=group,
                    is_member=True,
                    status="member",
                    member_since=datetime(2025, 3, 14, tzinfo=UTC),
                )
            )
        session.add(
            Organisation(
                code="NEWCO",
                name="An applicant body",
                member_group="international_partner",
                is_member=False,
                status="applicant",
            )
        )
        session.flush()
        session.add_all(
            [
                FocalPoint(
                    organisation="OSCE",
                    kind="official",
                    name="Ana Official",
                    email="ana@osce.example",
                    position="Head of unit",
                    nominated_at=clock.now(),
                ),
                FocalPoint(
                    organisation="XK",
                    kind="WBBSi",
                    name="Bora Border",
                    nominated_at=clock.now() - timedelta(days=1),
                ),
            ]
        )

    db.run(work)


def test_the_member_register_shows_members_and_their_focal_points(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("member-al", Grant("member", "AL"))
    _register(db, clock)

    page = browser("member-al").text("/members")

    text = plain(page)
    assert "Kosovo* Western Balkans partner member 14 Mar 2025" in text
    assert "Organization for Security and Co-operation in Europe International partner" in text
    assert "Ana Official Head of unit ana@osce.example" in text
    assert "mailto:ana@osce.example" in links(main_region(page))
    assert "Bora Border" in text
    assert "WBCSCi" in values(main_region(page), './/th[@scope="col"]/text()')
    assert "Official correspondence" in text
    assert "An applicant body" not in text


def test_the_secretariat_also_sees_applicants_on_the_member_register(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec", Grant("secretariat"))
    _register(db, clock)

    text = plain(browser("sec").text("/members"))

    assert "An applicant body International partner operating in the region applicant" in text


BOARD_PAGES = ("/decisions", "/decisions.csv", "/decisions/print", "/members")


def test_an_applicant_is_refused_every_board_page(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("applicant", Grant("applicant"))
    instance_id = launch(iisg)
    decision_id = iisg.decision(instance_id).id
    applicant = browser("applicant")

    for url in (*BOARD_PAGES, f"/decisions/{decision_id}", page_of(instance_id)):
        response = applicant.get(url)
        assert response.status_code == 403, url
    assert "Your roles do not include these." in main_text(
        applicant.get("/members").get_data(as_text=True)
    )
    assert "/decisions" not in links(applicant.text("/inbox"))


def test_a_member_outside_the_board_may_not_open_a_silent_procedure(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("member-al", Grant("member", "AL"))
    instance_id = launch(iisg)

    member = browser("member-al")
    assert member.get(page_of(instance_id)).status_code == 403
    token_page = member.get("/decisions")
    assert token_page.status_code == 200


def test_anonymous_visitors_are_sent_to_the_login_page(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    anonymous = browser()

    for url in (*BOARD_PAGES, "/decisions/1", page_of(instance_id)):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    posted = anonymous.client.post(answer_url(instance_id), data={"answer": "no_objection"})
    assert posted.status_code in (302, 400)
    assert seat_task(db, instance_id, "AL").status == "open"


@pytest.mark.parametrize(
    "form",
    [{"answer": "no_objection"}, {"answer": "objection", "reason": "Not ready."}],
    ids=["no objection", "objection"],
)
def test_an_answer_without_the_csrf_token_is_refused_and_changes_nothing(
    db: Database, iisg: Iisg, browser: Callable[..., Browser], form: dict[str, str]
) -> None:
    instance_id = launch(iisg)
    before = snapshot(db, instance_id)

    response = browser("board-al").client.post(answer_url(instance_id), data=form)

    assert response.status_code == 400
    assert "This form has expired or was not sent from this site." in main_text(
        response.get_data(as_text=True)
    )
    assert snapshot(db, instance_id) == before


@pytest.mark.parametrize(
    ("left", "closed", "words"),
    [
        (timedelta(days=3, hours=4, minutes=10), False, "3 days 4 hours left"),
        (timedelta(days=1), False, "1 day left"),
        (timedelta(hours=2, minutes=5), False, "2 hours 5 minutes left"),
        (timedelta(minutes=45), False, "45 minutes left"),
        (timedelta(seconds=20), False, "less than a minute left"),
        (timedelta(days=2), True, "closed"),
    ],
)
def test_the_time_left_reads_in_plain_words(left: timedelta, closed: bool, words: str) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert time_left(now + left, now, closed=closed) == words


def test_a_seat_that_answered_reads_its_step_again_and_another_seat_learns_nothing(
    db: Database, iisg: Iisg, clock: Clock, app: Flask, browser: Callable[..., Browser]
) -> None:
    """The task page and GET /api/v1/tasks/<id> follow one rule: the seat that answered reads
    its step, without a form; a seat it was never offered to is told only that it is not
    theirs."""
    instance_id = launch(iisg)
    iisg.answer("AL", instance_id, "no_objection")
    step = seat_task(db, instance_id, "AL")
    url = f"/tasks/{step.id}"

    reread = browser("board-al").get(url)
    assert reread.status_code == 200
    text = reread.get_data(as_text=True)
    assert "This step was completed by board-al" in main_text(text)
    assert f'action="{url}/complete"' not in text
    assert "Reassign this task" not in text
    albania_api = Api(app, token_for(db, clock, "board-al")).get(f"/tasks/{step.id}")
    assert albania_api.status_code == 200

    stranger = browser("board-ba").get(url)
    assert stranger.status_code == 403
    assert "board-al" not in stranger.get_data(as_text=True)
    bosnia_api = Api(app, token_for(db, clock, "board-ba")).get(f"/tasks/{step.id}")
    assert bosnia_api.status_code == 403


def test_the_register_shows_fifty_decisions_a_page_the_newest_first(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("member-al", Grant("member", "AL"))

    def record(session: Session) -> None:
        for number in range(1, 121):
            text = f"The Board decides matter {number}."
            session.add(
                Decision(
                    method="meeting",
                    subject=f"Matter {number:03d}",
                    text=text,
                    text_sha256=text_hash(text),
                    launched_at=clock.now() + timedelta(hours=number),
                    outcome="adopted",
                    outcome_reason="meeting of 2026-11-20",
                    recorded_by="secretariat",
                )
            )

    db.run(record)
    member = browser("member-al")

    def register(address: str) -> tuple[list[str], list[str], str]:
        main = main_region(member.text(address))

        def words(path: str) -> list[str]:
            return [
                " ".join("".join(str(t) for t in e.itertext()).split()) for e in main.findall(path)
            ]

        [where] = words(".//nav/span")
        return words(".//tbody/tr/th"), words(".//nav/a"), where

    first, links, where = register("/decisions")
    assert first == [f"Matter {n:03d}" for n in range(120, 70, -1)]
    assert (links, where) == (["Older decisions"], "Page 1 of 3")

    last, links, where = register("/decisions?page=3")
    assert last == [f"Matter {n:03d}" for n in range(20, 0, -1)]
    assert (links, where) == (["Newer decisions"], "Page 3 of 3")

    # A page number past the end, or not a number, gives the nearest page.
    assert register("/decisions?page=99")[0] == last
    assert register("/decisions?page=x")[0] == first


def test_after_the_meeting_the_pages_give_the_final_outcome_and_link_the_two_records(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = iisg.start(
        "board_decision", {"subject": "Work programme 2027", "proposal": PROPOSAL}
    )
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("XK", instance_id, "objection", "The budget annex is missing.")
    silent_id = iisg.decision(instance_id).id
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": "adopted", "meeting_date": "2026-12-10", "minutes": "Adopted by consensus."},
    )
    meeting_id = iisg.decision(instance_id).id
    member = browser("board-me")

    page = member.text(page_of(instance_id))
    text = main_text(page)
    assert facts(page)["Outcome"] == (
        "silence broken by the objection of Kosovo*, The budget annex is missing. "
        "Then adopted at a meeting of 2026-12-10"
    )
    assert facts(page)["Final outcome"] == "adopted"
    assert "Kosovo* objection The budget annex is missing." in text
    links = main_region(page).xpath(".//a[@href=$href]/text()", href=f"/decisions/{meeting_id}")
    assert links == ["The Board meeting's decision on this matter"]

    meeting = member.text(f"/decisions/{meeting_id}")
    assert (facts(meeting)["Method"], facts(meeting)["Final outcome"]) == ("meeting", "adopted")
    back = main_region(meeting).xpath(".//a[@href=$href]/text()", href=f"/decisions/{silent_id}")
    assert back == ["The silent procedure an objection broke"]

    register = main_text(member.text("/decisions"))
    assert "Then adopted at a meeting of 2026-12-10 (the meeting's decision) adopted" in register


def test_a_matter_withdrawn_after_an_objection_says_so_and_why(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = iisg.start(
        "board_decision", {"subject": "Work programme 2027", "proposal": PROPOSAL}
    )
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("XK", instance_id, "objection", "The budget annex is missing.")
    iisg.complete(
        iisg.secretariat,
        "put_on_meeting_agenda",
        instance_id,
        {"next_step": "withdraw", "withdrawal_reason": "To be re-drafted with the annex."},
    )

    page = browser("board-me").text(page_of(instance_id))
    assert facts(page)["Outcome"] == (
        "silence broken by the objection of Kosovo*, The budget annex is missing. "
        "Then withdrawn by the Secretariat: To be re-drafted with the annex."
    )
    assert facts(page)["Final outcome"] == "withdrawn"
    assert "Next step" not in facts(page)


def test_an_objection_on_the_page_may_name_the_applications_it_concerns(
    db: Database,
    iisg: Iisg,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    a, _b, _ = two_on_a_list(iisg, make_person)
    iisg.complete(iisg.secretariat, "choose_method", a, {"method": "silent_procedure"})
    serbia = browser("board-rs")
    page = serbia.text(page_of(a))
    assert main_region(page).xpath(".//input[@name='concerns']/@value") == ["ORGA", "ORGB"]
    assert "Organisation B (ORGB): the Board is deciding" in main_text(page)

    response = serbia.submit(
        page_of(a),
        answer_url(a),
        {"answer": "objection", "reason": "We ask to hear B first.", "concerns": "ORGB"},
    )
    assert response.status_code == 302
    # Only B is named: the procedure goes on, and silence may still confirm A.
    assert iisg.decision(a).closed_at is None
    iisg.clock.move(days=15)
    iisg.scheduler_pass()
    text = main_text(browser("board-me").text(page_of(a)))
    assert "silence broken by the objection of Serbia (concerning ORGB), We ask" in text
    assert "Organisation A (ORGA): confirmed" in text
    assert "Organisation B (ORGB): an objection named it: the Board meeting decides it" in text
