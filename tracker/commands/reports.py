"""`tracker report` (one PDF report to a file) and `tracker archive-report` (the monthly
snapshot, as the scheduler runs it)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker import clock
from tracker.commands.files import write_output
from tracker.database import reads_only
from tracker.dates import parse_iso_day
from tracker.extensions import db
from tracker.services.errors import InvalidInput
from tracker.services.plans import get_plan
from tracker.services.reports import (
    ReportSpec,
    ReportSubjectNotFound,
    checked_as_of,
    render_report,
)
from tracker.services.reports.archive import archive_monthly_snapshot
from tracker.vocabulary import ReportKind


def _parse_date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_iso_day(value)
    except ValueError:
        raise click.BadParameter("expected a date as YYYY-MM-DD") from None


def _parse_now(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected an ISO date and time, e.g. 2021-07-01T06:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("report")
@click.option("--plan", "plan_key", required=True, help="The plan's key.")
@click.option("--section", type=click.IntRange(min=1), help="A section report: its number.")
@click.option("--agency", "agency_key", help="An agency report: the agency's key.")
@click.option(
    "--organisation", "organisation_id", type=int, help="An organisation's report: its id."
)
@click.option(
    "--as-of",
    "as_of",
    callback=_parse_date,
    help="The date (YYYY-MM-DD), from the plan's start to the earlier of today and its end; "
    "default the latest of those.",
)
@click.option("--lang", type=click.Choice(["az", "en"]), default="az", show_default=True)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The PDF file to write.",
)
@with_appcontext
def report_command(
    plan_key: str,
    section: int | None,
    agency_key: str | None,
    organisation_id: int | None,
    as_of: date | None,
    lang: str,
    out: Path,
) -> None:
    """Write a PDF report: the plan's, or one section's, agency's or organisation's."""
    chosen = [o for o in (section, agency_key, organisation_id) if o is not None]
    if len(chosen) > 1:
        raise click.UsageError("Give at most one of --section, --agency and --organisation.")
    kind = ReportKind.PLAN
    if section is not None:
        kind = ReportKind.SECTION
    elif agency_key is not None:
        kind = ReportKind.AGENCY
    elif organisation_id is not None:
        kind = ReportKind.ORGANISATION
    if not out.parent.is_dir():
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    plan = get_plan(db.session, plan_key)
    if plan is not None:
        try:
            as_of = checked_as_of(as_of, plan.start_year, plan.end_year)
        except InvalidInput as error:
            raise click.BadParameter(error.message, param_hint="--as-of") from None
    spec = ReportSpec(
        plan_key=plan_key,
        as_of=as_of or clock.today(),
        locale=lang,
        kind=kind,
        section=section,
        agency_key=agency_key,
        organisation_id=organisation_id,
    )
    started = time.perf_counter()
    db.session.rollback()  # the checks above only read
    try:
        # the server's writers must not wait for a long report (SQLite)
        with reads_only(db.session):
            data = render_report(db.session, spec)
    except ReportSubjectNotFound as error:
        raise click.ClickException(error.message) from error
    write_output(out, data)
    elapsed = time.perf_counter() - started
    click.echo(f"Wrote {out} ({len(data) // 1024} KB, {elapsed:.1f} s).")


@click.command("archive-report")
@click.option(
    "--now",
    callback=_parse_now,
    help="Pretend it is this moment (ISO, UTC unless an offset is given); default now.",
)
@with_appcontext
def archive_report_command(now: datetime | None) -> None:
    """Save this month's plan report snapshot (az and en) to the public archive, unless
    this month's is saved already."""
    if now is not None and now > clock.now_utc():
        raise click.BadParameter("a snapshot records a month that has come", param_hint="--now")
    made = archive_monthly_snapshot(db.session, now or clock.now_utc())
    db.session.commit()
    if not made:
        click.echo("This month's snapshots are archived already; nothing to do.")
    for snapshot in made:
        click.echo(f"Archived {snapshot.file_name} (sha256 {snapshot.sha256}).")
