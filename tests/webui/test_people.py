"""The Secretariat keeps the IISG's people on the People pages: the list and its filters,
inviting a person, refusals beside their field, roles, and deactivating a person (no login,
no token, claimed tasks back to their role, past answers kept); the same through the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from engine.instances.assignment import Participant
from engine.instances.claims import claim_task
from models import AuditEvent, HumanTask, OutboxMessage, RoleGrant, User
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.webui.test_api import token_for
from tests.workflows.conftest import Iisg, methodology_and_board
from workflows.people import accounts
from workflows.people.organisations import ensure_founding_members


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology, the founding members, the Secretariat and the seven Board members."""
    db.run(lambda s: ensure_founding_members(s, actor="tests", now=clock.now()))
    return methodology_and_board(db, clock, make_person)


def beside(page: str, field: str) -> str:
    """The error shown with one field of the form."""
    [error] = main_region(page).xpath(f'.//p[@id="person-{field}-error"]')
    return " ".join(error.text_content().split())


def invite(secretariat: Browser, **fields: str) -> tuple[int, str]:
    response = secretariat.submit("/people/new", "/people/new", fields)
    return response.status_code, response.get_data(as_text=True)


def audited(db: Database, kind: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def test_the_list_shows_each_person_with_organisation_and_roles_and_filters_them(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    invite(
        secretariat,
        name="Ana Petrović",
        email="ana@osce.example",
        username="a.petrovic",
        organisation="DCAF",
        kind="support_group",
        pillar="WBCTi",
    )

    everyone = main_text(secretariat.text("/people"))
    support = main_text(secretariat.text("/people?role=support_group"))
    of_dcaf = main_text(secretariat.text("/people?organisation=DCAF"))

    assert "Ana Petrović a.petrovic DCAF Ljubljana Support Group member, WBCTi" in everyone
    assert "invited, no password yet" in everyone
    assert "board-al" in everyone and "board-al" not in support
    assert "Ana Petrović" in support and "Ana Petrović" in of_dcaf
    assert "secretariat" not in of_dcaf.split()
    # A value no choice gives, typed into the address, filters nothing (a NUL included).
    unfiltered = main_text(secretariat.text("/people"))
    assert main_text(secretariat.text("/people?organisation=U%00V")) == unfiltered


def test_an_invitation_is_refused_in_words_beside_the_field_and_keeps_what_was_typed(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    typed = {"name": "Ana Petrović", "email": "ana@osce.example", "organisation": "DCAF"}

    taken_name = invite(secretariat, **typed, username="board-al")
    bad_seat = invite(secretariat, **typed, username="ana", kind="board_member", seat="")
    no_pillar = invite(secretariat, **typed, username="ana", kind="focal_point")
    unknown = invite(secretariat, **{**typed, "organisation": "NOPE"}, username="ana")
    invite(secretariat, **typed, username="ana")
    same_address = invite(secretariat, **typed, username="ana2")

    assert taken_name[0] == 422 and "is taken" in beside(taken_name[1], "username")
    assert "Board seat" in beside(bad_seat[1], "roles")
    assert "one pillar" in beside(no_pillar[1], "roles")
    assert "no organisation 'NOPE'" in beside(unknown[1], "organisation")
    assert "address of Ana Petrović (ana) already" in beside(same_address[1], "email")
    [kept] = main_region(taken_name[1]).xpath('.//input[@id="person-name"]')
    assert kept.get("value") == "Ana Petrović"
    with db.session() as session:
        assert session.scalars(select(User.username).where(User.username == "ana2")).first() is None
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_deactivating_a_person_stops_login_and_tokens_returns_claims_and_keeps_answers(
    db: Database, clock: Clock, iisg: Iisg, browser: Callable[..., Browser], app: Flask
) -> None:
    first = iisg.start("silent_procedure", {"subject": "One", "proposal": "Agreed."})
    second = iisg.start("silent_procedure", {"subject": "Two", "proposal": "Agreed."})
    iisg.answer("AL", first, "no_objection")
    claimed = iisg.task(iisg.board["AL"], "answer_silent_procedure", second)
    db.run(lambda s: claim_task(s, claimed.id, participant=iisg.board["AL"], now=clock.now()))
    token = token_for(db, clock, "board-al")
    logged_in = browser("board-al")

    response = browser("secretariat").submit(
        "/people/board-al", "/people/board-al/active", {"active": "no"}
    )

    assert response.status_code == 302
    assert browser().log_in("board-al").status_code != 302
    assert logged_in.get("/inbox").status_code == 302
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    with db.session() as session:
        back = session.get(HumanTask, claimed.id)
        assert back is not None and back.claimed_by is None and back.status == "open"
        answered = session.scalars(
            select(HumanTask).where(HumanTask.instance_id == first, HumanTask.organisation == "AL")
        ).one()
        assert answered.completed_by == "board-al"
    assert [e.payload["username"] for e in audited(db, "account.deactivated")] == ["board-al"]
    assert "deactivated" in main_text(browser("secretariat").text("/people?active=no"))


def test_giving_a_seat_moves_it_and_its_claimed_tasks_and_an_alternate_keeps_theirs(
    db: Database, clock: Clock, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    running = iisg.start("silent_procedure", {"subject": "One", "proposal": "Agreed."})
    task = iisg.task(iisg.board["ME"], "answer_silent_procedure", running)
    db.run(lambda s: claim_task(s, task.id, participant=iisg.board["ME"], now=clock.now()))
    secretariat = browser("secretariat")
    invite(secretariat, name="Luka Vuković", email="luka@gov.me.example", username="l.vukovic")
    invite(secretariat, name="Ivana Perić", email="ivana@gov.me.example", username="i.peric")

    alternate = secretariat.submit(
        "/people/i.peric", "/people/i.peric/roles", {"kind": "board_alternate", "seat": "ME"}
    )
    moved = secretariat.submit(
        "/people/l.vukovic", "/people/l.vukovic/roles", {"kind": "board_member", "seat": "ME"}
    )

    assert alternate.status_code == moved.status_code == 302
    with db.session() as session:
        holders = session.execute(
            select(User.username, RoleGrant.alternate)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == "board_member", RoleGrant.organisation == "ME")
            .order_by(User.username)
        ).all()
        row = session.get(HumanTask, task.id)
        assert row is not None and row.claimed_by == "l.vukovic"
    assert [tuple(h) for h in holders] == [("i.peric", True), ("l.vukovic", False)]
    [event] = audited(db, "board.seat_moved")
    assert event.payload == {"seat": "ME", "place": "member", "from": "board-me", "to": "l.vukovic"}
    page = main_text(secretariat.text("/people/i.peric"))
    assert "Board alternate, Montenegro" in page


def test_only_the_secretariat_opens_the_people_pages(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    refused = browser("board-al").get("/people")

    assert refused.status_code == 403
    assert "kept by the Secretariat" in main_text(refused.get_data(as_text=True))


def test_the_api_invites_lists_reads_and_changes_people(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(db, clock, 'secretariat')}"}

    created = client.post(
        "/api/v1/people",
        headers=headers,
        json={
            "username": "j.weber",
            "name": "Jonas Weber",
            "email": "jonas@osce.example",
            "organisation": "AT",
            "roles": [{"role": "focal_point", "organisation": "AT", "pillar": "WBBSi"}],
        },
    )
    taken = client.post(
        "/api/v1/people",
        headers=headers,
        json={"username": "j.weber", "name": "J", "email": "other@osce.example"},
    )
    listed = client.get("/api/v1/people?role=focal_point", headers=headers)
    changed = client.patch(
        "/api/v1/people/j.weber",
        headers=headers,
        json={"name": "Jonas A. Weber", "active": False, "roles": []},
    )
    no_pillar = client.patch(
        "/api/v1/people/j.weber", headers=headers, json={"roles": [{"role": "support_group"}]}
    )
    missing = client.get("/api/v1/people/nobody", headers=headers)

    assert created.status_code == 201
    assert created.headers["Location"].endswith("/api/v1/people/j.weber")
    assert created.json is not None and created.json["invited"] is True
    assert created.json["roles"] == [
        {"role": "focal_point", "organisation": "AT", "pillar": "WBBSi"}
    ]
    assert taken.status_code == 422 and taken.json is not None
    assert taken.json["errors"][0]["field"] == "username"
    assert listed.json is not None
    assert [p["username"] for p in listed.json["people"]] == ["j.weber"]
    assert changed.status_code == 200 and changed.json is not None
    assert (changed.json["name"], changed.json["active"], changed.json["roles"]) == (
        "Jonas A. Weber",
        False,
        [],
    )
    assert no_pillar.status_code == 422
    assert missing.status_code == 404


def test_the_api_is_the_secretariats(db: Database, clock: Clock, iisg: Iisg, app: Flask) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, clock, 'board-al')}"}

    answer = app.test_client().get("/api/v1/people", headers=headers)

    assert answer.status_code == 403


def test_an_invitation_runs_out_after_the_settings_days(
    db: Database, clock: Clock, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    invite(browser("secretariat"), name="Ana Petrović", email="ana@osce.example", username="ana")
    with db.session() as session:
        [mail] = session.scalars(select(OutboxMessage)).all()
        assert mail.status == "pending"
    link = mail.body.split("http://127.0.0.1:5000", 1)[1].split()[0]
    assert browser().get(link).status_code == 200

    clock.move(days=7, seconds=1)

    gone = browser().get(link)
    assert gone.status_code == 404
    assert "expired or was used" in main_text(gone.get_data(as_text=True))
