"""The 2022 baseline (seed/registry_baseline_2022.yaml) against the mapping report itself:
every count and percentage of Cədvəl 1–13, read from the report's text by
tests/registry/mapping_tables.py, and the figures the baseline takes from the text around
the tables. Each check is first shown to catch a deliberately wrong copy."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from tests.registry.mapping_tables import baseline_problems, read_tables, source_text
from tracker.services.registry.stats import BASELINE_FILE

#: figures of Cədvəl 1–13: rows × columns, total rows included
FIGURES_IN_TABLES = 257
ROWS = {1: 9, 2: 8, 3: 14, 4: 13, 5: 16, 6: 7, 7: 14, 8: 7, 9: 7, 10: 7, 11: 8, 12: 11, 13: 3}


@pytest.fixture(scope="module")
def text() -> str:
    return source_text()


@pytest.fixture(scope="module")
def tables(text):
    return read_tables(text)


@pytest.fixture(scope="module")
def baseline() -> dict:
    return yaml.safe_load(BASELINE_FILE.read_text(encoding="utf-8"))


def test_every_table_is_read_whole(tables):
    assert sorted(tables) == list(range(1, 14))
    assert {number: len(table.rows) for number, table in tables.items()} == ROWS
    assert sum(table.figure_count() for table in tables.values()) == FIGURES_IN_TABLES


def test_the_footnote_marker_glued_to_a_total_is_split_off(tables):
    glued = [
        (number, key, figure.printed, figure.value, figure.footnote)
        for number, table in tables.items()
        for key, figures in table.rows.items()
        for figure in figures
        if figure.footnote
    ]
    assert glued == [(11, "total", "37924", 379, "24")]


def test_printed_totals_equal_the_sums_of_their_columns(tables):
    """The report's own arithmetic, which also shows that the tables were read right."""
    for number in (1, 2, 11, 13):
        rows = [figures for key, figures in tables[number].rows.items() if key != "total"]
        assert tables[number].rows["total"][0].value == sum(r[0].value for r in rows), number


def _set(path: str, value):
    def mutate(document):
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        target[last] = value

    return mutate


def _drop(path: str):
    def mutate(document):
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


MUTATIONS = {
    "Fond 9 → 8 (Cədvəl 1)": (
        _set("legal_status.foundation", 8),
        "Cədvəl 1 legal_status.foundation: the report prints 9",
    ),
    "youth beneficiaries 189 → 198 (Cədvəl 4)": (
        _set("beneficiaries.youth", 198),
        "Cədvəl 4 beneficiaries.youth: the report prints 189",
    ),
    "public union share 88.9 → 89.9 (Cədvəl 1)": (
        _set("legal_status_percent.public_union", 89.9),
        "Cədvəl 1 legal_status_percent.public_union",
    ),
    "the donors' answers total left with its footnote marker, 37924": (
        _set("donors_responses_total", 37924),
        "Cədvəl 11 donors_responses_total: the report prints 37924",
    ),
    "a region's share of organisations 8.8 → 8.9 (Cədvəl 5)": (
        _set("regions_percent_of_organisations.ganja_dashkasan", 8.9),
        "Cədvəl 5 regions_percent_of_organisations.ganja_dashkasan",
    ),
    "female staff median 3.00 → 3.50 (Cədvəl 7)": (
        _set("staff.staff_female.median", 3.5),
        "Cədvəl 7 staff.staff_female.median",
    ),
    "a training need dropped (Cədvəl 12)": (
        _drop("training_needs.team_building"),
        "Cədvəl 12 training_needs.team_building: the report prints 63, the baseline has None",
    ),
    "a row the table lacks, set to 0 (Cədvəl 1)": (
        _set("legal_status.union_of_legal_entities", 0),
        "Cədvəl 1: legal_status has keys the table lacks",
    ),
    "membership 'no' 103 → 130 (Cədvəl 13)": (
        _set("membership.no", 130),
        "Cədvəl 13 membership.no",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_baseline_mutation_is_caught(tables, baseline, name):
    mutate, expected = MUTATIONS[name]
    wrong = copy.deepcopy(baseline)
    mutate(wrong)
    problems, _ = baseline_problems(tables, wrong)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_the_baseline_equals_every_figure_of_the_tables(tables, baseline):
    problems, compared = baseline_problems(tables, baseline)
    assert problems == []
    assert compared == FIGURES_IN_TABLES


# --- the figures the baseline takes from the text around the tables -----------------------

#: baseline path → the report's words that give it (the figure as printed, decimal comma
#: and glued footnote marker included)
TEXT_FIGURES = {
    "web_presence.website_or_social_media": ("137", "243 təşkilatdan 137-nin ya veb-saytı"),
    "web_presence.website_or_social_media_percent": ("56,3", "Təşkilatların 56,3 %-i ya"),
    "web_presence.of_total": ("243", "243 təşkilatdan 137-nin"),
    "services_single_area_organisations": ("33", "33 təşkilat yalnız bir sahədə"),
    "mission_stated.count": ("241", "241 (99%) təşkilat öz məqsəd"),
    "mission_stated.percent": ("99", "241 (99%) təşkilat öz məqsəd"),
    "beneficiary_groups_per_organisation.one": ("30", "30 təşkilat yalnız bir qrup"),
    "beneficiary_groups_per_organisation.two": ("23", "23 təşkilat 2 qrup"),
    "beneficiary_groups_per_organisation.three": ("26", "26 təşkilat 3 qrup"),
    "staff_gender_ratio_male_per_100_female": ("113", "gender nisbəti 11322olmaqla"),
    "staff_type_percent.staff_management": ("21", "İdarə heyətinin 21%-i"),
    "staff_type_percent.staff_experts": ("41", "41%-i ekspertlər/mütəxəssislər"),
    "staff_type_percent.staff_support": ("48", "48%-i könüllülər də daxil"),
    "donors_state_full_or_cofunded": ("171", "171 təşkilat ya tamamilə dövlət"),
}


def _get(document: dict, path: str):
    for part in path.split("."):
        document = document[part]
    return document


def text_figure_problems(baseline: dict, text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    problems = []
    for path, (printed, words) in TEXT_FIGURES.items():
        if words not in flat or printed not in words:
            problems.append(f"{path}: the report does not say {words!r}")
        elif _get(baseline, path) != float(printed.replace(",", ".")):
            problems.append(
                f"{path}: the report says {printed}, the baseline {_get(baseline, path)}"
            )
    named = {n["as_written"]: n["respondents"] for n in baseline["membership_named_networks"]}
    for as_written, respondents in named.items():
        if f"{as_written} ({respondents})" not in flat:
            problems.append(
                f"membership_named_networks: the report does not say {as_written} ({respondents})"
            )
    return problems


def test_a_wrong_text_figure_is_caught(baseline, text):
    wrong = copy.deepcopy(baseline)
    wrong["web_presence"]["website_or_social_media"] = 173
    wrong["membership_named_networks"][2]["respondents"] = 12
    assert text_figure_problems(wrong, text) == [
        "web_presence.website_or_social_media: the report says 137, the baseline 173",
        "membership_named_networks: the report does not say NAYORA (12)",
    ]


def test_the_figures_from_the_text_are_the_report_s(baseline, text):
    assert text_figure_problems(baseline, text) == []
