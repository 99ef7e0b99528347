"""`tracker seed`: load action plans (and the registry) from YAML."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tracker.extensions import db
from tracker.services.plans.seeding import SeedError, seed_plan_file


def _describe(counts: dict) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing"


@click.command("seed")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Apply edits from the file to existing records.")
def seed_command(file: Path | None, update: bool) -> None:
    """Load a plan from FILE (default: the 2020–2022 plan) and the seeded registry."""
    started = time.perf_counter()
    with_registry = file is None
    try:
        if file is None:
            from tracker.services.plans.seeding import DEFAULT_PLAN_FILE

            file = DEFAULT_PLAN_FILE
        result = seed_plan_file(db.session, file, update=update)
    except SeedError as error:
        click.echo(f"Cannot load {error.source}:", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from error
    elapsed = time.perf_counter() - started
    click.echo(
        f"Plan {result.plan_key}: created {_describe(result.created)}; "
        f"updated {_describe(result.updated)} ({elapsed:.2f} s)."
    )
    if with_registry:
        from tracker.services.registry import seed_registry

        try:
            registry = seed_registry(db.session, update=update)
        except SeedError as error:
            click.echo(f"Cannot load {error.source}:", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            raise SystemExit(1) from error
        click.echo(f"Registry: {registry.describe()}.")
