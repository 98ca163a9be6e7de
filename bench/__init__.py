"""`make bench`: what a task completion costs next to SpiffWorkflow itself, whether pages stay
quick as history grows, the scheduler, throughput, memory and what each instance stores.

Run it with `python -m bench`; each part is a module of its own (see docs/BENCHMARKS.md).
"""
