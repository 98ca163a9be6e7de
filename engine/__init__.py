"""Everything SpiffWorkflow: diagrams, the sandbox, the clock, instances, projections.

Imports models; never imports Flask.
"""
