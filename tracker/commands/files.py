"""What the commands share for the files they write."""

from __future__ import annotations

from pathlib import Path

import click


def write_output(path: Path, data: bytes) -> None:
    """Write a command's output file, or stop with why it could not be written."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}") from None
