"""The gettext catalogs, compiled from the .po files when the app starts.

Only the .po files are kept in git: a committed .mo records the Babel release that wrote it,
so any new Babel made it stale. The app compiles them with Babel into
`<instance>/translations/<digest of the .po files>/<lang>/LC_MESSAGES/messages.mo`, which
Flask-Babel reads. A directory named by the digest is current by construction, so a start-up
with nothing new to compile costs a hash of the .po files, once per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
DIGEST_NAME = re.compile(r"[0-9a-f]{16}")

_compiled: dict[tuple[Path, Path], Path] = {}
_compiled_lock = threading.Lock()


def source_catalogs(source: Path = SOURCE) -> dict[str, Path]:
    """Each language's .po file, by language code."""
    return {po.parent.parent.name: po for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def read_catalog(po: Path, language: str) -> Catalog:
    with po.open("rb") as handle:
        return read_po(handle, locale=language)


def compiled_translations(cache: Path, source: Path = SOURCE) -> Path:
    """The directory to give Flask-Babel: every catalog of `source` compiled under `cache`.
    Tests create hundreds of apps, so each process works this out once."""
    key = (source, cache)
    with _compiled_lock:
        if key not in _compiled:
            _compiled[key] = compile_catalogs(cache, source)
        return _compiled[key]


def compile_catalogs(cache: Path, source: Path = SOURCE, *, force: bool = False) -> Path:
    """Compile the catalogs whose .mo is missing (all of them with `force`) into
    cache/<digest>/ and return that directory."""
    catalogs = source_catalogs(source)
    if not catalogs:
        raise FileNotFoundError(f"no {DOMAIN}.po catalogs under {source}")
    target = cache / _digest(catalogs)
    built = False
    for language, po in catalogs.items():
        mo = target / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if force or not mo.exists():
            write_compiled(read_catalog(po, language), mo)
            built = True
    if built:
        _remove_stale(cache, keep=target)
    return target


def write_compiled(catalog: Catalog, mo: Path) -> None:
    """Write the .mo through a temporary file in the same folder and an atomic rename: a
    process starting at the same moment (gunicorn workers, the scheduler, a CLI command) reads
    the whole file or none, and two writers of the same catalog write the same content."""
    mo.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write_mo(handle, catalog)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a catalog is not
        os.replace(temporary, mo)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _digest(catalogs: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for language, po in sorted(catalogs.items()):
        content = po.read_bytes()
        digest.update(f"{language}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:16]


def _remove_stale(cache: Path, keep: Path) -> None:
    """Catalogs compiled from older .po files, left by earlier versions of the code."""
    for entry in cache.iterdir():
        if entry != keep and entry.is_dir() and DIGEST_NAME.fullmatch(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
