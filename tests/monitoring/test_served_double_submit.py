"""The same update or claim form sent several times at once, on the served app (gunicorn
workers, real HTTP): one record is saved, and every answer leads to it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.conftest import update_form
from tracker.extensions import db
from tracker.models import GovernmentClaim, StatusUpdate

pytestmark = pytest.mark.served

FORM_KEY = re.compile(r'name="form_key"[^>]*value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_a_form_sent_four_times_at_once_saves_one_update(served, served_world):
    world = served_world
    url = f"/monitor/measures/{world.measure_a.id}/updates/new"
    monitor = signed_in(served, world, "monitor_a")
    page = monitor.get(url).text
    [form_key], [token] = FORM_KEY.findall(page), CSRF.findall(page)[:1]
    data = update_form(csrf_token=token, form_key=form_key, submit_for_review="Submit")

    location = monitor.post_at_once(url, data)

    db.session.expire_all()
    saved = db.session.scalars(select(StatusUpdate).where(StatusUpdate.form_key == form_key)).all()
    assert len(saved) == 1
    assert saved[0].review_state == "submitted"
    assert location == f"/monitor/updates/{saved[0].id}"
    # sent once more later (a resubmit after the back button), the page it leads to says so
    again = monitor.post(f"{url}?lang=en", data=data)
    assert again.headers["Location"] == f"/monitor/updates/{saved[0].id}"
    assert "This form was sent already" in monitor.get(again.headers["Location"]).text


def test_a_claim_form_sent_four_times_at_once_records_one_claim(served, served_world):
    world = served_world
    url = f"/claims/measures/{world.measure_a.id}/new"
    reviewer = signed_in(served, world, "reviewer")
    page = reviewer.get(url).text
    [form_key], [token] = FORM_KEY.findall(page), CSRF.findall(page)[:1]
    data = {
        "csrf_token": token,
        "form_key": form_key,
        "claimed_completion": "complete",
        "claim_date": "2021-05-20",
        "source_title": "Report of the Ministry of Justice",
        "source_url": "https://justice.gov.az/report-2021",
    }

    measure_page = reviewer.post_at_once(url, data)

    db.session.expire_all()
    saved = db.session.scalars(
        select(GovernmentClaim).where(GovernmentClaim.form_key == form_key)
    ).all()
    assert len(saved) == 1 and saved[0].is_public
    assert measure_page.endswith("/measures/1.1")
    again = reviewer.post(f"{url}?lang=en", data=data)
    assert "This form was sent already" in reviewer.get(again.headers["Location"]).text
