"""The JSON API's monitoring data: the approved updates of one measure, a page at a time.
Only approved, current material; organisations are named, people never."""

from __future__ import annotations

from flask import jsonify

from tracker.extensions import db
from tracker.models import Measure
from tracker.services.monitoring import public_history
from tracker.views.api import bp
from tracker.views.api import serializers as serialize
from tracker.views.api.arguments import paging
from tracker.web.permissions import get_or_404


@bp.get("/measures/<id:measure_id>/updates")
def measure_updates(measure_id: int):
    measure = get_or_404(Measure, measure_id)
    page, per_page = paging()
    history = public_history(db.session, measure.id, limit=per_page, offset=(page - 1) * per_page)
    return jsonify(
        {
            "page": page,
            "per_page": per_page,
            "total": history.total,
            "measure": serialize.measure_ref_json(measure),
            "updates": [
                serialize.update_json(update, with_measure=False) for update in history.updates
            ],
        }
    )
