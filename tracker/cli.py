"""The `tracker` command line (also `python -m tracker`): a Flask group on create_app."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError

from tracker import create_app
from tracker.config import ConfigError

#: what the database drivers say when the schema lacks a table or a column
#: (SQLite's words; psycopg's SQLSTATE classes undefined_table and undefined_column)
MISSING_SCHEMA_WORDS = ("no such table", "no such column")
MISSING_SCHEMA_SQLSTATES = ("42P01", "42703")


def database_problem(error: DBAPIError) -> str | None:
    """The one-line explanation of a database error that the person running a command can
    fix (an empty or older database, a database it cannot open); None for any other."""
    driver_error = error.orig
    first_line = str(driver_error).strip().splitlines()[0] if str(driver_error).strip() else ""
    sqlstate = getattr(driver_error, "sqlstate", None)
    if sqlstate in MISSING_SCHEMA_SQLSTATES or any(
        words in first_line for words in MISSING_SCHEMA_WORDS
    ):
        return (
            f"The database is not set up for this version ({first_line}). Run `tracker init-db`,"
            " which creates or upgrades it (`tracker serve` does so too)."
        )
    if error.statement is None:  # raised while connecting, before any statement ran
        return f"Cannot open the database: {first_line}"
    return None


class TrackerCommandLine(FlaskGroup):
    """Commands end with a message, not a traceback, when the database is missing its
    tables or cannot be opened (a fresh machine meets both before its first `tracker
    serve`), or when an environment variable cannot be used."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        try:
            return super().get_command(ctx, cmd_name)  # loads the app, so reads the config
        except ConfigError as error:
            raise click.ClickException(f"Cannot start: {error}.") from error

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            problem = database_problem(error)
            if problem is None:
                raise
            raise click.ClickException(problem) from error


cli = TrackerCommandLine(
    create_app=lambda: create_app(),
    add_version_option=False,
    help="Open Government Tracker: serve the app, seed plans, import the registry, "
    "send reminders and write reports.",
)
