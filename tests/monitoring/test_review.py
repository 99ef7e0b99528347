"""Review: the queue, approve / return / comment, who may decide, and decisions that race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.helpers import login
from tests.monitoring.conftest import as_user, csrf, update_form
from tracker import clock
from tracker.extensions import db
from tracker.models import AuditEntry, ReviewDecision, StatusUpdate
from tracker.services.accounts import users
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.monitoring import review as review_service
from tracker.vocabulary import ReviewState


def submitted_update(client, world, code="1.1", **fields) -> StatusUpdate:
    as_user(client, world.monitor_a)
    data = update_form(
        csrf_token=csrf(client), submit_for_review="Submit for review", save_draft="", **fields
    )
    measure = world.measure(code)
    response = client.post(
        f"/monitor/measures/{measure.id}/updates/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(StatusUpdate).order_by(StatusUpdate.id.desc())).first()


def decide(client, update_id: int, action: str, **data):
    return client.post(
        f"/review/updates/{update_id}/{action}",
        data={"csrf_token": csrf(client, "/review/"), **data},
    )


def decisions(update_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(ReviewDecision.decision)
            .where(ReviewDecision.update_id == update_id)
            .order_by(ReviewDecision.id)
        )
    )


def audit_count(action: str, target_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.target_id == str(target_id))
    )


def test_queue_lists_submitted_updates_longest_waiting_first(client, world):
    first = submitted_update(client, world, "1.1")
    second = submitted_update(client, world, "1.2")
    db.session.get(StatusUpdate, first.id).submitted_dt = clock.now_utc() - timedelta(days=3)
    db.session.commit()
    draft_fields = {"save_draft": "Save as draft"}
    as_user(client, world.monitor_a)
    client.post(
        f"/monitor/measures/{world.measure('1.3').id}/updates/new",
        data=update_form(csrf_token=csrf(client), **draft_fields),
        content_type="multipart/form-data",
    )

    as_user(client, world.reviewer)
    response = client.get("/review/?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index(f"Review #{first.id}") < html.index(f"Review #{second.id}")
    assert "3 days" in html
    assert "2 updates are waiting for review." in html
    assert "Transparency Association" in html or "Şəffaflıq Assosiasiyası" in html
    # drafts never reach reviewers, and monitors are not named
    draft = db.session.scalar(
        select(StatusUpdate).where(StatusUpdate.measure_id == world.measure("1.3").id)
    )
    assert draft.review_state == ReviewState.DRAFT
    assert f"Review #{draft.id}" not in html
    assert "aysel@example.org" not in html and "Aysel Q." not in html


def test_reviewer_approves_and_the_update_becomes_public(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    page = client.get(f"/review/updates/{update.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Partly implemented." in html and "Ministry page" in html
    assert "aysel@example.org" not in html

    response = decide(client, update.id, "approve", comment="Well documented.")
    assert response.status_code == 302
    db.session.expire_all()
    approved = db.session.get(StatusUpdate, update.id)
    assert approved.review_state == ReviewState.APPROVED
    assert approved.decided_by_id == world.reviewer.id and approved.decided_dt is not None
    assert decisions(update.id) == ["approved"]
    assert audit_count("update.approved", update.id) == 1
    # the content is untouched by the review
    assert approved.narrative_en == "Partly implemented."


def test_return_needs_a_reason_the_monitor_then_sees(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    empty = decide(client, update.id, "return", reason="   ")
    assert empty.status_code == 400
    assert "Say why you return the update" in empty.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED

    assert decide(client, update.id, "return", reason="The link is broken.").status_code == 302
    db.session.expire_all()
    returned = db.session.get(StatusUpdate, update.id)
    assert returned.review_state == ReviewState.RETURNED
    assert returned.return_reason == "The link is broken."

    as_user(client, world.monitor_a)
    assert "The link is broken." in client.get("/monitor/").get_data(as_text=True)
    assert "The link is broken." in client.get(f"/monitor/updates/{update.id}").get_data(
        as_text=True
    )


def test_only_submitted_updates_can_be_decided(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    assert decide(client, update.id, "approve").status_code == 302
    for action, data in (("approve", {}), ("return", {"reason": "Late change of mind"})):
        response = decide(client, update.id, action, **data)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert "already been decided" in page
        # the page opens the update as it is now, not only the scorecard
        assert f'<a class="button" href="/review/updates/{update.id}">Open this update</a>' in page
    assert decisions(update.id) == ["approved"]


def test_drafts_are_invisible_to_reviewers(client, world):
    as_user(client, world.monitor_a)
    client.post(
        f"/monitor/measures/{world.measure('1.1').id}/updates/new",
        data=update_form(csrf_token=csrf(client)),
        content_type="multipart/form-data",
    )
    draft = db.session.scalar(select(StatusUpdate))
    as_user(client, world.reviewer)
    assert client.get(f"/review/updates/{draft.id}").status_code == 403
    assert decide(client, draft.id, "approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(StatusUpdate, draft.id).review_state == ReviewState.DRAFT


def test_monitors_and_admins_never_decide(client, world):
    update = submitted_update(client, world)
    for user in (world.monitor_a, world.monitor_b, world.admin):
        as_user(client, user)
        for action, data in (
            ("approve", {}),
            ("return", {"reason": "x"}),
            ("comment", {"comment": "x"}),
        ):
            response = decide(client, update.id, action, **data)
            assert response.status_code == 403, (user.email, action)
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED
    assert decisions(update.id) == []
    # monitors cannot open the review pages; admins may read them
    as_user(client, world.monitor_a)
    assert client.get("/review/").status_code == 403
    assert client.get(f"/review/updates/{update.id}").status_code == 403
    as_user(client, world.admin)
    assert client.get("/review/").status_code == 200
    admin_page = client.get(f"/review/updates/{update.id}").get_data(as_text=True)
    assert 'action="/review/updates/' not in admin_page
    # and the page says why there are no buttons
    assert "Only reviewers of the Open Government Platform can review." in admin_page


def test_reviewer_of_the_same_organisation_cannot_decide(client, world):
    update = submitted_update(client, world)
    world.reviewer.organisation_id = world.org_a.id
    db.session.commit()
    as_user(client, world.reviewer)
    response = decide(client, update.id, "approve")
    assert response.status_code == 403
    assert "your own organisation" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED


def test_tampered_reviewer_or_status_fields_are_refused(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    for extra in ({"reviewer_id": str(world.admin.id)}, {"review_state": "returned"}):
        assert decide(client, update.id, "approve", **extra).status_code == 400
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED
    assert decisions(update.id) == []


def test_decision_without_csrf_token_is_refused(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    assert client.post(f"/review/updates/{update.id}/approve").status_code == 400
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED


def test_get_never_decides(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    assert client.get(f"/review/updates/{update.id}/approve").status_code == 405
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED


def test_refused_review_text_is_shown_beside_its_field(client, world):
    """The service names its input ("reason", "text"); the view puts each message beside
    the page's one text box."""
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    html = decide(client, update.id, "return", reason="   ").get_data(as_text=True)
    assert 'id="comment-errors"' in html and "Say why you return" in html
    html = decide(client, update.id, "comment", comment="  ").get_data(as_text=True)
    assert 'id="comment-errors"' in html and "Write a comment" in html
    assert decisions(update.id) == []


def test_the_queue_marks_what_another_reviewer_must_decide(client, world):
    """A reviewer who wrote an update (a monitor made reviewer) sees it in the queue, but
    marked for another reviewer, with no "Review" button; the count says how many."""
    own = submitted_update(client, world)
    as_user(client, world.monitor_b)
    data = update_form(csrf_token=csrf(client), submit_for_review="Submit", save_draft="")
    other_measure = world.measure("2.1")
    client.post(
        f"/monitor/measures/{other_measure.id}/updates/new",
        data=data,
        content_type="multipart/form-data",
    )
    others = db.session.scalars(select(StatusUpdate).where(StatusUpdate.id != own.id)).all()
    [other] = [u for u in others if u.review_state == ReviewState.SUBMITTED]
    users.change_role(
        db.session, world.monitor_a, role="reviewer", organisation_id=None, actor=world.admin
    )
    db.session.commit()
    as_user(client, world.monitor_a)
    html = client.get("/review/").get_data(as_text=True)
    assert "2 updates are waiting for review." in html
    assert "1 of them is for another reviewer" in html
    assert f'href="/review/updates/{other.id}">Review #{other.id}</a>' in html
    assert f"Review #{own.id}" not in html
    assert f'href="/review/updates/{own.id}">Read #{own.id}</a>' in html
    # a reviewer with no conflict may decide both
    as_user(client, world.reviewer)
    html = client.get("/review/?lang=az").get_data(as_text=True)
    assert "başqa rəyçi" not in html and html.count('class="button" href="/review/updates/') == 2


def test_the_language_links_of_a_refused_review_go_to_the_item(client, world):
    """A refused review is the answer to a POST-only URL, where a GET is a 405: its language
    links go to the page the form was on (the same-site referrer), else the home page."""
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    item = f"/review/updates/{update.id}"
    for referrer, target in (
        (f"http://localhost{item}", f"{item}?lang=az"),
        ("https://elsewhere.example/page", "/?lang=az"),
        (None, "/?lang=az"),
    ):
        page = client.post(
            f"{item}/return",
            data={"csrf_token": csrf(client, "/review/"), "reason": " "},
            headers={"Referer": referrer} if referrer else {},
        )
        assert page.status_code == 400
        assert f'href="{target}" lang="az"' in page.get_data(as_text=True), referrer
    switched = client.get(f"{item}?lang=az")
    assert switched.status_code == 200 and '<html lang="az">' in switched.get_data(as_text=True)


def test_the_language_links_of_the_review_forms_error_keep_the_item(client, world):
    """The review page's one form posts to an address that a GET opens again (the item):
    its error page switches language in place, and the switch reaches the item in the
    language chosen, with no referrer needed."""
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    item = f"/review/updates/{update.id}"
    page = decide(client, update.id, "review", comment=" ", return_update="1")
    assert page.status_code == 400
    assert f'href="{item}/review?lang=az" lang="az"' in page.get_data(as_text=True)
    for lang in ("en", "az"):
        switched = client.get(f"{item}/review?lang={lang}")
        assert switched.status_code == 302
        assert switched.headers["Location"] == f"{item}?lang={lang}"
        html = client.get(switched.headers["Location"]).get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
    assert client.get(f"{item}/review?lang=xx").headers["Location"] == item


def test_comments_are_kept_and_shown_to_the_monitor(client, world):
    update = submitted_update(client, world)
    as_user(client, world.reviewer)
    empty = decide(client, update.id, "comment", comment="")
    assert empty.status_code == 400 and "Write a comment" in empty.get_data(as_text=True)
    assert (
        decide(client, update.id, "comment", comment="Which page of the report?").status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(StatusUpdate, update.id).review_state == ReviewState.SUBMITTED
    assert decisions(update.id) == ["comment"]
    as_user(client, world.monitor_a)
    assert "Which page of the report?" in client.get(f"/monitor/updates/{update.id}").get_data(
        as_text=True
    )


def _race(app, world, update_id: int, attempts: int, action) -> list:
    """Run `attempts` decisions at once, each in its own thread, app context and session."""
    barrier = threading.Barrier(attempts)
    results: list = [None] * attempts

    def worker(index: int) -> None:
        with app.app_context():
            try:
                results[index] = action(barrier)
            except Exception as error:  # recorded for the assertion below
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_parallel_approvals_make_one_decision(client, world, app):
    """Through the real view: twenty reviewers' browsers press "Approve" at once."""
    update_id = submitted_update(client, world).id
    reviewer = world.reviewer
    tokens = []
    clients = []
    for _ in range(20):
        reviewer_client = app.test_client()
        login(reviewer_client, reviewer)
        tokens.append(csrf(reviewer_client, "/review/"))
        clients.append(reviewer_client)
    counter = iter(range(20))
    lock = threading.Lock()

    def approve(barrier):
        with lock:
            index = next(counter)
        barrier.wait()
        response = clients[index].post(
            f"/review/updates/{update_id}/approve", data={"csrf_token": tokens[index]}
        )
        return response.status_code

    # The test's own session must hold no transaction (on SQLite: no write lock) meanwhile.
    db.session.commit()
    statuses = _race(app, world, update_id, 20, approve)
    assert sorted(statuses) == [302] + [409] * 19, statuses
    db.session.expire_all()
    assert decisions(update_id) == ["approved"]
    assert audit_count("update.approved", update_id) == 1


def test_twenty_parallel_service_calls_make_one_decision(client, world, app):
    """The service alone (as a command or job would call it), each thread its own session."""
    update = submitted_update(client, world)
    reviewer_id, update_id = world.reviewer.id, update.id
    db.session.commit()
    from tracker.models import User

    def approve(barrier):
        reviewer = db.session.get(User, reviewer_id)
        target = db.session.get(StatusUpdate, update_id)
        db.session.commit()  # end the read so each thread starts its write fresh
        barrier.wait()
        try:
            review_service.approve(db.session, reviewer, target)
            db.session.commit()
            return "decided"
        except StateConflict:
            db.session.rollback()
            return "conflict"

    outcomes = _race(app, world, update_id, 20, approve)
    assert sorted(outcomes) == ["conflict"] * 19 + ["decided"], outcomes
    db.session.expire_all()
    assert decisions(update_id) == ["approved"]
    assert audit_count("update.approved", update_id) == 1


@pytest.mark.parametrize("action", ["approve", "return"])
def test_unknown_update_is_404(client, world, action):
    as_user(client, world.reviewer)
    assert decide(client, 999_999, action, reason="x").status_code == 404
    assert client.get("/review/updates/999999").status_code == 404


@pytest.mark.parametrize(
    ("lang", "too_long"),
    [("en", "Use at most 5000 characters."), ("az", "Ən çoxu 5000 simvol istifadə edin.")],
)
def test_a_reviewers_text_may_be_5000_characters_and_the_message_says_at_most(app, lang, too_long):
    """The services' own length check (the API and any caller besides the form): 5000 is
    taken, so the message for 5001 says "at most 5000", not "under 5000"."""
    assert review_service.clean_text("comment", "x" * 5000) == "x" * 5000
    with force_locale(lang), pytest.raises(InvalidInput) as error:
        review_service.clean_text("comment", "x" * 5001)
    assert [str(text) for text in error.value.problems["comment"]] == [too_long]
