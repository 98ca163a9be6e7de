"""`python -m commands`: the `iisg` command line."""

from commands.cli import main

main()
