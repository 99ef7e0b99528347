"""The JSON API's registry (public fields only): organisations, filtered and paged, one
organisation with the measures it monitors, and live statistics."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

import tracker.services.registry as reg
from tracker import clock
from tracker.extensions import db
from tracker.forms.registry import RegistryFilterForm
from tracker.i18n import current_locale
from tracker.views.api import bp
from tracker.views.api import serializers as serialize
from tracker.views.api.arguments import per_page_arg
from tracker.vocabulary import OrganisationKind
from tracker.web.errors_map import http_error


def _invalid_filters(errors: dict):
    """400 naming what is wrong with each filter: the app's JSON error answer with the
    `fields` the OpenAPI Error object allows (web.errors_map has no place for them yet)."""
    fields = {name: [str(e) for e in messages] for name, messages in errors.items()}
    message = _("Some filters are not valid.")
    return jsonify({"error": {"status": 400, "message": message, "fields": fields}}), 400


@bp.get("/organisations")
def organisations():
    form = RegistryFilterForm(formdata=MultiDict(request.args))
    # The coalitions are the choices of one filter: only a request that names a coalition
    # needs them (to check it), and reading them is a query (an index of the coalitions).
    coalitions = reg.list_coalitions(db.session) if request.args.get("coalition") else []
    form.set_choices(current_locale(), coalitions)
    if not form.validate():
        return _invalid_filters(form.errors)
    per_page = per_page_arg()
    page = reg.search_organisations(
        db.session, form.to_filter(), form.page_number, per_page, total_per_data_version=True
    )
    coalitions = reg.coalitions_of(db.session, [o.id for o in page.items])
    return jsonify(
        {
            **serialize.page_json(page),
            "organisations": [
                {
                    **reg.public_record(o, coalitions.get(o.id, [])),
                    "monitored_measures_count": page.measure_counts.get(o.id, 0),
                }
                for o in page.items
            ],
        }
    )


def _monitored_measures_json(organisation_id: int) -> list[dict]:
    """The measures the organisation monitors today, as its record lists them."""
    today = clock.today()
    return [
        {
            "plan": link.measure.plan.key,
            "code": link.measure.code,
            "is_lead": link.is_lead,
            "since": link.start_date.isoformat(),
            "until": link.end_date.isoformat() if link.end_date else None,
        }
        for link in reg.links_of_organisation(db.session, organisation_id)
        if link.is_active_on(today)
    ]


@bp.get("/organisations/<id:organisation_id>")
def organisation(organisation_id: int):
    found = reg.get_public_organisation(db.session, organisation_id)
    if found is None:
        raise http_error(404)
    coalitions = reg.coalitions_of(db.session, [found.id]).get(found.id, [])
    record = reg.public_record(found, coalitions)
    record["monitored_measures"] = _monitored_measures_json(found.id)
    record["measure_codes"] = [m["code"] for m in record["monitored_measures"]]
    if found.kind == OrganisationKind.COALITION:
        members, total = reg.members_of(db.session, found.id, limit=None)
        record["members_in_registry"] = total
        record["members"] = [serialize.organisation_ref_json(m) for m in members]
    return jsonify(record)


@bp.get("/registry/stats")
def registry_stats():
    return jsonify(reg.registry_stats(db.session).as_json())
