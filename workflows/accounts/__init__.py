"""What a person does with their own account beyond logging in: single-use links mailed to
them (to set a new password when they forgot theirs). Uses `people` and `mail`. Serves
`webui/auth/`."""
