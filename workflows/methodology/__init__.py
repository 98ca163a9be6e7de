"""The methodology: its diagrams (validated with the IISG's roles and deployed), the
Secretariat's diagram editor, the versions of a procedure, and moving running procedures to
a new version. Serves `webui/editor/`."""
