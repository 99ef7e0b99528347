"""`tracker check-storage`: the upload folder and the stored_file table kept in step."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext

from tracker import clock
from tracker.extensions import db
from tracker.services.monitoring.storage import (
    ORPHAN_GRACE,
    check_storage,
    folder_entries,
    stored_file_count,
)
from tracker.services.monitoring.uploads import upload_folder


def _report_lines(report):
    removed = "would remove" if report.dry_run else "removed"
    for item in report.orphans:
        yield f"orphan ({removed}): {item.name} ({item.size_bytes} bytes, {item.modified})"
    for row in report.expired:
        yield (
            f"expired pending file ({removed}): {row.stored_name} "
            f"({row.original_filename}, pending until {row.pending_until})"
        )
    yield from (
        f"recent orphan (kept: perhaps an upload in progress): {item.name}"
        for item in report.recent_orphans
    )
    yield from (f"not an upload (left alone): {item.name}" for item in report.foreign)
    for row in report.missing:
        yield (
            f"MISSING FILE: row {row.id} ({row.original_filename}, public id {row.public_id}) "
            f"points to {row.stored_name}, which is not in the folder"
        )


def _print_report(report) -> None:
    for line in _report_lines(report):
        click.echo(line)


@click.command("check-storage")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--grace-minutes",
    type=click.IntRange(min=0, max=7 * 24 * 60),
    default=int(ORPHAN_GRACE.total_seconds() // 60),
    show_default=True,
    help="Keep orphan files younger than this: they may belong to an upload in progress.",
)
@with_appcontext
def check_storage_command(dry_run: bool, grace_minutes: int) -> None:
    """List and remove uploaded files that no row points to and expired pending files; list
    rows whose file is missing (exit status 1 when there are any)."""
    total = len(folder_entries()) + stored_file_count(db.session)
    click.echo(f"Checking {upload_folder()}: {total} files and rows.")
    # On a terminal the bar shows how far the check is; elsewhere (cron) only its label.
    with click.progressbar(length=total, label="Checking", file=sys.stderr) as bar:
        report = check_storage(
            db.session,
            clock.now_utc(),
            dry_run=dry_run,
            grace=timedelta(minutes=grace_minutes),
            progress=bar.update,
        )
    db.session.commit()
    _print_report(report)
    click.echo(report.summary())
    if report.missing:
        sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(check_storage_command)
