"""Open data: CSV and XLSX exports, the Atom feed and the open data page."""

from __future__ import annotations

import codecs
import csv
import io
from xml.etree import ElementTree as ET

from openpyxl import load_workbook

from tests.reports.conftest import HOSTILE_NARRATIVE, SECRET_MARKERS
from tracker.extensions import db
from tracker.models import Evidence, StoredFile
from tracker.services.plans import scorecard
from tracker.services.reports import exports
from tracker.services.reports.exports import Table, guard_formula, to_csv, to_xlsx

ATOM = "{http://www.w3.org/2005/Atom}"
PLAN = "az-nap-2020-2022"


def _csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    # Excel reads a CSV as UTF-8 only when it starts with the byte order mark
    assert response.data.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[dict]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_measures_export_has_every_measure_with_the_scorecards_state(monitoring, client):
    rows = _csv_rows(client.get("/data/measures.csv"))
    assert len(rows) == 64
    assert list(rows[0]) == list(exports.MEASURE_COLUMNS)
    card = scorecard.build_scorecard(db.session, monitoring.plan)
    by_code = {m.code: card.states[m.id] for m in card.measures}
    for row in rows:
        state = by_code[row["code"]]
        assert row["completion"] == state.completion
        assert row["is_overdue"] == ("true" if state.is_overdue else "false")
        assert row["ended_incomplete"] == ("true" if state.ended_incomplete else "false")
        assert row["due_date"] == state.due_date.isoformat()
    # the scorecard's "not complete when the plan ended" figure can be counted from the file
    late = sum(row["ended_incomplete"] == "true" for row in rows)
    assert late == card.summary.ended_incomplete
    first = rows[0]
    assert first["code"] == "1.1" and first["plan"] == PLAN
    assert first["title_az"].startswith("Qabaqcıl beynəlxalq təcrübə")
    assert first["government_claim"] == "complete" and first["is_disputed"] == "true"
    assert first["assessing_organisations"] == (
        "Hüquqi Maarifləndirmə Cəmiyyəti; Şəffaflıq Assosiasiyası"
    )
    xlsx = _xlsx_rows(client.get(f"/data/measures.xlsx?plan={PLAN}"))
    assert [r["code"] for r in xlsx] == [r["code"] for r in rows]
    assert xlsx[0]["progress_percent"] == 30
    # days are date cells (a spreadsheet sorts and filters them), shown as in the CSV
    assert [r["due_date"].date().isoformat() for r in xlsx] == [r["due_date"] for r in rows]
    sheet = load_workbook(io.BytesIO(client.get("/data/measures.xlsx").data)).active
    column = next(c.column for c in sheet[1] if c.value == "due_date")
    assert sheet.cell(row=2, column=column).number_format == "yyyy-mm-dd"


def test_measures_export_of_an_ended_plan_counts_those_not_complete(app, monitoring, client):
    app.config["TRACKER_TODAY"] = "2023-02-01"
    rows = _csv_rows(client.get("/data/measures.csv"))
    card = scorecard.build_scorecard(db.session, monitoring.plan)
    assert card.summary.is_closed
    assert {r["is_overdue"] for r in rows} == {"false"}
    late = sum(row["ended_incomplete"] == "true" for row in rows)
    assert late == card.summary.ended_incomplete > 0
    # the plan's last day, now that it is over, is the same final state
    last_day = _csv_rows(client.get("/data/measures.csv?as_of=2022-12-31"))
    assert sum(row["ended_incomplete"] == "true" for row in last_day) == late


def test_measures_export_as_of_an_earlier_date(monitoring, client):
    rows = _csv_rows(client.get("/data/measures.csv?as_of=2021-01-01"))
    assert {r["completion"] for r in rows} == {"no_evidence"}
    assert client.get("/data/measures.csv?as_of=yesterday").status_code == 400
    assert client.get("/data/measures.csv?as_of=20210101").status_code == 400
    assert client.get("/data/measures.xlsx?as_of=2021-W01-1").status_code == 400
    assert client.get("/data/measures.csv?plan=nope").status_code == 404


def test_measures_export_refuses_a_date_before_the_plan_started_as_the_pdf_does(monitoring, client):
    message = "The plan starts on January 1, 2020: choose a date from then."
    pdf = client.get(f"/reports/plan/{PLAN}.pdf?as_of=2019-12-31&lang=en")
    assert pdf.status_code == 400 and message in pdf.get_data(as_text=True)
    for url in ("/data/measures.csv?", f"/data/measures.xlsx?plan={PLAN}&"):
        response = client.get(f"{url}as_of=2019-12-31&lang=en")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert len(_csv_rows(client.get("/data/measures.csv?as_of=2020-01-01"))) == 64
    assert len(_xlsx_rows(client.get(f"/data/measures.xlsx?plan={PLAN}&as_of=2020-01-01"))) == 64


def test_updates_export_has_approved_public_material_only(monitoring, client):
    response = client.get("/data/updates.csv")
    body = response.get_data(as_text=True)
    rows = _csv_rows(response)
    # the three approved updates and the approved one describing a later date
    assert len(rows) == 4
    hostile = next(r for r in rows if r["update_id"] == str(monitoring.hostile.id))
    assert hostile["organisation_az"] == "Şəffaflıq Assosiasiyası"
    assert hostile["narrative_en"] == HOSTILE_NARRATIVE
    assert hostile["delay_reasons"] == "no_funding; external_shock"
    assert "https://example.gov.az/xeber?id=1&lang=az" in hostile["evidence"]
    assert hostile["private_evidence_count"] == "1"
    for marker in SECRET_MARKERS:
        assert marker not in body
    assert not any("author" in column for column in rows[0])
    xlsx = _xlsx_rows(client.get("/data/updates.xlsx"))
    assert sorted(r["update_id"] for r in xlsx) == sorted(int(r["update_id"]) for r in rows)


def test_updates_export_gives_the_public_url_of_uploaded_public_evidence(app, monitoring, client):
    app.config["PUBLIC_BASE_URL"] = "https://tracker.example.org"
    files = {}
    for name, private in (("public", False), ("private", True)):
        files[name] = StoredFile(
            stored_name=f"export-{name}.pdf",
            original_filename=f"{name}.pdf",
            content_type="application/pdf",
            size_bytes=10,
            sha256="0" * 64,
        )
        db.session.add(files[name])
        db.session.flush()
        monitoring.hostile.evidence.append(
            Evidence(
                evidence_type="official_document",
                title=f"Uploaded {name} letter",
                file_id=files[name].id,
                is_private=private,
            )
        )
    db.session.commit()
    for response in (client.get("/data/updates.csv"), client.get("/data/updates.xlsx")):
        rows = _csv_rows(response) if response.mimetype == "text/csv" else _xlsx_rows(response)
        hostile = next(r for r in rows if int(r["update_id"]) == monitoring.hostile.id)
        public_file = f"https://tracker.example.org/files/{files['public'].public_id}"
        assert hostile["evidence_file_urls"] == public_file
        assert files["private"].public_id not in str(rows)
        others = [r for r in rows if int(r["update_id"]) != monitoring.hostile.id]
        assert all(not r["evidence_file_urls"] for r in others)


def test_xlsx_has_a_frozen_bold_header_and_sized_columns(monitoring, client):
    sheet = load_workbook(io.BytesIO(client.get("/data/updates.xlsx").data)).active
    assert sheet.freeze_panes == "A2"
    header = next(sheet.iter_rows(min_row=1, max_row=1))
    assert all(cell.font.bold for cell in header)
    assert not any(cell.font.bold for cell in next(sheet.iter_rows(min_row=2, max_row=2)))
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in header}
    # every column has a width of its own: the short id narrow, the narratives wide
    assert all(widths.values())
    assert widths["update_id"] < widths["narrative_en"] <= exports.XLSX_MAX_WIDTH
    assert widths["private_evidence_count"] >= len("private_evidence_count")


def test_organisations_export_leaves_out_personal_and_archived(monitoring, client):
    response = client.get("/data/organisations.csv")
    body = response.get_data(as_text=True)
    rows = _csv_rows(response)
    names = {r["name.az"] for r in rows}
    assert names == {"Şəffaflıq Assosiasiyası", "Hüquqi Maarifləndirmə Cəmiyyəti"}
    for personal in ("email", "phone_fax", "contact_person"):
        assert personal not in rows[0]
    for marker in SECRET_MARKERS:
        assert marker not in body
    watchdog = next(r for r in rows if r["name.az"] == "Şəffaflıq Assosiasiyası")
    assert watchdog["website"] == "https://seffafliq.example.org"
    # a formula in a text field is neutralised for spreadsheets
    assert watchdog["mission"].startswith("'=HYPERLINK(")
    xlsx = _xlsx_rows(client.get("/data/organisations.xlsx"))
    cell = next(r for r in xlsx if r["name.az"] == "Şəffaflıq Assosiasiyası")["mission"]
    assert cell == '=HYPERLINK("http://evil.example","click")'  # stored as text, not a formula
    sheet = load_workbook(io.BytesIO(client.get("/data/organisations.xlsx").data)).active
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_formula_guard_and_cell_cleaning():
    for dangerous in ("=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert guard_formula(dangerous) == "'" + dangerous
    for safe in ("1.1", "Şəffaflıq", "", "a=b"):
        assert guard_formula(safe) == safe
    table = Table("t", ("a", "b", "c"), [("=cmd|' /C calc'!A0", 5, "bad\x00char\x1f")])
    assert to_csv(table).splitlines()[1] == "'=cmd|' /C calc'!A0,5,badchar"
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert [c.value for c in sheet[2]] == ["=cmd|' /C calc'!A0", 5, "badchar"]
    assert sheet["A2"].data_type == "s"


def test_atom_feed_lists_approved_updates_by_organisation(app, monitoring, client):
    site = app.config["PUBLIC_BASE_URL"]  # every link is on the public site, whatever the Host
    response = client.get("/feeds/updates.atom?lang=en")
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    body = response.get_data(as_text=True)
    for marker in SECRET_MARKERS:
        assert marker not in body
    feed = ET.fromstring(response.data)  # noqa: S314 (our own output)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").startswith(f"{site}/feeds/")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 4 and all(i.startswith("urn:uuid:") for i in ids)
    hostile = next(e for e in entries if "Limited" in e.findtext(f"{ATOM}title"))
    assert hostile.findtext(f"{ATOM}title") == "1.1 · Transparency Association: Limited"
    assert hostile.findtext(f"{ATOM}author/{ATOM}name") == "Transparency Association"
    assert hostile.find(f"{ATOM}link").get("href") == f"{site}/plans/{PLAN}/measures/1.1"
    content = hostile.find(f"{ATOM}content")
    assert content.get("type") == "text" and HOSTILE_NARRATIVE in content.text
    assert hostile.findtext(f"{ATOM}updated") == "2021-05-10T09:00:00Z"
    # newest decision first
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    only_other_plan = client.get("/feeds/updates.atom?plan=nope")
    assert only_other_plan.status_code == 404
    forged = client.get(f"/feeds/updates.atom?plan={PLAN}", headers={"Host": "evil.example"})
    assert forged.status_code == 200 and b"evil.example" not in forged.data
    self_link = ET.fromstring(forged.data).find(f"{ATOM}link[@rel='self']")  # noqa: S314
    assert self_link.get("href") == f"{site}/feeds/updates.atom?plan={PLAN}"


def test_open_data_page_lists_files_feed_and_api(monitoring, client):
    page = client.get("/data/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for url in (
        "/data/measures.csv",
        "/data/measures.xlsx",
        "/data/updates.csv",
        "/data/updates.xlsx",
        "/data/organisations.csv",
        "/data/organisations.xlsx",
        "/feeds/updates.atom",
        "/api/v1/openapi.json",
        "/api/v1/measures",
        "/api/v1/updates",
        f"/api/v1/scorecard/{PLAN}",
    ):
        assert f'href="{url}"' in html, url
    assert 'rel="alternate" type="application/atom+xml"' in html
