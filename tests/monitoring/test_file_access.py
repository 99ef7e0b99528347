"""A file is readable by exactly those who may read the record that cites it, and is found
by a random public id, never by counting (issue 10, finding 5)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.monitoring.conftest import as_user, make_claim, make_update, make_user, store_file
from tracker import clock
from tracker.extensions import db
from tracker.models import StoredFile
from tracker.services.monitoring import file_access

ANONYMOUS = "anonymous"


def evidence(stored: StoredFile, private: bool = False) -> dict:
    return {
        "title": "Evidence",
        "evidence_date": date(2021, 5, 1),
        "file_id": stored.id,
        "is_private": private,
    }


def statuses(client, world, stored: StoredFile) -> dict[str, int]:
    """Who gets what for the file: every role, and the anonymous visitor."""
    users = {
        "monitor_a": world.monitor_a,
        "monitor_b": world.monitor_b,
        "reviewer": world.reviewer,
        "admin": world.admin,
    }
    seen = {}
    with client.session_transaction() as session:
        session.clear()
    seen[ANONYMOUS] = client.get(f"/files/{stored.public_id}").status_code
    for role, user in users.items():
        as_user(client, user)
        seen[role] = client.get(f"/files/{stored.public_id}").status_code
    return seen


ONLY_ORGANISATION_AND_ADMINS = {
    ANONYMOUS: 404,
    "monitor_a": 200,
    "monitor_b": 403,
    "reviewer": 403,
    "admin": 200,
}
REVIEWERS_AND_ORGANISATION = {**ONLY_ORGANISATION_AND_ADMINS, "reviewer": 200}
EVERYONE = dict.fromkeys(ONLY_ORGANISATION_AND_ADMINS, 200)


@pytest.mark.parametrize("private", [False, True])
def test_reviewers_cannot_download_the_files_of_a_draft(client, world, private):
    stored = store_file(filename="draft.pdf", uploader=world.monitor_a)
    make_update(
        world.measure("1.1"), world.monitor_a, "draft", evidence=[evidence(stored, private)]
    )
    db.session.commit()
    assert statuses(client, world, stored) == ONLY_ORGANISATION_AND_ADMINS


@pytest.mark.parametrize("state", ["submitted", "returned"])
def test_files_of_submitted_and_returned_updates_are_for_reviewers_and_the_organisation(
    client, world, state
):
    stored = store_file(uploader=world.monitor_a)
    make_update(world.measure("1.1"), world.monitor_a, state, evidence=[evidence(stored)])
    db.session.commit()
    assert statuses(client, world, stored) == REVIEWERS_AND_ORGANISATION


def test_private_evidence_of_an_approved_update_stays_private(client, world):
    stored = store_file(uploader=world.monitor_a)
    make_update(
        world.measure("1.1"), world.monitor_a, "approved", evidence=[evidence(stored, True)]
    )
    db.session.commit()
    assert statuses(client, world, stored) == REVIEWERS_AND_ORGANISATION


def test_a_file_carried_over_is_public_once_any_update_citing_it_is(client, world):
    stored = store_file(uploader=world.monitor_a)
    m = world.measure("1.1")
    approved = make_update(m, world.monitor_a, "approved", evidence=[evidence(stored)])
    make_update(m, world.monitor_a, "draft", evidence=[evidence(stored)], replaces_id=approved.id)
    db.session.commit()
    assert statuses(client, world, stored) == EVERYONE
    approved.is_archived = True  # the approved version was replaced: its file goes private
    db.session.commit()
    assert statuses(client, world, stored) == REVIEWERS_AND_ORGANISATION


def test_a_pending_file_is_its_uploaders_alone(client, world):
    stored = store_file(uploader=world.monitor_a)
    stored.pending_until = clock.now_utc() + timedelta(hours=24)
    db.session.commit()
    assert statuses(client, world, stored) == {
        ANONYMOUS: 404,
        "monitor_a": 200,
        "monitor_b": 403,
        "reviewer": 403,
        "admin": 403,
    }


def test_a_file_that_no_record_cites_is_no_ones(client, world):
    stored = store_file(uploader=world.monitor_a)
    db.session.commit()
    assert statuses(client, world, stored) == {
        ANONYMOUS: 404,
        "monitor_a": 403,
        "monitor_b": 403,
        "reviewer": 403,
        "admin": 403,
    }


def test_a_claims_source_follows_the_claim(client, world):
    stored = store_file(filename="statement.pdf", uploader=world.reviewer)
    claim = make_claim(world.measure("1.1"), world.reviewer, stored, "Statement")
    db.session.commit()
    assert statuses(client, world, stored) == EVERYONE
    claim.is_archived = True  # corrected: the old source is for reviewers, admins, its recorder
    db.session.commit()
    assert statuses(client, world, stored) == {
        ANONYMOUS: 404,
        "monitor_a": 403,
        "monitor_b": 403,
        "reviewer": 200,
        "admin": 200,
    }


@pytest.mark.parametrize("state", ["submitted", "returned", "archived"])
def test_a_proposals_source_is_for_its_organisation_and_the_reviewers(client, world, state):
    """As an update's files: every monitor of the proposing organisation, not only the one
    who proposed it (a colleague revises a returned proposal and keeps its file)."""
    from tracker.models import GovernmentClaim

    stored = store_file(filename="proposal.pdf", uploader=world.monitor_a)
    colleague = make_user("colleague@example.org", "monitor", world.org_a)
    db.session.add(
        GovernmentClaim(
            measure_id=world.measure("1.1").id,
            claimed_completion="limited",
            claim_date=date(2021, 5, 1),
            source_title="Proposed statement",
            file_id=stored.id,
            recorded_by_id=world.monitor_a.id,
            organisation_id=world.org_a.id,
            review_state="approved" if state == "archived" else state,
            is_archived=state == "archived",
        )
    )
    db.session.commit()
    assert statuses(client, world, stored) == REVIEWERS_AND_ORGANISATION
    as_user(client, colleague)
    assert client.get(f"/files/{stored.public_id}").status_code == 200


def test_files_are_found_by_a_random_public_id_never_by_the_row_id(client, world):
    first = store_file(uploader=world.monitor_a)
    second = store_file(uploader=world.monitor_a)
    make_update(
        world.measure("1.1"),
        world.monitor_a,
        "approved",
        evidence=[evidence(first), evidence(second)],
    )
    db.session.commit()
    for stored in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", stored.public_id)
        assert client.get(f"/files/{stored.public_id}").status_code == 200
        assert client.get(f"/files/{stored.id}").status_code == 404
    assert first.public_id[:8] != second.public_id[:8]
    for guess in ("9999999999999999999999999", "..%2F..%2Fetc%2Fpasswd", "a" * 200):
        assert client.get(f"/files/{guess}").status_code == 404, guess
    # a NUL is refused by the edge for text before any view (tracker.web.input_edge)
    assert client.get("/files/%00").status_code == 400
    html = client.get("/plans/az-nap-2020-2022/measures/1.1?lang=en").get_data(as_text=True)
    assert f"/files/{first.public_id}" in html and f'/files/{first.id}"' not in html


def test_the_access_check_takes_a_fixed_number_of_queries(app, world):
    from flask_login import AnonymousUserMixin

    from tests.helpers import QueryCounter

    def queries(citations: int) -> int:
        stored = store_file(uploader=world.monitor_a)
        for _ in range(citations):
            make_update(
                world.measure("1.1"), world.monitor_a, "submitted", evidence=[evidence(stored)]
            )
        db.session.flush()
        with QueryCounter() as counter:
            access = file_access.file_access(db.session, AnonymousUserMixin(), stored)
        assert not access.allowed
        return counter.count

    assert queries(1) == queries(8) == 2
