"""The registry's commands and seed: `tracker seed`, `import-organisations`,
`organisations-template` and `link-measures`."""

from __future__ import annotations

import yaml
from sqlalchemy import func, select

from tests.registry.conftest import csv_bytes, xlsx_bytes
from tests.registry.survey_export import generate
from tracker.extensions import db
from tracker.models import AuditEntry, Measure, MonitoringLink, Organisation
from tracker.services.plans.seeding import SeedError
from tracker.services.registry.labels import catalogue
from tracker.services.registry.seed import DEFAULT_REGISTRY_FILE, seed_registry


def organisation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def by_name(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name_az == name))


def test_seed_loads_the_interviewed_organisations_and_coalitions_once(app):
    result = seed_registry(db.session)
    assert result.created == 26
    assert (
        db.session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.is_interviewed)
        )
        == 17
    )
    assert by_name("Milli QHT Forumu").declared_member_count == 533
    platform = by_name("Şərq Tərəfdaşlığı Vətəndaş Cəmiyyəti Forumu Milli Platforması")
    assert (platform.kind, platform.declared_member_count, platform.founded_year) == (
        "coalition",
        71,
        2009,
    )
    assert platform.field_group_az == "Koalisiyalar, Assosiasiyalar"
    again = seed_registry(db.session)
    assert not again.changed and again.unchanged == 26
    assert not seed_registry(db.session, update=True).changed
    assert organisation_count() == 26


def test_seed_update_applies_edits_without_touching_other_fields(app, tmp_path):
    seed_registry(db.session)
    forum = by_name("Milli QHT Forumu")
    forum.mission = "Written by an admin"
    db.session.commit()
    document = yaml.safe_load(DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8"))
    entry = next(e for e in document["organisations"] if e["name"]["az"] == "Milli QHT Forumu")
    entry["declared_member_count"] = 540
    edited = tmp_path / "registry.yaml"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert not seed_registry(db.session, edited).changed
    assert seed_registry(db.session, edited, update=True).updated == 1
    db.session.expire_all()
    assert (forum.declared_member_count, forum.mission) == (540, "Written by an admin")


def test_a_broken_registry_file_is_refused_with_its_problems(app, tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "organisations": [
                    {"name": {"az": "A", "en": "A"}, "kind": "party", "legal_status": "nonsense"},
                    {"name": {"az": "a", "en": "B"}, "founded_month": 13},
                ]
            }
        ),
        encoding="utf-8",
    )
    try:
        seed_registry(db.session, path)
    except SeedError as error:
        problems = "\n".join(error.lines)
    else:
        raise AssertionError("a broken file was loaded")
    assert "organisations[0].kind" in problems
    assert "organisations[0].legal_status" in problems
    assert "organisations[1].founded_month" in problems
    assert "also belongs to organisations[0]" in problems
    assert organisation_count() == 0


def test_tracker_seed_loads_the_plan_and_the_registry(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Registry: created 26" in result.output
    again = runner.invoke(args=["seed"])
    assert "Registry: created 0, updated 0, unchanged 26" in again.output
    assert organisation_count() == 26


def test_import_command_imports_and_reports_every_bad_row(app, runner, tmp_path):
    export = generate(40, seed=3, as_xlsx=True)
    good = tmp_path / "survey.xlsx"
    good.write_bytes(xlsx_bytes(export.table))
    result = runner.invoke(args=["import-organisations", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would import 40 rows" in result.output and organisation_count() == 0
    result = runner.invoke(args=["import-organisations", str(good)])
    assert result.exit_code == 0, result.output
    assert "40 created" in result.output and organisation_count() == 40
    result = runner.invoke(args=["import-organisations", str(good)])
    assert "0 created, 0 updated, 40 unchanged" in result.output
    one = tmp_path / "one.csv"
    one.write_bytes(csv_bytes([["name"], ["Tək Sətir Birliyi"]]))
    result = runner.invoke(args=["import-organisations", str(one), "--dry-run"])
    assert f"Would import 1 row from {one.name}:" in result.output  # not "1 rows"
    assert "0 coalition memberships added" in result.output

    questions = catalogue().questions
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [
                [questions["name"].az, questions["staff_total"].az],
                ["Yeni", "3"],
                ["", "4"],
                ["Başqa", "çox"],
            ]
        )
    )
    result = runner.invoke(args=["import-organisations", str(bad)])
    assert result.exit_code == 1
    assert "row 3" in result.output and "row 4" in result.output
    # in the command line's language; the column is named as the file names it
    assert 'İşçilərin ümumi sayı: "çox" is not a number of people' in result.output
    assert "Nothing was imported: 2 of 3 rows" in result.output
    assert organisation_count() == 40
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "organisation.imported")
        )
        == 2
    )


def test_template_command(app, runner, tmp_path):
    for name in ("t.xlsx", "t.csv"):
        result = runner.invoke(
            args=["organisations-template", str(tmp_path / name), "--lang", "en"]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 100
    result = runner.invoke(args=["organisations-template", str(tmp_path / "t.txt")])
    assert result.exit_code != 0
    lost = runner.invoke(args=["organisations-template", str(tmp_path / "missing" / "t.csv")])
    assert lost.exit_code == 1 and "Cannot write" in lost.output
    assert "Traceback" not in lost.output and not (tmp_path / "missing").exists()


def test_link_measures_command(app, runner, seeded, registry):
    forum = by_name("Milli QHT Forumu")
    result = runner.invoke(args=["link-measures", str(forum.id), "1.1", "2.3", "--lead"])
    assert result.exit_code == 0, result.output
    assert "linked 1.1, 2.3" in result.output and "Lead monitor of: 1.1, 2.3" in result.output
    result = runner.invoke(args=["link-measures", "milli qht FORUMU", "1.1", "3.1"])
    assert "linked 3.1" in result.output and "Already linked: 1.1" in result.output
    assert db.session.scalar(select(func.count()).select_from(MonitoringLink)) == 3

    result = runner.invoke(args=["link-measures", "No such organisation", "1.1"])
    assert result.exit_code != 0 and "No organisation" in result.output
    result = runner.invoke(args=["link-measures", str(forum.id), "99.9"])
    # the command line's own words are English, and so are the services' messages it prints
    assert result.exit_code != 0 and "has no measure 99.9." in result.output
    result = runner.invoke(args=["link-measures", str(forum.id), "1.2", "--plan", "nope"])
    assert result.exit_code != 0
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    assert db.session.scalar(
        select(MonitoringLink.is_lead).where(MonitoringLink.measure_id == measure.id)
    )
    entries = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("link.%"))
    ).all()
    assert entries.count("link.created") == 3 and entries.count("link.lead_set") == 2


def test_the_first_run_of_serve_seeds_the_registry_once(app, monkeypatch):
    import flask_migrate

    from tracker.commands import serve
    from tracker.commands.serve import ensure_database

    # The test schema is made by create_all; the migration itself is not under test here.
    monkeypatch.setattr(flask_migrate, "upgrade", lambda: None)
    # Nor SQLite's statistics (tests/test_app.py): they would stay in the run's database
    # and change the query plans of the tests after this one.
    refreshed = []
    monkeypatch.setattr(serve, "refresh_planner_statistics", lambda s: refreshed.append(s))
    ensure_database()
    assert organisation_count() == 26
    assert len(refreshed) == 1
    forum = by_name("Milli QHT Forumu")
    forum.is_archived = True
    db.session.commit()
    ensure_database()
    assert organisation_count() == 26
