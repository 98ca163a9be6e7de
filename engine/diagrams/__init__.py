"""Diagrams: reading untrusted BPMN safely, the project's rules for a diagram (lint,
reachability), task forms, what changed between two versions, what the browser's modeler
loses, the specs stored once per version, and deploying a bundle as new versions."""
