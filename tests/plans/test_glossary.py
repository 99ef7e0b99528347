"""The plan's English follows the agreed glossary (seed/glossary_en.yaml): each agency has
one English name, used whole wherever a measure's English names it, and each recurring
Azerbaijani term has one rendering. Each check is first shown to catch a wrong copy."""

from __future__ import annotations

import copy

import pytest
import yaml

from tests.plans.plan_source import all_measures
from tracker.config import PROJECT_ROOT
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE

GLOSSARY_FILE = PROJECT_ROOT / "seed" / "glossary_en.yaml"


def fold_az(text: str) -> str:
    return text.replace("İ", "i").replace("I", "ı").lower()


def _texts(plan: dict):
    """(where, Azerbaijani, English) of every bilingual text of the plan."""
    yield "plan title", plan["plan"]["title"]["az"], plan["plan"]["title"]["en"]
    for agency in plan["agencies"]:
        yield f"agency {agency['key']}", agency["name"]["az"], agency["name"]["en"]
    for section in plan["sections"]:
        yield f"section {section['number']}", section["title"]["az"], section["title"]["en"]
    for measure in all_measures(plan):
        for field in ("title", "indicator"):
            yield f"{measure['code']} {field}", measure[field]["az"], measure[field]["en"]


def glossary_problems(plan: dict, glossary: dict) -> list[str]:
    problems = []
    agencies = {agency["key"]: agency for agency in plan["agencies"]}
    if set(agencies) != set(glossary["agencies"]):
        problems.append(
            "agencies in the plan but not the glossary: "
            f"{sorted(set(agencies) - set(glossary['agencies']))}; in the glossary only: "
            f"{sorted(set(glossary['agencies']) - set(agencies))}"
        )
    for key, agreed in glossary["agencies"].items():
        if key in agencies and agencies[key]["name"]["en"] != agreed["en"]:
            problems.append(
                f"agency {key}: English name {agencies[key]['name']['en']!r}, "
                f"the glossary agrees {agreed['en']!r}"
            )
    measure_texts = [
        (where, az, en)
        for where, az, en in _texts(plan)
        if where[0].isdigit()  # measure titles and indicators
    ]
    for where, az, en in measure_texts:
        for key, agreed in glossary["agencies"].items():
            name = agreed["en"].lower()
            named = any(stem in fold_az(az) for stem in agreed.get("named_in_text_as", []))
            if named and name not in en.lower():
                problems.append(f"{where}: names {key} but not as {agreed['en']!r}")
            rest = en.lower().replace(name, "")
            for word in agreed.get("en_words", []):
                if word.lower() in rest:
                    problems.append(
                        f"{where}: {word!r} outside the agreed name {agreed['en']!r}: {en!r}"
                    )
    for where, az, en in _texts(plan):
        for term in glossary["terms"]:
            if not any(stem in fold_az(az) for stem in term["az"]):
                continue
            if term["en"].lower() not in en.lower():
                problems.append(
                    f"{where}: {term['az'][0]!r} is not rendered {term['en']!r}: {en!r}"
                )
            for avoided in term.get("not", []):
                if avoided.lower() in en.lower():
                    problems.append(f"{where}: {term['az'][0]!r} rendered {avoided!r}: {en!r}")
    return problems


@pytest.fixture(scope="module")
def plan() -> dict:
    return yaml.safe_load(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def glossary() -> dict:
    return yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8"))


def _measure(document: dict, code: str) -> dict:
    return next(m for m in all_measures(document) if m["code"] == code)


def _agency(document: dict, key: str) -> dict:
    return next(a for a in document["agencies"] if a["key"] == key)


def _replace(code: str, field: str, old: str, new: str):
    def mutate(document):
        text = _measure(document, code)[field]
        assert old in text["en"], (code, text["en"])
        text["en"] = text["en"].replace(old, new)

    return mutate


def _rename_agency(key: str, name: str):
    def mutate(document):
        _agency(document, key)["name"]["en"] = name

    return mutate


MUTATIONS = {
    "2.1 names the parliament 'Milli Majlis' alone": (
        _replace("2.1", "title", "National Assembly (Milli Majlis)", "Milli Majlis"),
        "2.1 title: names national-assembly but not as",
    ),
    "the Ombudsman's agency name back to 'Human Rights Commissioner (Ombudsman)'": (
        _rename_agency(
            "human-rights-commissioner-ombudsman", "Human Rights Commissioner (Ombudsman)"
        ),
        "agency human-rights-commissioner-ombudsman: English name",
    ),
    "1.8 calls the Ombudsman 'the Human Rights Commissioner'": (
        _replace(
            "1.8",
            "title",
            "Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan",
            "Human Rights Commissioner",
        ),
        "1.8 title: names human-rights-commissioner-ombudsman but not as",
    ),
    "the ASAN agency without 'under the President'": (
        _rename_agency(
            "state-agency-for-public-service-and-social-innovations",
            "State Agency for Public Service and Social Innovations (ASAN)",
        ),
        "agency state-agency-for-public-service-and-social-innovations: 'prezidenti yanında'",
    ),
    "3.7 'məlumatlandırma' as awareness-raising": (
        _replace(
            "3.7", "indicator", "Activities to inform about", "Awareness-raising activities on"
        ),
        "3.7 indicator: 'məlumatlandır' is not rendered 'inform'",
    ),
    "4.10 'verify and correct'": (
        _replace("4.10", "title", "to verify the data", "to verify and correct the data"),
        "4.10 title: 'dəqiqləşdir' rendered 'correct'",
    ),
    "6.4 'training and workshops'": (
        _replace("6.4", "indicator", "and training held", "and training and workshops held"),
        "6.4 indicator: 'təlim və treninq' rendered 'workshop'",
    ),
    "8.2 'trainings and workshops'": (
        _replace("8.2", "title", "Holding training", "Holding trainings and workshops"),
        "8.2 title: 'təlim və treninq' rendered 'workshop'",
    ),
    "2.11 'functions of the portal'": (
        _replace("2.11", "indicator", "the operation of the portal", "the functions of the portal"),
        "2.11 indicator: 'portalın fəaliyyət' is not rendered 'operation'",
    ),
    "2.9 'control activities'": (
        _replace("2.9", "title", "results of inspections", "results of control activities"),
        "2.9 title: 'nəzarət tədbirləri' is not rendered 'inspections'",
    ),
    "6.3 'internet information resources'": (
        _replace("6.3", "title", "online information", "internet information"),
        "6.3 title: 'internet informasiya ehtiyat' is not rendered",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_english_mutation_is_caught(plan, glossary, name):
    mutate, expected = MUTATIONS[name]
    wrong = copy.deepcopy(plan)
    mutate(wrong)
    problems = glossary_problems(wrong, glossary)
    assert any(p.startswith(expected) for p in problems), problems


def test_the_plan_english_follows_the_glossary(plan, glossary):
    assert glossary_problems(plan, glossary) == []
