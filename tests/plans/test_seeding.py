from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import ActionPlan, Agency, Measure, MeasureAgency, Section
from tracker.services.errors import InvalidInput
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE, SeedError, seed_plan_file


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (ActionPlan, Section, Measure, Agency, MeasureAgency)
    )


def test_seed_loads_nine_sections_and_sixty_four_measures(app):
    result = seed_plan_file(db.session)
    assert result.created["measures"] == 64
    assert result.created["sections"] == 9
    plan = db.session.scalar(select(ActionPlan))
    assert [len(s.measures) for s in plan.sections] == [10, 12, 9, 12, 6, 4, 4, 3, 4]


def test_seeding_twice_changes_nothing(app):
    seed_plan_file(db.session)
    before = _counts()
    second = seed_plan_file(db.session)
    assert not second.changed
    third = seed_plan_file(db.session, update=True)
    assert not third.changed
    assert _counts() == before


def test_update_applies_edits_and_keeps_measures(app, tmp_path):
    seed_plan_file(db.session)
    measure_ids = set(db.session.scalars(select(Measure.id)))
    document = yaml.safe_load(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))
    document["sections"][0]["measures"][0]["title"]["en"] = "An edited translation"
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    without_update = seed_plan_file(db.session, edited)
    assert not without_update.changed
    result = seed_plan_file(db.session, edited, update=True)
    assert result.updated["measures"] == 1
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    assert measure.title_en == "An edited translation"
    assert set(db.session.scalars(select(Measure.id))) == measure_ids


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["sections"][3]["measures"][2].update(deadline="2020-2022"),
            "sections[3].measures[2].deadline: expected",
        ),
        (
            lambda d: d["sections"][0]["measures"][1].update(code="1.1"),
            "sections[0].measures[1].code: duplicate measure code 1.1",
        ),
        (
            lambda d: d["sections"][1]["measures"][0]["executors"].append("Nowhere Ministry"),
            "sections[1].measures[0].executors[1]: unknown agency 'Nowhere Ministry'",
        ),
        (
            lambda d: d["sections"][2]["measures"][0]["title"].pop("en"),
            "sections[2].measures[0].title.en: expected non-empty text",
        ),
    ],
)
def test_bad_file_names_the_path_and_writes_nothing(app, tmp_path, edit, expected):
    document = yaml.safe_load(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))
    edit(document)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedError) as raised:
        seed_plan_file(db.session, broken)
    assert any(p.startswith(expected) for p in raised.value.lines), raised.value.lines
    assert str(broken) in str(raised.value)
    assert _counts() == (0, 0, 0, 0, 0)


def test_invalid_yaml_is_reported_with_its_line(app, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("plan: {key: [unclosed\n", encoding="utf-8")
    with pytest.raises(SeedError) as raised:
        seed_plan_file(db.session, broken)
    assert "line" in raised.value.lines[0]


def test_seed_error_is_invalid_input_naming_its_file(app, tmp_path):
    missing = tmp_path / "none.yaml"
    with pytest.raises(SeedError) as raised:
        seed_plan_file(db.session, missing)
    error = raised.value
    assert isinstance(error, InvalidInput) and error.status == 400
    assert error.source == str(missing)
    assert error.problems == {"": ["file not found"]} and error.lines == ["file not found"]
    assert error.message == f"{missing}: file not found"


def test_seed_command_reports_and_exits_non_zero_on_bad_input(runner, tmp_path):
    ok = runner.invoke(args=["seed"])
    assert ok.exit_code == 0, ok.output
    assert "created" in ok.output and "64 measures" in ok.output
    again = runner.invoke(args=["seed"])
    assert "created nothing; updated nothing" in again.output
    missing = runner.invoke(args=["seed", str(Path(tmp_path) / "none.yaml")])
    assert missing.exit_code == 1
    assert "file not found" in missing.output
