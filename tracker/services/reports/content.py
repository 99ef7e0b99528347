"""Report data, the first of two stages: what a PDF report shows, collected into the plain
frozen dataclasses of `tracker.services.reports.model`, which tests can check. The `pdf*`
modules render them; this module never imports them (nor ReportLab).

`tracker.services.reports.selection` finds the measures a report covers; this module
puts them in words, in the report's language. Only public material goes in: approved,
non-archived status updates, evidence that is not private, and organisation names
(never an author's name or email). Every state, score, overdue and disputed figure comes
from `tracker.services.plans.status`, so a report shows the scorecard's numbers for the
same date. Queries stay constant in number whatever the number of measures or updates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import clock
from tracker.database import read_once_cache
from tracker.models import (
    Agency,
    Evidence,
    GovernmentClaim,
    Measure,
    MonitoringLink,
    StatusUpdate,
)
from tracker.services.plans import MeasureState, measure_states, summarize
from tracker.services.reports.model import (
    LANGUAGES,
    AgencyOverdue,
    Assessment,
    AssessmentLine,
    Claim,
    Coverage,
    EvidenceItem,
    MeasureEntry,
    MilestoneLine,
    Report,
    ReportSpec,
    RoleSummary,
    ScaleLevel,
    SectionBlock,
    short_title,
)
from tracker.services.reports.selection import Selection, select_measures
from tracker.vocabulary import (
    AGENCY_ROLE_LABELS,
    COMPLETION_LABELS,
    COMPLETION_WEIGHTS,
    DELAY_REASON_LABELS,
    EVIDENCE_TYPE_LABELS,
    MILESTONE_STATE_LABELS,
    REQUEST_OUTCOME_LABELS,
    AgencyRole,
    Completion,
    DelayReason,
    EvidenceType,
    ReportKind,
    RequestOutcome,
    ReviewState,
)
from tracker.web.links import public_url

#: how many agencies the "most overdue measures" chart shows
TOP_OVERDUE_AGENCIES = 10
#: IN lists are sent in chunks of this size (SQLite's bound-parameter limit)
_CHUNK = 500


# --- helpers ----------------------------------------------------------------------------------


def safe_link(url: str | None) -> str | None:
    """The address when it is an http(s) URL with a host; anything else is not a link."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def _label(labels: dict, enum_type, key: str | None) -> str:
    if not key:
        return ""
    try:
        return str(labels[enum_type(key)])
    except (ValueError, KeyError):
        return key


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _localized(obj, attr: str, locale: str) -> str:
    if locale == "en":
        value = getattr(obj, f"{attr}_en", "")
        if value:
            return value
    return getattr(obj, f"{attr}_az")


def _original(obj, attr: str, locale: str) -> str:
    """The Azerbaijani original, shown beside a translation."""
    if locale == "az":
        return ""
    original = getattr(obj, f"{attr}_az")
    return "" if original == _localized(obj, attr, locale) else original


# --- loading ----------------------------------------------------------------------------------


def _load_by_id(session: Session, model, ids: Sequence[int], *conditions, options=()) -> dict:
    """The rows of `model` with these ids that meet `conditions`, by id: a query per
    chunk of ids, with these loader options."""
    found = {}
    for chunk in _chunks(list(ids)):
        statement = select(model).where(model.id.in_(chunk), *conditions).options(*options)
        found.update({row.id: row for row in session.scalars(statement)})
    return found


def _load_updates(session: Session, update_ids: Sequence[int]) -> dict[int, StatusUpdate]:
    return _load_by_id(
        session,
        StatusUpdate,
        update_ids,
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
        options=(
            joinedload(StatusUpdate.organisation),
            selectinload(StatusUpdate.evidence).options(
                joinedload(Evidence.request_agency), joinedload(Evidence.file)
            ),
        ),
    )


def _load_claims(session: Session, claim_ids: Sequence[int]) -> dict[int, GovernmentClaim]:
    options = (joinedload(GovernmentClaim.file),)
    return _load_by_id(session, GovernmentClaim, claim_ids, options=options)


def monitoring_coverage(session: Session, measure_ids: Sequence[int], as_of: date) -> Coverage:
    measures: set[int] = set()
    organisations: set[int] = set()
    for chunk in _chunks(list(measure_ids)):
        rows = session.execute(
            select(MonitoringLink.measure_id, MonitoringLink.organisation_id).where(
                MonitoringLink.measure_id.in_(chunk),
                MonitoringLink.start_date <= as_of,
                MonitoringLink.end_date.is_(None) | (MonitoringLink.end_date >= as_of),
            )
        )
        for measure_id, organisation_id in rows:
            measures.add(measure_id)
            organisations.add(organisation_id)
    return Coverage(
        total=len(measure_ids), monitored=len(measures), organisations=len(organisations)
    )


# --- building ---------------------------------------------------------------------------------


def _evidence_item(evidence: Evidence, locale: str) -> EvidenceItem:
    is_request = evidence.evidence_type == EvidenceType.INFORMATION_REQUEST
    return EvidenceItem(
        type_label=_label(EVIDENCE_TYPE_LABELS, EvidenceType, evidence.evidence_type),
        title=evidence.title,
        evidence_date=evidence.evidence_date,
        url=safe_link(evidence.url),
        file_url=(
            public_url("files.download", public_id=evidence.file.public_id)
            if evidence.file
            else None
        ),
        request_agency=(
            evidence.request_agency.name(locale) if is_request and evidence.request_agency else ""
        ),
        request_sent_on=evidence.request_sent_on if is_request else None,
        request_answered_on=evidence.request_answered_on if is_request else None,
        request_outcome=(
            _label(REQUEST_OUTCOME_LABELS, RequestOutcome, evidence.request_outcome)
            if is_request
            else ""
        ),
    )


def _assessment(update: StatusUpdate, locale: str) -> Assessment:
    public = [e for e in update.evidence if not e.is_private]
    return Assessment(
        update_id=update.id,
        organisation_name=update.organisation.name(locale),
        completion=Completion(update.completion),
        completion_label=str(COMPLETION_LABELS[Completion(update.completion)]),
        progress_percent=update.progress_percent,
        as_of_date=update.as_of_date,
        narrative=update.narrative(locale),
        delay_reasons=tuple(
            _label(DELAY_REASON_LABELS, DelayReason, key) for key in (update.delay_reasons or [])
        ),
        evidence=tuple(_evidence_item(e, locale) for e in public),
        private_evidence_count=len(update.evidence) - len(public),
    )


def _claim(claim: GovernmentClaim) -> Claim:
    completion = Completion(claim.claimed_completion)
    return Claim(
        completion=completion,
        completion_label=str(COMPLETION_LABELS[completion]),
        claim_date=claim.claim_date,
        source_title=claim.source_title,
        source_url=safe_link(claim.source_url),
        file_url=(
            public_url("files.download", public_id=claim.file.public_id) if claim.file else None
        ),
        note=claim.note,
        is_plan_wide=claim.measure_id is None,
    )


def _agencies(measure: Measure, role: AgencyRole, locale: str) -> tuple[str, ...]:
    return tuple(link.agency.name(locale) for link in measure.agency_links if link.role == role)


def _other_assessments(
    state: MeasureState, latest_id: int | None, locale: str
) -> tuple[AssessmentLine, ...]:
    """The other organisations' latest approved assessments, one line each."""
    return tuple(
        AssessmentLine(
            organisation_name=a.organisation_name(locale),
            completion=a.completion,
            completion_label=str(COMPLETION_LABELS[a.completion]),
            as_of_date=a.as_of_date,
        )
        for a in state.assessments
        if a.update_id != latest_id
    )


@dataclass(frozen=True)
class _Records:
    """What the entries are made from: each measure's state on the date, and the approved
    updates and government claims those states point at."""

    locale: str
    plan_key: str
    states: dict[int, MeasureState]
    updates: dict[int, StatusUpdate]
    claims: dict[int, GovernmentClaim]


def _records(session: Session, selection: Selection, spec: ReportSpec) -> _Records:
    states = measure_states(session, selection.measures, spec.as_of)
    latest_ids = [
        s.latest_approved_update_id for s in states.values() if s.latest_approved_update_id
    ]
    claim_ids = [s.government_claim.claim_id for s in states.values() if s.government_claim]
    return _Records(
        locale=spec.locale,
        plan_key=selection.plan.key,
        states=states,
        updates=_load_updates(session, latest_ids),
        claims=_load_claims(session, claim_ids),
    )


def _entry(
    measure: Measure,
    records: _Records,
    roles: tuple[str, ...] = (),
    organisation_updates: tuple[Assessment, ...] = (),
) -> MeasureEntry:
    locale, state = records.locale, records.states[measure.id]
    latest_id = state.latest_approved_update_id
    latest_update = records.updates.get(latest_id) if latest_id else None
    claim = records.claims.get(state.government_claim.claim_id) if state.government_claim else None
    title = measure.title(locale)
    return MeasureEntry(
        measure_id=measure.id,
        code=measure.code,
        section_number=measure.section.number,
        title=title,
        short_title=short_title(title),
        title_original=_original(measure, "title", locale),
        indicator=measure.indicator(locale),
        executors=_agencies(measure, AgencyRole.EXECUTOR, locale),
        recommended=_agencies(measure, AgencyRole.RECOMMENDED, locale),
        period=measure.deadline,
        due_date=state.due_date,
        completion=state.completion,
        completion_label=str(COMPLETION_LABELS[state.completion]),
        progress_percent=state.progress_percent,
        is_overdue=state.is_overdue,
        days_overdue=state.days_overdue,
        ended_incomplete=state.ended_incomplete,
        closes_on=state.closes_on,
        is_disputed=state.is_disputed,
        claim=_claim(claim) if claim else None,
        latest=_assessment(latest_update, locale) if latest_update else None,
        other_assessments=_other_assessments(state, latest_id, locale),
        roles=roles,
        organisation_updates=organisation_updates,
        # in the report's language: a reader of the English report lands on English pages
        url=public_url("public.measure", key=records.plan_key, code=measure.code, lang=locale),
        milestones=tuple(
            MilestoneLine(
                title=m.title(locale),
                due_date=m.due_date,
                state_label=str(MILESTONE_STATE_LABELS[m.state]),
                is_overdue=m.is_overdue,
                days_overdue=m.days_overdue,
            )
            for m in state.milestones
        ),
    )


@dataclass(frozen=True)
class OverdueCount:
    agency: Agency
    overdue: int
    #: the measures that name the agency
    total: int


def overdue_agencies(
    measures: Iterable[Measure], states: dict[int, MeasureState], *, with_ended: bool = False
) -> list[OverdueCount]:
    """Agencies with overdue measures, most first. Each measure that names the agency (as
    executing or recommended agency) counts once, as on the agency pages. With `with_ended`,
    a measure not complete when its plan ended counts too (MeasureState.is_late): the
    reports of a plan that has ended. Works on loaded measures: no queries."""
    by_agency: dict[int, tuple[Agency, set[int]]] = {}
    for measure in measures:
        for link in measure.agency_links:
            by_agency.setdefault(link.agency_id, (link.agency, set()))[1].add(measure.id)
    rows = []
    for agency, measure_ids in by_agency.values():
        overdue = sum(
            1
            for mid in measure_ids
            if (states[mid].is_late if with_ended else states[mid].is_overdue)
        )
        if overdue:
            rows.append(OverdueCount(agency, overdue, len(measure_ids)))
    rows.sort(key=lambda r: (-r.overdue, r.agency.name_az.casefold()))
    return rows


def _top_overdue(
    measures: list[Measure], states: dict[int, MeasureState], locale: str
) -> tuple[AgencyOverdue, ...]:
    rows = overdue_agencies(measures, states, with_ended=True)[:TOP_OVERDUE_AGENCIES]
    return tuple(AgencyOverdue(r.agency.name(locale), r.overdue, r.total) for r in rows)


def _scale() -> tuple[ScaleLevel, ...]:
    return tuple(
        ScaleLevel(level, str(COMPLETION_LABELS[level]), COMPLETION_WEIGHTS[level])
        for level in Completion
    )


def _role_labels(roles: frozenset[AgencyRole]) -> tuple[str, ...]:
    return tuple(str(AGENCY_ROLE_LABELS[role]) for role in AgencyRole if role in roles)


def _sections(selection: Selection, records: _Records) -> tuple[SectionBlock, ...]:
    """The measures grouped by section, in section order, each with its figures."""
    grouped: dict[int, list[Measure]] = defaultdict(list)
    for measure in selection.measures:
        grouped[measure.section.number].append(measure)
    blocks = []
    for number in sorted(grouped):
        section = grouped[number][0].section
        entries = tuple(
            _entry(
                m,
                records,
                _role_labels(selection.roles.get(m.id, frozenset())),
                tuple(_assessment(u, records.locale) for u in selection.own_updates.get(m.id, ())),
            )
            for m in grouped[number]
        )
        blocks.append(
            SectionBlock(
                number=number,
                title=section.title(records.locale),
                title_original=_original(section, "title", records.locale),
                summary=summarize(records.states[m.id] for m in grouped[number]),
                measures=entries,
            )
        )
    return tuple(blocks)


def _role_summaries(selection: Selection, records: _Records) -> tuple[RoleSummary, ...]:
    """Agency report: the figures of the measures it executes and of those recommended to it."""
    if not selection.roles:
        return ()
    return tuple(
        RoleSummary(
            role,
            str(AGENCY_ROLE_LABELS[role]),
            summarize(
                records.states[m.id] for m in selection.measures if role in selection.roles[m.id]
            ),
        )
        for role in AgencyRole
    )


def _subject(selection: Selection, spec: ReportSpec) -> tuple[str, str]:
    """What the report is about, and its Azerbaijani original when the report is not."""
    subject, locale = selection.subject, spec.locale
    if spec.kind == ReportKind.PLAN:
        return selection.plan.title(locale), ""
    if spec.kind == ReportKind.SECTION:
        title = _(
            "Section %(number)s. %(title)s", number=subject.number, title=subject.title(locale)
        )
        return title, _original(subject, "title", locale)
    return subject.name(locale), _original(subject, "name", locale)


def _report_page_url(spec: ReportSpec) -> str:
    lang = spec.locale
    if spec.kind == ReportKind.PLAN:
        return public_url("public.plan", key=spec.plan_key, lang=lang)
    if spec.kind == ReportKind.SECTION:
        return public_url("public.section", key=spec.plan_key, number=spec.section, lang=lang)
    if spec.kind == ReportKind.AGENCY:
        return public_url("public.agency", key=spec.agency_key, plan=spec.plan_key, lang=lang)
    return public_url("registry.organisation", organisation_id=spec.organisation_id, lang=lang)


def _own_counts(selection: Selection) -> dict[Completion, int]:
    """The measures by the organisation's own latest approved assessment of each (its
    updates are newest first); a measure it has not assessed has no evidence from it."""
    counts = Counter(
        updates[0].completion if (updates := selection.own_updates.get(m.id)) else None
        for m in selection.measures
    )
    counts[Completion.NO_EVIDENCE] += counts.pop(None, 0)
    return {level: counts.get(level, 0) for level in Completion}


def _build(session: Session, selection: Selection, spec: ReportSpec) -> Report:
    records = _records(session, selection, spec)
    plan, measures, locale = selection.plan, selection.measures, spec.locale
    subject, subject_original = _subject(selection, spec)
    return Report(
        kind=spec.kind,
        locale=locale,
        as_of=spec.as_of,
        generated_on=clock.today(),
        plan_key=plan.key,
        plan_title=plan.title(locale),
        plan_title_original=_original(plan, "title", locale),
        plan_period=plan.period,
        plan_source=plan.source,
        subject=subject,
        subject_original=subject_original,
        summary=summarize(records.states.values()),
        coverage=monitoring_coverage(session, [m.id for m in measures], spec.as_of),
        sections=_sections(selection, records),
        overdue_agencies=_top_overdue(measures, records.states, locale),
        scale=_scale(),
        role_summaries=_role_summaries(selection, records),
        url=_report_page_url(spec),
        own_counts=_own_counts(selection) if spec.kind == ReportKind.ORGANISATION else None,
    )


def build_report(session: Session, spec: ReportSpec) -> Report:
    """The report's data in the spec's language. Raises ReportSubjectNotFound, whose
    message is in the caller's language (the report's may be another)."""
    if spec.locale not in LANGUAGES:
        raise ValueError(f"unsupported report language {spec.locale!r}")
    with read_once_cache(session):
        selection = select_measures(session, spec)
        with force_locale(spec.locale):
            return _build(session, selection, spec)
