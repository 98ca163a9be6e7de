"""The jobs the procedures add to the scheduler: reminders and escalations, recurring starts,
and the list of jobs `iisg scheduler` and `iisg serve` run."""
