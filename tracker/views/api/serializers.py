"""JSON shapes of the public API, shared by every endpoint that returns these objects.
Absolute links are built on PUBLIC_BASE_URL (web.links), never on the request's Host."""

from __future__ import annotations

from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    Measure,
    Organisation,
    Section,
    StatusUpdate,
)
from tracker.pagination import Page
from tracker.services.plans import AgencyFigures, MeasureState, MilestoneStatus, PlanSummary
from tracker.services.reports import public_evidence
from tracker.vocabulary import AgencyRole, EvidenceType
from tracker.web.links import public_url


def page_json(page: Page) -> dict:
    """Where a page stands in its list: the members every paged answer starts with."""
    return {
        "page": page.number,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


def bilingual(obj, attr: str) -> dict[str, str]:
    return {"az": getattr(obj, f"{attr}_az"), "en": getattr(obj, f"{attr}_en")}


def claim_json(claim) -> dict:
    """The government's claim that speaks for a measure (its own, or its plan's), with
    its source."""
    return {
        "completion": str(claim.completion),
        "claim_date": claim.claim_date.isoformat(),
        "scope": "plan" if claim.is_plan_wide else "measure",
        "source_title": claim.source_title,
        "source_url": claim.source_url,
        "file_url": public_url("files.download", public_id=claim.file_public_id)
        if claim.file_public_id
        else None,
    }


def state_json(state: MeasureState) -> dict:
    claim = state.government_claim
    return {
        "as_of": state.as_of.isoformat(),
        "completion": str(state.completion),
        "progress_percent": state.progress_percent,
        "is_overdue": state.is_overdue,
        "days_overdue": state.days_overdue,
        "days_remaining": state.days_remaining,
        "is_closed": state.is_closed,
        "ended_incomplete": state.ended_incomplete,
        "closes_on": state.closes_on.isoformat() if state.closes_on else None,
        "last_updated": state.last_updated.isoformat() if state.last_updated else None,
        "is_at_risk": state.is_at_risk,
        "has_evidence": state.has_evidence,
        "is_disputed": state.is_disputed,
        "government_claim": None if claim is None else claim_json(claim),
        "assessments": [
            {
                "organisation_id": a.organisation_id,
                "organisation": {"az": a.organisation_name_az, "en": a.organisation_name_en},
                "completion": str(a.completion),
                "progress_percent": a.progress_percent,
                "as_of_date": a.as_of_date.isoformat(),
            }
            for a in state.assessments
        ],
    }


def measure_json(measure: Measure, state: MeasureState) -> dict:
    executors = [link for link in measure.agency_links if link.role == AgencyRole.EXECUTOR]
    recommended = [link for link in measure.agency_links if link.role == AgencyRole.RECOMMENDED]
    return {
        "code": measure.code,
        "section": measure.section.number,
        "title": bilingual(measure, "title"),
        "indicator": bilingual(measure, "indicator"),
        "executors": [link.name_as_written for link in executors],
        "recommended": [link.name_as_written for link in recommended],
        "executor_agency_keys": [link.agency.key for link in executors],
        "recommended_agency_keys": [link.agency.key for link in recommended],
        "deadline": measure.deadline,
        "start_year": measure.start_year,
        "end_year": measure.end_year,
        "due_date": state.due_date.isoformat(),
        "state": state_json(state),
        "milestones": [milestone_json(m) for m in state.milestones],
    }


def milestone_json(milestone: MilestoneStatus) -> dict:
    return {
        "id": milestone.milestone_id,
        "title": {"az": milestone.title_az, "en": milestone.title_en},
        "due_date": milestone.due_date.isoformat(),
        "state": str(milestone.state),
        "is_final": milestone.is_final,
        "is_overdue": milestone.is_overdue,
        "days_overdue": milestone.days_overdue,
    }


def measure_ref_json(measure: Measure) -> dict:
    """A measure by id, plan key and code, where it is named beside something else."""
    return {"id": measure.id, "plan": measure.plan.key, "code": measure.code}


def summary_json(summary: PlanSummary) -> dict:
    return {
        "total": summary.total,
        "counts": {str(level): n for level, n in summary.counts.items()},
        "overdue": summary.overdue,
        "disputed": summary.disputed,
        "with_evidence": summary.with_evidence,
        "evidence_share": summary.evidence_share,
        "score": summary.score,
        "scored": summary.scored,
        "ended_incomplete": summary.ended_incomplete,
        "is_closed": summary.is_closed,
    }


def plan_json(plan: ActionPlan) -> dict:
    return {
        "key": plan.key,
        "country": plan.country,
        "title": bilingual(plan, "title"),
        "period": plan.period,
        "start_year": plan.start_year,
        "end_year": plan.end_year,
        "source": plan.source,
    }


def section_json(section: Section, measures: list[dict], summary: PlanSummary) -> dict:
    return {
        "number": section.number,
        "title": bilingual(section, "title"),
        "summary": summary_json(summary),
        "measures": measures,
    }


def agency_json(agency: Agency) -> dict:
    return {"key": agency.key, "name": bilingual(agency, "name")}


def agency_figures_json(figures: AgencyFigures) -> dict:
    return {
        **agency_json(figures.agency),
        "spellings": sorted(figures.spellings),
        "executor_measures": [m.code for m in figures.executor_measures],
        "recommended_measures": [m.code for m in figures.recommended_measures],
        "overdue": figures.overdue,
        "summary": summary_json(figures.summary),
    }


def organisation_ref_json(organisation: Organisation) -> dict:
    """An organisation by id and name, where it is named beside something else."""
    return {"id": organisation.id, "name": bilingual(organisation, "name")}


def evidence_json(item: Evidence) -> dict:
    """An evidence item as the API shows it (callers pass only what the viewer may see)."""
    data = {
        "type": item.evidence_type,
        "title": item.title,
        "date": item.evidence_date.isoformat() if item.evidence_date else None,
        "url": item.url,
        "file_url": (
            public_url("files.download", public_id=item.file.public_id) if item.file else None
        ),
    }
    if item.evidence_type == EvidenceType.INFORMATION_REQUEST:
        data["information_request"] = {
            "sent_on": item.request_sent_on.isoformat() if item.request_sent_on else None,
            "agency": item.request_agency.key if item.request_agency else None,
            "answered_on": item.request_answered_on.isoformat()
            if item.request_answered_on
            else None,
            "outcome": item.request_outcome,
        }
    return data


def update_json(update: StatusUpdate, *, with_measure: bool = True) -> dict:
    """An approved update as the public sees it: its organisation, never its author; its
    public evidence, and only the number of private items. `with_measure` names the
    measure, which an answer about one measure leaves out."""
    public = public_evidence(update)
    data = {
        "id": update.id,
        "organisation": organisation_ref_json(update.organisation),
        "completion": update.completion,
        "progress_percent": update.progress_percent,
        "as_of_date": update.as_of_date.isoformat(),
        "narrative": bilingual(update, "narrative"),
        "delay_reasons": list(update.delay_reasons or []),
        "replaces_id": update.replaces_id,
        "approved_at": update.decided_dt.isoformat() if update.decided_dt else None,
        "evidence": [evidence_json(item) for item in public],
        "private_evidence_count": len(update.evidence) - len(public),
    }
    if with_measure:
        data["measure"] = measure_ref_json(update.measure)
    return data
