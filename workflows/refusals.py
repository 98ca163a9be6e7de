"""What a person is refused, and why: the errors the pages and the API show them.

The engine's own refusal of a form field stays `engine.errors.Refused`; these are the
refusals of the rules kept here, above the engine.
"""

from __future__ import annotations


class RequestRefused(Exception):
    """A request the rules refuse; the message says why, in words the person can act on."""


class NoAccess(Exception):
    """The person may not see or change this at all (shown as 403)."""


class NoSuchThing(Exception):
    """What the request names does not exist, or not for this person (shown as 404)."""
