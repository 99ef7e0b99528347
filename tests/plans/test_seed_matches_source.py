"""The seed file against the source document, measure by measure.

The source is a PDF table extracted to text, so columns interleave. For each measure we
take its block of source text (from its code to the next code or section heading) and
check that the words of the seeded fields, plus the column labels and the period, are
exactly the words of the block: nothing left out, nothing added. Each field's words must
also appear in the block in the same order.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from tracker.config import PROJECT_ROOT
from tracker.services.plans.seeding import DEFAULT_PLAN_FILE

SOURCE = PROJECT_ROOT / "seed" / "sources" / "action_plan_2020_2022.txt"
MEASURE_START = re.compile(r"^(\d)\.(\d+)\.\s*", re.MULTILINE)
SECTION_START = re.compile(r"^(\d)\.\s+(?=[^\d\s])", re.MULTILINE)
LABEL_WORDS = ["İcraçı", "İcraçılar", "Tövsiyə", "edilir"]
# Three executor lists name two bodies joined by "və"; the seed lists them separately.
SPLIT_CONJUNCTIONS = {"1.2": 1, "3.3": 1, "3.9": 1}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def source_text() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    # A line that ends in a hyphen continues the same word on the next line.
    return re.sub(r"-\s*\n\s*", "-", text)


@pytest.fixture(scope="module")
def plan():
    return yaml.safe_load(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def blocks():
    """{code: source block} and {section number: heading block}."""
    text = source_text()
    marks = [
        (m.start(), m.end(), "measure", f"{m.group(1)}.{m.group(2)}")
        for m in MEASURE_START.finditer(text)
    ]
    marks += [(m.start(), m.end(), "section", m.group(1)) for m in SECTION_START.finditer(text)]
    marks.sort()
    measures, sections = {}, {}
    for index, (_start, end, kind, key) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(text)
        (measures if kind == "measure" else sections)[key] = text[end:stop]
    return measures, sections


def all_measures(plan):
    return [m for s in plan["sections"] for m in s["measures"]]


def test_structure(plan):
    measures = all_measures(plan)
    codes = [m["code"] for m in measures]
    assert len(plan["sections"]) == 9
    assert len(codes) == 64 == len(set(codes))
    assert [len(s["measures"]) for s in plan["sections"]] == [10, 12, 9, 12, 6, 4, 4, 3, 4]
    names = {}
    for agency in plan["agencies"]:
        for name in [agency["name"]["az"], *agency["aliases"]]:
            assert name not in names, f"{name!r} belongs to two agencies"
            names[name] = agency["key"]
        assert agency["name"]["en"].strip()
    for m in measures:
        for lang in ("az", "en"):
            assert m["title"][lang].strip() and m["indicator"][lang].strip(), m["code"]
        assert m["executors"] or m["recommended"], m["code"]
        for name in m["executors"] + m["recommended"]:
            assert name in names, (m["code"], name)
        assert m["deadline"] in {"2020", "2020–2021", "2020–2022", "2021–2022"}, m["code"]


def test_six_measures_have_recommended_agencies_only(plan):
    only_recommended = [m["code"] for m in all_measures(plan) if not m["executors"]]
    assert len(only_recommended) == 6, only_recommended


def test_source_has_every_measure(blocks):
    measures, sections = blocks
    assert len(measures) == 64
    assert sorted(sections, key=int) == [str(n) for n in range(1, 10)]


@pytest.mark.parametrize(
    "code",
    [
        f"{s}.{n}"
        for s, count in enumerate([10, 12, 9, 12, 6, 4, 4, 3, 4], 1)
        for n in range(1, count + 1)
    ],
)
def test_measure_words_match_the_source(plan, blocks, code):
    measure = next(m for m in all_measures(plan) if m["code"] == code)
    block = blocks[0][code]
    seeded = (
        words(measure["title"]["az"])
        + words(measure["indicator"]["az"])
        + [w for name in measure["executors"] + measure["recommended"] for w in words(name)]
        + words(measure["deadline"])
    )
    source_words = Counter(words(block))
    label_words = Counter(w for w in source_words.elements() if w in LABEL_WORDS)
    expected = Counter(seeded) + label_words + Counter({"və": SPLIT_CONJUNCTIONS.get(code, 0)})
    missing = source_words - expected
    invented = expected - source_words
    assert not missing, f"{code}: words in the source but not in the seed: {dict(missing)}"
    assert not invented, f"{code}: words in the seed but not in the source: {dict(invented)}"
    for field in ("title", "indicator"):
        assert _in_order(words(measure[field]["az"]), words(block)), f"{code} {field} word order"


def _in_order(needle: list[str], haystack: list[str]) -> bool:
    position = 0
    for word in needle:
        try:
            position = haystack.index(word, position) + 1
        except ValueError:
            return False
    return True


def test_section_titles_match_the_source(plan, blocks):
    sections = blocks[1]
    for section in plan["sections"]:
        heading = words(sections[str(section["number"])])
        title = words(section["title"]["az"])
        assert heading[: len(title)] == title, section["number"]


def test_titles_are_exact_text_where_no_page_break_splits_them(plan):
    collapsed = re.sub(r"\s+", " ", source_text())
    split_by_page_break = {"3.6", "4.1"}
    for m in all_measures(plan):
        if m["code"] not in split_by_page_break:
            assert m["title"]["az"] in collapsed, m["code"]
