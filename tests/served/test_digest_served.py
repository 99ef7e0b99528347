"""The reminder digest as the served app sends it: one message per person to the real SMTP
server (aiosmtpd), read back with the email package: a text part and an HTML part
(multipart/alternative), each measure once with all its reasons, and the RFC 8058
List-Unsubscribe headers whose one-click POST works without cookie or CSRF token; the
review queue's reminder reaches only the reviewers who may review the update."""

from __future__ import annotations

import re
from datetime import date

import pytest
import requests
from sqlalchemy import select

from tests.monitoring.conftest import make_organisation, make_user
from tests.reminders.conftest import baku, link
from tests.served.server import email_text, end_test_transaction
from tracker.extensions import db
from tracker.models import Measure, OrganisationMembership, ReminderOptOut, StatusUpdate, User
from tracker.vocabulary import ReminderKind, ReviewState

pytestmark = pytest.mark.served

ADDRESS = "digest-reader@example.org"
REVIEWER = "fair-reviewer@example.org"
FORMER_MONITOR = "former-monitor@example.org"


def _waiting_update() -> None:
    """An update waiting for review since 23:30 Baku time on 19 September, written by an
    organisation that a reviewer belonged to; another reviewer never did."""
    writer = make_organisation("Keçmiş Üzvlər Birliyi", "Former Members Union")
    measure = db.session.scalar(
        select(Measure).where(Measure.end_year == 2021).order_by(Measure.position).limit(1)
    )
    link(writer, measure)
    make_user(REVIEWER, "reviewer", locale="en")
    former = make_user(FORMER_MONITOR, "reviewer", locale="en")
    db.session.add(
        OrganisationMembership(
            user_id=former.id,
            organisation_id=writer.id,
            from_dt=baku("2021-01-01T09:00"),
            to_dt=baku("2022-06-01T09:00"),
        )
    )
    db.session.add(
        StatusUpdate(
            measure_id=measure.id,
            organisation_id=writer.id,
            completion="limited",
            as_of_date=date(2022, 9, 1),
            review_state=ReviewState.SUBMITTED,
            submitted_dt=baku("2022-09-19T23:30"),
        )
    )


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
    _waiting_update()
    db.session.commit()
    codes = [measure.code for measure in due_2022]
    result = served.run_cli("send-reminders", "--now", "2022-10-02T09:00")
    assert result.returncode == 0, result.stdout + result.stderr
    return served.email_to(ADDRESS), codes


def test_the_digest_has_both_parts_each_measure_once_and_one_click_unsubscribe(served):
    message, codes = _digest(served)
    # the review queue: nothing to the reviewer whose former organisation wrote the
    # update; 13 calendar days in Baku (12 days and 9 hours and a half) to the other
    assert served.emails_to(FORMER_MONITOR) == []
    waiting = email_text(served.email_to(REVIEWER))
    assert "Former Members Union has waited for review since" in waiting
    assert "(13 days)" in waiting
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
