"""Moving one running procedure to the version now in force, when nothing it did changes."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import NotFound

from webui.auth.login import require_person
from webui.database import unit_of_work
from webui.editor.blueprint import bp
from workflows.methodology.editor import MigrationRefused, migrate_instance


@bp.post("/instances/<int:instance_id>/migrate")
def migrate(instance_id: int) -> ResponseReturnValue:
    """Move the procedure to the version asked for, or say why it stays where it is."""
    person = require_person()
    try:
        version = int(request.form.get("version", ""))
    except ValueError as err:
        raise NotFound(gettext("Choose the version to move to from the procedure's page.")) from err
    try:
        unit_of_work(
            lambda s: migrate_instance(
                s, instance_id, version, actor=person.username, now=datetime.now(UTC)
            )
        )
    except MigrationRefused as refused:
        reason = str(refused)
        flash(
            gettext(
                "The procedure stays on its version; nothing was changed. %(reason)s",
                reason=reason[:1].upper() + reason[1:],
            ),
            "error",
        )
    else:
        flash(gettext("The procedure now runs on version %(version)s.", version=version), "success")
    return redirect(url_for("procedures.instance", instance_id=instance_id), 303)
