"""The reminder digest as the served app sends it: one message per person to the real SMTP
server (aiosmtpd), read back with the email package: a text part and an HTML part
(multipart/alternative), each measure once with all its reasons, and the RFC 8058
List-Unsubscribe headers whose one-click POST works without cookie or CSRF token."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from tests.monitoring.conftest import make_organisation, make_user
from tests.reminders.conftest import link
from tests.served.server import end_test_transaction
from tracker.extensions import db
from tracker.models import Measure, ReminderOptOut, User
from tracker.vocabulary import ReminderKind

pytestmark = pytest.mark.served

ADDRESS = "digest-reader@example.org"


def _digest(served):
    organisation = make_organisation("Hesabatlılıq Birliyi", "Accountability Union")
    make_user(ADDRESS, "monitor", organisation, locale="en", display_name="Nigar")
    due_2022 = list(
        db.session.scalars(
            select(Measure).where(Measure.end_year == 2022).order_by(Measure.position).limit(2)
        )
    )
    for measure in due_2022:
        link(organisation, measure)
    db.session.commit()
    codes = [measure.code for measure in due_2022]
    result = served.run_cli("send-reminders", "--now", "2022-10-02T09:00")
    assert result.returncode == 0, result.stdout + result.stderr
    return served.email_to(ADDRESS), codes


def test_the_digest_has_both_parts_each_measure_once_and_one_click_unsubscribe(served):
    message, codes = _digest(served)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for code in codes:
        # once, with both reasons: the deadline comes, and no approved update yet
        assert text.count(f"* {code} ") == 1
        reasons = text.split(f"* {code} ")[1].split("\n* ")[0]
        assert "Deadline approaching:" in reasons and "No recent approved update:" in reasons
        assert html.count(f"<strong>{code}</strong>") == 1
    # a styled layout that mail clients render: tables and inline styles, no <style> sheet
    assert '<table role="presentation"' in html and 'style="' in html and "<style" not in html

    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"]
    assert dict(message.raw_items())["List-Unsubscribe"] == header  # as sent: no encoded-words
    one_click = re.fullmatch(r"<(http[^>]+/unsubscribe-all/[^>]+)>", header).group(1)
    assert one_click.startswith(served.url)  # on PUBLIC_BASE_URL

    end_test_transaction()  # on SQLite, a read here would hold off the server's write
    # The mail client's POST: no cookie, no CSRF token, the body RFC 8058 prescribes.
    response = requests.post(
        one_click, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 200
    user_id = db.session.scalar(select(User.id).where(User.email == ADDRESS))
    stopped = db.session.scalars(
        select(ReminderOptOut.kind).where(
            ReminderOptOut.user_id == user_id, ReminderOptOut.is_active.is_(True)
        )
    )
    assert set(stopped) == {str(kind) for kind in ReminderKind}
    # a link this site did not make changes nothing and says so
    payload, _, signature = one_click.rpartition(".")
    forged = f"{payload}.{signature[::-1]}"
    end_test_transaction()
    assert (
        requests.post(forged, data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 400
    )
