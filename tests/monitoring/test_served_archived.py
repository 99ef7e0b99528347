"""An archived organisation's monitors, on the served app: the administrator archives it
while its monitor is signed in, and from that moment the monitor writes nothing more."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.conftest import update_form
from tracker.extensions import db
from tracker.models import GovernmentClaim, StatusUpdate

pytestmark = pytest.mark.served

ARCHIVED_AZ = "Təşkilatınız reyestrdə arxivləşdirilib"
ARCHIVED_EN = "Your organisation is archived in the registry"


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(StatusUpdate)),
        db.session.scalar(select(func.count()).select_from(GovernmentClaim)),
    )


def test_archiving_stops_a_signed_in_monitor_at_once(served, served_world):
    world = served_world
    measure = world.measure_a
    new_update = f"/monitor/measures/{measure.id}/updates/new"
    monitor = signed_in(served, world, "monitor_a")
    token = monitor.csrf_token(new_update)
    assert ARCHIVED_AZ not in monitor.get("/monitor/").text

    admin = signed_in(served, world, "admin")
    organisation_id = world.organisation_a.id
    archived = admin.post_form(
        f"/admin/organisations/{organisation_id}/edit",
        {},
        action=f"/admin/organisations/{organisation_id}/archive",
    )
    assert archived.status_code == 302
    before = counts()

    refused = monitor.get(f"{new_update}?lang=az")
    assert refused.status_code == 403 and ARCHIVED_AZ in refused.text
    posted = monitor.post(new_update, data={"csrf_token": token, **update_form()})
    assert posted.status_code == 403
    claim = monitor.get(f"/claims/measures/{measure.id}/new?lang=en")
    assert claim.status_code == 403 and ARCHIVED_EN in claim.text
    revise = monitor.get(f"/monitor/updates/{world.returned_a.id}/revise")
    assert revise.status_code == 403
    home = monitor.get("/monitor/?lang=en")
    assert home.status_code == 200 and ARCHIVED_EN in home.text
    assert new_update not in home.text
    assert counts() == before

    # restoring puts it back in the registry and says its links stay ended
    restored = admin.post_form(
        f"/admin/organisations/{organisation_id}/edit",
        {},
        action=f"/admin/organisations/{organisation_id}/restore",
    )
    assert restored.status_code == 302
    told = admin.get(restored.headers["Location"] + "?lang=en").text
    assert "restored to the public registry" in told and "stay ended" in told
    # the audit log names the archive's details in the reader's language
    log = admin.get("/admin/audit?lang=az").text
    assert "Başa çatdırılan monitorinq əlaqələri" in log and "links_ended" not in log
