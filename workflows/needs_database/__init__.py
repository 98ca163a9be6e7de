"""The IISG database: the WB partners' needs, the responses and the mapping reports; who may
read and change them, filters, search, checks, changes, analysis, exports and a demo history.
Serves `webui/needs_database/`."""
