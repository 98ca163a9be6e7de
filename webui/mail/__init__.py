"""Mail: the Secretariat's outbox, and each person's choice of immediate mail or a digest."""

from webui.mail.routes import bp

__all__ = ["bp"]
