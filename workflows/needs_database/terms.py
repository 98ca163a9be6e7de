"""The IISG database's fixed words: periods, statuses, the fields a change may touch,
sub-pillars and report kinds."""

from __future__ import annotations

# Who reads the database: members, in whichever role; applicants and strangers do not.
READER_ROLES = frozenset(
    {"member", "secretariat", "board_member", "focal_point", "support_group", "observer"}
)
PERIODS = ("past_year", "planned")
RESPONSE_STATUSES = ("completed", "ongoing", "planned")
# The need fields a focal point or the Secretariat may change between mappings.
NEED_FIELDS = ("description", "status", "kind", "perspective", "sub_pillar")
RESPONSE_FIELDS = ("description", "period", "year", "status", "funding")
# In a filter, the sub-pillar of needs that name none.
NO_SUB_PILLAR = "none"
SUB_PILLAR_TITLES = {
    "legal_framework": "Legal framework",
    "institutional_setup": "Institutional set-up",
    "capacity_building": "Capacity building",
    "coordination_cooperation": "Coordination and cooperation",
}
REPORT_KINDS = ("needs_mapping", "response_mapping")
# The words a person reads for the database's fixed values: a need's status, kind and
# perspective, a response's period and status (the codes stay in URLs and exports).
TERM_WORDS = {
    "open": "Open",
    "partly_addressed": "Partly addressed",
    "addressed": "Addressed",
    "no_longer_relevant": "No longer relevant",
    "legislative": "Legislative",
    "institutional": "Institutional",
    "operational": "Operational",
    "prevention": "Prevention",
    "response": "Response",
    "past_year": "Past year",
    "planned": "Planned",
    "completed": "Completed",
    "ongoing": "Ongoing",
}


def term_words(code: str | None) -> str:
    """A fixed value of the database in words: partly_addressed -> Partly addressed."""
    if not code:
        return ""
    return TERM_WORDS.get(code, code.replace("_", " ").capitalize())
