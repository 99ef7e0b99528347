"""Hostile spreadsheets in the organisation import (issue 10, finding 9): a sheet that
declares A1:XFD1048576, an XXE, a billion laughs, a broken formula cell, malformed XML and
a zip bomb each get a clear message, on the web (4xx, nothing written) and on the CLI
(non-zero exit, no traceback), in bounded memory.

The files are built by hand with zipfile: no spreadsheet library would write them."""

from __future__ import annotations

import functools
import io
import tracemalloc
import zipfile
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_token_from, login
from tests.registry import conftest as registry
from tests.registry.conftest import make_user
from tests.served.server import FIRST_ADMIN_EMAIL
from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.errors import InvalidInput
from tracker.services.registry.import_files import MAX_COLUMNS, read_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}">'
    '<sheets><sheet name="Survey" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
HEADING = "Təşkilatın adı"
#: the registry tests' fixture: messages made outside a request in English
english = registry.english
BILLION_LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def worksheet(rows: str, dimension: str = "A1:A2", prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def xlsx(sheet: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def huge_dimension() -> bytes:
    """About 1.5 KB: a heading, one row at the sheet's very last row, and the whole
    sheet, A1:XFD1048576, declared as used."""
    rows = (
        f'<row r="1">{text_cell("A1", HEADING)}</row>'
        f'<row r="1048576">{text_cell("A1048576", "Son")}</row>'
    )
    return xlsx(worksheet(rows, dimension="A1:XFD1048576"))


def xxe() -> bytes:
    prolog = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    return xlsx(worksheet(rows, prolog=prolog))


def billion_laughs() -> bytes:
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return xlsx(worksheet(rows, prolog=BILLION_LAUGHS))


def bad_formula() -> bytes:
    """A numeric cell whose cached value is an error text, as a broken formula leaves it."""
    rows = (
        f'<row r="1">{text_cell("A1", HEADING)}</row>'
        '<row r="2"><c r="A2"><f>1/0</f><v>#DIV/0!</v></c></row>'
    )
    return xlsx(worksheet(rows))


def malformed_xml() -> bytes:
    return xlsx(worksheet(f'<row r="1">{text_cell("A1", HEADING)}</row><row r="2"><c r="A2">'))


@functools.cache
def zip_bomb() -> bytes:
    """A part that unpacks to 300 MB from a few hundred kilobytes (written in chunks)."""
    out = io.BytesIO(xlsx(worksheet(f'<row r="1">{text_cell("A1", HEADING)}</row>')))
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/padding.xml", "w", force_zip64=True) as part,
    ):
        for _ in range(300):
            part.write(b" " * (1024 * 1024))
    return out.getvalue()


def too_wide() -> bytes:
    cells = "".join(
        text_cell(f"{column}1", f"Sütun {n}")
        for n, column in enumerate(column_names(MAX_COLUMNS + 1))
    )
    return xlsx(worksheet(f'<row r="1">{cells}</row>', dimension="A1:ZZ1"))


def column_names(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(n) for n in range(1, count + 1)]


HOSTILE = {
    "huge_dimension": (huge_dimension, "more than 20000 rows"),
    "xxe": (xxe, "XML declarations"),
    "billion_laughs": (billion_laughs, "XML declarations"),
    "bad_formula": (bad_formula, "Row 2 of the workbook cannot be read"),
    "malformed_xml": (malformed_xml, "not a readable XLSX workbook"),
    "zip_bomb": (zip_bomb, "unpacks to more than"),
    "too_wide": (too_wide, f"more than {MAX_COLUMNS} columns"),
}


def organisation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_workbook_is_refused_with_a_clear_message(app, english, name):
    build, message = HOSTILE[name]
    with pytest.raises(InvalidInput) as refused:
        read_rows(build(), f"{name}.xlsx")
    assert message in " ".join(str(text) for text in refused.value.problems["data"])


def test_a_declared_a1_xfd1048576_is_not_padded(app, english):
    """Before the fix: 2.6 GB and 6 s (tracemalloc peak), then the row limit refused it."""
    data = huge_dimension()
    assert len(data) < 2000
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput):
            read_rows(data, "huge.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_rows_are_cut_to_their_last_value_and_a_declared_size_is_ignored(app, english):
    rows = (
        f'<row r="1">{text_cell("A1", HEADING)}{text_cell("C1", "Telefon")}</row>'
        f'<row r="3">{text_cell("B3", "Bir")}</row>'
    )
    read = read_rows(xlsx(worksheet(rows, dimension="A1:XFD30")), "survey.xlsx")
    assert read == [[HEADING, None, "Telefon"], [], [None, "Bir"]]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_import_form_refuses_a_hostile_workbook_and_writes_nothing(app, client, name):
    build, message = HOSTILE[name]
    login(client, make_user("admin"))
    url = "/admin/organisations/import"
    token = csrf_token_from(client, url + "?lang=en")
    response = client.post(
        url, data={"csrf_token": token, "file": (io.BytesIO(build()), "survey.xlsx")}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert organisation_count() == 0


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_cli_refuses_a_hostile_workbook_without_a_traceback(app, runner, tmp_path, name):
    build, message = HOSTILE[name]
    path = tmp_path / "survey.xlsx"
    path.write_bytes(build())
    result = runner.invoke(args=["import-organisations", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert message in result.output and "Traceback" not in result.output
    assert organisation_count() == 0


@pytest.mark.served
def test_the_served_app_refuses_hostile_workbooks_on_the_web_and_the_cli(served):
    admin = served.client()
    admin.login(FIRST_ADMIN_EMAIL, served.first_admin_password)
    admin.get("/?lang=en")
    before = organisation_count()
    for name, (build, message) in sorted(HOSTILE.items()):
        data = build()
        response = admin.post_form(
            "/admin/organisations/import",
            {},
            files={"file": ("survey.xlsx", data)},
        )
        assert response.status_code == 422, name
        assert message in response.text, name
        path = served.workdir / f"{name}.xlsx"
        path.write_bytes(data)
        result = served.run_cli("import-organisations", str(path))
        # the CLI speaks the default language (Azerbaijani): the file's name starts the line
        assert result.returncode == 1, name
        assert f"{path.name}: " in result.stderr and "Traceback" not in result.stderr, name
    assert organisation_count() == before
