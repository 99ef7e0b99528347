"""The first stage: what goes into a report, checked on the dataclasses."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select

from tests.factories import make_organisation, make_update
from tests.helpers import QueryCounter
from tests.reports.conftest import AS_OF, FUTURE_MARKER, HOSTILE_NARRATIVE, SECRET_MARKERS
from tracker import database
from tracker.extensions import db
from tracker.models import Measure, MonitoringLink
from tracker.services.errors import NotFound
from tracker.services.plans import scorecard
from tracker.services.plans.status import measure_states, summarize
from tracker.services.reports.content import build_report, safe_link
from tracker.services.reports.model import ReportSpec, ReportSubjectNotFound, short_title
from tracker.vocabulary import Completion, ReportKind

PLAN = "az-nap-2020-2022"


def _spec(**fields) -> ReportSpec:
    return ReportSpec(plan_key=PLAN, **{"as_of": AS_OF, "locale": "en", **fields})


def test_plan_report_has_every_section_and_measure_in_order(monitoring):
    report = build_report(db.session, _spec())
    assert report.kind == ReportKind.PLAN
    assert [s.number for s in report.sections] == list(range(1, 10))
    assert [len(s.measures) for s in report.sections] == [10, 12, 9, 12, 6, 4, 4, 3, 4]
    assert report.measures[0].code == "1.1" and report.measures[-1].code == "9.4"
    assert report.sections[0].title_original.startswith("Korrupsiyanın qarşısının alınması")


def test_plan_report_figures_are_the_scorecards(monitoring):
    report = build_report(db.session, _spec())
    card = scorecard.build_scorecard(db.session, monitoring.plan)
    assert report.summary == card.summary
    for block, group in zip(report.sections, card.sections, strict=True):
        assert block.summary == group.summary
    assert report.summary.counts[Completion.LIMITED] == 1
    assert report.summary.counts[Completion.COMPLETE] == 1
    assert report.summary.disputed == 1  # 1.1: the claim says complete, CSOs do not
    assert report.coverage.monitored == 4 and report.coverage.organisations == 2


def test_a_measure_shows_the_latest_approved_assessment_with_public_evidence(monitoring):
    report = build_report(db.session, _spec())
    entry = report.measures[0]
    assert entry.code == "1.1"
    assert entry.completion == Completion.LIMITED
    assert entry.claim.completion == Completion.COMPLETE and entry.is_disputed
    latest = entry.latest
    assert latest.update_id == monitoring.hostile.id
    assert latest.organisation_name == "Transparency Association"
    assert latest.narrative == HOSTILE_NARRATIVE
    assert latest.delay_reasons == ("No funding", "External shock (e.g. COVID-19, war)")
    titles = [e.title for e in latest.evidence]
    assert titles == ["Nazirliyin xəbəri", "javascript link", "Məlumat sorğusu"]
    assert latest.evidence[0].url == "https://example.gov.az/xeber?id=1&lang=az"
    assert latest.evidence[1].url is None  # not an http(s) link: printed, never clickable
    assert latest.evidence[2].request_outcome == "No reply"
    assert latest.private_evidence_count == 1
    assert [a.organisation_name for a in entry.other_assessments] == ["Legal Education Society"]


def test_nothing_unapproved_private_or_personal_goes_in(monitoring):
    for locale in ("az", "en"):
        for spec in (
            _spec(locale=locale),
            _spec(
                locale=locale, kind=ReportKind.ORGANISATION, organisation_id=monitoring.watchdog.id
            ),
        ):
            dump = repr(build_report(db.session, spec))
            for marker in (*SECRET_MARKERS, FUTURE_MARKER):
                assert marker not in dump


def test_as_of_leaves_out_later_records(monitoring):
    early = build_report(db.session, _spec(as_of=date(2021, 1, 1)))
    assert early.summary.counts[Completion.NO_EVIDENCE] == 64
    assert early.measures[0].claim is None
    later = build_report(db.session, _spec(as_of=date(2021, 8, 15)))
    entry_4_3 = next(m for m in later.measures if m.code == "4.3")
    assert entry_4_3.latest.narrative == FUTURE_MARKER


def test_azerbaijani_report_uses_the_original_text(monitoring):
    report = build_report(db.session, _spec(locale="az"))
    assert report.sections[0].title.startswith("Korrupsiyanın qarşısının alınması")
    assert report.sections[0].title_original == ""
    assert report.measures[0].latest.organisation_name == "Şəffaflıq Assosiasiyası"


def test_section_report_covers_one_section(monitoring):
    report = build_report(db.session, _spec(kind=ReportKind.SECTION, section=2))
    assert [s.number for s in report.sections] == [2]
    assert len(report.measures) == 12
    assert report.subject.startswith("Section 2.")


def test_agency_report_covers_measures_as_executor_and_as_recommended(monitoring):
    key = "prosecutor-generals-office"
    report = build_report(db.session, _spec(kind=ReportKind.AGENCY, agency_key=key))
    measures = list(
        db.session.scalars(select(Measure).where(Measure.plan_id == monitoring.plan.id))
    )
    expected = {
        m.code: {link.role for link in m.agency_links if link.agency.key == key} for m in measures
    }
    expected = {code: roles for code, roles in expected.items() if roles}
    assert {m.code for m in report.measures} == set(expected)
    roles = {m.code: set(m.roles) for m in report.measures}
    assert any(r == {"Recommended to"} for r in roles.values())
    assert {rs.role.value for rs in report.role_summaries} == {"executor", "recommended"}
    by_role = {rs.role.value: rs.summary.total for rs in report.role_summaries}
    assert by_role["recommended"] == sum(1 for r in expected.values() if "recommended" in r)
    assert by_role["executor"] == sum(1 for r in expected.values() if "executor" in r)


def test_organisation_report_covers_its_measures_and_its_updates(monitoring):
    report = build_report(
        db.session, _spec(kind=ReportKind.ORGANISATION, organisation_id=monitoring.watchdog.id)
    )
    assert [m.code for m in report.measures] == ["1.1", "1.2", "2.1", "4.3"]
    by_code = {m.code: m for m in report.measures}
    assert [u.update_id for u in by_code["1.1"].organisation_updates] == [monitoring.hostile.id]
    assert by_code["1.2"].organisation_updates == ()  # only a draft and a submitted update
    assert by_code["2.1"].organisation_updates[0].completion == Completion.COMPLETE
    # the second organisation's view of 1.1 is not this organisation's update
    assert all(
        u.organisation_name == "Transparency Association"
        for m in report.measures
        for u in m.organisation_updates
    )


def test_organisation_report_counts_its_own_assessments_beside_the_platforms(monitoring):
    """The Platform's position on a measure is any organisation's latest approved
    assessment; the organisation's report also counts the organisation's own."""
    make_update(monitoring.measures["2.1"], monitoring.second, Completion.LIMITED, date(2021, 6, 1))
    db.session.commit()
    report = build_report(
        db.session, _spec(kind=ReportKind.ORGANISATION, organisation_id=monitoring.watchdog.id)
    )
    # 1.1 limited (its own, also the latest), 2.1 complete by its own word, limited by the
    # second organisation's later one; 1.2 and 4.3 have no approved assessment of its own
    assert report.own_counts == {
        Completion.NO_EVIDENCE: 2,
        Completion.NOT_STARTED: 0,
        Completion.LIMITED: 1,
        Completion.SUBSTANTIAL: 0,
        Completion.COMPLETE: 1,
    }
    assert report.summary.counts[Completion.LIMITED] == 2
    assert report.summary.counts[Completion.COMPLETE] == 0
    plan = build_report(db.session, _spec())
    assert plan.own_counts is None


def test_unknown_subjects_are_reported_as_not_found(monitoring):
    for spec in (
        ReportSpec("no-such-plan", AS_OF),
        _spec(kind=ReportKind.SECTION, section=42),
        _spec(kind=ReportKind.AGENCY, agency_key="no-such-agency"),
        _spec(kind=ReportKind.ORGANISATION, organisation_id=999_999),
        _spec(kind=ReportKind.ORGANISATION, organisation_id=monitoring.archived_org.id),
    ):
        with pytest.raises(ReportSubjectNotFound) as raised:
            build_report(db.session, spec)
        assert isinstance(raised.value, NotFound) and raised.value.status == 404


def test_not_found_is_said_in_the_callers_language(monitoring):
    """The report may be in another language; the error is for whoever asked."""
    with force_locale("en"), pytest.raises(ReportSubjectNotFound) as raised:
        build_report(db.session, ReportSpec("no-such-plan", AS_OF, "az"))
    assert raised.value.message == "There is no plan no-such-plan."


def test_organisation_without_measures_is_not_found(monitoring):
    idle = make_organisation("Heç nəyi izləməyən birlik")
    with pytest.raises(ReportSubjectNotFound):
        build_report(db.session, _spec(kind=ReportKind.ORGANISATION, organisation_id=idle.id))


def test_queries_stay_constant_as_updates_grow(monitoring):
    spec = _spec()
    with QueryCounter() as before:
        build_report(db.session, spec)
    measures = list(
        db.session.scalars(select(Measure).where(Measure.plan_id == monitoring.plan.id))
    )
    extra = make_organisation("Yeni Monitorinq Qrupu")
    for measure in measures:
        db.session.add(
            MonitoringLink(
                organisation_id=extra.id, measure_id=measure.id, start_date=date(2020, 1, 1)
            )
        )
        for month in (1, 2, 3):
            make_update(measure, extra, Completion.SUBSTANTIAL, date(2021, month, 1))
    db.session.commit()
    with QueryCounter() as after:
        report = build_report(db.session, spec)
    assert report.summary.counts[Completion.NO_EVIDENCE] == 0
    assert after.count == before.count, after.statements


def test_same_figures_as_status_for_any_date(monitoring):
    measures = list(
        db.session.scalars(select(Measure).where(Measure.plan_id == monitoring.plan.id))
    )
    for day in (date(2020, 12, 31), date(2021, 3, 1), AS_OF):
        report = build_report(db.session, _spec(as_of=day))
        assert report.summary == summarize(measure_states(db.session, measures, day).values())


def test_helpers():
    assert safe_link("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert safe_link(" http://a.example ") == "http://a.example"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "/etc/passwd", "https://", "", None):
        assert safe_link(bad) is None
    assert short_title("short") == "short"
    long = "word " * 60
    cut = short_title(long)
    assert cut.endswith("…") and len(cut) <= 112 and "  " not in cut


def test_on_sqlite_a_report_reads_with_a_small_page_cache_and_gives_the_large_one_back(
    monitoring,
):
    """A report reads each page about once: SQLite's default cache while it collects, and
    the app's large one afterwards (a 2,000-measure report's peak RSS: 325 -> 261 MB)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache")
    sizes = []

    def cache_size(_connection, cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            sizes.append(cursor.connection.execute("PRAGMA cache_size").fetchone()[0])

    event.listen(db.engine, "before_cursor_execute", cache_size)
    try:
        build_report(db.session, _spec())
    finally:
        event.remove(db.engine, "before_cursor_execute", cache_size)
    assert sizes and set(sizes) == {-database.SQLITE_READ_ONCE_CACHE_KIB}
    size = db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    assert size == -database.SQLITE_CACHE_KIB
