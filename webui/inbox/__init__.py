"""The task inbox: open tasks, task pages with their forms, claims, documents, comments,
and "Done by me"."""

from webui.inbox import claims, documents
from webui.inbox.routes import bp

__all__ = ["bp", "claims", "documents"]
