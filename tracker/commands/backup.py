"""`tracker backup --out DIR` and `tracker restore DIR` (tracker.services.backup)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker import clock
from tracker.extensions import db
from tracker.services.backup import BackupError, create_backup, restore_backup


def _progress(label: str, total: int):
    # On a terminal the bar shows how far a step is; elsewhere (cron) only its label.
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB"


@click.command("backup")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty folder for the backup.",
)
@with_appcontext
def backup_command(out: Path) -> None:
    """Write a consistent backup while the server runs: the database (SQLite's online
    backup, or pg_dump), the uploads and the report archive, and a manifest of SHA-256
    sums."""
    try:
        summary = create_backup(db.engine, current_app.config, out, clock.now_utc(), _progress)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backup written to {out}: {summary.database} and {summary.files} files, "
        f"{_size(summary.bytes)} in all."
    )


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(folder: Path) -> None:
    """Check a backup against its manifest and restore it into the EMPTY database that
    DATABASE_URL names, and into the upload and report folders."""
    try:
        summary = restore_backup(db.engine, current_app.config, folder, _progress)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {summary.database} and {summary.files} files from {folder}.")


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
