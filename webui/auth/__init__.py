"""Logging in and out (Flask-Login sessions for the IISG's user accounts), and a person's
password: changing it, and setting a new one through a mailed link."""

from webui.auth.passwords import bp as passwords_bp
from webui.auth.routes import bp

__all__ = ["bp", "passwords_bp"]
