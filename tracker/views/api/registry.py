"""The registry's JSON API (public fields only): organisations and live statistics."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

import tracker.services.registry as reg
from tracker import clock
from tracker.extensions import db
from tracker.forms.registry import RegistryFilterForm
from tracker.i18n import current_locale
from tracker.services.registry import links_of_organisation, registry_stats
from tracker.vocabulary import OrganisationKind

bp = Blueprint("registry_api", __name__, url_prefix="/api/v1")

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500


def _bad_request(message: str, fields: dict | None = None):
    body = {"error": {"status": 400, "message": message}}
    if fields:
        body["error"]["fields"] = {
            name: [str(e) for e in errors] for name, errors in fields.items()
        }
    return jsonify(body), 400


@bp.get("/organisations")
def organisations():
    form = RegistryFilterForm(formdata=MultiDict(request.args))
    form.set_choices(current_locale(), reg.list_coalitions(db.session))
    if not form.validate():
        return _bad_request(_("Some filters are not valid."), form.errors)
    per_page_text = request.args.get("per_page", str(DEFAULT_PER_PAGE))
    per_page = int(per_page_text) if per_page_text.isdigit() else 0
    if not 1 <= per_page <= MAX_PER_PAGE:
        return _bad_request(_("per_page must be between 1 and %(max)s.", max=MAX_PER_PAGE))
    page = reg.search_organisations(db.session, form.to_filter(), form.page_number, per_page)
    coalitions = reg.coalitions_of(db.session, [o.id for o in page.organisations])
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "organisations": [
                {
                    **reg.public_record(o, coalitions.get(o.id, [])),
                    "monitored_measures_count": page.measure_counts.get(o.id, 0),
                }
                for o in page.organisations
            ],
        }
    )


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    found = reg.get_public_organisation(db.session, organisation_id)
    if found is None:
        abort(404)
    coalitions = reg.coalitions_of(db.session, [found.id]).get(found.id, [])
    today = clock.today()
    links = [
        link for link in links_of_organisation(db.session, found.id) if link.is_active_on(today)
    ]
    record = reg.public_record(found, coalitions)
    record["monitored_measures"] = [
        {
            "plan": link.measure.plan.key,
            "code": link.measure.code,
            "is_lead": link.is_lead,
            "since": link.start_date.isoformat(),
            "until": link.end_date.isoformat() if link.end_date else None,
        }
        for link in links
    ]
    record["measure_codes"] = [link.measure.code for link in links]
    if found.kind == OrganisationKind.COALITION:
        members, total = reg.members_of(db.session, found.id, limit=None)
        record["members_in_registry"] = total
        record["members"] = [
            {"id": m.id, "name": {"az": m.name_az, "en": m.name_en}} for m in members
        ]
    return jsonify(record)


@bp.get("/registry/stats")
def stats():
    return jsonify(registry_stats(db.session).as_json())
