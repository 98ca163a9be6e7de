"""The Board's pages: a silent procedure with one-click answers, the decision register and its
exports, the member register, and an applicant's own membership applications."""

from webui.board import applications
from webui.board.routes import bp

__all__ = ["applications", "bp"]
