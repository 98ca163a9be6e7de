"""The working-day calendar: the public holidays the Secretariat keeps. Serves
`webui/calendar/`."""
