"""Read the action plan's source text column by column, and check a plan document
(seed/action_plan_2020_2022.yaml, as a dict) against it.

The source is a PDF table extracted to text. Within a measure's block (its code to the
next code or section heading) the lines come column by column: the title, then the
indicator, then the agency column ("İcraçı:"/"İcraçılar:" and "Tövsiyə edilir:"), then
the period. A page break (three empty lines) can cut a row; the rest of each cut cell
follows the break, again in column order. Which line ends the title and which starts the
indicator is not marked, so every reading that keeps the column order is tried, and the
seed must equal one of them exactly, punctuation included.

The checking functions return problems (strings) instead of asserting, so that the tests
can show that each one catches a deliberately wrong copy of the data.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from tracker.config import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "seed" / "sources" / "action_plan_2020_2022.txt"
MEASURE_START = re.compile(r"^(\d)\.(\d+)\.[ \t]*", re.MULTILINE)
SECTION_START = re.compile(r"^(\d)\.\s+(?=[^\d\s])", re.MULTILINE)
PAGE_BREAK = "\n\n\n\n"
LABEL = re.compile(r"^(İcraçılar|İcraçı|Tövsiyə edilir):")
PERIOD = r"20\d\d(?:–20\d\d)?"
PERIOD_LINE = re.compile(rf"^(?:(?P<before>.*\S)\s+)?(?P<period>{PERIOD})$")
#: the three executor lists that join their last two bodies with "və" instead of a comma
JOINED_WITH_VE = {"1.2", "3.3", "3.9"}
FIELDS = ("title", "indicator", "executors", "recommended", "deadline")


def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def blocks(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """{measure code: block} and {section number: heading block}."""
    marks = [
        (m.start(), m.end(), "measure", f"{m.group(1)}.{m.group(2)}")
        for m in MEASURE_START.finditer(text)
    ]
    marks += [(m.start(), m.end(), "section", m.group(1)) for m in SECTION_START.finditer(text)]
    marks.sort()
    measures: dict[str, str] = {}
    sections: dict[str, str] = {}
    for index, (_start, end, kind, key) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(text)
        (measures if kind == "measure" else sections)[key] = text[end:stop]
    return measures, sections


def join_lines(lines: list[str]) -> str:
    """One cell's text: lines joined by a space, or by nothing after a line-end hyphen
    ("qeyri-" + "hökumət"); runs of spaces made one."""
    text = ""
    for line in lines:
        if text and not text.endswith("-"):
            text += " "
        text += line
    return re.sub(r"\s+", " ", text).strip()


def _pages(block: str) -> list[list[str]]:
    pages = []
    for page in block.split(PAGE_BREAK):
        lines = [line.strip() for line in page.split("\n") if line.strip()]
        if lines:
            pages.append(lines)
    return pages


@dataclass(frozen=True)
class Reading:
    """One reading of a measure's block: each column's text as the source prints it."""

    title: str
    indicator: str
    #: the agency column, labels included
    agencies: str
    deadline: str

    def parts(self) -> dict[str, str | None]:
        """The "İcraçı(lar):" and "Tövsiyə edilir:" parts of the agency column (None when
        absent) and the executors' label."""
        found: dict[str, str | None] = {"executors": None, "recommended": None, "label": None}
        pieces = re.split(r"(İcraçılar:|İcraçı:|Tövsiyə edilir:)", self.agencies)
        if pieces[0].strip():
            found["before_label"] = pieces[0].strip()
        for label, body in zip(pieces[1::2], pieces[2::2], strict=True):
            key = "recommended" if label == "Tövsiyə edilir:" else "executors"
            if found[key] is not None:
                found["repeated"] = key
            found[key] = body.strip().rstrip(",").strip()
            if key == "executors":
                found["label"] = label[:-1]
        return found


def readings(block: str):
    """Every reading of the block that keeps the column order on each page."""
    pages = _pages(block)
    if not pages:
        return
    first = pages[0]
    label_at = next((i for i, line in enumerate(first) if LABEL.match(line)), None)
    if label_at is None or label_at == 0:
        return
    period_at = None
    for i in range(label_at, len(first)):
        match = PERIOD_LINE.match(first[i])
        if match:
            period_at, period_match = i, match
            break
    if period_at is None or period_at != len(first) - 1:
        return
    agency_first = first[label_at:period_at]
    if period_match.group("before"):
        agency_first = [*agency_first, period_match.group("before")]
    deadline = period_match.group("period")
    # Each continuation page: title lines, then indicator lines, then agency lines.
    splits_per_page = []
    for page in pages[1:]:
        last = next((i for i, line in enumerate(page) if LABEL.match(line)), len(page))
        splits_per_page.append(
            [(a, b) for a in range(last + 1) for b in range(a, last + 1)] if page else [(0, 0)]
        )
    for k in range(1, label_at + 1):
        for splits in itertools.product(*splits_per_page):
            title, indicator, agencies = first[:k], first[k:label_at], list(agency_first)
            for page, (a, b) in zip(pages[1:], splits, strict=True):
                title = title + page[:a]
                indicator = indicator + page[a:b]
                agencies = agencies + page[b:]
            yield Reading(join_lines(title), join_lines(indicator), join_lines(agencies), deadline)


def agency_list_text(code: str, names: list[str]) -> str:
    """A list of agencies as the source prints it."""
    if code in JOINED_WITH_VE and len(names) > 1:
        return ", ".join(names[:-1]) + " və " + names[-1]
    return ", ".join(names)


def _compare(code: str, measure: dict, reading: Reading) -> dict[str, tuple[str, str]]:
    """field → (what the source reads, what the seed has) for each field that differs."""
    parts = reading.parts()
    wrong: dict[str, tuple[str, str]] = {}
    for field in ("title", "indicator"):
        if measure[field]["az"] != getattr(reading, field):
            wrong[field] = (getattr(reading, field), measure[field]["az"])
    for field in ("executors", "recommended"):
        seeded = agency_list_text(code, measure[field]) if measure[field] else None
        if seeded != parts[field]:
            wrong[field] = (parts[field], seeded)
    if "before_label" in parts or "repeated" in parts:
        wrong["agencies"] = (reading.agencies, "one İcraçı part and one Tövsiyə edilir part")
    if parts["label"] == "İcraçı" and len(measure["executors"]) != 1:
        # "İcraçılar" can name one collective body ("mərkəzi və yerli icra ..."), but the
        # singular names exactly one.
        wrong["executors label"] = ("İcraçı", f"{len(measure['executors'])} executors")
    if measure["deadline"] != reading.deadline:
        wrong["deadline"] = (reading.deadline, measure["deadline"])
    return wrong


def measure_problems(code: str, measure: dict, block: str) -> list[str]:
    """Problems of one seeded measure against its source block ([] when it matches)."""
    best: dict[str, tuple[str, str]] | None = None
    for reading in readings(block):
        wrong = _compare(code, measure, reading)
        if not wrong:
            return []
        if best is None or len(wrong) < len(best):
            best = wrong
    if best is None:
        return [f"{code}: the source block cannot be read into columns"]
    return [
        f"{code} {field}: the source reads {source!r}, the seed has {seeded!r}"
        for field, (source, seeded) in best.items()
    ]


def all_measures(plan: dict) -> list[dict]:
    return [m for section in plan["sections"] for m in section["measures"]]


def plan_problems(plan: dict, text: str) -> list[str]:
    """Every measure and section title of the plan document against the source."""
    measure_blocks, section_blocks = blocks(text)
    problems = []
    seeded_codes = [m["code"] for m in all_measures(plan)]
    if seeded_codes != list(measure_blocks):
        problems.append(f"measure codes differ: seed {seeded_codes}, source {list(measure_blocks)}")
    for measure in all_measures(plan):
        block = measure_blocks.get(measure["code"])
        if block is None:
            problems.append(f"{measure['code']}: not in the source")
            continue
        problems += measure_problems(measure["code"], measure, block)
        first, _, last = measure["deadline"].partition("–")
        if (measure["start_year"], measure["end_year"]) != (int(first), int(last or first)):
            problems.append(f"{measure['code']} start_year/end_year differ from the period")
    for section in plan["sections"]:
        heading = join_lines(
            [line.strip() for line in section_blocks[str(section["number"])].split("\n")]
        )
        if not heading.startswith(section["title"]["az"]):
            problems.append(
                f"section {section['number']} title: the source reads {heading!r}, "
                f"the seed has {section['title']['az']!r}"
            )
    return problems


# --- agencies and their aliases ------------------------------------------------------------

#: Spelling variants that the source uses for one body (seed/README notes). An alias is
#: supported when it and its agency's canonical name are equal once these are applied.
VARIANTS = (
    # "Iqtisadiyyat Nazirliyi" (3.1): a dotless capital I where İ is meant
    (re.compile(r"\bI"), "İ"),
    # "icra hakimiyyət orqanları" (5.5, 5.6) beside "icra hakimiyyəti orqanları"
    (re.compile(r"\bhakimiyyət\b"), "hakimiyyəti"),
    # "dövlət adından yaradılan" (4.1) beside "yaradılmış"
    (re.compile(r"\byaradılan\b"), "yaradılmış"),
    # "aidiyyəti dövlət orqanları" (4.2) beside "aidiyyəti dövlət qurumları"
    (re.compile(r"\baidiyyəti dövlət orqanları\b"), "aidiyyəti dövlət qurumları"),
    # the citizens' services agency with and without "üzrə Dövlət"
    (
        re.compile(r"\bSosial İnnovasiyalar Agentliyi\b"),
        "Sosial İnnovasiyalar üzrə Dövlət Agentliyi",
    ),
)


def fold_agency(name: str) -> str:
    """An agency name with the source's spelling variants applied and case removed
    (Azerbaijani-aware: İ → i)."""
    for pattern, replacement in VARIANTS:
        name = pattern.sub(replacement, name)
    return name.replace("İ", "i").replace("I", "ı").lower()


def agency_problems(plan: dict) -> list[str]:
    """Each agency's name and aliases are spellings the measures use, each alias is a
    spelling variant of its own agency's name, and no two agencies are one body."""
    problems = []
    used = {name for m in all_measures(plan) for name in m["executors"] + m["recommended"]}
    owners: dict[str, str] = {}
    for agency in plan["agencies"]:
        canonical = agency["name"]["az"]
        if canonical not in used:
            problems.append(f"{agency['key']}: the name {canonical!r} is not one the source uses")
        for alias in agency["aliases"]:
            if alias not in used:
                problems.append(f"{agency['key']}: the alias {alias!r} is not one the source uses")
            if fold_agency(alias) != fold_agency(canonical):
                problems.append(
                    f"{agency['key']}: the alias {alias!r} is not a spelling of {canonical!r}"
                )
        folded = fold_agency(canonical)
        if folded in owners:
            problems.append(f"{agency['key']} and {owners[folded]} are spellings of one body")
        owners[folded] = agency["key"]
    known = {n for a in plan["agencies"] for n in [a["name"]["az"], *a["aliases"]]}
    for name in sorted(used - known):
        problems.append(f"the measures name {name!r}, which is no agency's name or alias")
    return problems
