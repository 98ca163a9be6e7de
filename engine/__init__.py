"""Everything SpiffWorkflow, one package per feature: `diagrams/` (reading, checking and
deploying diagrams), `sandbox/` (what a diagram's code may run), `instances/` (running
procedures, one unit of work per step), `scheduler/` (firing timers and the jobs around
them). Beside them, what every feature shares: `errors`, `clock`, `audit` and `services`
(the registry of the operations a diagram may call).

Imports models; never imports Flask.
"""
