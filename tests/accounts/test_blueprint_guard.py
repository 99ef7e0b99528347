"""require_roles guards every view of a blueprint, one added later included, as
roles_required guards one view: anonymous visitors are sent to log in (401 as JSON), other
roles get 403 with the page's roles named, and the refusal is in the audit log."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select

from tests.accounts.conftest import fresh
from tests.helpers import login
from tracker.extensions import db
from tracker.models import AuditEntry
from tracker.vocabulary import Role
from tracker.web.permissions import require_roles


def _guarded_blueprint() -> Blueprint:
    blueprint = Blueprint("guard_probe", __name__, url_prefix="/guard-probe")
    require_roles(blueprint, Role.ADMIN)

    # a view with no decorator of its own, as a later change might add one
    @blueprint.get("/")
    def page():
        return jsonify(ran=True)

    return blueprint


def test_every_view_of_a_guarded_blueprint_needs_the_role(app, client, admin, monitor):
    app.register_blueprint(_guarded_blueprint())

    anonymous = client.get("/guard-probe/")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=/guard-probe/")
    as_json = client.get("/guard-probe/", headers={"Accept": "application/json"})
    assert as_json.status_code == 401
    assert "ran" not in as_json.get_data(as_text=True)

    login(client, monitor)
    refused = client.get("/guard-probe/?lang=en")
    assert refused.status_code == 403
    assert "This page is for: Administrator" in refused.get_data(as_text=True)
    fresh()
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "permission.refused")
    ).all()
    assert [entry.target_id for entry in logged] == ["guard_probe.page"]

    login(client, admin)
    allowed = client.get("/guard-probe/")
    assert allowed.status_code == 200
    assert allowed.get_json() == {"ran": True}
