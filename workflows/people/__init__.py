"""The people of the procedures: the IISG's roles, partners and pillars, user accounts, login
sessions and their throttling, and personal access tokens. Serves `webui/auth/` and
`webui/tokens/`."""
