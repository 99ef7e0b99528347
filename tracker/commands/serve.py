"""`tracker serve` and `tracker init-db`: create or upgrade the schema, seed, then serve.

`serve` prepares the database in its own process, releases it, and then only supervises:
gunicorn and the scheduler run as fresh child processes (fork and exec). A worker
therefore starts with no app context, no session and no database connection of this
process, whatever this process had pushed or opened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import click
from sqlalchemy import select

from tracker.config import PROJECT_ROOT
from tracker.database import refresh_planner_statistics
from tracker.extensions import db

#: how long the children get to finish their requests and jobs after SIGTERM
STOP_GRACE_SECONDS = 30
#: a scheduler that exits on its own is started again after this pause
SCHEDULER_RESTART_SECONDS = 5


def ensure_database() -> None:
    """Create or upgrade the schema with Alembic, seed the plan and the registry if they
    are absent, create the first administrator, and refresh SQLite's planner statistics."""
    from flask_migrate import upgrade

    from tracker.commands.accounts import create_first_admin
    from tracker.models import ActionPlan, Organisation
    from tracker.services.plans import seed_plan_file
    from tracker.services.registry import seed_registry

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
    create_first_admin()
    # statistics of the data as it is at start-up (an import may have added much), not as
    # it was at the last nightly run
    if refresh_planner_statistics(db.session):
        db.session.commit()
    # End the transaction a last read opened (on SQLite it holds the write lock) and close
    # the pool: the children open their own connections.
    db.session.remove()
    db.engine.dispose()


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database schema and seed the plan if it is absent."""
    ensure_database()
    click.echo("Database ready.")


def gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """Gunicorn builds the app in each worker from the factory; nothing is preloaded.
    The children import the `tracker` that `serve` runs (so the same database and
    instance folder), never a `tracker` folder in the working directory: `-P` keeps the
    working directory off the path, and gunicorn, which puts it first, puts the project's
    folder before it."""
    return [
        sys.executable,
        "-P",
        "-m",
        "gunicorn",
        "--pythonpath",
        str(PROJECT_ROOT),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--graceful-timeout",
        str(STOP_GRACE_SECONDS),
        # Forwarded headers are read by the app's ProxyFix (TRACKER_PROXY_HOPS) only.
        "--forwarded-allow-ips",
        "",
        "--no-control-socket",
        "tracker:create_app()",
    ]


def scheduler_argv() -> list[str]:
    return [sys.executable, "-P", "-m", "tracker", "scheduler"]


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when `serve` dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class ChildProcess:
    """One supervised child: started with a clean environment copy, stopped with SIGTERM
    and then SIGKILL after the grace period."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            self.argv, env=self.env, preexec_fn=_die_with_parent
        )
        click.echo(f"Started {self.name} (pid {self.process.pid}).")

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = STOP_GRACE_SECONDS) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def child_environment(host: str, port: int) -> dict[str, str]:
    env = dict(os.environ, TRACKER_SCHEDULER_PARENT_PID=str(os.getpid()))
    # Links in emails and feeds follow the address served, unless one is configured.
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    env.setdefault("PUBLIC_BASE_URL", f"http://{shown_host}:{port}")
    return env


def supervise(web: ChildProcess, scheduler: ChildProcess) -> int:
    """Run both children until a signal or until gunicorn exits; restart a scheduler that
    exits on its own. Returns gunicorn's exit code (0 after a signal)."""
    stop = threading.Event()
    received: list[int] = []

    def _on_signal(signum, _frame):
        received.append(signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    web.start()
    scheduler.start()
    scheduler_exited_at: float | None = None
    exit_code = 0
    try:
        while not stop.wait(0.5):
            code = web.exit_code()
            if code is not None:
                click.echo(f"gunicorn exited with code {code}; stopping.", err=True)
                exit_code = code or 1
                break
            if scheduler.exit_code() is not None:
                now = time.monotonic()
                if scheduler_exited_at is None:
                    click.echo("The scheduler exited; starting it again shortly.", err=True)
                    scheduler_exited_at = now
                elif now - scheduler_exited_at >= SCHEDULER_RESTART_SECONDS:
                    scheduler_exited_at = None
                    scheduler.start()
    finally:
        scheduler.stop()
        web.stop()
    if received:
        click.echo(f"Stopped on signal {received[0]}.")
    return exit_code


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve_command(host: str, port: int, workers: int) -> None:
    """Prepare the database, then serve the app with gunicorn and run the scheduler."""
    ensure_database()
    env = child_environment(host, port)
    web = ChildProcess("gunicorn", gunicorn_argv(host, port, workers), env)
    scheduler = ChildProcess("the scheduler", scheduler_argv(), env)
    click.echo(f"Serving on http://{host}:{port}")
    sys.exit(supervise(web, scheduler))
