"""Public monitoring data: the approved updates of a measure as JSON, and the approved
history and government claims on the public measure page. Only approved, current material;
organisations are named, people never."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import Evidence, Measure, StatusUpdate
from tracker.services.monitoring import public_history
from tracker.views.api import serializers as serialize

bp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1")


def _update_json(update: StatusUpdate, evidence: list[Evidence], private_count: int) -> dict:
    return {
        "id": update.id,
        "organisation": {
            "id": update.organisation_id,
            "name": {"az": update.organisation.name_az, "en": update.organisation.name_en},
        },
        "completion": update.completion,
        "progress_percent": update.progress_percent,
        "as_of_date": update.as_of_date.isoformat(),
        "narrative": {"az": update.narrative_az, "en": update.narrative_en},
        "delay_reasons": list(update.delay_reasons or []),
        "replaces_id": update.replaces_id,
        "approved_at": update.decided_dt.isoformat() if update.decided_dt else None,
        "evidence": [serialize.evidence_json(item) for item in evidence],
        "private_evidence_count": private_count,
    }


@bp.get("/measures/<int:measure_id>/updates")
def measure_updates(measure_id: int):
    measure = db.session.get(Measure, measure_id, options=[joinedload(Measure.plan)])
    if measure is None:
        abort(404)
    history = public_history(db.session, measure.id, limit=None)
    return jsonify(
        {
            "measure": {"id": measure.id, "plan": measure.plan.key, "code": measure.code},
            "updates": [
                _update_json(
                    update,
                    history.evidence_by_update[update.id],
                    history.private_counts[update.id],
                )
                for update in history.updates
            ],
        }
    )
