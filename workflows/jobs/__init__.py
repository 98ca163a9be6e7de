"""The jobs the procedures add to the scheduler: reminders and escalations, recurring starts,
the list of jobs `iisg scheduler` and `iisg serve` run, and the scheduler they run them on."""
