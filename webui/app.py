"""The Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from webui import api, auth, database, errors, formatting, inbox
from webui.auth import expiry, login, two_factor
from webui.board import bp as board_bp
from webui.calendar import bp as calendar_bp
from webui.editor import bp as editor_bp
from webui.health import bp as health_bp
from webui.mail import bp as mail_bp
from webui.needs_database import bp as database_bp
from webui.needs_database import public_bp
from webui.people import bp as people_bp
from webui.procedures import bp as procedures_bp
from webui.settings import Settings, app_config, documents_dir_of, read_settings
from webui.tokens import bp as tokens_bp
from workflows.accounts.invitations import use_invitation_validity
from workflows.inbox.documents import use_documents_directory
from workflows.mail.compose import use_mail_settings

csrf = CSRFProtect()
babel = Babel()

# Relative to the app's root (webui/): the catalogues pybabel compiles.
TRANSLATIONS = "translations"
DEFAULT_LOCALE = "en"


def create_app(
    test_config: dict[str, Any] | None = None, settings: Settings | None = None
) -> Flask:
    """The web app, configured by `settings` (read from the environment when not given, as
    for a WSGI server), then `test_config`.

    Binds the database but never migrates it, prompts, or starts a scheduler: several web
    workers may each call this. A setting it cannot use raises SettingsError naming it.
    """
    settings = settings or read_settings(os.environ)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.from_mapping(app_config(settings, test_config))
    use_mail_settings(app.config["PROCEDURE_SETTINGS"].mail)
    use_documents_directory(documents_dir_of(app))
    use_invitation_validity(app.config["INVITATION_VALID"])
    database.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=TRANSLATIONS,
        locale_selector=_locale,
    )
    login.init_app(app)
    expiry.init_app(app)
    two_factor.init_app(app)
    formatting.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.passwords_bp)
    app.register_blueprint(auth.two_factor_bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(procedures_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(database_bp)
    # The published needs reports and summaries, for anyone: no login, no form.
    app.register_blueprint(public_bp)
    # For monitoring: no login, no form, nothing about people.
    app.register_blueprint(health_bp)
    csrf.exempt(health_bp)
    # For scripts and partners' systems: a bearer token on each request, never a cookie,
    # so no CSRF token to ask for and no login page to send anyone to.
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    api.init_app(app)
    app.after_request(_security_headers)
    if app.config["TRUSTED_PROXIES"]:
        # The visitor's address from the proxies' X-Forwarded-For, as many hops as trusted.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])  # type: ignore[method-assign]
    return app


def _locale() -> str:
    """The shipped language the browser asks for most; English if it asks for none of them."""
    shipped = [str(locale) for locale in babel.list_translations()]
    return request.accept_languages.best_match(shipped) or DEFAULT_LOCALE


# Scripts and styles only from the app's own files: an injected <script> or event handler
# runs nowhere. Inline styles are refused too (bpmn-js sets styles through the DOM, which
# a policy does not govern); images and fonts may also be data: URLs (bpmn-js's icons).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def _security_headers(response: Response) -> Response:
    # Pages hold forms that change procedures: never framed by another site, never sniffed.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
