"""The holidays page: a year's public holidays, adding one, removing one (the Secretariat)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import Forbidden, NotFound

from models import PublicHoliday
from webui.auth.login import login_required_response, require_person
from webui.database import request_session, unit_of_work
from workflows.calendar.holidays import (
    CalendarError,
    add_public_holiday,
    public_holidays,
    remove_public_holiday,
)
from workflows.people.roles import SECRETARIAT, WB_PARTNERS, Partner, partner_name

bp = Blueprint("calendar", __name__)
bp.before_request(login_required_response)

NOT_THE_SECRETARIAT = lazy_gettext(
    "The calendar of public holidays is kept by the Secretariat. Your roles do not include it."
)
FIRST_YEAR, LAST_YEAR = 2000, 2100
NAME_LENGTH = 255  # public_holiday.name


@dataclass(frozen=True)
class PartnerHolidays:
    """One partner's own holidays in the year."""

    partner: Partner
    holidays: list[PublicHoliday]


def _check_secretariat() -> None:
    if not require_person().participant.holds(SECRETARIAT):
        raise Forbidden(str(NOT_THE_SECRETARIAT))


def _year(raw: str | None) -> int:
    if not raw:
        return datetime.now(UTC).year
    try:
        year = int(raw)
    except ValueError as err:
        raise NotFound(gettext("'%(year)s' is not a year.", year=raw)) from err
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(
            gettext("The calendar covers %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        )
    return year


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _render(
    year: int,
    values: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> str:
    holidays = public_holidays(request_session(), year)
    return render_template(
        "calendar/holidays.html",
        year=year,
        first_year=FIRST_YEAR,
        last_year=LAST_YEAR,
        for_everyone=[h for h in holidays if h.partner is None],
        per_partner=[
            PartnerHolidays(partner, [h for h in holidays if h.partner == partner.code])
            for partner in WB_PARTNERS
        ],
        partners=WB_PARTNERS,
        values=values or {},
        problems=problems or [],
        name_length=NAME_LENGTH,
    )


@bp.get("/calendar")
def holidays() -> ResponseReturnValue:
    """The year's holidays: the Secretariat's calendar for everyone, then each partner's."""
    _check_secretariat()
    return _render(_year(request.args.get("year")))


def _parse_holiday(form: Mapping[str, str]) -> tuple[date | None, str, str | None, list[str]]:
    problems: list[str] = []
    day = None
    raw_day = form.get("day", "").strip()
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        problems.append(
            gettext("Give the date as year-month-day, like 2027-01-01.")
            if raw_day
            else gettext("Give the holiday's date.")
        )
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.append(
            gettext("The calendar covers %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        )
    name = form.get("name", "").strip()
    if len(name) > NAME_LENGTH:
        problems.append(
            gettext("The name is too long: %(most)s characters at most.", most=NAME_LENGTH)
        )
    partner = form.get("partner", "").strip() or None
    if partner is not None and partner not in {p.code for p in WB_PARTNERS}:
        problems.append(gettext("Choose the partner from the list, or everyone."))
    return day, name, partner, problems


@bp.post("/calendar/holidays")
def add() -> ResponseReturnValue:
    """Add a holiday for everyone or for one partner; the page again with the reason if not."""
    _check_secretariat()
    person = require_person()
    day, name, partner, problems = _parse_holiday(request.form)
    year = day.year if day is not None and not problems else _year(request.form.get("year"))
    if day is None or problems:
        return _render(year, request.form, problems), 400
    try:
        holiday = unit_of_work(
            lambda s: add_public_holiday(
                s, day, name, partner=partner, actor=person.username, now=datetime.now(UTC)
            )
        )
    except CalendarError as refused:
        return _render(year, request.form, [_sentence(str(refused))]), 400
    flash(
        gettext(
            "Added %(name)s on %(day)s, for %(whom)s.",
            name=holiday.name,
            day=f"{holiday.day:%A %d %B %Y}",
            whom=partner_name(partner) if partner else gettext("everyone"),
        ),
        "success",
    )
    return redirect(url_for("calendar.holidays", year=year))


def _holiday(holiday_id: int) -> PublicHoliday:
    holiday = request_session().get(PublicHoliday, holiday_id)
    if holiday is None:
        raise NotFound(gettext("This holiday is no longer in the calendar."))
    return holiday


@bp.post("/calendar/holidays/<int:holiday_id>/remove")
def remove(holiday_id: int) -> ResponseReturnValue:
    """Ask to confirm, then remove the holiday (deadlines already set keep their date)."""
    _check_secretariat()
    person = require_person()
    holiday = _holiday(holiday_id)
    if request.form.get("confirmed") != "yes":
        return render_template(
            "calendar/remove.html", holiday=holiday, whom=partner_name(holiday.partner)
        )
    year, name, day = holiday.day.year, holiday.name, holiday.day
    try:
        unit_of_work(
            lambda s: remove_public_holiday(
                s, holiday_id, actor=person.username, now=datetime.now(UTC)
            )
        )
    except CalendarError as refused:
        flash(_sentence(str(refused)), "error")
        return redirect(url_for("calendar.holidays", year=year))
    flash(
        gettext(
            "Removed %(name)s on %(day)s from the calendar.", name=name, day=f"{day:%A %d %B %Y}"
        ),
        "success",
    )
    return redirect(url_for("calendar.holidays", year=year))
