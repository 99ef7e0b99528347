"""JSON shapes of the public API, shared by every endpoint that returns these objects."""

from __future__ import annotations

from flask import url_for

from tracker.models import ActionPlan, Agency, Evidence, Measure, Section
from tracker.services.plans import AgencyFigures, MeasureState, PlanSummary
from tracker.vocabulary import AgencyRole, EvidenceType


def bilingual(obj, attr: str) -> dict[str, str]:
    return {"az": getattr(obj, f"{attr}_az"), "en": getattr(obj, f"{attr}_en")}


def state_json(state: MeasureState) -> dict:
    claim = state.government_claim
    return {
        "as_of": state.as_of.isoformat(),
        "completion": str(state.completion),
        "progress_percent": state.progress_percent,
        "is_overdue": state.is_overdue,
        "days_overdue": state.days_overdue,
        "days_remaining": state.days_remaining,
        "has_evidence": state.has_evidence,
        "is_disputed": state.is_disputed,
        "government_claim": None
        if claim is None
        else {"completion": str(claim.completion), "claim_date": claim.claim_date.isoformat()},
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
    }


def summary_json(summary: PlanSummary) -> dict:
    return {
        "total": summary.total,
        "counts": {str(level): n for level, n in summary.counts.items()},
        "overdue": summary.overdue,
        "disputed": summary.disputed,
        "with_evidence": summary.with_evidence,
        "evidence_share": summary.evidence_share,
        "score": summary.score,
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


def evidence_json(item: Evidence) -> dict:
    """An evidence item as the API shows it (callers pass only what the viewer may see)."""
    data = {
        "type": item.evidence_type,
        "title": item.title,
        "date": item.evidence_date.isoformat() if item.evidence_date else None,
        "url": item.url,
        "file_url": url_for("files.download", file_id=item.file_id, _external=True)
        if item.file_id
        else None,
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
