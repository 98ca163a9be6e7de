"""The JSON API under /api/v1: tokens, problems, rate limits, and the endpoints."""

from __future__ import annotations

from flask import Flask

# Each endpoint module adds its routes to the blueprint when imported.
from webui.api import (  # noqa: F401
    decisions,
    documents,
    instances,
    limits,
    me,
    openapi,
    people,
    queries,
    tasks,
)
from webui.api.blueprint import PREFIX, bp


def init_app(app: Flask) -> None:
    """Rate-limit the API per token (register `bp` first, exempt from CSRF)."""
    limits.init_app(app, bp)


__all__ = ["PREFIX", "bp", "init_app"]
