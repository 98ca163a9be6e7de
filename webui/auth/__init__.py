"""Logging in and out: Flask-Login sessions for the IISG's user accounts."""

from webui.auth.routes import bp

__all__ = ["bp"]
