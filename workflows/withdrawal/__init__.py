"""Withdrawing a running procedure: who may (the Secretariat any, an applicant their own
undecided application), and what follows (the Board's open decision closed as withdrawn, the
application marked withdrawn, those who held a task told). Uses `board`, `mail`, `people`
and the engine's cancel. Serves `webui/procedures/` and the API."""
