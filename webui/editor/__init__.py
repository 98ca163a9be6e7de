"""The Secretariat's methodology pages: every procedure's versions, the diagram editor,
comparing two versions, proposing a draft to the Board, moving a running procedure on."""

from webui.editor import api, migration, pages
from webui.editor.blueprint import bp

__all__ = ["api", "bp", "migration", "pages"]
