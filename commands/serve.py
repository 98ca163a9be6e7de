"""`iisg serve`: waitress for the web app and, by default, the scheduler in the same process."""

from __future__ import annotations

import logging

from waitress import serve

from webui.app import create_app
from webui.settings import Settings, served_locally
from workflows.jobs.schedule import procedure_scheduler

log = logging.getLogger("iisg.serve")


def serve_forever(
    *, host: str, port: int, threads: int, with_scheduler: bool, settings: Settings
) -> None:
    """Run until interrupted."""
    app = create_app(settings=served_locally(host, settings))
    scheduler = None
    if with_scheduler:
        scheduler = procedure_scheduler(app.extensions["iisg"].factory, settings.procedures)
        scheduler.start()
    print(
        f"IISG Procedures on http://{host}:{port}/ "
        f"({'with' if scheduler else 'without'} the scheduler). Ctrl+C stops it.",
        flush=True,
    )
    try:
        serve(app, host=host, port=port, threads=threads, ident="IISG Procedures")
    finally:
        if scheduler is not None:
            scheduler.shutdown()
