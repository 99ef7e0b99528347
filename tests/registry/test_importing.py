"""The survey import: all or nothing, every bad row named, re-import changes nothing."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.registry.conftest import csv_bytes, xlsx_bytes
from tracker.extensions import db
from tracker.models import AuditEntry, CoalitionMembership, Organisation, OrganisationChoice
from tracker.services.registry import import_writing
from tracker.services.registry.import_files import TEMPLATE_FIELDS, template_csv, template_xlsx
from tracker.services.registry.import_mapping import map_headings
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.labels import catalogue

Q = catalogue().questions
HEADINGS = [
    Q["name"].az,
    Q["name_en"].az,
    Q["founded"].az,
    Q["legal_status"].az,
    Q["services"].az,
    Q["staff_total"].az,
    Q["phone_fax"].az,
    Q["member_of_networks"].az,
    Q["network_names"].az,
]


def row(
    name,
    services="Hüquq xidmətləri",
    staff="5",
    founded="03.2005",
    status="İctimai birlik",
    member="Xeyr",
    networks="",
    name_en="",
):
    return [name, name_en, founded, status, services, staff, "+994 50 000 00 00", member, networks]


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Organisation)),
        db.session.scalar(select(func.count()).select_from(OrganisationChoice)),
    )


def run(data: bytes, filename="survey.csv", **options):
    report = import_organisations(db.session, data, filename, **options)
    if report.applied:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def test_rows_become_organisations_with_their_answers(app, english):
    services = (
        "Təhsil xidmətləri (təlimlər, dərsdənkənar fəaliyyətlər), Hüquq xidmətləri, Kitabxana"
    )
    report = run(csv_bytes([HEADINGS, row("Təmiz Su İctimai Birliyi", services=services)]))
    assert report.ok and report.created == 1
    organisation = db.session.scalar(select(Organisation))
    assert organisation.name_az == "Təmiz Su İctimai Birliyi"
    assert (organisation.founded_year, organisation.founded_month) == (2005, 3)
    assert organisation.legal_status == "public_union"
    assert organisation.staff_total == 5
    assert organisation.phone_fax == "+994 50 000 00 00"
    assert organisation.member_of_networks is False
    answers = {(c.field, c.key): c.detail for c in organisation.choices}
    assert answers == {
        ("services", "education"): "",
        ("services", "legal"): "",
        ("services", "other"): "Kitabxana",
    }
    assert organisation.source == "import: survey.csv row 2"
    assert report.free_text["services"] == 1


def test_reimporting_the_same_file_changes_nothing(app, english):
    data = csv_bytes([HEADINGS, row("Alpha"), row("Beta", services="Sosial innovasiya")])
    assert run(data).created == 2
    before = {o.id: o.updated_dt for o in db.session.scalars(select(Organisation))}
    before_counts = counts()
    again = run(data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert counts() == before_counts
    db.session.expire_all()
    assert {o.id: o.updated_dt for o in db.session.scalars(select(Organisation))} == before


def test_reimport_matches_by_name_whatever_the_case_and_updates(app, english):
    run(csv_bytes([HEADINGS, row("İsmayıllı Gənclər Birliyi", staff="5")]))
    report = run(
        csv_bytes(
            [HEADINGS, row("  ISMAYILLI gənclər birliyi ", staff="7", services="Sosial innovasiya")]
        )
    )
    assert (report.created, report.updated) == (0, 1)
    organisation = db.session.scalar(select(Organisation))
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    assert organisation.name_az == "İsmayıllı Gənclər Birliyi"
    assert organisation.staff_total == 7
    assert {c.key for c in organisation.choices} == {"social_innovation"}


def test_a_broken_file_is_refused_whole_and_every_bad_row_is_named(app, english):
    run(csv_bytes([HEADINGS, row("Existing")]))
    before = counts()
    data = csv_bytes(
        [
            HEADINGS,
            row("Good one"),
            row("Bad staff", staff="on iki"),
            row("", services="Hüquq xidmətləri"),
            row("Bad founding", founded="1990-2000", staff="-4"),
            row("Good two"),
            row("good ONE"),
            row("Two statuses", status="Fond, Beyin mərkəzi"),
        ]
    )
    report = run(data)
    assert not report.ok and not report.applied
    assert report.bad_rows == [3, 4, 5, 7, 8]
    messages = [str(p) for p in report.problems]
    assert any(m.startswith("row 3, İşçilərin ümumi sayı") and "on iki" in m for m in messages)
    assert any(m.startswith("row 4") and "name is missing" in m for m in messages)
    assert sum(m.startswith("row 5") for m in messages) == 2
    assert any(m.startswith("row 7") and "same organisation as row 2" in m for m in messages)
    assert any(m.startswith("row 8") and "one legal status" in m for m in messages)
    assert counts() == before


def test_a_failure_while_writing_leaves_nothing_written(app, english, monkeypatch):
    run(csv_bytes([HEADINGS, row("Existing", staff="1")]))
    before = counts()
    original = import_writing._new_organisation_values
    calls = {"n": 0}

    def failing(parsed, source):
        calls["n"] += 1
        if calls["n"] > 600:
            raise RuntimeError("disk full")
        return original(parsed, source)

    monkeypatch.setattr(import_writing, "_new_organisation_values", failing)
    rows = [HEADINGS, row("Existing", staff="2")] + [row(f"Org {i}") for i in range(1000)]
    with pytest.raises(RuntimeError):
        import_organisations(db.session, csv_bytes(rows), "big.csv")
    db.session.rollback()
    assert counts() == before
    assert db.session.scalar(select(Organisation.staff_total)) == 1


def test_dry_run_reports_changes_and_writes_nothing(app, english):
    run(csv_bytes([HEADINGS, row("Alpha", staff="1")]))
    before = counts()
    report = run(csv_bytes([HEADINGS, row("Alpha", staff="2"), row("Beta")]), dry_run=True)
    assert report.ok and not report.applied
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert counts() == before
    assert db.session.scalar(select(Organisation.staff_total)) == 1


def test_xlsx_with_excel_values_and_csv_with_semicolons_both_import(app, english):
    from datetime import datetime

    xlsx = xlsx_bytes(
        [
            HEADINGS,
            [
                *row("Excel Org")[:2],
                datetime(2010, 6, 1),
                "Fond",
                "legal",
                12,
                994501112233,
                "no",
                "",
            ],
        ]
    )
    report = run(xlsx, "export.xlsx")
    assert report.ok, [str(p) for p in report.problems]
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Excel Org")
    )
    assert (organisation.founded_year, organisation.founded_month) == (2010, 6)
    assert organisation.staff_total == 12
    assert organisation.phone_fax == "994501112233"
    assert run(csv_bytes([HEADINGS, row("Semicolon Org")], delimiter=";")).created == 1


def test_files_that_are_not_spreadsheets_are_refused(app, english):
    for data, name in (
        (b"", "empty.csv"),
        (b"PK\x03\x04broken", "x.xlsx"),
        ("Ad\n".encode("utf-16-le"), "x.csv"),
        (b"just,some,columns\n1,2,3", "x.csv"),
    ):
        report = run(data, name)
        assert report.file_problems, name
        assert counts() == (0, 0)


def test_network_names_link_members_to_the_coalitions_in_the_registry(app, english, registry):
    data = csv_bytes(
        [HEADINGS, row("Network Member", member="Bəli, NAYORA", networks="QHT Forumu")]
    )
    report = run(data)
    assert report.memberships_added == 2
    member = db.session.scalar(select(Organisation).where(Organisation.name_az == "Network Member"))
    coalitions = set(
        db.session.scalars(
            select(Organisation.name_az)
            .join(CoalitionMembership, CoalitionMembership.coalition_id == Organisation.id)
            .where(CoalitionMembership.member_id == member.id)
        )
    )
    assert coalitions == {
        "Milli QHT Forumu",
        "Azərbaycan Respublikası Gənclər Təşkilatları Milli Assambleyası",
    }
    assert member.member_of_networks is True
    assert member.network_names == "NAYORA; QHT Forumu"
    assert run(data).memberships_added == 0


def test_the_import_is_audited_once(app, english):
    run(csv_bytes([HEADINGS, row("Alpha"), row("Beta")]))
    entries = list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.imported"))
    )
    assert len(entries) == 1
    assert entries[0].details["created"] == 2


@pytest.mark.parametrize("locale", ["az", "en"])
def test_templates_have_a_column_for_every_question_and_import_back(app, english, locale):
    csv_template = template_csv(locale)
    assert csv_template.startswith("\ufeff".encode())
    headings = next(csv.reader([csv_template.decode("utf-8-sig").strip()]))
    columns, ignored, problems = map_headings(headings)
    assert not problems and not ignored
    assert set(columns) == set(TEMPLATE_FIELDS)

    workbook = load_workbook(io.BytesIO(template_xlsx(locale)), read_only=True)
    sheet_headings = next(workbook.worksheets[0].iter_rows(values_only=True))
    columns, ignored, problems = map_headings(list(sheet_headings))
    assert set(columns) == set(TEMPLATE_FIELDS) and not ignored and not problems
    answers = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert ("services" not in answers[0]) and any(r[1] == "education" for r in answers)
    workbook.close()


def test_values_that_cannot_be_true_are_refused_as_the_admin_form_refuses_them(app, english):
    """A survey answered in the future, more men and women than staff, a founding month
    without its year: each row is named, and nothing of the file is written."""
    headings = ["name", "completed_on", "founded_year", "founded_month"]
    headings += ["staff_total", "staff_male", "staff_female"]
    before = counts()
    report = run(
        csv_bytes(
            [
                headings,
                ["Good", "2022-03-14", "2005", "3", "20", "10", "10"],
                ["Future survey", "9999-01-01", "", "", "", "", ""],
                ["Month alone", "", "", "5", "", "", ""],
                ["Too many", "", "", "", "5", "10", "10"],
                ["Before founding", "2004-12-31", "2005", "", "", "", ""],
            ]
        )
    )
    assert not report.applied
    assert [str(problem) for problem in report.problems] == [
        "row 3, completed_on: The survey date cannot be in the future.",
        "row 4, founded_month: Enter the founding year first.",
        "row 5, staff_total: The total staff (5) is fewer than the men and women counted (20).",
        "row 6, completed_on: The survey date is before the organisation was founded (2005).",
    ]
    assert counts() == before


def test_a_row_is_checked_with_the_fields_it_leaves_out_as_stored(app, english):
    """A file may update only some columns: its values are checked over the record's."""
    assert run(csv_bytes([["name", "staff_total", "founded_year"], ["Kept", "5", "2001"]])).ok
    refused = run(csv_bytes([["name", "staff_male", "staff_female"], ["Kept", "4", "4"]]))
    assert [str(problem) for problem in refused.problems] == [
        "row 2, staff_male: The total staff (5) is fewer than the men and women counted (8).",
    ]
    accepted = run(csv_bytes([["name", "founded_month", "staff_male"], ["kept", "7", "3"]]))
    assert accepted.ok and accepted.updated == 1
    organisation = db.session.scalar(select(Organisation).where(Organisation.name_az == "Kept"))
    assert (organisation.founded_year, organisation.founded_month) == (2001, 7)
    assert (organisation.staff_total, organisation.staff_male) == (5, 3)


def test_free_text_on_a_list_without_other_is_refused_not_hidden(app, english):
    """The regions have no "Other" answer: "Bakı" (the list says "Bakı şəhəri") was kept
    under a key the list lacks, shown as a raw "other" pill and hidden on its own page."""
    before = counts()
    report = run(csv_bytes([["name", "regions"], ["Regional", "Bakı şəhəri, Bakı"]]))
    assert [str(problem) for problem in report.problems] == [
        'row 2, regions: "Bakı" is not one of this question\'s answers, and the question has '
        'no "Other" answer to keep it under.'
    ]
    assert counts() == before
    accepted = run(csv_bytes([["name", "regions"], ["Regional", "Bakı şəhəri"]]))
    assert accepted.ok and accepted.created == 1
    organisation = db.session.scalar(select(Organisation).where(Organisation.name_az == "Regional"))
    assert {(c.field, c.key) for c in organisation.choices} == {("regions", "baku")}


def test_blank_cells_keep_what_the_registry_knows_of_an_organisation(app, english):
    """A template row filled only in part updates what it fills: its blank cells neither
    wipe an English name, a founding date or answers, nor count as a change."""
    run(csv_bytes([HEADINGS, row("Bütöv Birlik", name_en="Whole Union")]))
    before = db.session.scalar(select(Organisation).where(Organisation.name_az == "Bütöv Birlik"))
    kept = (before.name_en, before.founded_year, before.founded_month, before.legal_status)
    kept_answers = {(c.field, c.key) for c in before.choices}
    partly_filled = ["bütöv birlik", "", "", "", "", "9", "", "", ""]
    report = run(csv_bytes([HEADINGS, partly_filled]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    db.session.expire_all()
    after = db.session.get(Organisation, before.id)
    assert after.staff_total == 9
    assert (after.name_en, after.founded_year, after.founded_month, after.legal_status) == kept
    assert kept == ("Whole Union", 2005, 3, "public_union")
    assert {(c.field, c.key) for c in after.choices} == kept_answers == {("services", "legal")}
    assert (after.phone_fax, after.member_of_networks) == ("+994 50 000 00 00", False)
    # the same blank row again changes nothing; a new organisation's blanks stay blank
    assert run(csv_bytes([HEADINGS, partly_filled])).unchanged == 1
    new = run(csv_bytes([HEADINGS, ["Yeni Birlik", "", "", "", "", "2", "", "", ""]]))
    assert new.created == 1
    created = db.session.scalar(select(Organisation).where(Organisation.name_az == "Yeni Birlik"))
    assert (created.name_en, created.founded_year, created.choices) == ("", None, [])


def test_an_english_name_in_the_name_column_is_refused_not_added_again(app, english, registry):
    """The name column takes the Azerbaijani name; an organisation's English name there
    would have added it a second time (English names do not match: two organisations may
    translate their names alike)."""
    before = counts()
    report = run(csv_bytes([["name", "staff_total"], ["WOMEN'S crisis group", "3"]]))
    assert not report.applied and counts() == before
    assert [str(problem) for problem in report.problems] == [
        'row 2, name: "WOMEN\'S crisis group" is the English name of “Qadın Böhran Qrupu” in '
        "the registry; the name column takes the Azerbaijani name."
    ]
