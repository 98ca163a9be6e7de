"""The API's limits: requests per token (one busy script must not slow everyone's inbox),
and the size of a request."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from webui import rate_counts
from webui.api.auth import bearer_secret
from webui.api.problems import FieldError, problem
from workflows.inbox.documents import size_words

DEFAULT_LIMIT = "120/minute"
EXTENSION = "iisg_api_limiter"


def rate_key() -> str:
    """Whom a request counts against: its token (by hash), else its address."""
    secret = bearer_secret()
    if secret is None:
        return "address:" + get_remote_address()
    return "token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def api_rate_limit() -> str:
    """The limit in force: API_RATE_LIMIT from the settings, e.g. "120/minute"."""
    return str(current_app.config.get("API_RATE_LIMIT") or DEFAULT_LIMIT)


def refuse_too_large(prefix: str) -> ResponseReturnValue | None:
    """413 for a request under `prefix` whose declared size passes MAX_CONTENT_LENGTH."""
    # Checked before routing's verdict and before authentication, so an oversized body is
    # refused as such whatever the address or token; a body without a declared length is
    # still cut off by Werkzeug when read.
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit or not (request.path == prefix or request.path.startswith(prefix + "/")):
        return None
    if request.content_length is not None and request.content_length > limit:
        if request.path == prefix + "/documents":
            most = f"files can be at most {size_words(int(limit))}"
            return problem(
                413,
                detail=f"The file is too large: {most}. Nothing was uploaded.",
                errors=[FieldError("file", most)],
            )
        return problem(413)
    return None


def init_app(app: Flask, blueprint: Blueprint) -> Limiter:
    """Limit every request to the blueprint; counts kept where RATELIMIT_STORAGE_URI says."""
    # Counts are per process in memory unless RATELIMIT_STORAGE_URI names a shared store
    # (e.g. redis://...), which several web workers need to share one limit.
    app.config.setdefault("RATELIMIT_STORAGE_URI", rate_counts.URI)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(rate_key, app=app)
    limiter.limit(api_rate_limit)(blueprint)
    prefix = blueprint.url_prefix or ""
    app.before_request(lambda: refuse_too_large(prefix))
    app.extensions[EXTENSION] = limiter
    return limiter
