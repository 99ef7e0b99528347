"""The review queue's reminder of proposed government claims: a proposal that has waited
`interval_days` Baku calendar days or more reminds the reviewers whom the review rule lets
decide it, once per interval, under the same kind and setting as a waiting update; the
decision settles those reminders; the email and the notification list say that a claim
waits and lead to the proposal's page."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.factories import make_update
from tests.helpers import login
from tests.reminders.conftest import BASE_URL, baku, make_user, text_of
from tracker.extensions import db
from tracker.models import GovernmentClaim, ReminderItem
from tracker.services import reminders
from tracker.services.accounts import users
from tracker.services.monitoring import claim_review, review
from tracker.services.reminders import KindSettings, plan_outbox, plan_reminders, run_reminders
from tracker.vocabulary import DeliveryStatus, ReminderKind, ReviewState

WAITING = ReminderKind.REVIEW_WAITING


def plan(day: str) -> list:
    planned = plan_reminders(db.session, date.fromisoformat(day), baku(f"{day}T09:00"))
    return [r for r in planned if r.kind == WAITING]


def proposed(measure, organisation, author, day_time: str, **fields) -> GovernmentClaim:
    """A claim a monitor proposed at `day_time` (Baku), waiting for review."""
    claim = GovernmentClaim(
        measure_id=measure.id if measure else None,
        claimed_completion="complete",
        claim_date=date(2022, 9, 1),
        source_title="Ministry report",
        source_url="https://example.gov.az/report",
        recorded_by_id=author.id,
        organisation_id=organisation.id if organisation else None,
        created_dt=baku(day_time),
        **{"review_state": ReviewState.SUBMITTED, **fields},
    )
    db.session.add(claim)
    db.session.flush()
    return claim


def _make_reviewer(world, user) -> None:
    """Through the accounts write path, which keeps their organisations' history."""
    users.change_role(db.session, user, role="reviewer", organisation_id=None, actor=world.admin)


def test_a_proposal_reminds_the_reviewers_once_it_has_waited_the_interval(world):
    m1 = world.m_2022[0]
    claim = proposed(m1, world.org_a, world.a_az, "2022-09-24T08:00")
    db.session.commit()
    # six calendar days in Baku: not yet
    assert plan("2022-09-30") == []
    [reminder] = plan("2022-10-01")
    assert (reminder.recipient_id, reminder.kind, reminder.claim_id) == (
        world.reviewer.id,
        WAITING,
        claim.id,
    )
    assert (reminder.measure_id, reminder.organisation_id, reminder.update_id) == (
        m1.id,
        world.org_a.id,
        None,
    )
    assert reminder.occurrence == f"claim-{claim.id}/1"
    assert (reminder.reference_date, reminder.day_count) == (date(2022, 9, 24), 7)
    # the same occurrence until twice the interval, then a new one
    assert [r.occurrence for r in plan("2022-10-07")] == [f"claim-{claim.id}/1"]
    [again] = plan("2022-10-08")
    assert (again.occurrence, again.day_count) == (f"claim-{claim.id}/2", 14)


def test_a_claim_and_an_update_waiting_on_one_measure_are_two_reminders(world):
    """The outbox's key (recipient, measure, kind, occurrence) holds both, and recording
    them twice adds nothing."""
    m1 = world.m_2022[0]
    claim = proposed(m1, world.org_a, world.a_az, "2022-09-24T08:00")
    update = make_update(
        m1, world.org_a, state=ReviewState.SUBMITTED, submitted_dt=baku("2022-09-24T08:00")
    )
    db.session.commit()
    waiting = plan("2022-10-01")
    assert {(r.update_id, r.claim_id, r.occurrence) for r in waiting} == {
        (update.id, None, f"update-{update.id}/1"),
        (None, claim.id, f"claim-{claim.id}/1"),
    }
    today, now = date(2022, 10, 1), baku("2022-10-01T09:00")
    plan_outbox(db.session, today, now)
    assert plan_outbox(db.session, today, now)[1] == 0
    rows = db.session.scalars(select(ReminderItem).where(ReminderItem.kind == WAITING)).all()
    assert sorted((r.update_id or 0, r.claim_id or 0) for r in rows) == [
        (0, claim.id),
        (update.id, 0),
    ]


def test_only_reviewers_the_review_rule_allows_are_reminded(world):
    """B's former monitor may not decide B's proposal; A's former monitor may decide
    neither A's nor one on a measure A monitored while it was proposed."""
    m1, m2 = world.m_2022  # A monitors both, B monitors m1
    by_b = proposed(m1, world.org_b, world.b_az, "2022-09-20T08:00")
    by_a = proposed(m2, world.org_a, world.a_az, "2022-09-20T08:00")
    for monitor in (world.b_az, world.a_en):
        _make_reviewer(world, monitor)
    db.session.commit()
    reminded: dict[int, set[int]] = {}
    for r in plan("2022-10-02"):
        reminded.setdefault(r.recipient_id, set()).add(r.claim_id)
    assert reminded == {world.reviewer.id: {by_b.id, by_a.id}, world.b_az.id: {by_a.id}}
    # the very rule the proposal's page and the decision apply
    for reviewer in (world.reviewer, world.b_az, world.a_en):
        for claim in (by_b, by_a):
            allowed = claim_review.refusal(db.session, reviewer, claim) is None
            assert allowed == (claim.id in reminded.get(reviewer.id, set()))


def test_decided_archived_and_plan_wide_claims_remind_nobody(world):
    m1 = world.m_2022[0]
    for state in (ReviewState.APPROVED, ReviewState.RETURNED):
        proposed(m1, world.org_a, world.a_az, "2022-09-20T08:00", review_state=state)
    proposed(m1, world.org_a, world.a_az, "2022-09-20T08:00", is_archived=True)
    proposed(None, None, world.reviewer, "2022-09-20T08:00", plan_id=world.plan.id)
    db.session.commit()
    assert plan("2022-10-02") == []


def test_a_stopped_kind_and_the_admins_interval_apply_to_claims_too(world):
    second = make_user("second@example.org", role="reviewer", locale="az")
    claim = proposed(world.m_2022[0], world.org_a, world.a_az, "2022-09-28T08:00")
    reminders.set_subscription(db.session, world.reviewer, WAITING, subscribed=False)
    db.session.commit()
    assert plan("2022-10-04") == []  # 6 days
    assert {r.recipient_id for r in plan("2022-10-05")} == {second.id}
    reminders.save_settings(
        db.session, KindSettings(WAITING, is_enabled=True, interval_days=3), world.admin
    )
    db.session.commit()
    assert [r.occurrence for r in plan("2022-10-04")] == [f"claim-{claim.id}/2"]
    reminders.save_settings(
        db.session, KindSettings(WAITING, is_enabled=False, interval_days=3), world.admin
    )
    db.session.commit()
    assert plan("2022-10-05") == []


def test_deciding_the_proposal_settles_its_reminders_and_no_other(world):
    m1, m2 = world.m_2022
    returned = proposed(m1, world.org_a, world.a_az, "2022-09-20T08:00")
    approved = proposed(m2, world.org_a, world.a_az, "2022-09-20T08:00")
    other = proposed(m1, world.org_b, world.b_az, "2022-09-20T08:00")
    db.session.commit()
    plan_outbox(db.session, date(2022, 10, 2), baku("2022-10-02T09:00"))
    db.session.commit()
    assert reminders.unread_count(db.session, world.reviewer.id) == 3

    claim_review.return_claim(db.session, world.reviewer, returned, "Give the decree's number.")
    claim_review.approve_claim(db.session, world.reviewer, approved)
    db.session.commit()
    items = db.session.scalars(select(ReminderItem).where(ReminderItem.kind == WAITING)).all()
    read = {item.claim_id: item.read_dt is not None for item in items}
    assert read == {returned.id: True, approved.id: True, other.id: False}
    assert reminders.unread_count(db.session, world.reviewer.id) == 1
    # decided: planned no more
    assert {r.claim_id for r in plan("2022-10-20")} == {other.id}


def test_a_reminder_not_yet_mailed_is_not_mailed_once_its_record_is_decided(world, smtp):
    """Planned at 09:00 but not yet sent (a later run, a retry): once the proposal or the
    update is decided, its reminder stays in the app only; the other one still goes out."""
    m1, m2 = world.m_2022
    decided_claim = proposed(m1, world.org_a, world.a_az, "2022-09-20T08:00")
    waiting_claim = proposed(m2, world.org_a, world.a_az, "2022-09-20T08:00")
    decided_update = make_update(
        m1, world.org_b, state=ReviewState.SUBMITTED, submitted_dt=baku("2022-09-20T08:00")
    )
    db.session.commit()
    plan_outbox(db.session, date(2022, 10, 2), baku("2022-10-02T09:00"))
    db.session.commit()
    statuses = {
        (item.claim_id, item.update_id): item.status
        for item in db.session.scalars(select(ReminderItem).where(ReminderItem.kind == WAITING))
    }
    assert set(statuses.values()) == {DeliveryStatus.PENDING}

    claim_review.return_claim(db.session, world.reviewer, decided_claim, "Name the decree.")
    review.approve(db.session, world.reviewer, decided_update)
    db.session.commit()
    db.session.expire_all()
    statuses = {
        (item.claim_id, item.update_id): item.status
        for item in db.session.scalars(select(ReminderItem).where(ReminderItem.kind == WAITING))
    }
    assert statuses == {
        (decided_claim.id, None): DeliveryStatus.IN_APP_ONLY,
        (None, decided_update.id): DeliveryStatus.IN_APP_ONLY,
        (waiting_claim.id, None): DeliveryStatus.PENDING,
    }
    run_reminders(db.session, baku("2022-10-02T09:05"), plan=False)
    db.session.commit()
    [message] = smtp.to(world.reviewer.email)
    text = text_of(message)
    assert f"/review/claims/{waiting_claim.id}" in text
    assert f"/review/claims/{decided_claim.id}" not in text
    assert f"/review/updates/{decided_update.id}" not in text


def test_the_email_and_the_notification_list_say_a_claim_waits_in_both_languages(
    world, smtp, client
):
    """An update and a claim of one organisation, waiting since the same day: each its own
    sentence and link, in the reviewer's language."""
    m1 = world.m_2022[0]
    az_reviewer = make_user("rauf@example.org", role="reviewer", locale="az")
    claim = proposed(m1, world.org_a, world.a_az, "2022-09-24T08:00")
    update = make_update(
        m1, world.org_a, state=ReviewState.SUBMITTED, submitted_dt=baku("2022-09-24T08:00")
    )
    db.session.commit()
    run_reminders(db.session, baku("2022-10-03T09:00"))
    proposal_page = f"{BASE_URL}/review/claims/{claim.id}"

    english = text_of(smtp.to(world.reviewer.email)[0])
    # the measure once; its link is its first reason's, the claim's, the update's its own
    assert (
        f"  {proposal_page}\n"
        "  - Waiting for review: The government claim that Açıq Cəmiyyət Birliyi (EN) "
        "proposed on September 24, 2022 has waited 9 days for review.\n"
        "  - Waiting for review: The update of Açıq Cəmiyyət Birliyi (EN) has waited for "
        "review since September 24, 2022 (9 days).\n"
        f"    {BASE_URL}/review/updates/{update.id}\n"
    ) in english
    azerbaijani = text_of(smtp.to(az_reviewer.email)[0])
    assert (
        f"  {proposal_page}\n"
        "  - Baxış gözləyir: Açıq Cəmiyyət Birliyi təşkilatının 24 sentyabr 2022 tarixində "
        "təklif etdiyi hökumət iddiası 9 gündür baxış gözləyir.\n"
        "  - Baxış gözləyir: Açıq Cəmiyyət Birliyi təşkilatının yeniləməsi"
    ) in azerbaijani

    login(client, world.reviewer)
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "proposed on September 24, 2022 has waited 9 days for review." in page
    assert f'href="/review/claims/{claim.id}"' in page
    # the proposal's page, where the reviewer decides, as the notice of the proposal links
    assert client.get(f"/review/claims/{claim.id}").status_code == 200


def test_a_claim_without_an_organisation_still_reads_right(app):
    item = ReminderItem(kind=WAITING, claim_id=1, reference_date=date(2022, 9, 24), day_count=1)
    with app.test_request_context("/?lang=en"):
        assert reminders.item_detail(item, "en") == (
            "A government claim proposed on September 24, 2022 has waited 1 day for review."
        )
