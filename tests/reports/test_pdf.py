"""The second stage: the PDF, parsed back with pypdf (and drawn with pdftoppm)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import make_organisation, make_update
from tests.reports.conftest import (
    AS_OF,
    FUTURE_MARKER,
    HOSTILE_NARRATIVE,
    SECRET_MARKERS,
    measure,
    tr,
    tr_plural,
)
from tracker.extensions import db
from tracker.models import Evidence, GovernmentClaim, Measure, MonitoringLink, Section
from tracker.services.reports.content import build_report
from tracker.services.reports.model import ReportSpec
from tracker.services.reports.pdf import render_report
from tracker.services.reports.pdf_style import link, multiline, text
from tracker.vocabulary import Completion, ReportKind

PLAN = "az-nap-2020-2022"
SECTION_1_AZ = "Korrupsiyanın qarşısının alınması"
JUSTICE = {"az": "Ədliyyə Nazirliyi", "en": "Ministry of Justice"}


def parse(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def outline_titles(outline) -> list[str]:
    titles = []
    for item in outline:
        if isinstance(item, list):
            titles.extend(outline_titles(item))
        else:
            titles.append(item.title)
    return titles


def top_level_titles(outline) -> list[str]:
    return [item.title for item in outline if not isinstance(item, list)]


def flat(value: str) -> str:
    """Text as extracted, with line breaks and hyphenation ignored."""
    return re.sub(r"\s+", " ", value)


_RENDERED: dict[str, bytes] = {}


@pytest.fixture
def plan_reports(monitoring) -> dict[str, bytes]:
    """The plan report in both languages for the `monitoring` records. Rendering takes
    seconds and those records are the same in every test, so the module renders once."""
    if not _RENDERED:
        for locale in ("az", "en"):
            _RENDERED[locale] = render_report(db.session, ReportSpec(PLAN, AS_OF, locale))
    return dict(_RENDERED)


@pytest.mark.parametrize("locale", ["az", "en"])
def test_plan_report_parses_back_with_every_code_and_intact_azerbaijani(
    monitoring, plan_reports, locale
):
    reader, content = parse(plan_reports[locale])
    codes = db.session.scalars(select(Measure.code).where(Measure.plan_id == monitoring.plan.id))
    for code in codes:
        assert re.search(rf"(?<![\d.]){re.escape(code)}(?![\d])", content), code
    assert SECTION_1_AZ in content
    for bad in ("\u25a0", "\ufffd", "\x00"):
        assert bad not in content
    sections = db.session.scalars(
        select(Section).where(Section.plan_id == monitoring.plan.id).order_by(Section.number)
    ).all()
    assert len(sections) == 9
    top = top_level_titles(reader.outline)
    section_entries = [t for t in top if any(s.title(locale) in t for s in sections)]
    assert len(section_entries) == 9
    for section, entry in zip(sections, section_entries, strict=True):
        assert section.title(locale) in entry and str(section.number) in entry
    # every measure has its own bookmark under its section
    assert len([t for t in outline_titles(reader.outline) if t not in top]) == 64


def test_the_azerbaijani_report_labels_its_facts_in_azerbaijani(monitoring, plan_reports):
    # labels once written inside f-strings never reached the catalogs, and printed in English
    _reader, content = parse(plan_reports["az"])
    content = flat(content)
    for label in ("disputed", "Other organisations", "Recommended to", "Evidence"):
        assert tr("az", label) != label and tr("az", label) in content, label
        assert label not in content, label


@pytest.mark.parametrize("locale", ["az", "en"])
def test_hostile_narrative_prints_as_plain_text(monitoring, plan_reports, locale):
    reader, content = parse(plan_reports[locale])
    assert flat(HOSTILE_NARRATIVE) in flat(content)
    assert "root:" not in content  # /etc/passwd was not read
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        for name in xobjects:
            assert xobjects[name].get_object().get("/Subtype") != "/Image"


def test_nothing_private_or_unapproved_is_printed(monitoring, plan_reports):
    for locale, data in plan_reports.items():
        _reader, content = parse(data)
        for marker in (*SECRET_MARKERS, FUTURE_MARKER):
            assert marker not in content
        note = tr_plural(
            locale,
            "%(num)s further item of evidence is private: reviewers have seen it.",
            "%(num)s further items of evidence are private: reviewers have seen them.",
            1,
        )
        assert flat(note) in flat(content)


def test_pages_are_numbered_with_a_running_header(monitoring, plan_reports):
    reader, _content = parse(plan_reports["en"])
    total = len(reader.pages)
    assert total > 20
    cover = reader.pages[0].extract_text()
    assert "Page 1 of" not in cover
    assert "Plan progress report" in cover
    for number in (2, total // 2, total):
        page_text = reader.pages[number - 1].extract_text()
        assert f"Page {number} of {total}" in page_text
        assert "Plan progress report · National Action Plan" in page_text
        assert "As of June 30, 2021" in page_text
    assert reader.metadata.title.startswith("Plan progress report")


def test_summary_page_shows_the_scorecard_figures(monitoring, plan_reports):
    report = build_report(db.session, ReportSpec(PLAN, AS_OF, "en"))
    summary_page = PdfReader(io.BytesIO(plan_reports["en"])).pages[1].extract_text()
    assert "Summary" in summary_page
    assert f"{report.summary.score:.1f}" in summary_page  # 2 scored: limited and complete
    assert "score out of 100" in summary_page
    # the score's basis: 2 of the 64 measures have an approved assessment
    assert (report.summary.scored, report.summary.total) == (2, 64)
    assert "over 2 of 64 measures assessed" in flat(summary_page)
    assert "2 organisations monitor these measures on this date." in flat(summary_page)
    for label, count in (("No evidence available", 62), ("Limited", 1), ("Complete", 1)):
        assert re.search(rf"{label}\s+{count}\b", summary_page), label
    assert re.search(rf"\b{report.summary.overdue}\s+overdue", summary_page)
    assert re.search(rf"\b{report.summary.disputed}\s+disputed", summary_page)


def test_one_organisation_is_named_in_the_singular(seeded, today):
    organisation = make_organisation("Tək Birlik")
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    db.session.add(
        MonitoringLink(
            organisation_id=organisation.id, measure_id=measure.id, start_date=date(2020, 3, 1)
        )
    )
    make_update(measure, organisation, Completion.COMPLETE, date(2021, 5, 1))
    db.session.commit()
    summary_page = flat(
        PdfReader(io.BytesIO(render_report(db.session, ReportSpec(PLAN, AS_OF, "en"))))
        .pages[1]
        .extract_text()
    )
    assert "1 organisation monitors these measures on this date." in summary_page
    assert "over 1 of 64 measures assessed" in summary_page
    assert "organisations monitor" not in summary_page


@pytest.mark.parametrize(
    ("locale", "title", "column"),
    [
        (
            "en",
            "Agencies with the most measures not complete when the plan ended",
            "Not complete when the plan ended",
        ),
        (
            "az",
            "Plan başa çatanda ən çox tədbiri tamamlanmamış qurumlar",
            "Plan başa çatanda tamamlanmamışdı",
        ),
    ],
)
def test_after_the_plan_ended_agencies_rank_by_measures_not_complete(
    app, seeded, locale, title, column
):
    # A monthly snapshot after the end (as of today): nothing is overdue any more, and the
    # agencies chart once vanished from the report while the role table showed zeros
    app.config["TRACKER_TODAY"] = "2026-12-01"
    day = date(2026, 12, 1)
    report = build_report(db.session, ReportSpec(PLAN, day, locale))
    assert report.summary.is_closed and report.summary.overdue == 0
    top = report.overdue_agencies[0]
    assert (top.name, top.overdue) == (JUSTICE[locale], 19)
    content = flat(parse(render_report(db.session, ReportSpec(PLAN, day, locale)))[1])
    assert title in content and top.name in content
    spec = ReportSpec(PLAN, day, locale, ReportKind.AGENCY, agency_key="ministry-of-justice")
    agency = build_report(db.session, spec)
    content = flat(parse(render_report(db.session, spec))[1])
    executor = agency.role_summaries[0].summary
    assert executor.late == executor.total == 19
    # the column's heading whole: a narrow column once broke "tamamlanmamışdı" in two
    assert f" {column} " in content
    assert re.search(rf"\b{executor.total} {executor.late}\b", content)


def test_evidence_links_can_be_clicked_and_only_http_links_are_links(monitoring, plan_reports):
    reader = PdfReader(io.BytesIO(plan_reports["en"]))
    uris = set()
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            action = annotation.get_object().get("/A")
            if action and action.get("/URI"):
                uris.add(str(action["/URI"]))
    assert "https://example.gov.az/xeber?id=1&lang=az" in uris
    # the site's pages in the report's language
    assert "http://127.0.0.1:5000/plans/az-nap-2020-2022/measures/1.1?lang=en" in uris
    assert not any(uri.startswith(("javascript:", "file:")) for uri in uris)


def test_fonts_are_embedded_dejavu(plan_reports):
    reader = PdfReader(io.BytesIO(plan_reports["az"]))
    names = set()
    for page in reader.pages[:3]:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]))
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None:
                assert "/FontFile2" in descriptor.get_object()
    assert any("DejaVuSans" in name for name in names), names
    assert not any("Helvetica" in name for name in names), names


def test_section_agency_and_organisation_reports(monitoring):
    cases = {
        ReportSpec(PLAN, AS_OF, "en", ReportKind.SECTION, section=1): "Section report",
        ReportSpec(
            PLAN, AS_OF, "az", ReportKind.AGENCY, agency_key="prosecutor-generals-office"
        ): "Agency report",
        ReportSpec(
            PLAN, AS_OF, "en", ReportKind.ORGANISATION, organisation_id=monitoring.watchdog.id
        ): "Organisation's monitoring report",
    }
    for spec, kind_label in cases.items():
        report = build_report(db.session, spec)
        reader, content = parse(render_report(db.session, spec))
        assert tr(spec.locale, kind_label) in content
        for entry in report.measures:
            assert entry.code in content
        top = top_level_titles(reader.outline)
        section_entries = [t for t in top if any(s.title in t for s in report.sections)]
        assert len(section_entries) == len(report.sections) >= 1
        page_two = tr(
            spec.locale, "Page %(number)s of %(total)s", number=2, total=len(reader.pages)
        )
        assert page_two in reader.pages[1].extract_text()
        for bad in ("\u25a0", "\ufffd", "\x00"):
            assert bad not in content
    organisation = parse(render_report(db.session, list(cases)[2]))[1]
    assert "Update as of" in organisation and flat(HOSTILE_NARRATIVE) in flat(organisation)
    # its own assessments are counted beside the Platform's position
    own = "Measures by completion (this organisation's own latest assessments)"
    assert flat(own) in flat(organisation)
    plan = parse(render_report(db.session, ReportSpec(PLAN, AS_OF, "en")))[1]
    assert flat(own) not in flat(plan)


def test_every_character_of_the_azerbaijani_alphabet_prints(monitoring):
    alphabet = "AaBbCcÇçDdEeƏəFfGgĞğHhXxIıİiJjKkQqLlMmNnOoÖöPpRrSsŞşTtUuÜüVvYyZz"
    make_update(
        monitoring.measures["9.4"],
        monitoring.second,
        Completion.NOT_STARTED,
        date(2021, 6, 1),
        narrative_az=alphabet,
    )
    db.session.commit()
    _reader, content = parse(render_report(db.session, ReportSpec(PLAN, AS_OF, "az")))
    assert alphabet in content


def test_control_characters_and_markup_in_text_are_neutralised():
    assert text('<b>x</b> & <img src="/etc/passwd">') == (
        '&lt;b&gt;x&lt;/b&gt; &amp; &lt;img src="/etc/passwd"&gt;'
    )
    assert text("a\x00b\x1fc\nd") == "abc d"
    assert multiline("a\nb<") == "a<br/>b&lt;"
    assert link('https://x.example/?a=1&b="2"', "<t>") == (
        '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;" color="#0b4f8a"><u>&lt;t&gt;</u></a>'
    )


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pages_render_with_poppler(plan_reports, tmp_path):
    for locale, data in plan_reports.items():
        pdf = tmp_path / f"plan-{locale}.pdf"
        pdf.write_bytes(data)
        result = subprocess.run(
            [
                "pdftoppm",
                "-r",
                "40",
                "-png",
                "-f",
                "1",
                "-l",
                "4",
                str(pdf),
                str(tmp_path / locale),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and result.stderr == "", result.stderr
        images = sorted(tmp_path.glob(f"{locale}-*.png"))
        assert len(images) == 4
        assert all(image.stat().st_size > 2000 for image in images)


def test_long_and_odd_text_still_renders(monitoring):
    """A row of a table cannot break across pages, and a word longer than a line must be
    split: long user text of every kind prints without a layout error."""
    update = make_update(
        monitoring.measures["9.4"],
        monitoring.second,
        Completion.LIMITED,
        date(2021, 6, 1),
        narrative_az=("söz " * 2000) + "A" * 3000 + "\n\n<para>&#x0;</para>&nbsp; ]]> <![CDATA[",
        delay_reasons=["no_such_reason", "no_funding"],
    )
    update.evidence.append(
        Evidence(evidence_type="other", title="T" * 3000, url="https://e.example/" + "p" * 1900)
    )
    db.session.add(
        GovernmentClaim(
            measure_id=monitoring.measures["9.4"].id,
            claimed_completion="complete",
            claim_date=date(2021, 1, 1),
            source_title="Mənbə " * 1500,
            source_url="https://g.example/?q=\"<>'",
            note="Qeyd " * 5000,
        )
    )
    db.session.commit()
    _reader, content = parse(render_report(db.session, ReportSpec(PLAN, AS_OF, "en")))
    flat_content = flat(content)
    assert "no_such_reason" in flat_content and "<para>&#x0;</para>&nbsp;" in flat_content
    assert "Qeyd Qeyd" in flat_content


def test_a_plan_wide_claim_prints_for_measures_without_their_own(seeded, today):
    """Issue 10, finding 4: the government's claim about the whole plan stands for each
    measure that has none of its own, with its source; a proposal does not print."""
    db.session.add_all(
        [
            GovernmentClaim(
                plan_id=seeded.id,
                claimed_completion="complete",
                claim_date=date(2021, 3, 1),
                source_title="Final report on the plan",
                source_url="https://gov.example/final-report",
            ),
            GovernmentClaim(
                measure_id=measure(seeded, "1.1").id,
                claimed_completion="limited",
                claim_date=date(2021, 3, 2),
                source_title="Proposed only",
                source_url="https://gov.example/proposed",
                review_state="submitted",
            ),
        ]
    )
    db.session.commit()
    spec = ReportSpec(PLAN, AS_OF, "en", ReportKind.SECTION, section=1)
    entries = build_report(db.session, spec).measures
    assert entries and all(e.claim and e.claim.is_plan_wide for e in entries)
    content = flat(parse(render_report(db.session, spec))[1])
    assert "Final report on the plan" in content and "for the whole plan" in content
    assert "Proposed only" not in content
