"""`tracker translations update|compile`: the gettext catalogs, through Babel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.catalogs import compile_catalogs, read_catalog, source_catalogs
from tracker.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "tracker" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LANGUAGES = ("az", "en")


def _pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)  # noqa: S603 (fixed argv, no shell)


def extract() -> Path:
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "--no-location",
        # Babel skips directories starting with "_" by default: templates/_macros holds
        # interface text too
        "--ignore-dirs",
        ".*",
        "--sort-output",
        "--project",
        "open-government-tracker",
        "-o",
        str(TEMPLATE),
        ".",
    )
    return TEMPLATE


@click.group("translations")
def translations_command() -> None:
    """Keep the az and en catalogs in step with the code."""


@translations_command.command("update")
def update_command() -> None:
    """Extract messages and merge them into both catalogs."""
    extract()
    for language in LANGUAGES:
        catalog = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        if catalog.exists():
            _pybabel(
                "update",
                "-i",
                str(TEMPLATE),
                "-d",
                str(TRANSLATIONS),
                "-l",
                language,
                "--no-fuzzy-matching",
            )
        else:
            _pybabel("init", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", language)
    click.echo(
        "Catalogs updated; translate the new entries. The app compiles them when it starts;"
        " `tracker translations compile` checks them."
    )


def _is_translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


@translations_command.command("compile")
@with_appcontext
def compile_command() -> None:
    """Check both catalogs, count what is translated, and compile them afresh where the app
    reads them (the app also compiles them when it starts)."""
    problems = 0
    for language, po in source_catalogs().items():
        catalog = read_catalog(po, language)
        messages = [message for message in catalog if message.id]
        translated = sum(_is_translated(message) for message in messages)
        click.echo(f"{language}: {translated} of {len(messages)} messages translated")
        # Babel's own checks: placeholders and the number of plural forms.
        for message, errors in catalog.check():
            for error in errors:
                click.echo(f"{po}:{message.lineno}: {error}", err=True)
                problems += 1
    directory = compile_catalogs(Path(current_app.instance_path) / "translations", force=True)
    click.echo(f"Compiled into {directory}")
    if problems:
        raise click.ClickException(f"{problems} problems in the catalogs")
