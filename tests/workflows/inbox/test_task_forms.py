"""A task's form made for that task: the need a response answers is chosen from the partner's
own open needs in the pillar (the Support Group's from the WB partners' needs in the pillar),
read from the IISG Database as the step that records them checks them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from models import HumanTask, Need
from tests.workflows.mappings import test_response_mapping as mapped
from tests.workflows.mappings.test_response_mapping import ASKED, Mapping, deliver, open_mapping
from workflows.inbox.task_forms import task_form

mapping = mapped.mapping  # the mapped needs and the people of a response mapping


def need_field(mapping: Mapping, task: HumanTask, entries: str) -> dict[str, Any]:
    """The `need_id` field of the task's form, as the page and the API receive it."""
    with mapping.iisg.db.session() as session:
        form = task_form(session, task)
    assert form is not None
    field: dict[str, Any] = form["properties"][entries]["items"]["properties"]["need_id"]
    return field


def test_a_focal_point_chooses_among_the_partners_own_open_needs_in_the_pillar(
    mapping: Mapping,
) -> None:
    instance_id = open_mapping(mapping.iisg)
    task = mapping.iisg.task(mapping.fp("AL", "WBCTi"), "deliver_information", instance_id)

    field = need_field(mapping, task, "responses")

    first, second = mapping.needs["AL-WBCTi"]
    assert field["enum"] == [first, second]
    assert field["enumNames"] == [
        f"Need {first}: Align the law on preventing violent extremism with the EU acquis.",
        f"Need {second}: A referral mechanism for radicalised persons.",
    ]


def test_a_need_closed_meanwhile_is_no_longer_offered(mapping: Mapping) -> None:
    instance_id = open_mapping(mapping.iisg)
    task = mapping.iisg.task(mapping.fp("AL", "WBBSi"), "deliver_information", instance_id)
    mapping.iisg.db.run(lambda s: s.execute(update(Need).values(status="addressed")))

    assert need_field(mapping, task, "responses")["enum"] == []


def test_the_support_group_chooses_among_the_wb_partners_needs_in_its_pillar(
    mapping: Mapping,
) -> None:
    instance_id = open_mapping(mapping.iisg)
    for key in sorted(ASKED):
        deliver(mapping, instance_id, key)
    task = mapping.iisg.task(mapping.support_group["WBCTi"], "add_project_support", instance_id)

    field = need_field(mapping, task, "support")

    albanias, montenegros = mapping.needs["AL-WBCTi"], mapping.needs["ME-WBCTi"]
    assert field["enum"] == sorted([*albanias, *montenegros])
    assert f"Need {montenegros[0]} (Montenegro): A national coordinator" in " ".join(
        field["enumNames"]
    )
