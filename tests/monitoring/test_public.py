"""Public surfaces show approved, current material only, name organisations and never
people, and hide private evidence; downloads are attachments for those allowed."""

from __future__ import annotations

import json
from datetime import date

from tests.monitoring.conftest import as_user, make_update, store_file
from tracker.extensions import db
from tracker.models import GovernmentClaim

PLAN = "az-nap-2020-2022"


def measure_url(code: str, lang: str = "en") -> str:
    return f"/plans/{PLAN}/measures/{code}?lang={lang}"


def api_url(measure) -> str:
    return f"/api/v1/measures/{measure.id}/updates"


def make_history(world):
    """On measure 1.1: one update in every state, with public and private evidence."""
    m = world.measure("1.1")
    public_file = store_file(filename="budget.pdf", uploader=world.monitor_a)
    private_file = store_file(filename="witness-notes.pdf", uploader=world.monitor_a)
    approved = make_update(
        m,
        world.monitor_a,
        "approved",
        narrative="APPROVED-NARRATIVE",
        evidence=[
            {
                "title": "Public budget",
                "evidence_date": date(2021, 5, 1),
                "file_id": public_file.id,
            },
            {
                "title": "SECRET-SOURCE interview",
                "evidence_date": date(2021, 5, 2),
                "url": "https://example.org/secret-source",
                "is_private": True,
            },
            {
                "title": "Private witness notes",
                "evidence_date": date(2021, 5, 3),
                "file_id": private_file.id,
                "is_private": True,
            },
        ],
    )
    others = {
        state: make_update(m, world.monitor_a, state, narrative=f"{state.upper()}-NARRATIVE")
        for state in ("draft", "submitted", "returned")
    }
    archived = make_update(
        m, world.monitor_a, "approved", narrative="ARCHIVED-NARRATIVE", is_archived=True
    )
    other_org = make_update(
        m,
        world.monitor_b,
        "approved",
        completion="substantial",
        narrative="B-NARRATIVE",
        as_of=date(2021, 6, 10),
    )
    db.session.commit()
    return {
        "approved": approved,
        "archived": archived,
        "other_org": other_org,
        "public_file": public_file,
        "private_file": private_file,
        **others,
    }


HIDDEN = (
    "DRAFT-NARRATIVE",
    "SUBMITTED-NARRATIVE",
    "RETURNED-NARRATIVE",
    "ARCHIVED-NARRATIVE",
    "SECRET-SOURCE",
    "secret-source",
    "Private witness notes",
    "witness-notes.pdf",
    "aysel@example.org",
    "Aysel Q.",
    "bahram@example.org",
    "Bahram M.",
    "reviewer@example.org",
    "Rəna R.",
)


def test_measure_page_shows_only_approved_updates_under_the_organisation(client, world):
    history = make_history(world)
    response = client.get(measure_url("1.1"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "APPROVED-NARRATIVE" in html and "B-NARRATIVE" in html
    assert "Transparency Association" in html and "Law Centre" in html
    assert "Public budget" in html and f"/files/{history['public_file'].public_id}" in html
    assert "2 private evidence items, visible to reviewers only." in html
    for text in HIDDEN:
        assert text not in html, text
    assert f"/files/{history['private_file'].public_id}" not in html
    # newest assessment first
    assert html.index("B-NARRATIVE") < html.index("APPROVED-NARRATIVE")


def test_measure_page_is_the_same_for_logged_in_users(client, world):
    make_history(world)
    for user in (world.monitor_a, world.reviewer, world.admin):
        as_user(client, user)
        html = client.get(measure_url("1.1")).get_data(as_text=True)
        for text in ("DRAFT-NARRATIVE", "SUBMITTED-NARRATIVE", "SECRET-SOURCE", "Aysel Q."):
            assert text not in html, (user.email, text)


def test_api_shows_only_approved_updates_and_no_people(client, world):
    history = make_history(world)
    response = client.get(api_url(world.measure("1.1")))
    assert response.status_code == 200
    data = response.get_json()
    assert [u["id"] for u in data["updates"]] == [history["other_org"].id, history["approved"].id]
    approved = data["updates"][1]
    assert approved["organisation"]["name"] == {
        "az": "Şəffaflıq Assosiasiyası",
        "en": "Transparency Association",
    }
    assert [e["title"] for e in approved["evidence"]] == ["Public budget"]
    public_id = history["public_file"].public_id
    assert approved["evidence"][0]["file_url"].endswith(f"/files/{public_id}")
    assert approved["private_evidence_count"] == 2
    text = json.dumps(data, ensure_ascii=False)
    for hidden in HIDDEN:
        assert hidden not in text, hidden
    for key in ("author", "author_id", "decided_by", "decided_by_id", "email"):
        assert f'"{key}"' not in text
    assert client.get("/api/v1/measures/999999/updates").status_code == 404


def test_scorecard_and_its_filters_count_approved_updates_only(client, world):
    m = world.measure("1.2")
    make_update(m, world.monitor_a, "submitted", completion="complete")
    make_update(m, world.monitor_a, "draft", completion="complete")
    make_update(m, world.monitor_a, "returned", completion="complete")
    make_update(m, world.monitor_a, "approved", completion="complete", is_archived=True)
    db.session.commit()
    html = client.get("/?lang=en&completion=complete").get_data(as_text=True)
    assert f"/measures/{m.code}" not in html
    plan = client.get(f"/api/v1/plans/{PLAN}").get_json()
    assert plan["summary"]["counts"]["complete"] == 0

    make_update(m, world.monitor_a, "approved", completion="complete")
    db.session.commit()
    html = client.get("/?lang=en&completion=complete").get_data(as_text=True)
    assert f"/measures/{m.code}" in html
    plan = client.get(f"/api/v1/plans/{PLAN}").get_json()
    assert plan["summary"]["counts"]["complete"] == 1


def test_disagreement_with_the_government_is_flagged_and_counted(client, world):
    m = world.measure("1.3")
    make_update(m, world.monitor_a, "approved", completion="limited")
    db.session.add(
        GovernmentClaim(
            measure_id=m.id,
            claimed_completion="complete",
            claim_date=date(2021, 5, 1),
            source_title="Government progress report",
            source_url="https://example.gov.az/progress",
            recorded_by_id=world.monitor_a.id,
        )
    )
    db.session.commit()
    html = client.get(measure_url("1.3")).get_data(as_text=True)
    assert "Disputed" in html
    assert "Government progress report" in html and "https://example.gov.az/progress" in html
    assert "aysel@example.org" not in html and "Aysel Q." not in html
    plan = client.get(f"/api/v1/plans/{PLAN}").get_json()
    assert plan["summary"]["disputed"] == 1


def _download(client, stored):
    return client.get(f"/files/{stored.public_id}")


def test_public_evidence_downloads_as_an_attachment(client, world):
    history = make_history(world)
    response = _download(client, history["public_file"])
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Public budget.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_private_evidence_downloads_for_reviewers_and_its_organisation_only(client, world):
    history = make_history(world)
    private = history["private_file"]
    assert _download(client, private).status_code == 404  # anonymous: as if missing
    as_user(client, world.monitor_b)
    assert _download(client, private).status_code == 403
    for user in (world.monitor_a, world.reviewer, world.admin):
        as_user(client, user)
        response = _download(client, private)
        assert response.status_code == 200, user.email
        assert "no-store" in response.headers["Cache-Control"]


def test_files_of_unapproved_updates_are_not_public(client, world):
    m = world.measure("1.1")
    stored = store_file(filename="draft.pdf", uploader=world.monitor_a)
    make_update(
        m,
        world.monitor_a,
        "submitted",
        evidence=[{"title": "x", "evidence_date": date(2021, 1, 1), "file_id": stored.id}],
    )
    db.session.commit()
    assert _download(client, stored).status_code == 404
    as_user(client, world.monitor_b)
    assert _download(client, stored).status_code == 403
    as_user(client, world.monitor_a)
    assert _download(client, stored).status_code == 200
    assert client.get("/files/999999").status_code == 404
    assert client.get(f"/files/{stored.id}").status_code == 404  # the row id is no URL


def test_measure_page_offers_buttons_only_to_those_allowed(client, world):
    new_update = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    new_claim = f"/claims/measures/{world.measure('1.1').id}/new"
    html = client.get(measure_url("1.1")).get_data(as_text=True)
    assert new_update not in html and new_claim not in html
    as_user(client, world.monitor_a)
    html = client.get(measure_url("1.1")).get_data(as_text=True)
    assert new_update in html and new_claim in html
    assert "Propose a government claim" in html
    html = client.get(measure_url("2.1")).get_data(as_text=True)
    assert "updates/new" not in html and "/claims/" not in html
    new_plan_claim = f"/claims/plans/{world.measure('1.1').plan_id}/new"
    for user in (world.reviewer, world.admin):
        as_user(client, user)
        html = client.get(measure_url("1.1")).get_data(as_text=True)
        assert new_update not in html and new_claim in html and new_plan_claim in html
        assert "Record a government claim" in html
