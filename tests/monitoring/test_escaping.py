"""`<svg onload=alert(1)>` typed into any text field comes out escaped on every page."""

from __future__ import annotations

from sqlalchemy import select

from tests.monitoring.conftest import as_user, csrf, make_organisation, make_user, update_form
from tracker.extensions import db
from tracker.models import GovernmentClaim, MonitoringLink, StatusUpdate

PAYLOAD = "<svg onload=alert(1)>"
ESCAPED = "&lt;svg onload=alert(1)&gt;"
PLAN = "az-nap-2020-2022"


def assert_escaped(html: str, where: str, shown: bool = True) -> None:
    assert PAYLOAD not in html, where
    assert "<svg onload" not in html, where
    if shown:
        assert ESCAPED in html, where


def test_payload_is_escaped_everywhere(client, world):
    from datetime import date

    hostile_org = make_organisation(f"{PAYLOAD} İB", f"{PAYLOAD} Union")
    monitor = make_user("hostile@example.org", "monitor", hostile_org)
    measure = world.measure("1.2")
    db.session.add(
        MonitoringLink(
            organisation_id=hostile_org.id, measure_id=measure.id, start_date=date(2020, 1, 1)
        )
    )
    db.session.commit()

    as_user(client, monitor)
    fields = {
        "narrative_az": PAYLOAD,
        "narrative_en": PAYLOAD,
        "evidence-0-title": PAYLOAD,
        "submit_for_review": "Submit for review",
    }
    response = client.post(
        f"/monitor/measures/{measure.id}/updates/new",
        data=update_form(csrf_token=csrf(client), **fields),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    first = db.session.scalar(select(StatusUpdate))

    # a tampered field named like the payload lands in the audit log
    tampered = update_form(csrf_token=csrf(client), **{PAYLOAD: "1"})
    assert (
        client.post(
            f"/monitor/measures/{measure.id}/updates/new",
            data=tampered,
            content_type="multipart/form-data",
        ).status_code
        == 400
    )
    # a validation error echoes the input back escaped
    bad = client.post(
        f"/monitor/measures/{measure.id}/updates/new",
        data=update_form(
            csrf_token=csrf(client), as_of_date="2099-01-01", **{"evidence-0-title": PAYLOAD}
        ),
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert PAYLOAD not in bad.get_data(as_text=True)

    as_user(client, world.reviewer)
    token = csrf(client, "/review/")
    client.post(
        f"/review/updates/{first.id}/comment", data={"csrf_token": token, "comment": PAYLOAD}
    )
    client.post(f"/review/updates/{first.id}/return", data={"csrf_token": token, "reason": PAYLOAD})
    client.post(
        f"/claims/measures/{measure.id}/new",
        data={
            "csrf_token": token,
            "claimed_completion": "complete",
            "claim_date": "2021-01-10",
            "source_title": PAYLOAD,
            "source_url": "https://example.org/?q=<svg>",
            "note": PAYLOAD,
        },
        content_type="multipart/form-data",
    )
    claim = db.session.scalar(select(GovernmentClaim))
    assert claim is not None

    as_user(client, monitor)
    client.post(
        f"/monitor/updates/{first.id}/revise",
        data=update_form(
            csrf_token=csrf(client),
            submit_for_review="Submit for review",
            narrative_en=PAYLOAD,
            keep_evidence=[str(first.evidence[0].id)],
        ),
        content_type="multipart/form-data",
    )
    revision = db.session.scalars(select(StatusUpdate).order_by(StatusUpdate.id.desc())).first()
    assert revision.replaces_id == first.id

    pages = {
        "monitor home": "/monitor/",
        "monitor update": f"/monitor/updates/{first.id}",
        "revise page": f"/monitor/updates/{revision.id}",
        "claim correction form": f"/claims/{claim.id}/correct",
    }
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_escaped(response.get_data(as_text=True), where)
    assert_escaped(client.get("/monitor/updates").get_data(as_text=True), "my updates", False)

    as_user(client, world.reviewer)
    client.post(
        f"/review/updates/{revision.id}/approve", data={"csrf_token": csrf(client, "/review/")}
    )
    for where, url in {
        "review queue": "/review/",
        "review item": f"/review/updates/{first.id}",
        "review of the revision": f"/review/updates/{revision.id}",
        "public measure page": f"/plans/{PLAN}/measures/1.2",
        "public measure page (en)": f"/plans/{PLAN}/measures/1.2?lang=en",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_escaped(response.get_data(as_text=True), where)

    api = client.get(f"/api/v1/measures/{measure.id}/updates")
    assert api.status_code == 200 and api.mimetype == "application/json"
    assert api.get_json()["updates"][0]["narrative"]["en"] == PAYLOAD  # data, not markup

    as_user(client, world.admin)
    audit = client.get("/admin/audit")
    assert audit.status_code == 200
    assert_escaped(audit.get_data(as_text=True), "audit view")
