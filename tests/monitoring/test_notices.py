"""Instant notices (services.reminders.notices): reviewers are told of a submitted update,
and monitors of a returned or approved one, in the app at once and by email through the
mail outbox, subject to the admin's and the person's settings."""

from __future__ import annotations

import re

from sqlalchemy import event, func, select

from tests.monitoring.conftest import NOTICE_BASE_URL as BASE_URL
from tests.monitoring.conftest import as_user, csrf, make_user, update_form
from tests.monitoring.test_review import decide, submitted_update
from tests.reminders.conftest import html_of, reminder_item_reads, text_of
from tracker import clock
from tracker.dates import show_date
from tracker.extensions import db
from tracker.models import (
    MailRequest,
    ReminderItem,
    ReminderOptOut,
    ReminderSetting,
    StatusUpdate,
)
from tracker.services import reminders
from tracker.services.accounts import users
from tracker.vocabulary import DeliveryStatus, MailKind, MailStatus, ReminderKind

UNREAD = re.compile(r'class="unread-count"[^>]*><span aria-hidden="true">(\d+)</span>')


def notices(user, kind: ReminderKind | None = None) -> list[ReminderItem]:
    query = select(ReminderItem).where(ReminderItem.recipient_id == user.id)
    if kind is not None:
        query = query.where(ReminderItem.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query.order_by(ReminderItem.id)))


def notice_mail(item: ReminderItem) -> MailRequest | None:
    return db.session.scalar(select(MailRequest).where(MailRequest.reminder_item_id == item.id))


def nav_count(client, url: str) -> int:
    match = UNREAD.search(client.get(url).get_data(as_text=True))
    return int(match.group(1)) if match else 0


def settle_reads(action) -> list[list[str]]:
    """How each statement that settles notices (marks them read) reads the outbox while
    `action` runs: the index it uses, else what it does (services.reminders.notices)."""
    reads = []

    def explain(connection, _cursor, statement, parameters, _context, _many):
        if statement.startswith("UPDATE reminder_item SET read_dt"):
            reads.append(reminder_item_reads(connection, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    return reads


def test_a_submission_tells_the_reviewers_at_once_and_mails_them(client, world, smtp):
    other_reviewer = make_user("second@example.org", "reviewer", locale="en")
    db.session.commit()
    update = submitted_update(client, world, "1.1")

    for reviewer in (world.reviewer, other_reviewer):
        [item] = notices(reviewer)
        assert (item.kind, item.update_id, item.status) == (
            ReminderKind.UPDATE_SUBMITTED,
            update.id,
            DeliveryStatus.QUEUED,
        )
        assert item.read_dt is None
        assert notice_mail(item).kind == MailKind.NOTICE
    assert notices(world.monitor_a) == [] and notices(world.monitor_b) == []

    # In the app at once: the reviewer's navigation counts it.
    as_user(client, other_reviewer)
    assert nav_count(client, "/review/") == 1

    # The mail-outbox job sends each email and the notice takes its outcome.
    run = reminders.deliver_notice_mail(db.session, clock.now_utc())
    assert run.sent == 2
    [message] = smtp.to("second@example.org")
    assert message["Subject"] == "1.1: Update submitted for review"
    assert "Transparency Association submitted an update on" in text_of(message)
    assert f"{BASE_URL}/review/updates/{update.id}" in text_of(message)
    assert f'href="{BASE_URL}/review/updates/{update.id}"' in html_of(message)
    assert f"{BASE_URL}/unsubscribe/" in text_of(message)
    assert all(item.status == DeliveryStatus.SENT for item in notices(other_reviewer))
    # A second run sends nothing again.
    assert reminders.deliver_notice_mail(db.session, clock.now_utc()).sent == 0
    assert len(smtp.messages) == 2


def test_with_mail_off_a_waiting_notice_says_it_stays_in_the_app(client, world, smtp, app):
    """It said "Email on its way" until the outbox job found mail off and changed it."""
    submitted_update(client, world, "1.1")
    [item] = notices(world.reviewer)
    assert item.status == DeliveryStatus.QUEUED
    as_user(client, world.reviewer)
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "Email on its way" in page and "In the app only" not in page
    app.config["SMTP_HOST"] = None
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "In the app only" in page and "Email on its way" not in page


def test_a_return_tells_the_monitors_of_that_organisation_only(client, world, smtp):
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    db.session.commit()
    update = submitted_update(client, world, "1.1")
    as_user(client, world.reviewer)
    assert (
        decide(client, update.id, "return", reason="Cite the ministry's reply.").status_code == 302
    )

    for monitor in (world.monitor_a, colleague):
        [item] = notices(monitor)
        assert (item.kind, item.update_id) == (ReminderKind.UPDATE_RETURNED, update.id)
    assert notices(world.monitor_b) == []

    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [message] = smtp.to("aysel@example.org")
    assert f"/monitor/updates/{update.id}/revise" in text_of(message)
    # what to fix, without signing in first; escaped in the HTML part
    assert "The reviewer's reason:\nCite the ministry's reply." in text_of(message)
    assert "s reply.</blockquote>" in html_of(message)
    # mail clients offer one-click unsubscribe, as for the digests (RFC 2369, RFC 8058)
    assert re.fullmatch(r"<http[^>]+/unsubscribe-all/[^>]+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The daily planning finds the same notice there and adds no second one.
    reminders.run_reminders(db.session, clock.now_utc())
    assert len(notices(world.monitor_a, ReminderKind.UPDATE_RETURNED)) == 1
    texts = [text_of(m) for m in smtp.to("aysel@example.org")]
    assert sum(t.count("A reviewer returned the update") for t in texts) == 1


def test_an_approval_tells_the_monitors(client, world, smtp):
    update = submitted_update(client, world, "1.2")
    as_user(client, world.reviewer)
    assert decide(client, update.id, "approve").status_code == 302
    [item] = notices(world.monitor_a)
    assert item.kind == ReminderKind.UPDATE_APPROVED
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [message] = smtp.to("aysel@example.org")
    assert "approved the update of Transparency Association" in text_of(message)
    assert f"/monitor/updates/{update.id}" in text_of(message)


def test_a_person_who_stopped_the_emails_still_gets_the_notice_in_the_app(client, world, smtp):
    db.session.add(ReminderOptOut(user_id=world.reviewer.id, kind="update_submitted"))
    db.session.commit()
    submitted_update(client, world, "1.1")
    [item] = notices(world.reviewer)
    assert item.status == DeliveryStatus.CANCELLED
    assert notice_mail(item) is None
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    assert smtp.messages == []


def test_stopping_the_emails_after_the_notice_was_queued_sends_nothing(client, world, smtp):
    submitted_update(client, world, "1.1")
    db.session.add(ReminderOptOut(user_id=world.reviewer.id, kind="update_submitted"))
    db.session.commit()
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [item] = notices(world.reviewer)
    assert (notice_mail(item).status, notice_mail(item).reason) == (MailStatus.SKIPPED, "opted_out")
    assert item.status == DeliveryStatus.CANCELLED
    assert smtp.messages == []


def test_a_kind_the_admin_switched_off_records_nothing(client, world, smtp):
    db.session.add(ReminderSetting(kind="update_submitted", is_enabled=False, offsets_days=[]))
    db.session.commit()
    submitted_update(client, world, "1.1")
    assert notices(world.reviewer) == []
    assert db.session.scalar(select(func.count()).select_from(MailRequest)) == 0


def test_without_mail_the_notice_stays_in_the_app(client, world):
    submitted_update(client, world, "1.1")
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [item] = notices(world.reviewer)
    assert item.status == DeliveryStatus.IN_APP_ONLY
    assert notice_mail(item).reason == "mail_off"


def test_the_notices_page_marks_what_it_shows_as_read(client, world):
    update = submitted_update(client, world, "1.1")
    as_user(client, world.reviewer)
    assert nav_count(client, "/review/") == 1
    page = client.get("/notifications").get_data(as_text=True)
    # shown as new this once, with a link to the review page
    assert "is-unread" in page
    assert f"/review/updates/{update.id}" in page
    assert "submitted an update on" in page
    # its day in the format of every other page (not Babel's "medium", "Jun 15, 2021")
    [planned] = notices(world.reviewer)
    with client.application.test_request_context("/?lang=en"):
        assert f">{show_date(planned.planned_dt)}</time>" in page
    assert nav_count(client, "/review/") == 0
    assert all(item.read_dt is not None for item in notices(world.reviewer))
    assert "is-unread" not in client.get("/notifications").get_data(as_text=True)


def test_a_reviewer_who_may_not_review_the_update_is_not_told_of_it(client, world):
    """The notice follows the review pages' rule: a reviewer who once was a monitor of the
    organisation that wrote the update may not review it, so is not sent to."""
    former = make_user("former@example.org", "monitor", world.org_a)
    db.session.commit()
    users.change_role(db.session, former, role="reviewer", organisation_id=None, actor=world.admin)
    db.session.commit()
    update = submitted_update(client, world, "1.1")
    assert notices(former) == []
    [told] = notices(world.reviewer)
    assert (told.kind, told.update_id) == (ReminderKind.UPDATE_SUBMITTED, update.id)


def test_submitting_the_revision_settles_the_notices_of_the_return(client, world):
    """The monitors' "returned" notice asks them to revise the update: once its revision
    is submitted, nothing is left to do, so it is no longer new (a draft revision is not
    enough: the work is not done)."""
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    db.session.commit()
    update = submitted_update(client, world, "1.1")
    as_user(client, world.reviewer)
    assert decide(client, update.id, "return", reason="Cite the reply.").status_code == 302
    as_user(client, world.monitor_a)
    revise = f"/monitor/updates/{update.id}/revise"
    draft = update_form(csrf_token=csrf(client), save_draft="Save draft", submit_for_review="")
    assert client.post(revise, data=draft, content_type="multipart/form-data").status_code == 302
    assert [item.read_dt for item in notices(colleague)] == [None]
    revision = db.session.scalar(select(StatusUpdate).where(StatusUpdate.replaces_id == update.id))
    submit = f"/monitor/updates/{revision.id}/submit"
    assert client.post(submit, data={"csrf_token": csrf(client)}).status_code == 302
    for monitor in (world.monitor_a, colleague):
        [item] = notices(monitor, ReminderKind.UPDATE_RETURNED)
        assert item.read_dt is not None, monitor.email
    as_user(client, colleague)
    assert nav_count(client, "/monitor/") == 0


def test_a_decision_settles_every_reviewers_notice_of_the_update(client, world):
    """Once one reviewer decides, the others' "submitted for review" notices are no longer
    new: nothing waits for them. The monitors' notice of the decision is new."""
    other_reviewer = make_user("second@example.org", "reviewer", locale="en")
    db.session.commit()
    update = submitted_update(client, world, "1.1")
    waiting = submitted_update(client, world, "1.2")
    as_user(client, other_reviewer)
    assert nav_count(client, "/review/") == 2
    as_user(client, world.reviewer)
    assert decide(client, update.id, "approve").status_code == 302
    as_user(client, other_reviewer)
    assert nav_count(client, "/review/") == 1
    settled = {item.update_id: item.read_dt for item in notices(other_reviewer)}
    assert settled[update.id] is not None and settled[waiting.id] is None
    [told] = notices(world.monitor_a, ReminderKind.UPDATE_APPROVED)
    assert told.update_id == update.id and told.read_dt is None


def test_a_decision_finds_the_notices_it_settles_by_their_update(client, world):
    """By the index of the rows that name an update (1800): settling read the whole
    outbox, for each decision."""
    update = submitted_update(client, world, "1.1")
    as_user(client, world.reviewer)
    reads = settle_reads(lambda: decide(client, update.id, "return", reason="Add a source."))
    assert reads == [["ix_reminder_item_update"]]
    assert [item.read_dt is not None for item in notices(world.reviewer)] == [True]


def test_people_choose_the_notice_emails_on_their_notifications_page(client, world):
    as_user(client, world.reviewer)
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="pref-update_submitted"' in page and 'id="pref-review_waiting"' in page
    assert 'id="pref-claim_proposed"' in page
    assert 'id="pref-update_approved"' not in page
    response = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": csrf(client, "/notifications"),
            "review_waiting": "y",
            "claim_proposed": "y",
        },
    )
    assert response.status_code == 302
    assert reminders.opted_out_kinds(db.session, world.reviewer.id) == {
        ReminderKind.UPDATE_SUBMITTED
    }
    as_user(client, world.monitor_a)
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="pref-update_approved"' in page and 'id="pref-update_returned"' in page
