"""`python -m tracker <command>`: the same as the `tracker` command."""

from tracker.cli import cli

cli()
