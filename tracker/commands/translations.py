"""`tracker translations extract|update|compile`: the gettext catalogs, through Babel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from tracker import PROJECT_ROOT

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
        "Catalogs updated; translate the new entries, then run `tracker translations compile`."
    )


@translations_command.command("compile")
def compile_command() -> None:
    """Compile both catalogs to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
