"""The scheduler: passes that fire due timers exactly once and run the jobs added on top,
the process's wake-up loop, and how it stands (the timers waiting, the last passes)."""
