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
