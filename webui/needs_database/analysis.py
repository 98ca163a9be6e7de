"""The analysis: gaps, possible duplications, the coverage matrix, and trends across years."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from webui.auth.login import require_person
from webui.database import request_session
from webui.needs_database.blueprint import bp
from webui.needs_database.chart import trend_chart
from workflows.needs_database.analysis import coverage_matrix, duplications, gaps, trends
from workflows.needs_database.filters import NeedFilter
from workflows.people.roles import PILLARS

# Background by share of needs with a response: light enough that the dark number written
# in the cell keeps its contrast; the number, not the colour, carries the meaning.
SHADES = (
    (0.0, "#f9d6d5", "0 to 24%"),
    (0.25, "#fbe3c4", "25 to 49%"),
    (0.5, "#fdf3c2", "50 to 74%"),
    (0.75, "#dcefc9", "75 to 99%"),
    (1.0, "#bfe3c8", "100%"),
)


def shade(share: float | None) -> str:
    """The cell's shade for a share covered (0 to 1): its step in SHADES, or "none" for an
    empty cell. Named in a data attribute that database.css colours, not a style attribute:
    the Content-Security-Policy refuses inline styles."""
    if share is None:
        return "none"
    step = 0
    for index, (least, _colour, _label) in enumerate(SHADES):
        if share >= least:
            step = index
    return str(step)


@bp.get("/analysis")
def analysis() -> ResponseReturnValue:
    """Gaps, duplications, coverage and trends for the needs the filters select."""
    session = request_session()
    viewer = require_person().participant
    f = NeedFilter.from_params(request.args)
    points = trends(session, f, viewer=viewer)
    chart = trend_chart(
        [p.year for p in points],
        {
            gettext("Needs mapped"): [p.needs for p in points],
            gettext("Needs with a response"): [p.covered for p in points],
            gettext("Responses recorded"): [p.responses for p in points],
        },
    )
    return render_template(
        "database/analysis.html",
        f=f,
        args=f.to_params(),
        gaps=gaps(session, f, viewer=viewer),
        duplications=duplications(session, f, viewer=viewer),
        matrix=coverage_matrix(session, f, viewer=viewer),
        points=points,
        chart=chart,
        shade=shade,
        shades=SHADES,
        pillars=PILLARS,
    )
