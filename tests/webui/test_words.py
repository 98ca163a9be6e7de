"""Words, not codes: a need's status, a member group and a task's partner read as a person
says them, and a fixed value is chosen from a list rather than typed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from models import Need, Organisation
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    acknowledgement_of_a_review,
    main_region,
    main_text,
)

RADICALISATION = "Radicalisation prevention law needs updating"
BORDER_LAW = "Border surveillance law harmonised with the EU acquis"
CBRN_TRAINING = "Training for first responders on CBRN incidents"


def _needs(db: Database, clock: Clock) -> None:
    """Three of Albania's needs: open, partly addressed, no longer relevant."""

    def work(session: Session) -> None:
        if session.get(Organisation, "AL") is None:
            session.add(Organisation(code="AL", name="Albania", member_group="wb_partner"))
            session.flush()
        for text, status in (
            (RADICALISATION, "open"),
            (BORDER_LAW, "partly_addressed"),
            (CBRN_TRAINING, "no_longer_relevant"),
        ):
            session.add(
                Need(
                    partner="AL",
                    pillar="WBCTi",
                    sub_pillar="legal_framework",
                    kind="legislative",
                    perspective="prevention",
                    description=text,
                    source_year=2026,
                    status=status,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )

    db.run(work)


def test_a_needs_status_reads_in_words(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("observer", Grant("observer"), Grant("member", "EEAS"))
    _needs(db, clock)

    text = main_text(browser("observer").text("/database/needs"))

    assert "Partly addressed" in text
    assert "No longer relevant" in text
    assert "Legislative" in text
    assert "partly_addressed" not in text
    assert "no_longer_relevant" not in text


def test_the_status_filter_is_a_list_of_the_statuses_in_words(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("observer", Grant("observer"), Grant("member", "EEAS"))
    _needs(db, clock)
    reader = browser("observer")

    status = main_region(reader.text("/database/needs")).get_element_by_id("f-status")

    assert status.tag == "select"
    assert [option.text_content() for option in status.iter("option")] == [
        "Any status",
        "Open",
        "Partly addressed",
        "Addressed",
        "No longer relevant",
    ]
    chosen = main_text(reader.text("/database/needs?status=partly_addressed"))
    assert BORDER_LAW in chosen
    assert RADICALISATION not in chosen


def test_a_status_in_a_link_may_be_written_in_words(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("observer", Grant("observer"), Grant("member", "EEAS"))
    _needs(db, clock)

    text = main_text(browser("observer").text("/database/needs?status=Open"))

    assert "1 need found" in text
    assert RADICALISATION in text


def test_the_member_register_names_each_group_as_the_terms_of_reference_do(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec", Grant("secretariat"))

    def work(session: Session) -> None:
        for code, name, group in (
            (
                "OSCE",
                "Organization for Security and Co-operation in Europe",
                "international_partner",
            ),
            ("EUAA", "European Union Agency for Asylum", "eu_jha_agency"),
        ):
            session.add(
                Organisation(
                    code=code, name=name, member_group=group, is_member=True, status="member"
                )
            )

    db.run(work)

    text = main_text(browser("sec").text("/members"))

    assert "Co-operation in Europe International partner operating in the region" in text
    assert "European Union Agency for Asylum EU Justice and Home Affairs agency" in text
    assert "b)" not in text
    assert "d)" not in text


def test_a_seats_task_page_names_the_partner_not_its_code(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    acknowledgement = acknowledgement_of_a_review(db, clock, people, start_lane_task, "AL")

    main = main_region(browser("board-al").text(f"/tasks/{acknowledgement.id}"))

    facts = {dt.text_content(): dt.getnext().text_content() for dt in main.iterfind(".//dl/div/dt")}
    assert facts["For"] == "Albania"
