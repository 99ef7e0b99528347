"""Report data, the first of two stages: what a PDF report shows, collected into plain
frozen dataclasses that tests can check. `tracker.services.reports.pdf` renders them.

Only public material goes in: approved, non-archived status updates, evidence that is
not private, and organisation names (never an author's name or email). Every state,
score, overdue and disputed figure comes from `tracker.services.plans.status`, so a report
shows the scorecard's numbers for the same date. Queries stay constant in number
whatever the number of measures or updates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.routing import BuildError

from tracker import clock
from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    GovernmentClaim,
    Measure,
    MeasureAgency,
    MonitoringLink,
    Organisation,
    StatusUpdate,
)
from tracker.services.plans import MeasureState, PlanSummary, measure_states, summarize
from tracker.vocabulary import (
    AGENCY_ROLE_LABELS,
    COMPLETION_LABELS,
    COMPLETION_WEIGHTS,
    DELAY_REASON_LABELS,
    EVIDENCE_TYPE_LABELS,
    REQUEST_OUTCOME_LABELS,
    AgencyRole,
    Completion,
    DelayReason,
    EvidenceType,
    ReportKind,
    RequestOutcome,
    ReviewState,
)

LANGUAGES = ("az", "en")
#: how many agencies the "most overdue measures" chart shows
TOP_OVERDUE_AGENCIES = 10
#: the measures table shows titles cut to about this many characters
SHORT_TITLE_LENGTH = 110
#: IN lists are sent in chunks of this size (SQLite's bound-parameter limit)
_CHUNK = 500


class ReportSubjectNotFound(LookupError):
    """The plan, section, agency or organisation a report asks for does not exist."""


# --- the dataclasses ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleLevel:
    level: Completion
    label: str
    #: weight in the score; None for "no evidence", which is not scored
    weight: float | None


@dataclass(frozen=True)
class Coverage:
    """How much of the report's measures monitors cover on the "as of" date."""

    total: int
    #: measures with at least one organisation monitoring them on the date
    monitored: int
    #: organisations monitoring at least one of the measures on the date
    organisations: int

    @property
    def share(self) -> float:
        return round(100 * self.monitored / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class EvidenceItem:
    type_label: str
    title: str
    evidence_date: date | None
    #: an http(s) address, the only kind that becomes a link
    url: str | None
    #: the public download address of an attached file
    file_url: str | None
    #: information requests: the agency asked, dates and outcome
    request_agency: str = ""
    request_sent_on: date | None = None
    request_answered_on: date | None = None
    request_outcome: str = ""


@dataclass(frozen=True)
class Assessment:
    """One approved status update, as the public may see it."""

    update_id: int
    organisation_name: str
    completion: Completion
    completion_label: str
    progress_percent: int | None
    as_of_date: date
    narrative: str
    delay_reasons: tuple[str, ...]
    evidence: tuple[EvidenceItem, ...]
    #: evidence items that exist but are private (the public sees that they exist)
    private_evidence_count: int


@dataclass(frozen=True)
class AssessmentLine:
    """Another organisation's latest approved view, in one line."""

    organisation_name: str
    completion: Completion
    completion_label: str
    as_of_date: date


@dataclass(frozen=True)
class Claim:
    completion: Completion
    completion_label: str
    claim_date: date
    source_title: str
    source_url: str | None
    #: the public download address of the claim's source document
    file_url: str | None
    note: str


@dataclass(frozen=True)
class MeasureEntry:
    measure_id: int
    code: str
    section_number: int
    title: str
    short_title: str
    #: the Azerbaijani original when the report is in another language, else ""
    title_original: str
    indicator: str
    executors: tuple[str, ...]
    recommended: tuple[str, ...]
    #: the implementation period as the plan writes it
    period: str
    due_date: date
    completion: Completion
    completion_label: str
    progress_percent: int | None
    is_overdue: bool
    days_overdue: int
    is_disputed: bool
    claim: Claim | None
    #: the Platform's position: the latest approved assessment of any organisation
    latest: Assessment | None
    #: the other organisations' latest approved assessments
    other_assessments: tuple[AssessmentLine, ...]
    #: agency report: the agency's roles in this measure
    roles: tuple[str, ...] = ()
    #: organisation report: the organisation's own approved updates, newest first
    organisation_updates: tuple[Assessment, ...] = ()
    #: the measure's public page
    url: str | None = None


@dataclass(frozen=True)
class SectionBlock:
    number: int
    title: str
    title_original: str
    summary: PlanSummary
    measures: tuple[MeasureEntry, ...]


@dataclass(frozen=True)
class AgencyOverdue:
    name: str
    overdue: int
    total: int


@dataclass(frozen=True)
class RoleSummary:
    role: AgencyRole
    label: str
    summary: PlanSummary


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    locale: str
    as_of: date
    generated_on: date
    plan_key: str
    plan_title: str
    plan_title_original: str
    plan_period: str
    plan_source: str
    #: what the report is about: the plan, a section, an agency or an organisation
    subject: str
    subject_original: str
    summary: PlanSummary
    coverage: Coverage
    sections: tuple[SectionBlock, ...]
    overdue_agencies: tuple[AgencyOverdue, ...]
    scale: tuple[ScaleLevel, ...]
    #: agency report: figures for the measures it executes and those recommended to it
    role_summaries: tuple[RoleSummary, ...] = ()
    url: str | None = None

    @property
    def measures(self) -> tuple[MeasureEntry, ...]:
        return tuple(m for s in self.sections for m in s.measures)


@dataclass(frozen=True)
class ReportSpec:
    """Which report: the CLI, the download views and the archive job all build from one."""

    plan_key: str
    as_of: date
    locale: str = "az"
    kind: ReportKind = ReportKind.PLAN
    section: int | None = None
    agency_key: str | None = None
    organisation_id: int | None = None

    def file_name(self) -> str:
        """A download name made from validated parts only."""
        subject = {
            ReportKind.PLAN: "",
            ReportKind.SECTION: f"-section-{self.section}",
            ReportKind.AGENCY: f"-agency-{self.agency_key}",
            ReportKind.ORGANISATION: f"-organisation-{self.organisation_id}",
        }[self.kind]
        name = f"{self.plan_key}{subject}-{self.as_of.isoformat()}-{self.locale}.pdf"
        return re.sub(r"[^A-Za-z0-9._-]", "-", name)


# --- helpers ----------------------------------------------------------------------------------


def public_url(endpoint: str, **values) -> str | None:
    """An absolute address on the public site (PUBLIC_BASE_URL), also outside a request.
    None when the page does not exist in this installation."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    try:
        return adapter.build(endpoint, values, force_external=True)
    except BuildError:
        return None


def safe_link(url: str | None) -> str | None:
    """The address when it is an http(s) URL with a host; anything else is not a link."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def short_title(text: str, limit: int = SHORT_TITLE_LENGTH) -> str:
    """The title cut at a word boundary near `limit`, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.–- ")
    return f"{cut}…"


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


def _measure_options():
    return (
        selectinload(Measure.agency_links).selectinload(MeasureAgency.agency),
        joinedload(Measure.section),
    )


def load_plan_measures(session: Session, plan: ActionPlan) -> list[Measure]:
    return list(
        session.scalars(
            select(Measure)
            .where(Measure.plan_id == plan.id)
            .options(*_measure_options())
            .order_by(Measure.position)
        )
    )


def _load_updates(session: Session, update_ids: Sequence[int]) -> dict[int, StatusUpdate]:
    updates: dict[int, StatusUpdate] = {}
    for chunk in _chunks(list(update_ids)):
        rows = session.scalars(
            select(StatusUpdate)
            .where(
                StatusUpdate.id.in_(chunk),
                StatusUpdate.review_state == ReviewState.APPROVED,
                StatusUpdate.is_archived.is_(False),
            )
            .options(
                joinedload(StatusUpdate.organisation),
                selectinload(StatusUpdate.evidence).joinedload(Evidence.request_agency),
            )
        )
        updates.update({u.id: u for u in rows})
    return updates


def _load_claims(session: Session, claim_ids: Sequence[int]) -> dict[int, GovernmentClaim]:
    claims: dict[int, GovernmentClaim] = {}
    for chunk in _chunks(list(claim_ids)):
        claims.update(
            {
                c.id: c
                for c in session.scalars(
                    select(GovernmentClaim).where(GovernmentClaim.id.in_(chunk))
                )
            }
        )
    return claims


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
            public_url("files.download", file_id=evidence.file_id) if evidence.file_id else None
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
        file_url=public_url("files.download", file_id=claim.file_id) if claim.file_id else None,
        note=claim.note,
    )


def _entry(
    measure: Measure,
    state: MeasureState,
    locale: str,
    plan_key: str,
    updates: dict[int, StatusUpdate],
    claims: dict[int, GovernmentClaim],
    roles: tuple[str, ...] = (),
    organisation_updates: tuple[Assessment, ...] = (),
) -> MeasureEntry:
    latest_id = state.latest_approved_update_id
    latest_update = updates.get(latest_id) if latest_id else None
    claim = claims.get(state.government_claim.claim_id) if state.government_claim else None
    title = measure.title(locale)
    return MeasureEntry(
        measure_id=measure.id,
        code=measure.code,
        section_number=measure.section.number,
        title=title,
        short_title=short_title(title),
        title_original=_original(measure, "title", locale),
        indicator=measure.indicator(locale),
        executors=tuple(
            link.agency.name(locale)
            for link in measure.agency_links
            if link.role == AgencyRole.EXECUTOR
        ),
        recommended=tuple(
            link.agency.name(locale)
            for link in measure.agency_links
            if link.role == AgencyRole.RECOMMENDED
        ),
        period=measure.deadline,
        due_date=state.due_date,
        completion=state.completion,
        completion_label=str(COMPLETION_LABELS[state.completion]),
        progress_percent=state.progress_percent,
        is_overdue=state.is_overdue,
        days_overdue=state.days_overdue,
        is_disputed=state.is_disputed,
        claim=_claim(claim) if claim else None,
        latest=_assessment(latest_update, locale) if latest_update else None,
        other_assessments=tuple(
            AssessmentLine(
                organisation_name=(
                    a.organisation_name_en
                    if locale == "en" and a.organisation_name_en
                    else a.organisation_name_az
                ),
                completion=a.completion,
                completion_label=str(COMPLETION_LABELS[a.completion]),
                as_of_date=a.as_of_date,
            )
            for a in state.assessments
            if a.update_id != latest_id
        ),
        roles=roles,
        organisation_updates=organisation_updates,
        url=public_url("public.measure", key=plan_key, code=measure.code),
    )


@dataclass(frozen=True)
class OverdueCount:
    agency: Agency
    overdue: int
    #: the measures that name the agency
    total: int


def overdue_agencies(
    measures: Iterable[Measure], states: dict[int, MeasureState]
) -> list[OverdueCount]:
    """Agencies with overdue measures, most first. Each measure that names the agency (as
    executing or recommended agency) counts once, as on the agency pages. Works on loaded
    measures: no queries."""
    by_agency: dict[int, tuple[Agency, set[int]]] = {}
    for measure in measures:
        for link in measure.agency_links:
            by_agency.setdefault(link.agency_id, (link.agency, set()))[1].add(measure.id)
    rows = []
    for agency, measure_ids in by_agency.values():
        overdue = sum(1 for mid in measure_ids if states[mid].is_overdue)
        if overdue:
            rows.append(OverdueCount(agency, overdue, len(measure_ids)))
    rows.sort(key=lambda r: (-r.overdue, r.agency.name_az.casefold()))
    return rows


def _top_overdue(
    measures: list[Measure], states: dict[int, MeasureState], locale: str
) -> tuple[AgencyOverdue, ...]:
    rows = overdue_agencies(measures, states)[:TOP_OVERDUE_AGENCIES]
    return tuple(AgencyOverdue(r.agency.name(locale), r.overdue, r.total) for r in rows)


def _scale() -> tuple[ScaleLevel, ...]:
    return tuple(
        ScaleLevel(level, str(COMPLETION_LABELS[level]), COMPLETION_WEIGHTS[level])
        for level in Completion
    )


def _build(
    session: Session,
    plan: ActionPlan,
    measures: list[Measure],
    spec: ReportSpec,
    subject: str,
    subject_original: str,
    roles: dict[int, tuple[str, ...]] | None = None,
    organisation_updates: dict[int, tuple[Assessment, ...]] | None = None,
    role_measures: dict[AgencyRole, list[int]] | None = None,
) -> Report:
    locale, as_of = spec.locale, spec.as_of
    states = measure_states(session, measures, as_of)
    latest_ids = [
        s.latest_approved_update_id for s in states.values() if s.latest_approved_update_id
    ]
    claim_ids = [s.government_claim.claim_id for s in states.values() if s.government_claim]
    updates = _load_updates(session, latest_ids)
    claims = _load_claims(session, claim_ids)

    grouped: dict[int, list[Measure]] = defaultdict(list)
    for measure in measures:
        grouped[measure.section.number].append(measure)
    sections = []
    for number in sorted(grouped):
        section = grouped[number][0].section
        sections.append(
            SectionBlock(
                number=number,
                title=section.title(locale),
                title_original=_original(section, "title", locale),
                summary=summarize(states[m.id] for m in grouped[number]),
                measures=tuple(
                    _entry(
                        m,
                        states[m.id],
                        locale,
                        plan.key,
                        updates,
                        claims,
                        (roles or {}).get(m.id, ()),
                        (organisation_updates or {}).get(m.id, ()),
                    )
                    for m in grouped[number]
                ),
            )
        )
    role_summaries = tuple(
        RoleSummary(role, str(AGENCY_ROLE_LABELS[role]), summarize(states[i] for i in ids))
        for role, ids in (role_measures or {}).items()
    )
    return Report(
        kind=spec.kind,
        locale=locale,
        as_of=as_of,
        generated_on=clock.today(),
        plan_key=plan.key,
        plan_title=plan.title(locale),
        plan_title_original=_original(plan, "title", locale),
        plan_period=plan.period,
        plan_source=plan.source,
        subject=subject,
        subject_original=subject_original,
        summary=summarize(states.values()),
        coverage=monitoring_coverage(session, [m.id for m in measures], as_of),
        sections=tuple(sections),
        overdue_agencies=_top_overdue(measures, states, locale),
        scale=_scale(),
        role_summaries=role_summaries,
        url=_report_page_url(spec),
    )


def _report_page_url(spec: ReportSpec) -> str | None:
    if spec.kind == ReportKind.PLAN:
        return public_url("public.plan", key=spec.plan_key)
    if spec.kind == ReportKind.SECTION:
        return public_url("public.section", key=spec.plan_key, number=spec.section)
    if spec.kind == ReportKind.AGENCY:
        return public_url("public.agency", key=spec.agency_key, plan=spec.plan_key)
    return public_url("registry.organisation", organisation_id=spec.organisation_id)


def _plan(session: Session, key: str) -> ActionPlan:
    plan = session.scalar(select(ActionPlan).where(ActionPlan.key == key))
    if plan is None:
        raise ReportSubjectNotFound(_l("There is no plan %(key)s.", key=key))
    return plan


def _plan_report(session: Session, spec: ReportSpec) -> Report:
    plan = _plan(session, spec.plan_key)
    measures = load_plan_measures(session, plan)
    return _build(session, plan, measures, spec, plan.title(spec.locale), "")


def _section_report(session: Session, spec: ReportSpec) -> Report:
    plan = _plan(session, spec.plan_key)
    measures = [m for m in load_plan_measures(session, plan) if m.section.number == spec.section]
    if not measures:
        raise ReportSubjectNotFound(_l("The plan has no section %(number)s.", number=spec.section))
    section = measures[0].section
    subject = _(
        "Section %(number)s. %(title)s", number=section.number, title=section.title(spec.locale)
    )
    return _build(session, plan, measures, spec, subject, _original(section, "title", spec.locale))


def _agency_report(session: Session, spec: ReportSpec) -> Report:
    plan = _plan(session, spec.plan_key)
    agency = session.scalar(select(Agency).where(Agency.key == spec.agency_key))
    if agency is None:
        raise ReportSubjectNotFound(_l("There is no agency %(key)s.", key=spec.agency_key))
    roles: dict[int, list[str]] = defaultdict(list)
    role_measures: dict[AgencyRole, list[int]] = {
        AgencyRole.EXECUTOR: [],
        AgencyRole.RECOMMENDED: [],
    }
    measures = []
    for measure in load_plan_measures(session, plan):
        measure_roles = {
            AgencyRole(link.role) for link in measure.agency_links if link.agency_id == agency.id
        }
        if not measure_roles:
            continue
        measures.append(measure)
        for role in AgencyRole:
            if role in measure_roles:
                roles[measure.id].append(str(AGENCY_ROLE_LABELS[role]))
                role_measures[role].append(measure.id)
    if not measures:
        raise ReportSubjectNotFound(_l("The agency has no measures in this plan."))
    return _build(
        session,
        plan,
        measures,
        spec,
        agency.name(spec.locale),
        _original(agency, "name", spec.locale),
        roles={k: tuple(v) for k, v in roles.items()},
        role_measures=role_measures,
    )


def has_monitoring_record(session: Session, organisation_id: int, plan_id: int) -> bool:
    """Whether an organisation's report on the plan would have something in it."""
    linked = session.scalar(
        select(MonitoringLink.id)
        .join(Measure, Measure.id == MonitoringLink.measure_id)
        .where(MonitoringLink.organisation_id == organisation_id, Measure.plan_id == plan_id)
        .limit(1)
    )
    if linked is not None:
        return True
    updated = session.scalar(
        select(StatusUpdate.id)
        .join(Measure, Measure.id == StatusUpdate.measure_id)
        .where(
            StatusUpdate.organisation_id == organisation_id,
            Measure.plan_id == plan_id,
            StatusUpdate.review_state == ReviewState.APPROVED,
            StatusUpdate.is_archived.is_(False),
        )
        .limit(1)
    )
    return updated is not None


def _organisation_report(session: Session, spec: ReportSpec) -> Report:
    plan = _plan(session, spec.plan_key)
    organisation = session.get(Organisation, spec.organisation_id)
    if organisation is None or organisation.is_archived:
        raise ReportSubjectNotFound(_l("There is no such organisation."))
    plan_measures = load_plan_measures(session, plan)
    plan_ids = [m.id for m in plan_measures]
    # the measures it monitors (links begun by the date, ended ones included: their
    # updates are part of its record) and any measure it has an approved update on
    monitored = set(
        session.scalars(
            select(MonitoringLink.measure_id).where(
                MonitoringLink.organisation_id == organisation.id,
                MonitoringLink.measure_id.in_(plan_ids),
                MonitoringLink.start_date <= spec.as_of,
            )
        )
    )
    own_updates = session.scalars(
        select(StatusUpdate)
        .where(
            StatusUpdate.organisation_id == organisation.id,
            StatusUpdate.measure_id.in_(plan_ids),
            StatusUpdate.review_state == ReviewState.APPROVED,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.as_of_date <= spec.as_of,
        )
        .options(
            joinedload(StatusUpdate.organisation),
            selectinload(StatusUpdate.evidence).joinedload(Evidence.request_agency),
        )
        .order_by(StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc())
    ).all()
    by_measure: dict[int, list[Assessment]] = defaultdict(list)
    for update in own_updates:
        by_measure[update.measure_id].append(_assessment(update, spec.locale))
    ids = monitored | set(by_measure)
    measures = [m for m in plan_measures if m.id in ids]
    if not measures:
        raise ReportSubjectNotFound(
            _l("The organisation monitors no measure of this plan by that date.")
        )
    return _build(
        session,
        plan,
        measures,
        spec,
        organisation.name(spec.locale),
        _original(organisation, "name", spec.locale),
        organisation_updates={k: tuple(v) for k, v in by_measure.items()},
    )


_BUILDERS = {
    ReportKind.PLAN: _plan_report,
    ReportKind.SECTION: _section_report,
    ReportKind.AGENCY: _agency_report,
    ReportKind.ORGANISATION: _organisation_report,
}


def build_report(session: Session, spec: ReportSpec) -> Report:
    """The report's data in the spec's language. Raises ReportSubjectNotFound."""
    if spec.locale not in LANGUAGES:
        raise ValueError(f"unsupported report language {spec.locale!r}")
    with force_locale(spec.locale):
        return _BUILDERS[spec.kind](session, spec)


def render_report(session: Session, spec: ReportSpec) -> bytes:
    """Collect and render: the PDF's bytes."""
    from tracker.services.reports.pdf import render_pdf

    return render_pdf(build_report(session, spec))
