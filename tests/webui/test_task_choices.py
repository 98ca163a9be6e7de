"""A form offers only valid choices: the need a response answers is one of the partner's open
needs, listed in the task's form schema (GET /api/v1/tasks/{id}) as an enum with its labels
and on the task page as a select; a client that fills the form from its schema alone is
never refused, and a value off the list is refused with 400 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from models import Need, Response
from tests.conftest import Clock, Database
from tests.webui import test_refusals as refusals
from tests.webui.conftest import Browser, main_region, main_text
from tests.webui.test_refusals import api_for, open_task_id
from tests.workflows.mappings.test_response_mapping import Mapping, open_mapping

iisg, mapping = refusals.iisg, refusals.mapping  # Albania's and Montenegro's need in WBCTi
_cheap_password_hashing = refusals._cheap_password_hashing


def filled_from(schema: dict[str, Any]) -> Any:
    """What a client that knows nothing but the schema sends: every field, the first choice of
    each list, some words for text."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {name: filled_from(prop) for name, prop in schema["properties"].items()}
    if kind == "array":
        return [filled_from(schema["items"])]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    return "Filled in from the form's schema."


def albanias_task(mapping: Mapping) -> int:
    return open_task_id(
        mapping.iisg.db,
        open_mapping(mapping.iisg),
        "deliver_information",
        organisation="AL",
        pillar="WBCTi",
    )


def test_a_client_filling_the_form_from_its_schema_alone_delivers(
    db: Database, clock: Clock, app: Flask, mapping: Mapping
) -> None:
    task_id = albanias_task(mapping)
    focal_point = api_for(db, clock, app, "fp-al-wbcti")

    form = focal_point.get(f"/tasks/{task_id}").get_json()["form"]
    need = form["properties"]["responses"]["items"]["properties"]["need_id"]
    [albanias] = mapping.needs["AL-WBCTi"]
    assert need["enum"] == [albanias]
    assert need["enumNames"] == [f"Need {albanias}: A need of AL."]

    done = focal_point.post(f"/tasks/{task_id}/complete", {"data": filled_from(form)})

    assert done.status_code == 200, done.get_data(as_text=True)
    with db.session() as session:
        recorded = session.scalars(select(Response.need_id)).all()
    assert recorded == [albanias]


def test_a_need_off_the_list_is_refused_with_400_naming_the_field(
    db: Database, clock: Clock, app: Flask, mapping: Mapping
) -> None:
    task_id = albanias_task(mapping)
    focal_point = api_for(db, clock, app, "fp-al-wbcti")
    data = filled_from(focal_point.get(f"/tasks/{task_id}").get_json()["form"])
    [montenegros] = mapping.needs["ME-WBCTi"]
    data["responses"][0]["need_id"] = montenegros

    refused = focal_point.post(f"/tasks/{task_id}/complete", {"data": data})

    assert refused.status_code == 400, refused.get_data(as_text=True)
    [error] = refused.get_json()["errors"]
    assert error["field"] == "responses/0/need_id"
    assert error["message"].startswith(f"{montenegros} is not on the list for this task")


def test_the_task_page_offers_the_partners_open_needs_in_a_select(
    browser: Callable[..., Browser], mapping: Mapping
) -> None:
    task_id = albanias_task(mapping)

    main = main_region(browser("fp-al-wbcti").text(f"/tasks/{task_id}"))

    [select_need] = main.xpath('.//select[@id="field-responses-0-need_id"]')
    [albanias] = mapping.needs["AL-WBCTi"]
    options = [(o.get("value"), o.text_content().strip()) for o in select_need.iter("option")]
    assert options == [("", "Choose…"), (str(albanias), f"Need {albanias}: A need of AL.")]
    [label] = main.xpath('.//label[@for="field-responses-0-need_id"]')
    assert label.text_content().strip() == "Need (required)"


def test_with_no_open_need_left_the_page_says_so_instead_of_an_empty_select(
    db: Database, browser: Callable[..., Browser], mapping: Mapping
) -> None:
    task_id = albanias_task(mapping)
    db.run(lambda s: s.execute(update(Need).values(status="addressed")))

    page = browser("fp-al-wbcti").text(f"/tasks/{task_id}")

    assert not main_region(page).xpath('.//select[@id="field-responses-0-need_id"]')
    assert (
        "Need You have no open mapped needs in this pillar, so there is no need to choose: "
        "leave the responses empty." in main_text(page)
    )
