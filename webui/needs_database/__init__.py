"""The members-only IISG database (needs, responses, analysis, reports) and the public page."""

from webui.needs_database import analysis, lists, need_page, reports
from webui.needs_database.blueprint import bp, public_bp

__all__ = ["analysis", "bp", "lists", "need_page", "public_bp", "reports"]
