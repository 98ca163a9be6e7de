"""The members-only database pages, their exports, the analysis, and the public page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from models import Need, NeedChange, Organisation, Report, Response
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    elements,
    links,
    main_region,
    main_text,
    values,
    words,
)

RADICALISATION = "Radicalisation prevention law needs updating"
CBRN_TRAINING = "Training for first responders on CBRN incidents"
PCVE_CENTRE = "A coordination centre for P/CVE"
BORDER_LAW = "Border surveillance law harmonised with the EU acquis"
WITNESS_PROTECTION = "Witness protection programme for organised crime cases"
PUBLISHED_SUMMARY = "The Board published this summary of the 2025 needs mapping."
DRAFT_SUMMARY = "Draft summary still under discussion in the Support Group."
SUPPORT_BY_AT = "Austrian project support for the P/CVE centre"


@dataclass(frozen=True)
class Mapped:
    """The ids of the test data: needs by a short name, and the reports."""

    needs: dict[str, int]
    published: int
    draft: int


@pytest.fixture
def mapped(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Mapped:
    """Five needs of three partners, four responses (two members supporting one need in the
    same year), a published report and a draft one; and the people who look at them."""
    make_person("fp-al", Grant("focal_point", "AL", "WBCTi"))
    make_person("observer", Grant("observer"), Grant("member", "EEAS"))
    make_person("applicant", Grant("applicant", "XY"))
    make_person("sec", Grant("secretariat"))
    now = clock.now()

    def work(session: Session) -> Mapped:
        for code in ("AL", "BA", "RS", "AT", "DE"):
            if session.get(Organisation, code) is None:
                session.add(Organisation(code=code, name=code, member_group="wb_partner"))
        session.flush()

        def need(partner: str, pillar: str, sub: str, kind: str, text: str, year: int) -> Need:
            row = Need(
                partner=partner,
                pillar=pillar,
                sub_pillar=sub,
                kind=kind,
                perspective="prevention",
                description=text,
                source_year=year,
                status="open",
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return row

        def respond(row: Need, provider: str, text: str, year: int) -> None:
            kind = "partner" if provider == row.partner else "project_support"
            session.add(
                Response(
                    need_id=row.id,
                    provider=provider,
                    provider_kind=kind,
                    description=text,
                    period="past_year",
                    year=year,
                    status="completed",
                    created_at=now,
                    updated_at=now,
                )
            )

        radicalisation = need("AL", "WBCTi", "legal_framework", "legislative", RADICALISATION, 2025)
        cbrn = need("AL", "WBCTi", "capacity_building", "operational", CBRN_TRAINING, 2025)
        centre = need("BA", "WBCTi", "institutional_setup", "institutional", PCVE_CENTRE, 2025)
        border = need("BA", "WBBSi", "legal_framework", "legislative", BORDER_LAW, 2026)
        witness = need("RS", "WBCSCi", "legal_framework", "legislative", WITNESS_PROTECTION, 2026)
        respond(radicalisation, "AL", "Draft law sent to parliament", 2025)
        respond(centre, "AT", SUPPORT_BY_AT, 2025)
        respond(centre, "DE", "German project support for the P/CVE centre", 2025)
        respond(witness, "RS", "Programme adopted by the government", 2026)

        def report(status: str, summary: str, published: bool) -> int:
            row = Report(
                kind="needs_mapping",
                pillar="WBCTi",
                year=2025,
                summary=summary,
                status=status,
                approved_at=now if published else None,
                published_at=now if published else None,
            )
            session.add(row)
            session.flush()
            return row.id

        return Mapped(
            {
                "radicalisation": radicalisation.id,
                "cbrn": cbrn.id,
                "centre": centre.id,
                "border": border.id,
                "witness": witness.id,
            },
            report("published", PUBLISHED_SUMMARY, True),
            report("draft", DRAFT_SUMMARY, False),
        )

    result: Mapped = db.run(work)
    return result


def _csv_ids(body: str) -> set[int]:
    return {int(row["ID"]) for row in csv.DictReader(io.StringIO(body))}


def _xlsx_ids(body: bytes) -> set[int]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "ID"
    return {int(str(row[0])) for row in rows[1:]}


def _listed_needs(page: str) -> set[int]:
    """The needs the page's main region links to."""
    listed = (re.fullmatch(r"/database/needs/(\d+)", href) for href in links(main_region(page)))
    return {int(found.group(1)) for found in listed if found}


def _fact(page: str, name: str) -> str:
    """What a need's page says under one heading of its facts."""
    (fact,) = elements(main_region(page), f'.//dl/dt[.="{name}"]/following-sibling::dd[1]')
    return words(fact)


def _description(db: Database, need_id: int) -> str:
    with db.session() as session:
        need = session.get(Need, need_id)
        assert need is not None
        return need.description


def test_anonymous_visitors_are_sent_to_log_in(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    response = browser().get("/database/needs")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_applicant_is_refused_the_database(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    for url in ("/database/needs", "/database/analysis", "/database/needs.csv"):
        response = browser("applicant").get(url)
        assert response.status_code == 403
        assert "for IISG members" in main_text(response.get_data(as_text=True))


def test_members_find_the_database_in_the_navigation(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    assert "/database/needs" in links(browser("observer").text("/inbox"))


def test_the_filters_list_and_export_exactly_the_filtered_needs(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    reader = browser("observer")
    page = reader.text("/database/needs?partner=AL&pillar=WBCTi")
    albania = {mapped.needs["radicalisation"], mapped.needs["cbrn"]}
    assert _listed_needs(page) == albania
    assert "/database/needs.csv?partner=AL&pillar=WBCTi" in links(main_region(page))
    csv_body = reader.get("/database/needs.csv?partner=AL&pillar=WBCTi")
    assert csv_body.headers["Content-Disposition"].startswith("attachment")
    assert csv_body.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert _csv_ids(csv_body.get_data(as_text=True)) == albania
    xlsx = reader.get("/database/needs.xlsx?partner=AL&pillar=WBCTi")
    assert xlsx.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert _xlsx_ids(xlsx.get_data()) == albania

    gaps = "/database/needs.csv?has_response=no&year=2025"
    assert _csv_ids(reader.get(gaps).get_data(as_text=True)) == {mapped.needs["cbrn"]}
    words = "/database/needs?text=law"
    assert _listed_needs(reader.text(words)) == {
        mapped.needs["radicalisation"],
        mapped.needs["border"],
    }


def test_responses_export_exactly_the_filtered_responses(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    reader = browser("observer")
    page = reader.main("/database/responses?partner=BA")
    assert SUPPORT_BY_AT in page
    assert "Draft law sent to parliament" not in page
    rows = list(
        csv.DictReader(
            io.StringIO(reader.get("/database/responses.csv?partner=BA").get_data(as_text=True))
        )
    )
    assert {row["Need"] for row in rows} == {str(mapped.needs["centre"])}
    assert len(rows) == 2
    xlsx = reader.get("/database/responses.xlsx?partner=BA")
    assert len(_xlsx_ids(xlsx.get_data())) == 2


def test_a_focal_point_updates_its_own_partners_need(
    mapped: Mapped, db: Database, browser: Callable[..., Browser]
) -> None:
    focal_point = browser("fp-al")
    url = f"/database/needs/{mapped.needs['radicalisation']}"
    assert "Update this need" in focal_point.main(url)
    response = focal_point.submit(
        url,
        url,
        {
            "description": "Radicalisation prevention law: second reading pending",
            "sub_pillar": "legal_framework",
            "kind": "legislative",
            "perspective": "prevention",
            "status": "partly_addressed",
        },
    )
    assert response.status_code == 302
    assert _description(db, mapped.needs["radicalisation"]).endswith("second reading pending")
    page = focal_point.text(url)
    assert _fact(page, "Status") == "Partly addressed"
    history = elements(main_region(page), './/section[@aria-labelledby="history-heading"]')
    assert "fp-al" in words(history[0])  # the history says who changed it


def test_a_focal_point_is_refused_another_partners_need(
    mapped: Mapped, db: Database, browser: Callable[..., Browser]
) -> None:
    focal_point = browser("fp-al")
    url = f"/database/needs/{mapped.needs['centre']}"
    page = focal_point.text(url)
    assert "Update this need" not in page
    assert url not in values(main_region(page), ".//form/@action")
    response = focal_point.submit(url, url, {"description": "Changed by Albania"})
    assert response.status_code == 403
    assert "Nothing was changed" in main_text(response.get_data(as_text=True))
    assert _description(db, mapped.needs["centre"]) == PCVE_CENTRE
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(NeedChange)) == 0


def test_an_observer_reads_but_cannot_write(
    mapped: Mapped, db: Database, browser: Callable[..., Browser]
) -> None:
    observer = browser("observer")
    url = f"/database/needs/{mapped.needs['cbrn']}"
    page = observer.text(url)
    assert CBRN_TRAINING in main_text(page)
    assert not [
        action
        for action in values(main_region(page), ".//form/@action")
        if action.startswith("/database/needs/")
    ]
    refused = observer.submit(url, url, {"description": "Changed by an observer"})
    assert refused.status_code == 403
    responded = observer.submit(
        url,
        f"{url}/responses",
        {"description": "Observed", "period": "past_year", "status": "completed"},
    )
    assert responded.status_code == 403
    assert _description(db, mapped.needs["cbrn"]) == CBRN_TRAINING
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 4


def test_a_focal_point_adds_a_response_to_its_need(
    mapped: Mapped, db: Database, browser: Callable[..., Browser]
) -> None:
    url = f"/database/needs/{mapped.needs['cbrn']}"
    response = browser("fp-al").submit(
        url,
        f"{url}/responses",
        {"description": "Two courses held", "period": "past_year", "year": "2025"}
        | {"status": "completed", "funding": ""},
    )
    assert response.status_code == 302
    with db.session() as session:
        added = session.scalars(
            select(Response).where(Response.need_id == mapped.needs["cbrn"])
        ).one()
        assert (added.provider, added.description) == ("AL", "Two courses held")
    assert "a response by Albania added" in browser("observer").main(url)


def test_the_analysis_counts_gaps_and_duplications(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    reader = browser("observer")
    page = reader.text("/database/analysis")
    gaps = elements(main_region(page), './/section[@aria-labelledby="gaps-heading"]')
    assert len(gaps) == 1, "no gaps section in the page's main region"
    assert values(gaps[0], './/strong[@id="gap-count"]/text()') == ["2"]
    assert "2 open needs have no response." in words(gaps[0])
    (gap_list,) = [href for href in links(gaps[0]) if "has_response=no" in href]
    assert _listed_needs(reader.text(gap_list)) == {
        mapped.needs["cbrn"],
        mapped.needs["border"],
    }
    duplications = elements(
        main_region(page), './/section[@aria-labelledby="duplications-heading"]'
    )
    assert len(duplications) == 1, "no duplications section in the page's main region"
    seen = words(duplications[0])
    assert "Possible duplications" in seen
    assert PCVE_CENTRE in seen
    assert "AT, DE" in seen
    assert RADICALISATION not in seen


def test_every_matrix_cell_counts_and_links_to_its_needs(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    reader = browser("observer")
    page = reader.text("/database/analysis")
    cells = {
        str(link.get("href")): (link.text or "").strip()
        for link in elements(main_region(page), './/td[@class="coverage"]/a')
    }
    albania = "/database/needs?partner=AL&pillar=WBCTi"
    assert cells[albania] == "1/2"
    assert cells["/database/needs?partner=BA&pillar=WBCTi"] == "1/1"
    assert cells["/database/needs?partner=BA&pillar=WBBSi"] == "0/1"
    assert len(cells) == 4  # the other cells have no needs and say so, without a link
    assert "1/2 (50%)" in main_text(page)
    assert _listed_needs(reader.text(albania)) == {
        mapped.needs["radicalisation"],
        mapped.needs["cbrn"],
    }
    by_sub_pillar = reader.region("/database/analysis?pillar=WBCTi")
    assert "/database/needs?partner=AL&pillar=WBCTi&sub_pillar=capacity_building" in links(
        by_sub_pillar
    )


def test_the_trends_chart_is_drawn_with_its_figures_as_a_table(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    trends = browser("observer").region("/database/analysis")
    (chart,) = elements(trends, ".//svg")
    assert values(chart, "@aria-labelledby") == ["trend-title trend-desc"]
    (title,) = elements(chart, './/title[@id="trend-title"]')
    assert "Needs mapped, needs with a response" in words(title)
    (description,) = elements(chart, './/desc[@id="trend-desc"]')
    assert "2025: 3 needs mapped, 2 with a response, 3 responses recorded" in words(description)
    assert len(elements(chart, ".//polyline")) == 3
    rows = [
        [words(cell) for cell in row.iterchildren()] for row in elements(trends, ".//table//tr")
    ]
    assert ["2026", "2", "1", "1"] in rows


def test_the_public_page_shows_published_summaries_and_nothing_else(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    visitor = browser()
    assert "/public" in links(visitor.text("/login"))
    response = visitor.get("/public")
    assert response.status_code == 200
    page = unescape(response.get_data(as_text=True))
    assert PUBLISHED_SUMMARY in main_text(response.get_data(as_text=True))
    for hidden in (DRAFT_SUMMARY, RADICALISATION, PCVE_CENTRE, SUPPORT_BY_AT, BORDER_LAW):
        assert hidden not in page
    assert "/database" not in page


def test_members_read_approved_reports_and_not_drafts(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    raw = browser("observer").text("/database/reports")
    page = unescape(raw)
    assert PUBLISHED_SUMMARY in main_text(raw)
    assert DRAFT_SUMMARY not in page
    assert "Download draft" not in page
    assert (
        browser("observer").get("/database/reports/draft.docx?kind=needs_mapping").status_code
        == 403
    )


def test_the_secretariat_downloads_a_draft_report_that_opens(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    assert DRAFT_SUMMARY in secretariat.main("/database/reports")
    response = secretariat.get(
        "/database/reports/draft.docx?kind=needs_mapping&pillar=WBCTi&year=2025"
    )
    assert response.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.get_data())).paragraphs)
    assert CBRN_TRAINING in text
    assert "Capacity building" in text


def test_an_upload_that_is_not_a_word_document_is_refused_in_words(
    mapped: Mapped, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("sec")
    response = secretariat.submit(
        "/database/reports",
        f"/database/reports/{mapped.draft}/document",
        {"document": (io.BytesIO(b"%PDF-1.4 not a report"), "report.pdf")},  # type: ignore[dict-item]
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "must be a Word document (.docx)" in main_text(response.get_data(as_text=True))


DRAFT_RESPONSE = "New prevention law drafted with the Ministry of Justice"


def test_a_response_mappings_draft_shows_only_to_those_who_prepare_it(
    mapped: Mapped, db: Database, clock: Clock, browser: Callable[..., Browser], make_person: Any
) -> None:
    """Response mapping methodology 2022, I.4: the responses enter the database, "accessible
    only to the IISG members", once the Board approves the reports; before, the Secretariat, the
    partner that gave them and the pillar's Support Group read them, marked as a draft."""
    make_person("sg-wbcti", Grant("support_group", None, "WBCTi"), Grant("member", "EC"))
    make_person("fp-al-border", Grant("focal_point", "AL", "WBBSi"))
    now = clock.now()
    need_id = mapped.needs["radicalisation"]

    def draft(session: Session) -> None:
        session.add(
            Response(
                need_id=need_id,
                provider="AL",
                provider_kind="partner",
                description=DRAFT_RESPONSE,
                period="past_year",
                year=2026,
                status="ongoing",
                state="draft",
                created_at=now,
                updated_at=now,
            )
        )

    db.run(draft)
    url = f"/database/needs/{need_id}"
    for who in ("sec", "fp-al", "sg-wbcti"):
        page = browser(who).main(url)
        assert DRAFT_RESPONSE in page, who
        assert "Draft of the response mapping: the members read it once the Board approves" in (
            page
        )
        assert DRAFT_RESPONSE in browser(who).main("/database/responses?pillar=WBCTi")
    for who in ("observer", "fp-al-border"):
        assert DRAFT_RESPONSE not in browser(who).main(url), who
        assert DRAFT_RESPONSE not in browser(who).main("/database/responses")
        assert DRAFT_RESPONSE not in browser(who).get("/database/responses.csv").get_data(
            as_text=True
        )


NEEDS_REPORT = "The needs of the WB partners in WBCTi, along the four sub-pillars."
MEMBERS_ONLY_REPORT = "The full response mapping report, for the members only."


def test_the_public_page_shows_the_needs_report_and_its_summary(
    mapped: Mapped, db: Database, clock: Clock, browser: Callable[..., Browser]
) -> None:
    """About the IISG (the needs mapping): "The IISG publishes biennially a needs report on its
    webpage"; of a response mapping, only "the approved summary of the annual reports will be
    published on the IISG website" (Response mapping methodology 2022, I.4)."""
    now = clock.now()

    def publish(session: Session) -> None:
        for kind, summary, body in (
            ("needs_mapping", "Summary of the 2027 needs report.", NEEDS_REPORT),
            ("response_mapping", "Summary of the 2026 response mapping.", MEMBERS_ONLY_REPORT),
        ):
            session.add(
                Report(
                    kind=kind,
                    pillar="WBCTi",
                    year=2027 if kind == "needs_mapping" else 2026,
                    summary=summary,
                    body=body,
                    status="published",
                    approved_at=now,
                    published_at=now,
                )
            )

    db.run(publish)
    page = browser().main("/public")
    assert "Needs mapping 2027: Counter-terrorism and preventing/countering violent" in page
    assert "Summary of the 2027 needs report." in page
    assert NEEDS_REPORT in page
    assert "Summary of the 2026 response mapping." in page
    assert MEMBERS_ONLY_REPORT not in page


def test_a_need_keeps_its_sub_pillar_when_it_is_updated(
    mapped: Mapped, db: Database, browser: Callable[..., Browser]
) -> None:
    """Response mapping methodology 2022, I.2: the reports are produced "along the four
    sub-pillars", so a need's sub-pillar cannot be taken away; what was typed is kept."""
    focal_point = browser("fp-al")
    url = f"/database/needs/{mapped.needs['radicalisation']}"
    response = focal_point.submit(
        url,
        url,
        {
            "description": "Radicalisation law, second reading",
            "sub_pillar": "none",
            "kind": "legislative",
            "perspective": "prevention",
            "status": "open",
        },
    )
    assert response.status_code == 400
    page = main_text(response.get_data(as_text=True))
    assert "Nothing was changed." in page
    assert "The sub-pillar is missing; choose the one the need belongs to" in page
    assert "Radicalisation law, second reading" in page
    assert _description(db, mapped.needs["radicalisation"]) == RADICALISATION
