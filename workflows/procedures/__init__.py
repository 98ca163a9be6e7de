"""Procedure instances as people see them: the catalogue, starting one, one instance's page,
who may see an instance or work on its tasks, and failed steps reported to the Secretariat.
Serves `webui/procedures/`."""
