"""Issue 13, item 12: a 403 says why, on the page and in the JSON error alike, and the
refusal is still logged."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.monitoring.conftest import (
    as_user,
    csrf,
    make_update,
    make_user,
    store_file,
    update_form,
)
from tracker.extensions import db
from tracker.models import AuditEntry, Evidence, StatusUpdate
from tracker.services.registry.organisations import archive_organisation

NOT_LINKED = "Your organisation does not monitor measure 1.1. Ask an administrator to link it."


def refused(client, url: str) -> tuple[str, str]:
    """The 403 message of the page and of the JSON error for the same request."""
    page = client.get(url)
    assert page.status_code == 403
    as_json = client.get(url, headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    error = as_json.get_json()["error"]
    assert error["status"] == 403
    return page.get_data(as_text=True), error["message"]


def refusals_logged() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "permission.refused")
    )


def test_a_monitor_of_another_organisation_is_told_to_ask_for_a_link(client, world):
    as_user(client, world.monitor_b)
    measure = world.measure("1.1")
    for url in (
        f"/monitor/measures/{measure.id}/updates/new",
        f"/claims/measures/{measure.id}/new",
    ):
        page, message = refused(client, url)
        assert NOT_LINKED in page
        assert message == NOT_LINKED
    assert refusals_logged() == 4


def test_a_page_for_other_roles_names_them_and_ones_own(client, world):
    as_user(client, world.monitor_a)
    page, message = refused(client, "/review/")
    expected = (
        "This page is for: Reviewer (Open Government Platform), Administrator. "
        "You are signed in as: Monitor."
    )
    assert expected in page and message == expected
    as_user(client, world.reviewer)
    _page, message = refused(client, "/admin/users")
    assert message == (
        "This page is for: Administrator. "
        "You are signed in as: Reviewer (Open Government Platform)."
    )


def test_a_monitor_without_an_organisation_is_told_so(client, world):
    loose = make_user("loose@example.org", "monitor")
    db.session.commit()
    as_user(client, loose)
    _page, message = refused(client, "/monitor/")
    assert message == (
        "Your account is not linked to an organisation. Ask an administrator to link it."
    )


def test_the_azerbaijani_refusals_ask_to_link_not_to_close(client, world):
    """ "Link" is "əlaqələndirmək" here: "bağlamaq" also reads as "close" or "tie up"."""
    loose = make_user("loose@example.org", "monitor")
    db.session.commit()
    as_user(client, loose)
    page, _message = refused(client, "/monitor/?lang=az")
    assert (
        "Hesabınız heç bir təşkilata bağlı deyil. Administratordan onu təşkilatınızla "
        "əlaqələndirməyi xahiş edin."
    ) in page
    as_user(client, world.monitor_b)
    page, _message = refused(client, f"/claims/measures/{world.measure('1.1').id}/new?lang=az")
    assert (
        "Təşkilatınız 1.1 tədbirini monitorinq etmir. Administratordan təşkilatınızı bu "
        "tədbirlə əlaqələndirməyi xahiş edin."
    ) in page
    assert "bağlamağı" not in page


def test_drafts_updates_of_others_and_files_say_why(client, world):
    draft = make_update(world.measure("1.1"), world.monitor_a, "draft")
    stored = store_file(uploader=world.monitor_a)
    stored.pending_until = None
    db.session.add(
        Evidence(update=draft, evidence_type="official_document", title="F", file=stored)
    )
    db.session.commit()
    as_user(client, world.reviewer)
    _page, message = refused(client, f"/review/updates/{draft.id}")
    assert message == "This update is a draft: reviewers see it once its monitor submits it."
    _page, message = refused(client, f"/files/{stored.public_id}")
    assert message == "This file belongs to a record that you may not read."
    as_user(client, world.monitor_b)
    _page, message = refused(client, f"/monitor/updates/{draft.id}")
    assert message == "This update belongs to another organisation; only its monitors may open it."


def test_a_get_logs_its_refusal_even_when_another_process_writes_meanwhile(
    client, world, monkeypatch
):
    """SQLite: the refusal's transaction holds the write lock from its start. A GET's
    transactions are deferred, and a deferred transaction that has read cannot become a
    writer once another process has written: SQLite answers "database is locked" at once,
    and the refusal became a 500 (seen in the served app's log)."""
    import sqlite3

    import pytest

    from tracker.services import audit
    from tracker.web import permissions

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    as_user(client, world.monitor_b)
    url = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    db.session.commit()
    other_process_wrote = []
    record = audit.record

    def record_after_a_concurrent_write(session, *args, **kwargs):
        session.scalar(select(func.count()).select_from(AuditEntry))  # the transaction reads
        other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE organisation SET website = website")
            other.execute("COMMIT")
            other_process_wrote.append(True)
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            other_process_wrote.append(False)
        finally:
            other.close()
        return record(session, *args, **kwargs)

    monkeypatch.setattr(permissions.audit, "record", record_after_a_concurrent_write)
    before = refusals_logged()
    assert client.get(url).status_code == 403
    db.session.rollback()
    # the other process had to wait for the refusal's write (it gave up: timeout 0)
    assert other_process_wrote == [False]
    assert refusals_logged() == before + 1


ARCHIVED = (
    "Your organisation is archived in the registry, so its monitors no longer write about "
    "measures. Its updates stay in the public record. Ask an administrator if this is a "
    "mistake."
)


def test_an_archived_organisations_monitors_write_no_more_that_same_day(client, world):
    """Archiving ends the links today, and an ended link still covers its last day: the
    archive itself must stop the writing, not tomorrow's date."""
    returned = make_update(world.measure("1.1"), world.monitor_a, "returned")
    returned.return_reason = "Add a source"
    db.session.commit()
    as_user(client, world.monitor_a)
    token = csrf(client)
    archive_organisation(db.session, world.org_a, actor=world.admin)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(StatusUpdate))
    measure = world.measure("1.2")
    for url in (
        f"/monitor/measures/{measure.id}/updates/new",
        f"/claims/measures/{measure.id}/new",
        f"/monitor/updates/{returned.id}/revise",
    ):
        page, message = refused(client, url)
        assert ARCHIVED in page and message == ARCHIVED, url
    response = client.post(
        f"/monitor/measures/{measure.id}/updates/new",
        data={"csrf_token": token, **update_form(), "action": "submit"},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(StatusUpdate)) == before
    home = client.get("/monitor/").get_data(as_text=True)
    assert ARCHIVED in home and "/updates/new" not in home
    # its own history stays readable to its monitors
    assert client.get(f"/monitor/updates/{returned.id}").status_code == 200
