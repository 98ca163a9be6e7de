"""Personal access tokens: a person's own tokens for the JSON API, made and revoked here."""

from webui.tokens.routes import bp

__all__ = ["bp"]
