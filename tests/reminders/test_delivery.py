"""Digests delivered to a real SMTP server (aiosmtpd on 127.0.0.1), exactly once."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select, update

from tests.factories import make_update
from tests.helpers import login
from tests.reminders.conftest import (
    BASE_URL,
    UNSUBSCRIBE_LINK,
    baku,
    free_port,
    heading,
    html_of,
    link,
    make_organisation,
    make_user,
    text_of,
)
from tracker import clock, data_version
from tracker.extensions import db
from tracker.models import Measure, ReminderClaim, ReminderDigest, ReminderItem
from tracker.services import reminders
from tracker.services.reminders import outbox, run_reminders
from tracker.services.reminders.digests import ITEM_COLUMNS
from tracker.vocabulary import Completion, ReminderKind


def run(when: str, **kwargs):
    return run_reminders(db.session, baku(when), **kwargs)


def statuses() -> Counter:
    return Counter(
        dict(
            db.session.execute(
                select(ReminderItem.status, func.count()).group_by(ReminderItem.status)
            ).all()
        )
    )


def test_the_90_day_reminders_arrive_once_and_a_second_run_sends_nothing(world, smtp):
    first = run("2022-10-02T09:00")
    assert smtp.recipients() == Counter(
        {"aysel@example.org": 1, "adam@example.org": 1, "bahruz@example.org": 1}
    )
    assert first.digests_sent == 3
    assert first.items_sent == first.planned == first.new_items
    for message in smtp.messages:
        assert "2022-12-31" not in message["Subject"]
        body = text_of(message)
        assert "90" in body
    codes_b = text_of(smtp.to("bahruz@example.org")[0])
    assert world.m_2022[0].code in codes_b and f"* {world.m_2022[1].code} " not in codes_b

    second = run("2022-10-02T09:00")
    third = run("2022-10-02T18:30")
    assert len(smtp.messages) == 3
    assert second.new_items == third.new_items == 0
    assert second.digests_sent == third.digests_sent == 0
    assert statuses() == Counter({"sent": first.planned})


def test_a_digest_is_in_the_persons_language_grouped_by_kind_with_links(world, smtp):
    run("2022-10-02T09:00")
    m1 = world.m_2022[0]
    az_text = text_of(smtp.to("aysel@example.org")[0])
    en_text = text_of(smtp.to("adam@example.org")[0])
    assert m1.title_az in az_text and m1.title_en not in az_text
    assert m1.title_en in en_text and m1.title_az not in en_text
    assert "31 dekabr 2022" in az_text
    assert "December 31, 2022" in en_text
    # each measure once, with all its reasons: the deadline before the stale update
    assert az_text.count(f"* {m1.code} ") == 1
    reasons = en_text.split(f"* {m1.code} ")[1].split("\n* ")[0]
    assert reasons.index("Deadline approaching:") < reasons.index("No recent approved update:")
    # direct links and one signed unsubscribe link per kind
    assert f"{BASE_URL}/plans/{world.plan.key}/measures/{m1.code}" in en_text
    assert len(UNSUBSCRIBE_LINK.findall(en_text)) == 2
    html = html_of(smtp.to("adam@example.org")[0])
    assert f'href="{BASE_URL}/plans/{world.plan.key}/measures/{m1.code}"' in html
    assert len(UNSUBSCRIBE_LINK.findall(html)) == 2
    assert f"{BASE_URL}/notifications" in en_text


def test_a_measure_links_once_and_a_reason_links_on_its_own_only_to_another_page(world, smtp):
    run("2022-10-02T09:00")
    # B's 2021 measure is overdue and has no recent update: both reasons go to the form
    # of a new update, the measure's own link
    overdue = world.m_2021
    form = f"{BASE_URL}/monitor/measures/{overdue.id}/updates/new"
    b_message = smtp.to("bahruz@example.org")[0]
    block = text_of(b_message).split(f"* {overdue.code} ")[1].split("\n* ")[0]
    assert block.count("\n  - ") == 2
    assert block.count(form) == 1
    assert html_of(b_message).count(f'href="{form}"') == 1
    # A's measure due soon: the deadline goes to the measure's page, the stale update to
    # the form, so each reason keeps a link of its own
    m1 = world.m_2022[0]
    public_page = f"{BASE_URL}/plans/{world.plan.key}/measures/{m1.code}"
    m1_form = f"{BASE_URL}/monitor/measures/{m1.id}/updates/new"
    a_message = smtp.to("adam@example.org")[0]
    block = text_of(a_message).split(f"* {m1.code} ")[1].split("\n* ")[0]
    assert block.count(public_page) == 1 and block.count(m1_form) == 1
    html = html_of(a_message)
    assert html.count(f'href="{m1_form}"') == 1 and "Open the page" in html


def test_on_the_plans_last_day_overdue_reminders_go_out_for_every_measure_not_complete(
    seeded, smtp
):
    organisation = make_organisation("Hamısını İzləyən Birlik")
    make_user("all@example.org", organisation=organisation, locale="en")
    measures = list(db.session.scalars(select(Measure).order_by(Measure.position)))
    for measure in measures:
        link(organisation, measure)
    make_update(measures[3], organisation, Completion.COMPLETE, as_of=date(2022, 12, 1))
    db.session.commit()

    report = run("2022-12-31T09:00")

    assert len(smtp.messages) == 1
    body = text_of(smtp.messages[0])
    assert "\nDue or overdue: 63\n" in body
    assert f"* {measures[3].code} " not in body
    # 25 of the 63 measures, each once, the longest overdue first (then in the plan's
    # order), and a count of the others with the page that lists them all
    overdue_measures = sorted(
        (m for m in measures if m is not measures[3]), key=lambda m: (m.due_date, m.position)
    )
    assert reminders.DIGEST_MEASURES == 25 and body.count("\n* ") == 25
    assert [line.split()[1] for line in body.splitlines() if line.startswith("* ")] == [
        m.code for m in overdue_measures[:25]
    ]
    assert "…and 38 more measures. See every reminder on your notifications page." in body
    assert f"{BASE_URL}/notifications" in body
    html = html_of(smtp.messages[0])
    assert "…and 38 more measures." in html and f'href="{BASE_URL}/notifications"' in html
    overdue = db.session.scalar(
        select(func.count())
        .select_from(ReminderItem)
        .where(ReminderItem.kind == ReminderKind.OVERDUE, ReminderItem.status == "sent")
    )
    assert overdue == 63
    assert report.items_sent == report.planned


def test_smtp_down_for_one_run_then_each_message_is_delivered_once(world, smtp, app):
    app.config["SMTP_PORT"] = free_port()  # nothing listens there: connection refused
    down = run("2022-10-02T09:00")
    assert down.digests_sent == 0 and down.stopped_early
    assert smtp.messages == []
    counts = statuses()
    assert counts["sent"] == 0
    assert counts["retry"] + counts["pending"] == down.planned

    app.config["SMTP_PORT"] = smtp.port
    back = run("2022-10-02T09:30")
    assert smtp.recipients() == Counter(
        {"aysel@example.org": 1, "adam@example.org": 1, "bahruz@example.org": 1}
    )
    assert back.items_sent == down.planned
    run("2022-10-02T10:30")
    run("2022-10-03T09:00")
    assert len(smtp.messages) == 3
    assert statuses()["sent"] == down.planned


def test_a_451_on_the_first_try_is_retried_with_backoff_and_delivered_once(world, smtp):
    smtp.handler.refuse_once["aysel@example.org"] = "451 4.7.1 Greylisted, try again later"
    first = run("2022-10-02T09:00")
    assert first.digests_sent == 2 and first.digests_retry == 1
    assert smtp.recipients()["aysel@example.org"] == 0
    retry = db.session.scalars(
        select(ReminderItem).where(ReminderItem.recipient_id == world.a_az.id)
    ).all()
    assert {i.status for i in retry} == {"retry"}
    assert {i.attempts for i in retry} == {1}
    assert {i.next_attempt_dt for i in retry} == {baku("2022-10-02T09:15")}
    assert "451" in retry[0].last_error

    too_early = run("2022-10-02T09:10")
    assert too_early.digests_sent == 0
    later = run("2022-10-02T09:20")
    assert later.digests_sent == 1
    run("2022-10-02T12:00")
    assert smtp.recipients() == Counter(
        {"aysel@example.org": 1, "adam@example.org": 1, "bahruz@example.org": 1}
    )
    assert smtp.handler.attempts["aysel@example.org"] == 2
    digests = db.session.scalars(
        select(ReminderDigest).where(ReminderDigest.recipient_id == world.a_az.id)
    ).all()
    assert sorted((d.status, d.smtp_code) for d in digests) == [("retry", 451), ("sent", 250)]


def test_a_5xx_answer_marks_the_message_failed_and_admins_see_it(world, smtp, client):
    smtp.handler.refuse["bahruz@example.org"] = "550 5.1.1 No such mailbox"
    first = run("2022-10-02T09:00")
    assert first.digests_failed == 1
    run("2022-10-03T09:00")
    assert smtp.handler.attempts["bahruz@example.org"] == 1
    failed = db.session.scalars(
        select(ReminderItem).where(ReminderItem.recipient_id == world.b_az.id)
    ).all()
    assert {i.status for i in failed} == {"failed"}

    login(client, world.admin)
    page = client.get("/admin/reminders/").get_data(as_text=True)
    assert "bahruz@example.org" in page and "550" in page

    # After fixing the address, the admin sends it again: it goes out once.
    del smtp.handler.refuse["bahruz@example.org"]
    digest = db.session.scalar(
        select(ReminderDigest).where(ReminderDigest.recipient_id == world.b_az.id)
    )
    from tests.helpers import csrf_token_from

    token = csrf_token_from(client, "/admin/reminders/")
    response = client.post(
        f"/admin/reminders/digests/{digest.id}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    run_reminders(db.session, clock.now_utc() + timedelta(minutes=1), date(2022, 10, 3))
    assert smtp.recipients()["bahruz@example.org"] == 1
    assert "bahruz@example.org" not in client.get("/admin/reminders/").get_data(as_text=True)


def test_without_smtp_mail_is_off_and_the_items_stay_in_the_app(world, app, caplog):
    assert app.config["SMTP_HOST"] is None
    with caplog.at_level(logging.INFO, logger="tracker.services.reminders.jobs"):
        report = run("2022-10-02T09:00")
    assert "Mail is off" in caplog.text
    assert not report.mail_enabled
    assert statuses() == Counter({"in_app_only": report.planned})


def test_items_planned_while_mail_was_off_are_not_mailed_later(world, app, smtp):
    app.config["SMTP_HOST"] = None
    run("2022-10-02T09:00")
    app.config["SMTP_HOST"] = "127.0.0.1"
    report = run("2022-10-03T09:00")
    assert report.digests_sent == 0
    assert smtp.messages == []


def test_items_claimed_by_another_process_are_not_sent_again(world, smtp):
    now = baku("2022-10-02T09:00")
    reminders.record_planned(db.session, reminders.plan_reminders(db.session, now.date(), now), now)
    claimed = outbox.claim_batch(db.session, [world.a_az.id], now, ITEM_COLUMNS)
    db.session.commit()
    (claimed_items,) = claimed.values()
    assert claimed_items

    run("2022-10-02T09:05")
    assert smtp.recipients()["aysel@example.org"] == 0
    assert smtp.recipients()["adam@example.org"] == 1

    # The other process died mid-send: once its claim is stale, the items go out once.
    db.session.execute(
        update(ReminderClaim).values(
            claimed_dt=clock.now_utc() - reminders.CLAIM_TIMEOUT - timedelta(minutes=1)
        )
    )
    db.session.commit()
    recovered = run("2022-10-02T09:40")
    assert recovered.recovered_claims == 1
    assert recovered.items_sent == len(claimed_items)
    run("2022-10-02T10:40")
    assert smtp.recipients()["aysel@example.org"] == 1
    assert db.session.scalar(select(func.count()).select_from(ReminderClaim)) == 0


def test_a_dry_run_writes_nothing_and_shows_each_digest(world, smtp):
    report = run("2022-10-02T09:00", dry_run=True)
    assert smtp.messages == []
    assert db.session.scalar(select(func.count()).select_from(ReminderItem)) == 0
    assert sorted(d.to for d in report.previews) == [
        "adam@example.org",
        "aysel@example.org",
        "bahruz@example.org",
    ]
    assert sum(d.item_count for d in report.previews) == report.planned
    real = run("2022-10-02T09:00")
    assert real.items_sent == report.planned


def test_unsubscribing_cancels_that_kinds_items_not_yet_sent(world, smtp):
    smtp.handler.refuse_once["aysel@example.org"] = "421 4.3.2 Service shutting down"
    run("2022-10-02T09:00")
    reminders.set_subscription(db.session, world.a_az, ReminderKind.UPDATE_STALE, False)
    db.session.commit()
    run("2022-10-02T10:00")
    body = text_of(smtp.to("aysel@example.org")[0])
    assert heading(ReminderKind.DEADLINE_APPROACHING, "az") in body
    assert heading(ReminderKind.UPDATE_STALE, "az") not in body


def test_a_reminder_run_leaves_the_public_data_version_as_it_was(world, smtp):
    """Planning, claims, digests and answers are private: a run must not empty the cache
    of public pages (nor make every claim's commit write the version's one row)."""
    before = data_version.current(db.session).number
    db.session.commit()
    report = run("2022-10-02T09:00")
    assert report.digests_sent == 3
    assert data_version.current(db.session).number == before
