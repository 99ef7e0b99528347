"""The review page: what changed since the version an update revises (difflib, escaped),
and one text box for approving, returning and commenting."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.monitoring.conftest import as_user, csrf, make_update
from tracker.extensions import db
from tracker.models import ReviewDecision, StatusUpdate
from tracker.services.monitoring.diff import Segment, compare_updates, word_diff
from tracker.vocabulary import ReviewState

PAYLOAD = '<script>alert("x")</script>'


def revision_pair(world, **after_fields):
    """A returned update and its submitted revision, written straight to the database."""
    measure, author = world.measure("1.1"), world.monitor_a
    kept = {"title": "Ministry page", "url": "https://example.gov.az/a", "evidence_date": None}
    before = make_update(
        measure,
        author,
        "returned",
        completion="limited",
        narrative="The ministry drafted the methodology.",
        progress_percent=30,
        delay_reasons=["agency_inactive"],
        evidence=[dict(kept), {"title": "Old letter", "url": "https://example.gov.az/old"}],
        return_reason="Cite the reply.",
    )
    after = make_update(
        measure,
        author,
        "submitted",
        replaces_id=before.id,
        evidence=[dict(kept), {"title": "Reply " + PAYLOAD, "url": "https://example.gov.az/r"}],
        **{
            "completion": "substantial",
            "narrative": "The ministry adopted the methodology " + PAYLOAD + ".",
            "progress_percent": 60,
            "delay_reasons": ["agency_inactive", "no_funding"],
            **after_fields,
        },
    )
    db.session.commit()
    return before, after


def test_word_diff_keeps_words_whole():
    assert word_diff("The ministry drafted it.", "The ministry adopted it.") == [
        Segment("equal", "The ministry "),
        Segment("delete", "drafted"),
        Segment("insert", "adopted"),
        Segment("equal", " it."),
    ]
    assert word_diff("", "New") == [Segment("insert", "New")]
    assert word_diff("Same", "Same") == [Segment("equal", "Same")]


def test_compare_updates_names_every_changed_field(world):
    before, after = revision_pair(world)
    changes = compare_updates(before, after)
    assert {c.name: (c.before, c.after) for c in changes.changes} == {
        "completion": ("limited", "substantial"),
        "progress_percent": (30, 60),
    }
    assert list(changes.narratives) == ["en"]
    assert Segment("delete", "drafted") in changes.narratives["en"]
    assert changes.reasons_added == ["no_funding"] and changes.reasons_removed == []
    # the kept item is a copy with another id, and is not reported
    assert [e.title for e in changes.evidence_added] == ["Reply " + PAYLOAD]
    assert [e.title for e in changes.evidence_removed] == ["Old letter"]
    same = compare_updates(before, before)
    assert same.is_empty


def test_the_review_page_shows_the_diff_escaped(client, world):
    before, after = revision_pair(world)
    as_user(client, world.reviewer)
    html = client.get(f"/review/updates/{after.id}").get_data(as_text=True)
    assert f"What changed since update #{before.id}" in html
    assert "<del>drafted</del>" in html and "<ins>adopted</ins>" in html
    assert "<del>Limited</del> → <ins>Substantial</ins>" in html
    assert "<del>30 %</del> → <ins>60 %</ins>" in html
    assert "Removed: Old letter" in html and "Added: No funding" in html
    assert PAYLOAD not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_review_page_has_one_text_box(client, world):
    _before, after = revision_pair(world)
    as_user(client, world.reviewer)
    html = client.get(f"/review/updates/{after.id}").get_data(as_text=True)
    assert html.count("<textarea") == 1
    assert f'action="/review/updates/{after.id}/review"' in html
    for button in ("Approve", "Return to the monitor", "Add comment"):
        assert f'value="{button}"' in html


def post_review(client, update_id: int, button: str, comment: str):
    token = csrf(client, f"/review/updates/{update_id}")
    return client.post(
        f"/review/updates/{update_id}/review",
        data={"csrf_token": token, "comment": comment, button: "pressed"},
    )


def test_the_one_box_comments_returns_and_approves(client, world):
    _before, after = revision_pair(world)
    as_user(client, world.reviewer)
    response = post_review(client, after.id, "send_comment", "Which page?")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/review/updates/{after.id}"
    )
    empty = post_review(client, after.id, "return_update", "  ")
    assert empty.status_code == 400
    assert 'id="comment-errors"' in empty.get_data(as_text=True)
    assert post_review(client, after.id, "return_update", "Cite page 4.").status_code == 302
    db.session.expire_all()
    returned = db.session.get(StatusUpdate, after.id)
    assert (returned.review_state, returned.return_reason) == (ReviewState.RETURNED, "Cite page 4.")
    rows = db.session.execute(
        select(ReviewDecision.decision, ReviewDecision.comment)
        .where(ReviewDecision.update_id == after.id)
        .order_by(ReviewDecision.id)
    ).all()
    assert [tuple(r) for r in rows] == [("comment", "Which page?"), ("returned", "Cite page 4.")]


def test_approving_with_the_one_box_keeps_the_comment(client, world):
    _before, after = revision_pair(world, as_of=date(2021, 6, 20))
    as_user(client, world.reviewer)
    assert post_review(client, after.id, "approve", "Well sourced.").status_code == 302
    decision = db.session.scalar(select(ReviewDecision).where(ReviewDecision.update_id == after.id))
    assert (decision.decision, decision.comment) == ("approved", "Well sourced.")


def test_no_button_or_two_buttons_is_a_400(client, world):
    _before, after = revision_pair(world)
    as_user(client, world.reviewer)
    token = csrf(client, f"/review/updates/{after.id}")
    url = f"/review/updates/{after.id}/review"
    assert client.post(url, data={"csrf_token": token, "comment": "x"}).status_code == 400
    both = {"csrf_token": token, "comment": "x", "approve": "1", "return_update": "1"}
    assert client.post(url, data=both).status_code == 400
    assert db.session.scalar(select(ReviewDecision.id)) is None
