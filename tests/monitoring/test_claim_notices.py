"""The instant notices of a proposed government claim (services.reminders.notices): when a
monitor proposes a claim, the reviewers who may decide on it are told in the app at once
and by email through the mail outbox, under the same settings as a submitted update's
notice; deciding the proposal settles their notices and tells the monitors of the
proposing organisation, as a returned or approved update does."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.helpers import QueryCounter
from tests.monitoring.conftest import NOTICE_BASE_URL as BASE_URL
from tests.monitoring.conftest import as_user, csrf, make_user
from tests.monitoring.test_claims import PLAN, _form_key, post_claim, review_claim
from tests.monitoring.test_notices import nav_count, notice_mail, notices, settle_reads
from tests.monitoring.test_review import decide, submitted_update
from tests.reminders.conftest import html_of, text_of
from tracker import clock
from tracker.extensions import db
from tracker.models import GovernmentClaim, MailRequest, ReminderOptOut, ReminderSetting, User
from tracker.services import reminders
from tracker.services.accounts import users
from tracker.vocabulary import DeliveryStatus, MailKind, MailStatus, ReminderKind


def propose(client, world, code: str = "1.1", **overrides) -> GovernmentClaim:
    """Monitor A proposes a claim on the measure through the form, as a browser does."""
    as_user(client, world.monitor_a)
    assert post_claim(client, world.measure(code), **overrides).status_code == 302
    return db.session.scalars(select(GovernmentClaim).order_by(GovernmentClaim.id.desc())).first()


def test_a_proposal_tells_the_reviewers_who_may_decide_it_and_mails_them(client, world, smtp):
    """One notice per reviewer the review rule allows: none to the proposer, to another
    monitor, to an admin, or to a reviewer who was once a member of the proposing
    organisation (claim_review.refusal would refuse them)."""
    world.reviewer.locale = "az"
    english = make_user("second@example.org", "reviewer", locale="en")
    former = make_user("former@example.org", "monitor", world.org_a)
    db.session.commit()
    users.change_role(db.session, former, role="reviewer", organisation_id=None, actor=world.admin)
    db.session.commit()
    claim = propose(client, world)
    assert claim.review_state == "submitted"

    for reviewer in (world.reviewer, english):
        [item] = notices(reviewer)
        assert (item.kind, item.claim_id, item.update_id, item.status) == (
            ReminderKind.CLAIM_PROPOSED,
            claim.id,
            None,
            DeliveryStatus.QUEUED,
        )
        assert item.organisation_id == world.org_a.id and item.measure.code == "1.1"
        assert item.read_dt is None and notice_mail(item).kind == MailKind.NOTICE
        assert reminders.link_target(item) == ("claim_review.proposal", {"claim_id": claim.id})
    for nobody in (world.monitor_a, world.monitor_b, world.admin, former):
        assert notices(nobody) == []

    run = reminders.deliver_notice_mail(db.session, clock.now_utc())
    assert run.sent == 2
    [message] = smtp.to("second@example.org")
    assert message["Subject"] == "1.1: Government claim proposed for review"
    assert "Transparency Association proposed a government claim on" in text_of(message)
    assert "It waits for your review." in text_of(message)
    assert f"{BASE_URL}/review/claims/{claim.id}\n" in text_of(message)
    assert f'href="{BASE_URL}/review/claims/{claim.id}"' in html_of(message)
    assert f"{BASE_URL}/unsubscribe/" in text_of(message)
    # each in their own language
    [message] = smtp.to("reviewer@example.org")
    assert message["Subject"] == "1.1: Hökumətin iddiası rəyə təklif edildi"
    text = text_of(message)
    assert "Şəffaflıq Assosiasiyası" in text and "hökumətin iddiasını təklif etdi" in text
    assert "İddia sizin rəyinizi gözləyir." in text
    assert f"{BASE_URL}/review/claims/{claim.id}\n" in text
    assert all(item.status == DeliveryStatus.SENT for item in notices(english))


def test_the_notice_is_in_the_app_at_once_and_leads_to_the_proposal(client, world):
    claim = propose(client, world)
    as_user(client, world.reviewer)
    assert nav_count(client, "/review/claims/") == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/review/claims/{claim.id}"' in page
    assert "Transparency Association proposed a government claim on" in page
    assert 'id="pref-claim_proposed"' in page
    assert client.get(f"/review/claims/{claim.id}").status_code == 200


def test_deciding_a_proposal_settles_every_reviewers_notice_of_it(client, world):
    """Approved or returned, nothing waits any more: the other reviewers' notices of it
    are read; a notice of another proposal stays new."""
    other_reviewer = make_user("second@example.org", "reviewer", locale="en")
    db.session.commit()
    approved = propose(client, world, "1.1")
    returned = propose(client, world, "1.2", source_title="Statement of the ministry")
    waiting = propose(client, world, "1.3")
    as_user(client, other_reviewer)
    assert nav_count(client, "/review/claims/") == 3
    as_user(client, world.reviewer)
    assert review_claim(client, approved.id, "approve", comment="").status_code == 302
    assert review_claim(client, returned.id, "return", reason="Not official.").status_code == 302
    as_user(client, other_reviewer)
    assert nav_count(client, "/review/claims/") == 1
    for reviewer in (world.reviewer, other_reviewer):
        read = {item.claim_id: item.read_dt is not None for item in notices(reviewer)}
        assert read == {approved.id: True, returned.id: True, waiting.id: False}


def test_a_decision_finds_the_notices_it_settles_by_their_claim(client, world):
    """By the index of the rows that name a claim (1700), not by reading the outbox."""
    claim = propose(client, world)
    as_user(client, world.reviewer)
    reads = settle_reads(lambda: review_claim(client, claim.id, "approve", comment=""))
    assert reads == [["ix_reminder_item_claim"]]


def test_the_same_proposal_sent_twice_is_one_notice_and_two_proposals_are_two(client, world):
    m = world.measure("1.1")
    as_user(client, world.monitor_a)
    form_key = _form_key(client, f"/claims/measures/{m.id}/new")
    assert post_claim(client, m, form_key=form_key).status_code == 302
    assert post_claim(client, m, form_key=form_key).status_code == 302
    [first] = notices(world.reviewer)
    # another proposal on the same measure is another notice: its occurrence names it
    second = propose(client, world, "1.1", source_title="Another report")
    assert [item.claim_id for item in notices(world.reviewer)] == [first.claim_id, second.id]
    assert db.session.scalar(select(func.count()).select_from(MailRequest)) == 2


def test_a_claim_a_reviewer_records_is_public_at_once_and_tells_nobody(client, world):
    as_user(client, world.reviewer)
    assert post_claim(client, world.measure("1.1")).status_code == 302
    as_user(client, world.admin)
    assert post_claim(client, world.measure("1.2")).status_code == 302
    for user in (world.reviewer, world.admin, world.monitor_a):
        assert notices(user) == []


def test_the_admins_and_the_reviewers_settings_apply_as_to_a_submitted_update(client, world, smtp):
    """Switched off by the admin: nothing is recorded. Emails stopped by the reviewer:
    in the app, cancelled, no email; stopped after it was queued: skipped."""
    db.session.add(ReminderSetting(kind="claim_proposed", is_enabled=False, offsets_days=[]))
    db.session.commit()
    propose(client, world, "1.1")
    assert notices(world.reviewer) == []

    db.session.delete(db.session.scalar(select(ReminderSetting)))
    other_reviewer = make_user("second@example.org", "reviewer", locale="en")
    db.session.add(ReminderOptOut(user_id=world.reviewer.id, kind="claim_proposed"))
    db.session.commit()
    propose(client, world, "1.2")
    [stopped] = notices(world.reviewer)
    assert stopped.status == DeliveryStatus.CANCELLED and notice_mail(stopped) is None
    db.session.add(ReminderOptOut(user_id=other_reviewer.id, kind="claim_proposed"))
    db.session.commit()
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [queued] = notices(other_reviewer)
    assert (notice_mail(queued).status, notice_mail(queued).reason) == (
        MailStatus.SKIPPED,
        "opted_out",
    )
    assert queued.status == DeliveryStatus.CANCELLED
    assert smtp.messages == []


# --- the decision, told to the proposing organisation ---------------------------------------


def decided(client, world, claim: GovernmentClaim, action: str, **data) -> None:
    """The reviewer approves or returns the proposal through the review page."""
    as_user(client, world.reviewer)
    assert review_claim(client, claim.id, action, **data).status_code == 302


def test_a_returned_proposal_tells_its_organisations_monitors_with_the_reason(client, world, smtp):
    """Every enabled monitor of the proposing organisation, in their language, with what
    the reviewer asked for; not another organisation's monitor, a disabled colleague, a
    reviewer or an admin. The link leads to the proposal's own page, with the reason and
    the button that revises it (which stays right once the proposal is revised)."""
    world.monitor_a.locale = "az"
    colleague = make_user("colleague@example.org", "monitor", world.org_a, locale="en")
    make_user("gone@example.org", "monitor", world.org_a, is_enabled=False)
    db.session.commit()
    claim = propose(client, world, "1.2")
    decided(client, world, claim, "return", reason="Cite the ministry's report.")

    for monitor in (world.monitor_a, colleague):
        [item] = notices(monitor)
        assert (item.kind, item.claim_id, item.update_id, item.status) == (
            ReminderKind.CLAIM_RETURNED,
            claim.id,
            None,
            DeliveryStatus.QUEUED,
        )
        assert item.organisation_id == world.org_a.id and item.read_dt is None
        assert reminders.link_target(item) == ("claims.proposal", {"claim_id": claim.id})
    assert notices(world.monitor_b) == [] and notices(world.admin) == []
    assert [item.kind for item in notices(world.reviewer)] == [ReminderKind.CLAIM_PROPOSED]
    gone = db.session.scalar(select(User).where(User.email == "gone@example.org"))
    assert notices(gone) == []

    assert reminders.deliver_notice_mail(db.session, clock.now_utc()).sent == 3
    link = f"{BASE_URL}/claims/{claim.id}"
    [message] = smtp.to("colleague@example.org")
    assert message["Subject"] == "1.2: Proposed government claim returned by a reviewer"
    text = text_of(message)
    assert "a reviewer returned the government claim that Transparency Association" in text
    assert "Revise it and propose it again." in text
    assert "The reviewer's reason:\nCite the ministry's report." in text
    assert f"{link}\n" in text and f"{BASE_URL}/unsubscribe/" in text
    assert "s report.</blockquote>" in html_of(message)
    assert f'href="{link}"' in html_of(message)
    [message] = smtp.to("aysel@example.org")
    assert (
        message["Subject"] == "1.2: Təklif olunmuş hökumət iddiası rəyçi tərəfindən geri qaytarıldı"
    )
    text = text_of(message)
    assert "Şəffaflıq Assosiasiyası təşkilatının təklif etdiyi hökumət iddiasını geri" in text
    assert "Rəyçinin səbəbi:\nCite the ministry's report." in text
    assert f"{link}\n" in text
    # the reviewer's one email is the proposal's
    [message] = smtp.to("reviewer@example.org")
    assert message["Subject"] == "1.2: Government claim proposed for review"

    # in the app at once, leading to the returned proposal and its reason
    as_user(client, colleague)
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/claims/{claim.id}"' in page
    assert "a reviewer returned the government claim that Transparency Association" in page
    # the colleague, who did not propose it, opens it as their organisation's
    own_page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "Returned by the reviewer" in own_page and "Cite the ministry&#39;s report." in own_page
    assert f'href="/claims/{claim.id}/revise"' in own_page
    measure_page = client.get(f"/plans/{PLAN}/measures/1.2").get_data(as_text=True)
    assert f'id="claim-{claim.id}"' in measure_page
    assert "Cite the ministry&#39;s report." in measure_page
    assert "Propose a government claim" in measure_page


def test_an_approved_proposal_tells_them_and_leads_to_the_claim_on_record(client, world, smtp):
    world.monitor_a.locale = "az"
    db.session.commit()
    claim = propose(client, world, "1.1")
    decided(client, world, claim, "approve", comment="")
    [item] = notices(world.monitor_a)
    assert (item.kind, item.claim_id) == (ReminderKind.CLAIM_APPROVED, claim.id)
    assert notices(world.monitor_b) == [] and notices(world.admin) == []
    # the reviewers' notice of the proposal is settled in the same transaction
    [waiting] = notices(world.reviewer)
    assert waiting.kind == ReminderKind.CLAIM_PROPOSED and waiting.read_dt is not None

    reminders.deliver_notice_mail(db.session, clock.now_utc())
    [message] = smtp.to("aysel@example.org")
    assert message["Subject"] == "1.1: Təklif olunmuş hökumət iddiası rəyçi tərəfindən təsdiqləndi"
    assert "hökumət iddiasını təsdiqlədi. İddia artıq hamıya açıqdır." in text_of(message)
    assert "Rəyçinin səbəbi" not in text_of(message)
    assert f"{BASE_URL}/plans/{PLAN}/measures/1.1#claim-{claim.id}\n" in text_of(message)
    as_user(client, world.monitor_a)
    page = client.get("/notifications").get_data(as_text=True)
    assert "a reviewer approved the government claim that Transparency Association" in page
    measure_page = client.get(f"/plans/{PLAN}/measures/1.1").get_data(as_text=True)
    claims_on_record = measure_page.split('id="claims-history-heading"')[1]
    assert f'<li id="claim-{claim.id}">' in claims_on_record


def test_a_claim_recorded_by_a_reviewer_is_no_proposal_and_its_recording_tells_nobody(
    client, world
):
    as_user(client, world.reviewer)
    assert post_claim(client, world.measure("1.1")).status_code == 302
    claim = db.session.scalars(select(GovernmentClaim).order_by(GovernmentClaim.id.desc())).first()
    assert claim.review_state == "approved" and claim.organisation_id is None
    # approved at once, by no one's decision: no organisation to tell
    assert reminders.notify_claim_decided(db.session, claim) == 0
    for user in (world.reviewer, world.admin, world.monitor_a, world.monitor_b):
        assert notices(user) == []


def test_the_decision_notices_follow_the_admins_and_the_monitors_settings(client, world, smtp):
    """Switched off by the admin: nothing recorded. Stopped on the notifications page: in
    the app, cancelled, no email. Stopped by the email's own unsubscribe link: the next
    one is cancelled too."""
    colleague = make_user("colleague@example.org", "monitor", world.org_a, locale="en")
    db.session.add(ReminderSetting(kind="claim_returned", is_enabled=False, offsets_days=[]))
    db.session.commit()
    decided(client, world, propose(client, world, "1.1"), "return", reason="Not official.")
    assert notices(world.monitor_a) == [] and notices(colleague) == []

    as_user(client, world.monitor_a)
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="pref-claim_returned"' in page and 'id="pref-claim_approved"' in page
    keep = ("update_returned", "update_approved", "claim_returned")
    data = {"csrf_token": csrf(client, "/notifications"), **dict.fromkeys(keep, "y")}
    assert client.post("/notifications/preferences", data=data).status_code == 302
    assert ReminderKind.CLAIM_APPROVED in reminders.opted_out_kinds(db.session, world.monitor_a.id)
    decided(client, world, propose(client, world, "1.2"), "approve")
    [stopped] = notices(world.monitor_a)
    assert stopped.status == DeliveryStatus.CANCELLED and notice_mail(stopped) is None
    reminders.deliver_notice_mail(db.session, clock.now_utc())
    assert smtp.to("aysel@example.org") == []

    [message] = smtp.to("colleague@example.org")
    stop = text_of(message).split("Stop these emails: Proposed government claim approved")[1]
    path = stop.split("\n")[1].removeprefix(BASE_URL)
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 200
    assert reminders.opted_out_kinds(db.session, colleague.id) == {ReminderKind.CLAIM_APPROVED}
    decided(client, world, propose(client, world, "1.3"), "approve")
    assert [item.status for item in notices(colleague)] == [
        DeliveryStatus.SENT,
        DeliveryStatus.CANCELLED,
    ]


def test_the_decision_kinds_are_the_monitors_and_on_by_default(client, world):
    as_user(client, world.reviewer)
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="pref-claim_returned"' not in page and 'id="pref-claim_approved"' not in page
    as_user(client, world.admin)
    page = client.get("/admin/reminders/").get_data(as_text=True)
    for kind in ("claim_returned", "claim_approved"):
        assert re.search(
            rf'<input[^>]*checked[^>]*name="{kind}_enabled"|'
            rf'<input[^>]*name="{kind}_enabled"[^>]*checked',
            page,
        )
        assert reminders.load_settings(db.session)[ReminderKind(kind)].is_enabled


def _notifications_page(client) -> tuple[str, int]:
    with QueryCounter() as queries:
        response = client.get("/notifications?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True), queries.count


def _return_both(client, world, update_code: str, claim_code: str, reasons: tuple[str, str]):
    """Monitor A's update and proposal, both returned by the reviewer with these reasons."""
    update = submitted_update(client, world, update_code)
    claim = propose(client, world, claim_code)
    as_user(client, world.reviewer)
    assert decide(client, update.id, "return", reason=reasons[0]).status_code == 302
    assert review_claim(client, claim.id, "return", reason=reasons[1]).status_code == 302
    as_user(client, world.monitor_a)


REASONS = re.compile(r'<blockquote class="notification-reason">([^<]*)</blockquote>')


def test_the_notification_list_shows_the_reason_of_each_return(client, world):
    """What to fix is on the list too, not only in the email: a returned update's reason
    and a returned proposal's, escaped, in a number of queries that does not grow with the
    returns listed."""
    _return_both(client, world, "1.1", "1.2", ("Cite <b>the</b> reply.", "Not official."))
    page, two_returns = _notifications_page(client)
    assert "The reviewer's reason:" in page
    assert sorted(REASONS.findall(page)) == ["Cite &lt;b&gt;the&lt;/b&gt; reply.", "Not official."]

    _return_both(client, world, "1.3", "1.1", ("Add the decree.", "Name the ministry."))
    page, four_returns = _notifications_page(client)
    assert len(REASONS.findall(page)) == 4 and "Name the ministry." in page
    assert four_returns == two_returns
