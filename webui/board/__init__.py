"""The Board's pages: a silent procedure with one-click answers, the decision register and its
exports, and the member register."""

from webui.board.routes import bp

__all__ = ["bp"]
