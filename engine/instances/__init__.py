"""Running procedures: starting, completing, claiming, signalling and firing timers, each a
step in one unit of work; loading an instance and saving it with its inbox and timer
projections; who may act; what an inbox row says of a task; the script engine the workflows
run with; moving an instance to a newer version; dry runs; where an instance stands."""
