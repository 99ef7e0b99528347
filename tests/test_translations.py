"""Both catalogs are complete and keep every placeholder; the app compiles them at start-up
and serves what they say. Nothing here compares bytes that a Babel release writes."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po
from flask_babel import force_locale, get_babel, get_translations
from markupsafe import escape

from tracker import catalogs
from tracker.config import PROJECT_ROOT

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
            "--ignore-dirs",
            ".*",
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


def _is_translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(message.id) and all(strings) and not message.fuzzy


def _entry(message) -> tuple:
    """A message as id, context and translation, plural or not, whichever file it came from."""

    def as_tuple(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return as_tuple(message.id), message.context, as_tuple(message.string)


@pytest.mark.parametrize("language", ["az", "en"])
def test_the_app_loads_every_message_of_the_po_file(app, language):
    source = _catalog(language)
    # The .mo in the directory the app gave Flask-Babel.
    directory = Path(get_babel(app).translation_directories[0])
    with (directory / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    expected = {_entry(message) for message in source if _is_translated(message)}
    assert {_entry(message) for message in compiled if message.id} == expected
    assert compiled.plural_forms == source.plural_forms

    # And the translations Flask-Babel serves pick the .po's plural form for each count.
    plural_form = gettext.c2py(source.plural_expr)
    plurals = [message for message in source if message.pluralizable]
    assert plurals
    with app.test_request_context(), force_locale(language):
        translations = get_translations()
        for message in plurals:
            for count in (0, 1, 2, 5, 21, 101):
                assert (
                    translations.ngettext(message.id[0], message.id[1], count)
                    == message.string[plural_form(count)]
                )


def test_pages_are_served_in_azerbaijani_and_english(app, client):
    skip_link = _catalog("az").get("Skip to content").string
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    azerbaijani = client.get("/").get_data(as_text=True)
    assert '<html lang="az">' in azerbaijani
    assert str(escape(skip_link)) in azerbaijani
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Skip to content" in english and str(escape(skip_link)) not in english


def test_catalogs_are_compiled_once_then_reused(tmp_path, monkeypatch):
    written = []
    write_compiled = catalogs.write_compiled

    def counting_write(catalog, mo):
        written.append(mo)
        write_compiled(catalog, mo)

    monkeypatch.setattr(catalogs, "write_compiled", counting_write)
    directory = catalogs.compiled_translations(tmp_path)
    assert directory.parent == tmp_path
    assert sorted(path.relative_to(directory).as_posix() for path in written) == [
        "az/LC_MESSAGES/messages.mo",
        "en/LC_MESSAGES/messages.mo",
    ]
    # Again in this process: remembered. In another one: the .mo files match the .po digest.
    assert catalogs.compiled_translations(tmp_path) == directory
    assert catalogs.compile_catalogs(tmp_path) == directory
    assert len(written) == 2


def test_an_edited_po_file_is_compiled_anew(tmp_path):
    source = tmp_path / "translations"
    shutil.copytree(catalogs.SOURCE, source, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    cache = tmp_path / "cache"
    before = catalogs.compile_catalogs(cache, source)
    po = source / "az" / "LC_MESSAGES" / "messages.po"
    edited = catalogs.read_catalog(po, "az")
    edited.get("Skip to content").string = "Əsas mətnə keç"
    with po.open("wb") as handle:
        write_po(handle, edited)
    after = catalogs.compile_catalogs(cache, source)
    assert after != before
    assert [path.name for path in cache.iterdir()] == [after.name]  # the stale one is gone
    with (after / "az" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        assert read_mo(handle).get("Skip to content").string == "Əsas mətnə keç"


COMPILE_IN_A_NEW_PROCESS = """
import sys
from pathlib import Path

from tracker.catalogs import compile_catalogs

print(compile_catalogs(Path(sys.argv[1]), force=True))
"""


def test_processes_starting_together_share_the_compiled_catalogs(tmp_path):
    # Every process rewrites both files (force) to make the writes overlap.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COMPILE_IN_A_NEW_PROCESS, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, results
    directories = {stdout.strip() for stdout, _ in results}
    assert len(directories) == 1
    directory = Path(directories.pop())
    assert directory.parent == tmp_path
    files = sorted(path.relative_to(directory).as_posix() for path in tmp_path.rglob("*.*"))
    assert files == ["az/LC_MESSAGES/messages.mo", "en/LC_MESSAGES/messages.mo"], files
    for language in ("az", "en"):
        with (directory / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
            compiled = read_mo(handle)
        assert len([message for message in compiled if message.id]) == len(
            [message for message in _catalog(language) if _is_translated(message)]
        )


def test_translations_compile_checks_and_compiles(app, runner):
    result = runner.invoke(args=["translations", "compile"])
    assert result.exit_code == 0, result.output
    assert "az: " in result.output and "en: " in result.output
    assert "messages translated" in result.output
    directory = Path(get_babel(app).translation_directories[0])
    assert f"Compiled into {directory}" in result.output


def test_azerbaijani_is_the_default_and_translated(app, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="az">' in html
    assert "Skip to content" not in html


GETTEXT_NAMES = {"_", "_l", "gettext", "lazy_gettext", "ngettext"}


def _gettext_calls_in_f_strings(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in GETTEXT_NAMES
                and inner.args
                and isinstance(inner.args[0], ast.Constant)
            ):
                found.append((inner.lineno, inner.args[0].value))
    return found


def test_no_message_hides_inside_an_f_string():
    # On Python 3.11 an f-string is one token, and Babel's extractor does not look inside:
    # a message there never reaches the catalogs and is shown in English to everyone.
    hidden = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {message!r}"
        for path in sorted((PROJECT_ROOT / "tracker").rglob("*.py"))
        for line, message in _gettext_calls_in_f_strings(path.read_text())
    ]
    assert hidden == []


#: attributes a person reads (or hears, from a screen reader): their text is translated
READ_ATTRIBUTES = re.compile(r'\b(placeholder|title|alt|aria-label)="([^"]*)"')


def test_no_template_writes_a_read_attribute_in_one_language():
    fixed = [
        f"{path.relative_to(PROJECT_ROOT)}: {name}={value!r}"
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
        for name, value in READ_ATTRIBUTES.findall(path.read_text())
        if re.search(r"[A-Za-z]", re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value))
    ]
    assert fixed == []
