"""Registry commands: import the survey export, write its template, link measures."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.commands.files import write_output
from tracker.extensions import db
from tracker.numbers import counted
from tracker.services.errors import InvalidInput, ServiceError
from tracker.services.plans import default_plan, get_plan
from tracker.services.registry.import_files import read_rows, template_csv, template_xlsx
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.links import (
    link_measures,
    resolve_measures,
    resolve_organisation,
)


@click.command("import-organisations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@with_appcontext
def import_organisations_command(file: Path, dry_run: bool) -> None:
    """Import the CSO mapping survey's export (XLSX or CSV). All rows or none."""
    started = time.perf_counter()
    data = file.read_bytes()
    try:
        rows = read_rows(data, file.name)
    except InvalidInput as error:
        for problems in error.problems.values():
            for problem in problems:
                click.echo(f"{file.name}: {problem}", err=True)
        raise SystemExit(1) from error
    data_rows = max(len(rows) - 1, 0)
    with click.progressbar(length=2 * data_rows, label="Importing", file=sys.stderr) as bar:
        report = import_organisations(
            db.session, data, file.name, dry_run=dry_run, progress=bar.update, rows=rows
        )
    for problem in report.file_problems:
        click.echo(f"{file.name}: {problem}", err=True)
    for problem in report.problems:
        click.echo(f"{file.name}: {problem}", err=True)
    if not report.ok:
        db.session.rollback()
        reason = (
            f"{len(report.bad_rows)} of {counted(report.rows, 'row')} cannot be read"
            if report.bad_rows
            else "the file cannot be read as the survey's export"
        )
        click.echo(f"Nothing was imported: {reason}.", err=True)
        raise SystemExit(1)
    if report.applied:
        db.session.commit()
    else:
        db.session.rollback()
    elapsed = time.perf_counter() - started
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {counted(report.rows, 'row')} from {file.name}: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{counted(report.memberships_added, 'coalition membership')} added ({elapsed:.2f} s)."
    )
    if report.ignored_columns:
        click.echo("Ignored columns: " + "; ".join(report.ignored_columns))
    for list_name, count in sorted(report.free_text.items()):
        click.echo(f'Rows with free "Digər" text in {list_name}: {count}')


@click.command("organisations-template")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--lang",
    type=click.Choice(["az", "en"]),
    default="az",
    show_default=True,
    help="Language of the column headings.",
)
@with_appcontext
def organisations_template_command(file: Path, lang: str) -> None:
    """Write a clean import template to FILE (.xlsx or .csv)."""
    makers = {".xlsx": template_xlsx, ".csv": template_csv}
    maker = makers.get(file.suffix.lower())
    if maker is None:
        raise click.BadParameter("the file name must end in .xlsx or .csv", param_hint="FILE")
    write_output(file, maker(lang))
    click.echo(f"Wrote {file}.")


@click.command("link-measures")
@click.argument("organisation")
@click.argument("codes", nargs=-1, required=True)
@click.option("--lead", is_flag=True, help="Make the organisation the lead monitor.")
@click.option("--plan", "plan_key", help="The plan's key (default: the most recent plan).")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Start date (default: today)."
)
@with_appcontext
def link_measures_command(
    organisation: str, codes: tuple[str, ...], lead: bool, plan_key: str | None, since
) -> None:
    """Link ORGANISATION (id or exact name) to the measures with these CODEs."""
    found = resolve_organisation(db.session, organisation)
    if found is None:
        raise click.ClickException(f"No organisation with the id or name {organisation!r}.")
    plan = get_plan(db.session, plan_key) if plan_key else default_plan(db.session)
    if plan is None:
        raise click.ClickException(f"No plan {plan_key!r}." if plan_key else "No plan loaded.")
    start: date | None = since.date() if since else None
    try:
        measures = resolve_measures(db.session, plan, list(dict.fromkeys(codes)))
        result = link_measures(db.session, found, measures, start_date=start, is_lead=lead)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    created = ", ".join(link.measure.code for link in result.created) or "none"
    click.echo(f"{found.name_az}: linked {created}.")
    if result.unchanged:
        click.echo(f"Already linked: {', '.join(result.unchanged)}.")
    if result.made_lead:
        click.echo(f"Lead monitor of: {', '.join(result.made_lead)}.")
