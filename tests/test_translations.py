"""Both catalogs are complete, keep every placeholder, and are compiled."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tracker import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "tracker" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    target = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "--no-location",
            "-o",
            str(target),
            ".",
        ],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    with target.open("rb") as handle:
        return read_po(handle)


def _catalog(language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("language", ["az", "en"])
def test_every_message_is_translated(extracted, language):
    catalog = _catalog(language)
    missing, fuzzy, broken = [], [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        if (
            translated is None
            or not translated.string
            or (isinstance(translated.string, tuple) and not all(translated.string))
        ):
            missing.append(message.id)
            continue
        if translated.fuzzy:
            fuzzy.append(message.id)
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = translated.string if isinstance(translated.string, str) else translated.string[0]
        if _placeholders(source) != _placeholders(target):
            broken.append(message.id)
    assert not missing, f"{len(missing)} untranslated in {language}: {missing[:10]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:10]}"
    assert not broken, f"placeholders differ in {language}: {broken[:10]}"


@pytest.mark.parametrize("language", ["az", "en"])
def test_compiled_catalog_is_current(language):
    buffer = io.BytesIO()
    write_mo(buffer, _catalog(language))
    compiled = (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert compiled == buffer.getvalue(), "run `tracker translations compile`"


def test_azerbaijani_is_the_default_and_translated(app, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="az">' in html
    assert "Skip to content" not in html
