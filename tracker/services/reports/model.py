"""What a report says, as plain frozen dataclasses: the meeting point of the two stages.

`tracker.services.reports.content` collects a report's data into these (stage 1, no
ReportLab); the `pdf*` modules render them (stage 2, the only ReportLab importers). Both
import this module, and it imports neither. `ReportSpec` says which report to make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker import clock
from tracker.numbers import percent
from tracker.services.errors import NotFound
from tracker.services.plans import PlanSummary
from tracker.vocabulary import AgencyRole, Completion, ReportKind

#: the languages a report is written in
LANGUAGES = ("az", "en")
#: the measures table shows titles cut to about this many characters
SHORT_TITLE_LENGTH = 110


class ReportSubjectNotFound(NotFound):
    """The plan, section, agency or organisation a report asks for does not exist (404)."""


def short_title(text: str, limit: int = SHORT_TITLE_LENGTH) -> str:
    """The title cut at a word boundary near `limit`, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.–- ")
    return f"{cut}…"


def plan_start(start_year: int) -> date:
    """A plan's first day: 1 January of its first year."""
    return date(start_year, 1, 1)


def as_of_range(start_year: int, end_year: int, today: date | None = None) -> tuple[date, date]:
    """The dates a plan report may describe: from the plan's start to the earlier of
    today (the clock's unless given) and the plan's end."""
    return plan_start(start_year), min(today or clock.today(), date(end_year, 12, 31))


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
        return percent(self.monitored, self.total)


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
    #: a claim about the whole plan, standing for a measure that has none of its own
    is_plan_wide: bool = False


@dataclass(frozen=True)
class MilestoneLine:
    """A milestone of a measure as the report prints it (from services.plans.status)."""

    title: str
    due_date: date
    state_label: str
    is_overdue: bool
    days_overdue: int


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
    #: the plan has ended and the measure was not complete; closes_on is its last day
    ended_incomplete: bool
    closes_on: date | None
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
    #: its milestones that are not archived, by date
    milestones: tuple[MilestoneLine, ...] = ()


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
    #: organisation report: the measures by the level of the organisation's own latest
    #: approved assessment (one it has not assessed counts as "no evidence"), beside the
    #: Platform's position that `summary` counts
    own_counts: dict[Completion, int] | None = None

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
