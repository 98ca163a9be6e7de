"""Who reads the Board's pages: silent procedures, and the decision and member registers."""

from __future__ import annotations

from engine.instances.assignment import Participant

SILENT_PROCEDURE_READERS = frozenset({"board_member", "secretariat"})
REGISTER_READERS = frozenset({"member", "board_member", "secretariat"})


def may_read_silent_procedures(participant: Participant) -> bool:
    """Board members (and their alternates) and the Secretariat read silent procedures."""
    return any(participant.holds(role) for role in SILENT_PROCEDURE_READERS)


def may_read_registers(participant: Participant) -> bool:
    """Every IISG member, Board member and the Secretariat reads the decision and member
    registers."""
    return any(participant.holds(role) for role in REGISTER_READERS)
