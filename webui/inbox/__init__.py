"""The task inbox: open tasks, task pages with their forms, and "Done by me"."""

from webui.inbox.routes import bp

__all__ = ["bp"]
