"""Cədvəl 1–13 of the mapping report (seed/sources/cso_mapping_2022.txt), read straight
from the text, independently of the application's code, and compared with the baseline
file (seed/registry_baseline_2022.yaml).

The tables are PDF tables extracted to text: a row's label can wrap over several lines,
page headers, page numbers and footnotes fall between rows, and a footnote marker is
printed glued to the number before it ("37924" is 379 and footnote 24). A marker is split
off only when the report defines that footnote between the table and the next one and the
number is longer than the marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.config import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "seed" / "sources" / "cso_mapping_2022.txt"

#: the survey's answer lists in their numbered order (shared/design/vocabulary.md)
NUMBERED_KEYS = {
    3: [
        "financial_aid",
        "legal",
        "education",
        "health",
        "social_psychosocial",
        "inclusion_participation",
        "youth",
        "vocational_entrepreneurship",
        "awareness_behaviour_change",
        "social_innovation",
        "gender_women",
        "environment_climate",
        "technical_advice",
        "other",
    ],
    4: [
        "children",
        "families",
        "youth",
        "women",
        "disabilities",
        "mental_health",
        "offenders_at_risk",
        "substance_users",
        "violence_trafficking_victims",
        "refugees_idps",
        "minorities",
        "unemployed",
        "other",
    ],
    5: [
        "whole_country",
        "baku",
        "absheron_khizi",
        "mountainous_shirvan",
        "ganja_dashkasan",
        "karabakh",
        "gazakh_tovuz",
        "guba_khachmaz",
        "lankaran_astara",
        "central_aran",
        "mil_mughan",
        "shaki_zagatala",
        "east_zangezur",
        "shirvan_salyan",
        "nakhchivan",
        "specific_communities",
    ],
    11: [
        "state_full",
        "state_cofunded",
        "religious",
        "other_national",
        "international",
        "individual",
        "other",
    ],
    12: [
        "human_child_rights",
        "rights_based_programming",
        "organisational_development",
        "project_management",
        "public_relations",
        "advocacy_lobbying",
        "community_engagement",
        "team_building",
        "financial_management",
        "knowledge_management",
        "other",
    ],
}
#: the labelled tables: the start of each row's label as printed → vocabulary key
LABELLED_KEYS = {
    1: {
        "İctimai Birlik": "public_union",
        "Fond": "foundation",
        "Beynəlxalq QHT": "international_ngo",
        "Bağlanmış təşkilat": "closed",
        "Qeydiyyatdan keçməmiş təşəbbüs": "unregistered_initiative",
        "QHT/VCT-lər": "ngo_cso",
        "Tədqiqat mərkəzi (mənfəət)": "research_centre_for_profit",
        "Beyin mərkəzi": "think_tank",
        "Cəmi": "total",
    },
    2: {
        "1994-öncəki illər": "before_1995",
        "1995- 1999": "1995_1999",
        "2000-2004": "2000_2004",
        "2005-2009": "2005_2009",
        "2010-2014": "2010_2014",
        "2015- 2019": "2015_2019",
        "2020 – indiyədək": "2020_plus",
        "Cəmi": "total",
    },
    13: {"Bəli": "yes", "Xeyir": "no", "Cəmi": "total"},
}
#: Cədvəl 6–10 (staff): row label → figure; Cədvəl 7 has a male and a female column
STAFF_ROWS = {
    "N Valid": "valid",
    "Əskik": "missing",
    "Ortalama": "mean",
    "Orta qiymət": "median",
    "Minimum": "min",
    "Maksimum": "max",
    "Maximum": "max",
    "Toplam": "sum",
}
STAFF_TABLES = {
    6: ["staff_total"],
    7: ["staff_male", "staff_female"],
    8: ["staff_management"],
    9: ["staff_experts"],
    10: ["staff_support"],
}
NUMBER = r"\d+(?:\.\d+)?"


def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def table_regions(text: str) -> dict[int, str]:
    """Cədvəl n → its text, up to the next table (Cədvəl 13: up to section 6.12)."""
    marks = [
        (int(m.group(1)), m.start(), m.end()) for m in re.finditer(r"^Cədvəl (\d+):?", text, re.M)
    ]
    regions = {}
    for index, (number, _start, end) in enumerate(marks):
        if index + 1 < len(marks):
            stop = marks[index + 1][1]
        else:
            stop = text.index("12. Təşkilatın iş və fəaliyyətinin", end)
        regions[number] = text[end:stop]
    return regions


def footnotes_defined(region: str, rows: int = 0) -> set[str]:
    """Numbers of the footnotes whose text the region prints ("24 Çoxsaylı cavablar ...",
    "20 http://..."): a line opening with a number and then a capital or a link, where the
    number is not one of the table's own row numbers (1..rows)."""
    found = set()
    for m in re.finditer(r"^[ \t]*(\d{1,2})[ \t]*(?:https?://|[A-ZÇƏĞİÖŞÜ])", region, re.M):
        if int(m.group(1)) > rows:
            found.add(m.group(1))
    return found


@dataclass
class Figure:
    """One printed number: the value, and the footnote marker split off it, if any."""

    value: float | int
    printed: str
    footnote: str | None = None


def read_number(token: str, footnotes: set[str]) -> Figure:
    """A count or percentage as printed, without "%" and without a glued footnote marker."""
    printed = token
    token = token.rstrip("%")
    if "." in token:
        return Figure(float(token), printed)
    for marker in sorted(footnotes, key=len, reverse=True):
        if token.endswith(marker) and len(token) > len(marker):
            return Figure(int(token[: -len(marker)]), printed, marker)
    return Figure(int(token), printed)


@dataclass
class Table:
    number: int
    #: row key → its figures, left to right
    rows: dict[str, list[Figure]] = field(default_factory=dict)

    def figure_count(self) -> int:
        return sum(len(figures) for figures in self.rows.values())


def _numbered_table(number: int, region: str, columns: int) -> Table:
    """Rows "1 label ... count pct% pct%" numbered 1..n; a row runs to the next row's
    number at the start of a line, and its figures are the one run of `columns` numbers,
    the percentages with "%", that it contains."""
    keys = NUMBERED_KEYS[number]
    footnotes = footnotes_defined(region, rows=len(keys))
    starts = []
    position = 0
    for row_number in range(1, len(keys) + 1):
        match = re.compile(rf"^[ \t]*{row_number}[ \t]+(?=[^\d\s])", re.M).search(region, position)
        if match is None:
            raise ValueError(f"Cədvəl {number}: row {row_number} not found")
        starts.append(match.start())
        position = match.end()
    total = re.search(r"^\s*Cəmi\s", region[position:], re.M)
    end_of_rows = position + total.start() if total else len(region)
    table = Table(number)
    figures = r"\s+".join([r"(\d+)"] + [rf"({NUMBER}%)"] * (columns - 1))
    pattern = re.compile(rf"(?<![\d.%])(?:{figures})(?![\d.%])")
    for index, key in enumerate(keys):
        stop = starts[index + 1] if index + 1 < len(keys) else end_of_rows
        found = pattern.findall(region[starts[index] : stop])
        if len(found) != 1:
            raise ValueError(f"Cədvəl {number} row {index + 1}: {len(found)} runs of figures")
        table.rows[key] = [read_number(token, footnotes) for token in found[0]]
    if total:
        line = region[end_of_rows:].strip().split("\n")[0]
        tokens = re.findall(rf"{NUMBER}%?", line)
        table.rows["total"] = [read_number(token, footnotes) for token in tokens]
    return table


def _labelled_table(number: int, region: str) -> Table:
    """Rows "label count pct" whose label may wrap onto the next line."""
    footnotes = footnotes_defined(region)
    table = Table(number)
    pending = ""
    for line in region.split("\n"):
        line = line.strip()
        if not line or line in ("Tezlik %", "İllər _qruplar Tezlik %"):
            continue
        if re.match(r"^\d{1,2} https?://", line):  # a footnote between rows
            continue
        match = re.match(rf"^(?P<label>.*?)\s*(?P<count>\d+) (?P<pct>{NUMBER})$", line)
        if match is None:
            pending = f"{pending} {line}".strip()
            continue
        label = f"{pending} {match.group('label')}".strip()
        pending = ""
        key = next(
            (k for start, k in LABELLED_KEYS[number].items() if label.startswith(start)), None
        )
        if key is None:
            raise ValueError(f"Cədvəl {number}: unknown row {label!r}")
        table.rows[key] = [
            read_number(match.group("count"), footnotes),
            read_number(match.group("pct"), footnotes),
        ]
    return table


def _staff_table(number: int, region: str) -> Table:
    footnotes = footnotes_defined(region)
    table = Table(number)
    fields = STAFF_TABLES[number]
    labels = "|".join(re.escape(label) for label in STAFF_ROWS)
    for match in re.finditer(rf"^\s*({labels})((?:\s+{NUMBER})+)\s*$", region, re.M):
        values = match.group(2).split()
        if len(values) != len(fields):
            raise ValueError(f"Cədvəl {number} {match.group(1)}: {values}")
        for name, value in zip(fields, values, strict=True):
            table.rows[f"{name}.{STAFF_ROWS[match.group(1)]}"] = [read_number(value, footnotes)]
    return table


def read_tables(text: str) -> dict[int, Table]:
    regions = table_regions(text)
    tables = {}
    for number, region in regions.items():
        if number in LABELLED_KEYS:
            tables[number] = _labelled_table(number, region)
        elif number in STAFF_TABLES:
            tables[number] = _staff_table(number, region)
        else:
            tables[number] = _numbered_table(number, region, 2 if number == 12 else 3)
    return tables


# --- the comparison ------------------------------------------------------------------------

#: Cədvəl n → the baseline file's keys for its columns (count first), and for its total row
COLUMNS = {
    1: (
        ["legal_status", "legal_status_percent"],
        ["legal_status_total", "legal_status_total_percent"],
    ),
    2: (
        ["founding_year_groups", "founding_year_groups_percent"],
        ["founding_year_groups_total", "founding_year_groups_total_percent"],
    ),
    3: (["services", "services_percent_of_responses", "services_percent_of_organisations"], None),
    4: (
        [
            "beneficiaries",
            "beneficiaries_percent_of_responses",
            "beneficiaries_percent_of_organisations",
        ],
        None,
    ),
    5: (["regions", "regions_percent_of_responses", "regions_percent_of_organisations"], None),
    11: (
        ["donors", "donors_percent_of_responses", "donors_percent_of_organisations"],
        [
            "donors_responses_total",
            "donors_percent_of_responses_total",
            "donors_percent_of_organisations_total",
        ],
    ),
    12: (["training_needs", "training_needs_percent_of_organisations"], None),
    13: (["membership", "membership_percent"], ["membership_total", "membership_total_percent"]),
}


def baseline_problems(tables: dict[int, Table], baseline: dict) -> tuple[list[str], int]:
    """Every figure of the tables against the baseline: (problems, figures compared). The
    baseline's table entries must hold exactly the table's rows, no more, no fewer."""
    problems: list[str] = []
    compared = 0

    def compare(where: str, printed: Figure, stored) -> None:
        nonlocal compared
        compared += 1
        if stored is None or isinstance(stored, bool) or stored != printed.value:
            problems.append(
                f"{where}: the report prints {printed.printed}, the baseline has {stored!r}"
            )

    for number, (columns, total_keys) in COLUMNS.items():
        table = tables[number]
        rows = {key: figures for key, figures in table.rows.items() if key != "total"}
        for column, name in enumerate(columns):
            stored = baseline.get(name) or {}
            extra = set(stored) - set(rows)
            if extra:
                problems.append(
                    f"Cədvəl {number}: {name} has keys the table lacks: {sorted(extra)}"
                )
            for key, figures in rows.items():
                compare(f"Cədvəl {number} {name}.{key}", figures[column], stored.get(key))
        if total_keys:
            total = table.rows.get("total")
            if total is None:
                problems.append(f"Cədvəl {number}: no total row read")
                continue
            for figure, name in zip(total, total_keys, strict=True):
                compare(f"Cədvəl {number} {name}", figure, baseline.get(name))
    staff = baseline.get("staff") or {}
    for number in STAFF_TABLES:
        for key, (figure,) in tables[number].rows.items():
            name, figure_name = key.split(".")
            compare(
                f"Cədvəl {number} staff.{key}", figure, (staff.get(name) or {}).get(figure_name)
            )
    return problems, compared
