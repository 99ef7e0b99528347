"""`tracker serve` and `tracker init-db`: create or upgrade the schema, seed, then serve."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.extensions import db


def ensure_database() -> None:
    """Create or upgrade the schema with Alembic, then seed the plan if it is absent."""
    from flask_migrate import upgrade

    from tracker.models import ActionPlan, Organisation
    from tracker.services.registry_seed import seed_registry
    from tracker.services.seeding import seed_plan_file

    upgrade()
    if db.session.scalar(select(ActionPlan.id).limit(1)) is None:
        result = seed_plan_file(db.session)
        click.echo(f"Seeded plan {result.plan_key}.")
    else:
        db.session.rollback()
    if db.session.scalar(select(Organisation.id).limit(1)) is None:
        click.echo(f"Seeded the registry: {seed_registry(db.session).created} organisations.")
    else:
        db.session.rollback()
    for hook in current_app.extensions.get("tracker_first_run_hooks", []):
        hook()
    # End the transaction a last read opened (on SQLite it holds the write lock) and drop
    # pooled connections, which must not be shared with forked workers and the scheduler.
    db.session.remove()
    db.engine.dispose()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema and seed the plan if it is absent."""
    ensure_database()
    click.echo("Database ready.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Prepare the database and serve the app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    ensure_database()
    app = current_app._get_current_object()

    class TrackerServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return app

    for hook in app.extensions.get("tracker_serve_hooks", []):
        hook()
    click.echo(f"Serving on http://{host}:{port}")
    TrackerServer().run()
