"""`tracker send-reminders` (one run, for cron or by hand) and `tracker scheduler`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker import clock
from tracker.extensions import db
from tracker.services.reminders import run_reminders


def parse_now(value: str) -> datetime:
    """An ISO date-time; without an offset it is Asia/Baku time, like the schedule."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            "expected an ISO date-time such as 2022-10-02T09:00 or 2022-10-02T05:00+00:00"
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.BAKU)
    return moment.astimezone(UTC)


def _print_previews(report) -> None:
    for digest in report.previews:
        click.echo(f"To: {digest.to} ({digest.locale}) — {digest.subject}")
        click.echo("  " + ", ".join(f"{k.heading} ({k.count})" for k in digest.kinds))
        for measure in digest.measures:
            click.echo(f"  {measure.code} {measure.title}")
            for reason in measure.reasons:
                click.echo(f"    {reason.label}: {reason.detail}")
                click.echo(f"        {reason.url}")
        if digest.more_measures:
            click.echo(f"  … {digest.more_measures} more measures")
    if not report.previews:
        click.echo("No digest would go out.")
    elif not report.mail_enabled:
        click.echo("Mail is off (SMTP_HOST is not set): these would stay in the app only.")


@click.command("send-reminders")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-DATETIME",
    help="Run as if it were this time (Asia/Baku unless an offset is given).",
)
@click.option("--dry-run", is_flag=True, help="Print what would go out and to whom; write nothing.")
@with_appcontext
def send_reminders_command(now_text: str | None, dry_run: bool) -> None:
    """Plan today's reminders and send the digests that are due: the scheduler's job, once."""
    if now_text:
        now = parse_now(now_text)
        today = clock.baku_date(now)
    else:
        now, today = clock.now_utc(), clock.today()
    report = run_reminders(db.session, now, today, dry_run=dry_run)
    if dry_run:
        _print_previews(report)
    click.echo(report.summary())


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler in the foreground (one instance per database; others stay idle)."""
    from tracker import scheduler

    scheduler.configure_logging()
    stop = threading.Event()
    scheduler.install_signal_handlers(stop)
    scheduler.run_forever(current_app._get_current_object(), stop)


def register(app: Flask) -> None:
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(scheduler_command)
