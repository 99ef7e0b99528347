"""The seeded plan against its source, field by field with punctuation, agency roles in
order, and alias merges (tests/plans/plan_source.py). Each check is first shown to catch a
deliberately wrong copy of the data, then run on the real seed file and on what the
seeder loads into the database."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tests.plans.plan_source import (
    agency_problems,
    all_measures,
    plan_problems,
    source_text,
)
from tracker.extensions import db
from tracker.models import Agency, Measure, Section
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE, seed_plan_file
from tracker.vocabulary import AgencyRole


@pytest.fixture(scope="module")
def plan() -> dict:
    return yaml.safe_load(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def text() -> str:
    return source_text()


def _measure(document: dict, code: str) -> dict:
    return next(m for m in all_measures(document) if m["code"] == code)


def _agency(document: dict, key: str) -> dict:
    return next(a for a in document["agencies"] if a["key"] == key)


def _swap_roles(document):
    measure = _measure(document, "1.4")
    measure["executors"], measure["recommended"] = measure["recommended"], measure["executors"]


def _move_to_recommended(document):
    # "Milli Depozit Mərkəzi" is recommended in 3.6; make it an executor instead.
    measure = _measure(document, "3.6")
    measure["recommended"].remove("Milli Depozit Mərkəzi")
    measure["executors"].append("Milli Depozit Mərkəzi")


def _reorder_executors(document):
    measure = _measure(document, "3.5")
    measure["executors"][0], measure["executors"][1] = (
        measure["executors"][1],
        measure["executors"][0],
    )


def _drop_quote_mark(document):
    measure = _measure(document, "1.7")
    measure["indicator"]["az"] = measure["indicator"]["az"].replace("“", "", 1)


def _add_comma(document):
    measure = _measure(document, "2.9")
    measure["title"]["az"] = measure["title"]["az"].replace(" tərəfindən", ", tərəfindən")


def _change_title_across_page_break(document):
    measure = _measure(document, "3.6")
    measure["title"]["az"] = measure["title"]["az"].replace("risklərinin,", "risklərinin")


def _change_period(document):
    measure = _measure(document, "4.10")
    measure.update(deadline="2020–2022", start_year=2020)


PLAN_MUTATIONS = {
    "executors and recommended swapped in 1.4": (_swap_roles, ["1.4 executors", "1.4 recommended"]),
    "Milli Depozit Mərkəzi moved to the executors in 3.6": (
        _move_to_recommended,
        ["3.6 executors", "3.6 recommended"],
    ),
    "two executors of 3.5 in the wrong order": (_reorder_executors, ["3.5 executors"]),
    "the opening quote mark dropped from 1.7's indicator": (_drop_quote_mark, ["1.7 indicator"]),
    "a comma added to 2.9's title": (_add_comma, ["2.9 title"]),
    "a comma dropped from 3.6's title, across a page break": (
        _change_title_across_page_break,
        ["3.6 title"],
    ),
    "4.10's period changed": (_change_period, ["4.10 deadline"]),
}


@pytest.mark.parametrize("name", PLAN_MUTATIONS)
def test_each_plan_mutation_is_caught(plan, text, name):
    mutate, expected = PLAN_MUTATIONS[name]
    wrong = copy.deepcopy(plan)
    mutate(wrong)
    problems = plan_problems(wrong, text)
    for start in expected:
        assert any(p.startswith(start + ":") for p in problems), (name, problems)
    assert len(problems) == len(expected), problems


def test_every_measure_equals_its_source_block_field_by_field(plan, text):
    assert plan_problems(plan, text) == []


def _move_alias(document):
    _agency(document, "ministry-of-economy")["aliases"].remove("Iqtisadiyyat Nazirliyi")
    _agency(document, "ministry-of-finance")["aliases"].append("Iqtisadiyyat Nazirliyi")


def _alias_made_an_agency(document):
    _agency(document, "relevant-state-bodies")["aliases"].remove("aidiyyəti dövlət orqanları")
    document["agencies"].append(
        {
            "key": "relevant-state-organs",
            "name": {"az": "aidiyyəti dövlət orqanları", "en": "Relevant state organs"},
            "aliases": [],
        }
    )


def _invented_alias(document):
    _agency(document, "central-bank")["aliases"].append("Azərbaycan Mərkəzi Bankı")


AGENCY_MUTATIONS = {
    "the alias 'Iqtisadiyyat Nazirliyi' moved to the Ministry of Finance": (
        _move_alias,
        "ministry-of-finance: the alias 'Iqtisadiyyat Nazirliyi' is not a spelling of",
    ),
    "a variant spelling split off as its own agency": (
        _alias_made_an_agency,
        "relevant-state-organs and relevant-state-bodies are spellings of one body",
    ),
    "an alias that no measure uses": (
        _invented_alias,
        "central-bank: the alias 'Azərbaycan Mərkəzi Bankı' is not one the source uses",
    ),
}


@pytest.mark.parametrize("name", AGENCY_MUTATIONS)
def test_each_agency_mutation_is_caught(plan, name):
    mutate, expected = AGENCY_MUTATIONS[name]
    wrong = copy.deepcopy(plan)
    mutate(wrong)
    assert any(p.startswith(expected) for p in agency_problems(wrong)), agency_problems(wrong)


def test_every_alias_is_a_source_spelling_of_its_own_agency(plan):
    assert agency_problems(plan) == []


def _document_from_database() -> dict:
    """The plan as the seeder stored it, in the seed file's shape: each measure's agencies
    by role and position as the measure writes them, each agency with its aliases."""
    sections = db.session.scalars(
        select(Section)
        .order_by(Section.number)
        .options(selectinload(Section.measures).selectinload(Measure.agency_links))
    ).all()
    agencies = db.session.scalars(select(Agency).options(selectinload(Agency.aliases))).all()
    document: dict = {"agencies": [], "sections": []}
    for agency in agencies:
        document["agencies"].append(
            {
                "key": agency.key,
                "name": {"az": agency.name_az, "en": agency.name_en},
                "aliases": [alias.name for alias in agency.aliases],
            }
        )
    by_id = {agency.id: agency for agency in agencies}
    for section in sections:
        measures = []
        for measure in section.measures:
            lists: dict[str, list[str]] = {AgencyRole.EXECUTOR: [], AgencyRole.RECOMMENDED: []}
            for link in sorted(measure.agency_links, key=lambda link: link.position):
                lists[link.role].append(link.name_as_written)
                spellings = [by_id[link.agency_id].name_az]
                spellings += [alias.name for alias in by_id[link.agency_id].aliases]
                assert link.name_as_written in spellings, (measure.code, link.name_as_written)
            measures.append(
                {
                    "code": measure.code,
                    "title": {"az": measure.title_az},
                    "indicator": {"az": measure.indicator_az},
                    "executors": lists[AgencyRole.EXECUTOR],
                    "recommended": lists[AgencyRole.RECOMMENDED],
                    "deadline": measure.deadline,
                    "start_year": measure.start_year,
                    "end_year": measure.end_year,
                }
            )
        document["sections"].append(
            {"number": section.number, "title": {"az": section.title_az}, "measures": measures}
        )
    return document


def test_the_loaded_plan_equals_the_source_roles_and_merges_included(app, text):
    seed_plan_file(db.session)
    loaded = _document_from_database()
    assert plan_problems(loaded, text) == []
    assert agency_problems(loaded) == []
