"""Logging in and out (Flask-Login sessions for the IISG's user accounts), and a person's
password: changing it, and setting a new one through a mailed link; two-factor sign-in."""

from webui.auth.passwords import bp as passwords_bp
from webui.auth.routes import bp
from webui.auth.two_factor import bp as two_factor_bp

__all__ = ["bp", "passwords_bp", "two_factor_bp"]
