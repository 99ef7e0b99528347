"""A few hundred rows in the online form's format: the statistics match a count done by
hand, key for key, and importing the file again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import QueryCounter
from tests.registry.conftest import csv_bytes, xlsx_bytes
from tests.registry.survey_export import count_by_hand, generate
from tracker.extensions import db
from tracker.models import Organisation, OrganisationChoice
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.stats import registry_stats
from tracker.vocabulary import label_key


def _import(data: bytes, filename: str):
    report = import_organisations(db.session, data, filename)
    assert report.ok, [str(p) for p in report.problems[:10]] + [
        str(p) for p in report.file_problems
    ]
    db.session.commit()
    return report


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_imported_survey_statistics_match_a_count_by_hand(app, english, file_format):
    export = generate(300, seed=11, as_xlsx=file_format == "xlsx")
    data = xlsx_bytes(export.table) if file_format == "xlsx" else csv_bytes(export.table)
    report = _import(data, f"survey.{file_format}")
    assert report.created == 300
    # The export really has the hard cases in it.
    assert report.free_text["services"] > 10
    cells = label_key(" ".join(str(c) for r in export.rows for c in r))
    assert "telimler dersdenkenar fealiyyetler" in cells
    assert "education services training courses extracurricular activities" in cells

    expected = count_by_hand(export.truth)
    stats = registry_stats(db.session).as_json()
    for table, counts in expected.items():
        assert stats[table] == counts, table


def test_importing_the_export_again_changes_nothing(app, english):
    export = generate(250, seed=5, as_xlsx=True)
    data = xlsx_bytes(export.table)
    _import(data, "survey.xlsx")
    stats_before = registry_stats(db.session).as_json()
    rows_before = (
        db.session.scalar(select(func.count()).select_from(Organisation)),
        db.session.scalar(select(func.count()).select_from(OrganisationChoice)),
        db.session.scalar(select(func.max(Organisation.updated_dt))),
    )
    with QueryCounter() as writes:
        report = _import(data, "survey.xlsx")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 250)
    assert not [s for s in writes.statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    assert registry_stats(db.session).as_json() == stats_before
    assert (
        db.session.scalar(select(func.count()).select_from(Organisation)),
        db.session.scalar(select(func.count()).select_from(OrganisationChoice)),
        db.session.scalar(select(func.max(Organisation.updated_dt))),
    ) == rows_before
