"""The Board: its decisions (the service tasks of `silent_procedure` and `board_decision`),
the silent-procedure page and answering it, the decision register and its CSV, the member
register, and becoming an IISG member. Serves `webui/board/`."""
