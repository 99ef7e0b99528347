"""What the fuzz (test_fuzz_served.py) found, as fast in-process checks: a blank choice in
a filter's query string was let through by Optional() unchecked and then used as a key
(500); it now means "not given"."""

from __future__ import annotations

from sqlalchemy import select

from tests.accounts.conftest import password_hash
from tests.helpers import login
from tracker.extensions import db
from tracker.models import ReportRequest, User


def test_a_blank_report_language_means_the_default_not_a_500(client, seeded):
    response = client.get("/reports/download?plan=az-nap-2020-2022&lang=%C2%A0")
    # queued for the scheduler (reports are never built in a request), in the default language
    assert response.status_code == 202
    assert db.session.scalars(select(ReportRequest.locale)).all() in (["az"], ["en"])


def test_a_blank_status_in_the_admin_registry_search_means_active(client, app):
    admin = User(email="admin@example.org", role="admin", password_hash=password_hash())
    db.session.add(admin)
    db.session.commit()
    login(client, admin)
    assert client.get("/admin/organisations/?q=x&status=%20").status_code == 200
