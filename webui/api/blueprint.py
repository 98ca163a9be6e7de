"""The API's blueprint: JSON under /api/v1, a bearer token on every request but one."""

from __future__ import annotations

from flask import Blueprint

from webui.api import auth, problems

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
problems.register(bp)
# The OpenAPI document is public; everything else needs a token (never a session cookie).
bp.before_request(auth.authenticate_request)
