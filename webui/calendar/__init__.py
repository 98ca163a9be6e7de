"""The working-day calendar: the Secretariat keeps the public holidays, for all and per partner."""

from webui.calendar.routes import bp

__all__ = ["bp"]
