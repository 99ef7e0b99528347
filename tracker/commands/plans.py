"""`tracker seed`: load action plans (and the registry) from YAML."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tracker.extensions import db
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE, SeedError, seed_plan_file
from tracker.services.registry import seed_registry


def _describe(counts: dict) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing"


def _report_and_exit(error: SeedError) -> None:
    click.echo(f"Cannot load {error.source}:", err=True)
    for problem in error.lines:
        click.echo(f"  {problem}", err=True)
    raise SystemExit(1) from error


@click.command("seed")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Apply edits from the file to existing records.")
def seed_command(file: Path | None, update: bool) -> None:
    """Load a plan from FILE (default: the 2020–2022 plan) and the seeded registry."""
    started = time.perf_counter()
    try:
        result = seed_plan_file(db.session, file or DEFAULT_PLAN_FILE, update=update)
        elapsed = time.perf_counter() - started
        click.echo(
            f"Plan {result.plan_key}: created {_describe(result.created)}; "
            f"updated {_describe(result.updated)} ({elapsed:.2f} s)."
        )
        if file is None:
            registry = seed_registry(db.session, update=update)
            click.echo(f"Registry: {registry.describe()}.")
    except SeedError as error:
        _report_and_exit(error)
