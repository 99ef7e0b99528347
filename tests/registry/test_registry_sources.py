"""The seeded registry (seed/registry.yaml) against the mapping report: every alias is one
the report uses (cited by line) or is marked as the curator's, and every corrected figure
cites the report's words. Each check is first shown to catch a wrong copy of the data."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from tracker.config import PROJECT_ROOT
from tracker.services.registry.seed import DEFAULT_REGISTRY_FILE, validate_registry_document

SOURCE = PROJECT_ROOT / "seed" / "sources" / "cso_mapping_2022.txt"
#: words that make a count a lower bound: "80-dən çox" (more than 80)
MORE_THAN = re.compile(r"\d+-?(?:dən|dan|ən|an) (?:çox|artıq)")


def flatten(text: str) -> str:
    """Lines joined as one text: a line-end hyphen joins the word, other breaks are spaces."""
    text = re.sub(r"-[ \t]*\n[ \t]*", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def cited_text(lines: list[str], cited: str) -> str | None:
    """The report's text at lines "N" or "N-M" (1-based), or None if they do not exist."""
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", str(cited))
    if not match:
        return None
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 1 <= first <= last <= len(lines):
        return None
    return flatten("\n".join(lines[first - 1 : last]))


def _citation_problem(lines, where: str, citation) -> str | None:
    if not isinstance(citation, dict) or "lines" not in citation or "quote" not in citation:
        return f"{where}: expected lines and quote"
    text = cited_text(lines, citation["lines"])
    if text is None:
        return f"{where}: no lines {citation['lines']!r} in the report"
    if flatten(citation["quote"]) not in text:
        return f"{where}: lines {citation['lines']} do not say {citation['quote']!r}"
    return None


def registry_source_problems(document: dict, lines: list[str]) -> list[str]:
    problems = []
    for entry in document["organisations"]:
        name = entry["name"]["az"]
        aliases = entry.get("aliases", [])
        sources = entry.get("alias_sources", {})
        curator = entry.get("curator_aliases", [])
        for alias in aliases:
            if (alias in sources) == (alias in curator):
                problems.append(
                    f"{name}: the alias {alias!r} needs either a source in the report or a "
                    "mark as the curator's (and not both)"
                )
        for alias in set(sources) - set(aliases):
            problems.append(f"{name}: alias_sources names {alias!r}, which is no alias")
        for alias, citation in sources.items():
            problem = _citation_problem(lines, f"{name}: alias {alias!r}", citation)
            if problem:
                problems.append(problem)
                continue
            # The alias must stand on its own in the quote, not only inside a longer
            # spelling of the same body ("Dövlət Dəstəyi Agentliyi" inside the full name).
            quote = flatten(citation["quote"])
            for longer in [name, *aliases]:
                if alias in longer and alias != longer:
                    quote = quote.replace(longer, " ")
            if alias not in quote:
                problems.append(
                    f"{name}: alias {alias!r}: the quote does not use it on its own: "
                    f"{citation['quote']!r}"
                )
        cites = entry.get("cite", {})
        for field, citation in cites.items():
            problem = _citation_problem(lines, f"{name}: {field}", citation)
            if problem:
                problems.append(problem)
                continue
            value = entry.get(field)
            if value is None:
                problems.append(f"{name}: cites {field}, which the entry does not set")
            elif str(value) not in citation["quote"]:
                problems.append(
                    f"{name}: {field} is {value}, the report says {citation['quote']!r}"
                )
        count = cites.get("declared_member_count")
        if count and MORE_THAN.search(count["quote"]):
            if not entry.get("declared_member_count_is_minimum"):
                problems.append(
                    f"{name}: the report gives more than {entry['declared_member_count']} "
                    "members, a lower bound, but declared_member_count_is_minimum is not set"
                )
        elif entry.get("declared_member_count_is_minimum"):
            problems.append(f"{name}: a lower bound without the report's words for it")
    for entry in document.get("withdrawn", []):
        problem = _citation_problem(lines, f"withdrawn {entry['name']!r}", entry.get("cite"))
        if problem:
            problems.append(problem)
    return problems


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return SOURCE.read_text(encoding="utf-8").split("\n")


def _entry(document: dict, name: str) -> dict:
    return next(e for e in document["organisations"] if e["name"]["az"] == name)


EITI = "Mədən Sənayesində Şəffaflığın Artırılması üzrə QHT Koalisiyası"
NAYORA = "Azərbaycan Respublikası Gənclər Təşkilatları Milli Assambleyası"
AGENCY = "Azərbaycan Respublikasının Qeyri-Hökumət Təşkilatlarına Dövlət Dəstəyi Agentliyi"
FORUM = "Milli QHT Forumu"


def _eiti_exact(document):
    del _entry(document, EITI)["declared_member_count_is_minimum"]


def _eiti_alias_back(document):
    _entry(document, EITI)["aliases"].append("EITI")


def _curator_alias_as_report(document):
    entry = _entry(document, NAYORA)
    entry["curator_aliases"].remove("Gənclər Təşkilatları Milli Şurası")


def _shortening_as_report(document):
    entry = _entry(document, AGENCY)
    entry["curator_aliases"].remove("Dövlət Dəstəyi Agentliyi")
    entry["alias_sources"]["Dövlət Dəstəyi Agentliyi"] = {
        "lines": "270-271",
        "quote": "“Azərbaycan Respublikasının Qeyri-Hökumət Təşkilatlarına Dövlət Dəstəyi "
        "Agentliyi” publik hüquqi şəxsin",
    }


def _wrong_line(document):
    _entry(document, FORUM)["alias_sources"]["MQF"]["lines"] = "343"


def _wrong_year(document):
    _entry(document, FORUM)["founded_year_alternative"] = 2001


def _alternative_year_dropped(document):
    del _entry(document, FORUM)["founded_year_alternative"]


MUTATIONS = {
    "EITI coalition's 'more than 80' stored as exactly 80": (
        _eiti_exact,
        f"{EITI}: the report gives more than 80 members",
    ),
    "'EITI' back as an alias, without a source": (
        _eiti_alias_back,
        f"{EITI}: the alias 'EITI' needs either a source",
    ),
    "NAYORA's curator alias passed off as the report's": (
        _curator_alias_as_report,
        f"{NAYORA}: the alias 'Gənclər Təşkilatları Milli Şurası' needs either a source",
    ),
    "a shortening the report never uses on its own, cited as the report's": (
        _shortening_as_report,
        f"{AGENCY}: alias 'Dövlət Dəstəyi Agentliyi': the quote does not use it on its own",
    ),
    "an alias cited at the wrong line": (
        _wrong_line,
        f"{FORUM}: alias 'MQF': lines 343 do not say",
    ),
    "the Forum's second founding year changed to 2001": (
        _wrong_year,
        f"{FORUM}: founded_year_alternative is 2001",
    ),
    "the Forum's second founding year dropped": (
        _alternative_year_dropped,
        f"{FORUM}: cites founded_year_alternative, which the entry does not set",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_registry_mutation_is_caught(document, lines, name):
    mutate, expected = MUTATIONS[name]
    wrong = copy.deepcopy(document)
    mutate(wrong)
    problems = registry_source_problems(wrong, lines)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_alias_and_correction_is_the_report_s_or_marked(document, lines):
    assert registry_source_problems(document, lines) == []


def test_the_corrections_hold(document):
    """Issue 14's findings, each stated once."""
    eiti = _entry(document, EITI)
    assert (eiti["declared_member_count"], eiti["declared_member_count_is_minimum"]) == (80, True)
    forum = _entry(document, FORUM)
    assert (forum["founded_year"], forum["founded_year_alternative"]) == (1999, 2000)
    aliases = {a for e in document["organisations"] for a in e.get("aliases", [])}
    curator = {a for e in document["organisations"] for a in e.get("curator_aliases", [])}
    assert "EITI" not in aliases and "Əlillər Birliyi" not in aliases
    assert "Gənclər Təşkilatları Milli Şurası" in curator
    names = {e["name"]["az"] for e in document["organisations"]}
    assert "Milli Dialoq Prosesi" not in names
    assert [w["name"] for w in document["withdrawn"]] == ["Milli Dialoq Prosesi"]


def test_the_seed_file_refuses_inconsistent_corrections(document):
    wrong = copy.deepcopy(document)
    _entry(wrong, NAYORA)["curator_aliases"].append("Gənclər Şurası")
    _entry(wrong, FORUM)["founded_year_alternative"] = "2000"
    _entry(wrong, "Avrasiya Fondu")["declared_member_count_is_minimum"] = True
    wrong["organisations"].append(
        {"name": {"az": "Milli Dialoq Prosesi", "en": "National Dialogue Process"}}
    )
    problems = validate_registry_document(wrong)
    assert any("curator_aliases: 'Gənclər Şurası' is not among the aliases" in p for p in problems)
    assert any("founded_year_alternative: expected a whole number" in p for p in problems)
    assert any(
        "declared_member_count_is_minimum: needs declared_member_count" in p for p in problems
    )
    assert any("'Milli Dialoq Prosesi' is also among the organisations" in p for p in problems)
    assert validate_registry_document(document) == []
