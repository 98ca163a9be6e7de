"""Procedures: the catalogue and start forms, instance pages with their diagram, and the
Secretariat's overview of every running procedure."""

from webui.procedures import withdrawal
from webui.procedures.routes import bp

__all__ = ["bp", "withdrawal"]
