"""The live statistics: SQL aggregates in the issue's JSON shape, the page with the 2022
baseline and its pictures, in a constant number of queries."""

from __future__ import annotations

import re

import pytest

from tests.helpers import QueryCounter
from tests.registry.conftest import csv_bytes
from tracker.extensions import db
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue
from tracker.services.registry.organisations import (
    OrganisationData,
    archive_organisation,
    create_organisation,
)
from tracker.services.registry.stats import registry_stats


def org(name, **fields):
    choices = fields.pop("choices", None)
    return create_organisation(
        db.session, OrganisationData(name_az=name, choices=choices, **fields)
    )


def test_shape_uses_the_vocabulary_keys_and_every_key_is_present(app):
    stats = registry_stats(db.session).as_json()
    labels = catalogue()
    assert {
        "total",
        "legal_status",
        "founding_year_groups",
        "services",
        "beneficiaries",
        "regions",
        "staff",
        "donors",
        "training_needs",
        "membership",
    } <= set(stats)
    assert stats["total"] == 0
    assert list(stats["legal_status"]) == labels.keys("legal_status")
    assert list(stats["founding_year_groups"]) == [g.key for g in labels.founding_groups]
    for list_name in MULTI_FIELDS:
        assert list(stats[list_name]) == labels.keys(list_name)
    assert list(stats["staff"]) == list(STAFF_FIELDS)
    assert stats["staff"]["staff_total"] == {
        "valid": 0,
        "missing": 0,
        "mean": None,
        "median": None,
        "min": None,
        "max": None,
        "sum": 0,
    }
    assert stats["membership"] == {"yes": 0, "no": 0}


def test_counts_medians_and_archived_organisations(app):
    org(
        "A",
        legal_status="public_union",
        founded_year=1994,
        staff_total=1,
        website="a.az",
        member_of_networks=True,
        choices={"services": {"legal": "", "other": "x"}},
    )
    org(
        "B",
        legal_status="public_union",
        founded_year=1995,
        staff_total=4,
        social_media="facebook.com/b",
        member_of_networks=False,
        choices={"services": {"legal": ""}, "regions": {"baku": ""}},
    )
    org("C", legal_status="foundation", founded_year=2020, staff_total=10, staff_male=3)
    org("D", founded_year=2009)
    archived = org(
        "E", legal_status="foundation", staff_total=1000, choices={"services": {"health": ""}}
    )
    archive_organisation(db.session, archived)
    db.session.commit()

    stats = registry_stats(db.session)
    data = stats.as_json()
    assert data["total"] == 4
    assert data["legal_status"]["public_union"] == 2
    assert data["legal_status"]["foundation"] == 1
    assert data["founding_year_groups"] == {
        "before_1995": 1,
        "1995_1999": 1,
        "2000_2004": 0,
        "2005_2009": 1,
        "2010_2014": 0,
        "2015_2019": 0,
        "2020_plus": 1,
    }
    assert data["services"]["legal"] == 2 and data["services"]["other"] == 1
    assert data["services"]["health"] == 0
    assert data["staff"]["staff_total"] == {
        "valid": 3,
        "missing": 1,
        "mean": 5.0,
        "median": 4.0,
        "min": 1,
        "max": 10,
        "sum": 15,
    }
    # An even number of values: the median is the mean of the middle two.
    org("F", staff_total=6)
    db.session.commit()
    assert registry_stats(db.session).staff["staff_total"].median == 5.0
    assert data["staff"]["staff_male"]["valid"] == 1
    assert data["membership"] == {"yes": 1, "no": 1}
    # C and D gave no website and did not complete the survey: nothing is known, which
    # is not "neither"
    assert data["web_presence"] == {
        "website": 1,
        "social_media": 1,
        "website_or_social_media": 2,
        "neither": 0,
        "unknown": 2,
    }
    assert stats.answered["web_presence"] == 2
    assert stats.share("web_presence", "website_or_social_media") == 100.0
    assert stats.share("web_presence", "unknown") is None
    assert data["unknown"]["web_presence"] == 2
    assert data["unknown"]["legal_status"] == 1  # D
    assert data["unknown"]["services"] == 2  # C and D
    assert data["unknown"]["membership"] == 2
    # Shares are of the organisations that answered the question.
    assert stats.answered["services"] == 2
    assert stats.share("services", "legal") == 100.0
    assert data["share_of_organisations"]["regions"]["baku"] == 100.0


def test_surveyed_without_a_website_is_neither_and_unknown_is_apart(app, client):
    from datetime import date

    org("Surveyed, no web", completed_on=date(2022, 3, 1))
    org("Surveyed, website", completed_on=date(2022, 3, 2), website="s.az")
    for index in range(6):
        org(f"Seeded {index}")  # nothing known about their web presence
    db.session.commit()
    stats = registry_stats(db.session)
    assert stats.web_presence == {
        "website": 1,
        "social_media": 0,
        "website_or_social_media": 1,
        "neither": 1,
        "unknown": 6,
    }
    assert stats.answered["web_presence"] == 2
    assert stats.share("web_presence", "neither") == 50.0
    html = client.get("/registry/stats?lang=en").get_data(as_text=True)
    web = html.split('id="heading-web"')[1].split("</section>")[0]
    assert re.search(
        r"Neither \(surveyed, gave neither\)</th><td class=\"num\">1</td>"
        r"<td class=\"num\">50%</td>",
        web,
    )
    assert re.search(
        r"Not known \(not counted in the shares\)</th><td class=\"num\">6</td>"
        r"<td class=\"num\">–</td>",
        web,
    )
    assert ">100%<" not in web.split("Website or social media</th>")[0]


def test_api_returns_the_same_figures(app, client):
    org("A", legal_status="think_tank", staff_total=3)
    db.session.commit()
    response = client.get("/api/v1/registry/stats")
    assert response.status_code == 200
    assert response.get_json() == registry_stats(db.session).as_json()


def test_stats_page_shows_the_baseline_beside_live_tables_and_pictures(app, client, registry):
    response = client.get("/registry/stats?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The report's own figures: 243 respondents, 216 public unions, 172 nationwide.
    for figure in ("243", "216", "88.9%", "172", "3,805", "15.79"):
        assert f">{figure}<" in html, figure
    # and in Azerbaijani with its own signs, as the report writes them ("56,3 %")
    html_az = client.get("/registry/stats?lang=az").get_data(as_text=True)
    for figure in ("243", "88,9%", "56,3%", "3.805", "15,79"):
        assert f">{figure}<" in html_az, figure
    # eight paired-bar charts, and the map's 14 regions as HTML tiles
    assert html.count("<svg") >= 8
    assert html.count('class="region-tile ') == 14
    assert "Organisations working in each economic region" in html
    assert "Ganja-Dashkasan" in html
    # no inline style or script (the CSP forbids both); the pages' own files are loaded
    assert ' style="' not in html and not re.search(r"<script(?![^>]*\ssrc=)", html)


def test_stats_take_the_same_queries_with_ten_or_three_hundred_organisations(app, english, client):
    from tests.registry.survey_export import generate

    def queries() -> int:
        with QueryCounter() as counter:
            assert client.get("/registry/stats").status_code == 200
        return counter.count

    import_organisations(db.session, csv_bytes(generate(10, seed=1).table), "a.csv")
    db.session.commit()
    small = queries()
    export = generate(300, seed=2)
    for row in export.rows:
        row[1] = f"Big {row[1]}"
    import_organisations(db.session, csv_bytes(export.table), "b.csv")
    db.session.commit()
    assert queries() == small
    # 8, and the footer's plan-wide government claims
    assert small <= 9


def test_svg_labels_are_escaped(app, client):
    from tracker.services.registry.charts import comparison_chart
    from tracker.services.registry.stats import ComparisonRow

    svg = str(comparison_chart("x", "<t>", [ComparisonRow("k", "<script>", 1, 50.0, None, None)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;t&gt;" in svg
    # 50% of the bars' 85 % of the width, from 0.5 %; the rows in pixels, under the label
    assert re.search(r'<rect x="0.50%" y="18.0" width="42.50%" height="12"', svg)
    # no viewBox: the chart takes its column's width and its text keeps its size
    assert "viewBox" not in svg and 'width="100%"' in svg


KEY_IN_TEXT = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\{[^}]*\}")


def test_notes_on_the_2022_figures_are_in_the_readers_language_without_keys(app):
    from tracker.services.registry.stats import baseline_about

    az, en = baseline_about("az"), baseline_about("en")
    assert len(az.notes) == len(en.notes) == 18
    for note in (*az.notes, *en.notes):
        assert not KEY_IN_TEXT.search(note), note
    # vocabulary labels take the keys' places, in each language
    assert "“İctimai birlik” kimi sayılır" in az.notes[0]
    assert "counted as “Public union”" in en.notes[0]
    assert "Union of legal entities" in en.notes[1] and "Birlik" in az.notes[1]
    labels = catalogue()
    assert az.notes[12].startswith(f"“{labels.questions['staff_social_workers'].short_text('az')}”")
    assert all(note.startswith(("Cədvəl", "Bölmə", "Personal", "“")) for note in az.notes)
    assert not any("Table" in note for note in az.notes)
    assert az.source_title.startswith("Azərbaycanda QHT")


@pytest.mark.parametrize(
    ("lang", "expected", "foreign"),
    [("az", "Cədvəl 1:", "Table 1:"), ("en", "Table 1:", "Cədvəl 1:")],
)
def test_stats_page_shows_the_notes_in_its_language(client, lang, expected, foreign):
    html = client.get(f"/registry/stats?lang={lang}").get_data(as_text=True)
    about = html.split('class="baseline-notes"')[1].split("</ul>")[0]
    assert about.count("<li>") == 18
    assert expected in about and foreign not in about
    assert not KEY_IN_TEXT.search(about), KEY_IN_TEXT.search(about)


def test_the_medians_agree_with_the_middle_values_on_either_database(app):
    """PostgreSQL's medians (percentile_cont) are the row_number statement's: the middle
    value, or the mean of the two middle ones; archived organisations and blanks apart."""
    from tracker.services.registry.stats import _median_statement, _medians

    values = [7, 1, None, 4, 4, 12, 3, None, 9, 2, 30]
    for number, value in enumerate(values):
        org(
            f"Median {number}",
            staff_total=value,
            staff_male=value and value % 5,
            # an even number of answers: the mean of the middle two (on rows whose total
            # leaves room for them: more men and women than staff is refused)
            staff_female={0: 0, 5: 1, 8: 2, 10: 3}.get(number),
            staff_support=1,
        )
    archived = org("Median archived", staff_total=1000, staff_male=1000)
    archive_organisation(db.session, archived)
    db.session.commit()
    by_rank = {
        k: None if v is None else float(v) for k, v in db.session.execute(_median_statement())
    }
    found = {k: None if v is None else float(v) for k, v in _medians(db.session).items()}
    assert found == by_rank
    assert found["staff_total"] == 4.0 and found["staff_male"] == 2.0
    assert found["staff_female"] == 1.5 and found["staff_support"] == 1.0
    assert found["staff_experts"] is None


def test_the_region_map_shades_the_busiest_region_darkest_and_lists_tiles_row_by_row():
    from tracker.services.registry.charts import region_map

    tiles = region_map({"baku": 40, "absheron_khizi": 10, "karabakh": 0}, {"baku": "Bakı"})
    by_key = {tile.key: tile for tile in tiles.tiles}
    assert (by_key["baku"].shade, by_key["absheron_khizi"].shade, by_key["karabakh"].shade) == (
        5,
        1,
        0,
    )
    assert (tiles.lowest, tiles.highest) == (10, 40)
    assert by_key["baku"].label == "Bakı" and by_key["karabakh"].label == "karabakh"
    places = [(tile.row, tile.column) for tile in tiles.tiles]
    assert places == sorted(places) and places[0] == (0, 0) and len(places) == 14
    # with no region named, every tile is the lightest
    assert {tile.shade for tile in region_map({}, {}).tiles} == {0}


def test_a_long_chart_label_wraps_to_three_lines_and_ends_in_an_ellipsis():
    from tracker.services.registry.charts import LABEL_LINE, _wrap

    label = " ".join(["Vətəndaş cəmiyyəti təşkilatları"] * 6)
    lines = _wrap(label, LABEL_LINE)
    assert len(lines) == 3 and all(len(line) <= LABEL_LINE for line in lines)
    assert lines[-1].endswith("…")
    assert _wrap("İctimai birlik", LABEL_LINE) == ["İctimai birlik"]
