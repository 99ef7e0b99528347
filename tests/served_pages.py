"""The pages of the served app, one of every kind, for the checks that go through them all
(layout at 320 px, accessibility): the public pages, and each role's signed-in pages with
the records their pages show."""

from __future__ import annotations

from datetime import date

import requests
from sqlalchemy import select

from tests.factories import make_claim, make_update
from tests.monitoring.conftest import link, make_organisation, make_user
from tracker.extensions import db
from tracker.models import Measure, Milestone
from tracker.services.accounts import secret_box
from tracker.vocabulary import Completion, ReviewState


def public_paths(base: str) -> list[str]:
    """One page of every public kind: the lists, an organisation interviewed for the needs
    assessment and a coalition of the seeded registry, a section, a measure, an agency, the
    statistics and the data pages."""
    paths = [
        "/",
        "/plans/",
        "/plans/az-nap-2020-2022/sections/1",
        "/plans/az-nap-2020-2022/measures/2.3",
        "/plans/az-nap-2020-2022/changes",
        "/agencies/",
        "/registry/",
        "/registry/stats",
        "/registry/coverage",
        "/data/",
        "/calendar/",
        "/reports/archive",
        "/login",
        "/password/forgot",
    ]
    registry = requests.get(f"{base}/api/v1/organisations", timeout=10).json()["organisations"]
    interviewed = next(entry for entry in registry if entry["is_interviewed"])
    coalition = next(entry for entry in registry if entry["kind"] == "coalition")
    paths += [f"/registry/{interviewed['id']}", f"/registry/{coalition['id']}"]
    agencies = requests.get(f"{base}/api/v1/agencies", timeout=10).json()
    paths.append(f"/agencies/{agencies['agencies'][0]['key']}")
    return paths


def signed_in_pages() -> dict[str, list[str]]:
    """Each role's pages by its user's email (the users are made here), with a draft, a
    submitted and an approved update, a proposed claim and a milestone on measure 2.3, and
    the monitor's two-step verification being set up."""
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    monitor = make_user("monitor@example.org", "monitor", organisation, locale="az")
    make_user("reviewer@example.org", "reviewer", locale="az")
    make_user("admin@example.org", "admin", locale="az")
    measure = db.session.scalars(select(Measure).where(Measure.code == "2.3")).one()
    link(organisation, measure)
    draft = make_update(measure, organisation, Completion.LIMITED, state=ReviewState.DRAFT)
    submitted = make_update(
        measure, organisation, Completion.SUBSTANTIAL, state=ReviewState.SUBMITTED
    )
    make_update(measure, organisation, Completion.LIMITED)
    claim = make_claim(measure, Completion.COMPLETE)
    claim.review_state = ReviewState.SUBMITTED
    claim.organisation_id = organisation.id
    claim.recorded_by_id = monitor.id
    milestone = Milestone(
        measure_id=measure.id, title_az="Hesabat dərc edilir", due_date=date(2021, 6, 30)
    )
    db.session.add(milestone)
    # a two-step setup under way: its page shows the QR code and the key
    monitor.two_step_secret = secret_box.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    db.session.flush()
    # the ids before the commit: reading the ORM after it would hold SQLite's lock
    measure_id, draft_id, submitted_id = measure.id, draft.id, submitted.id
    claim_id, milestone_id = claim.id, milestone.id
    organisation_id, monitor_id = organisation.id, monitor.id
    db.session.commit()
    return {
        "monitor@example.org": [
            "/monitor/",
            "/monitor/updates",
            f"/monitor/measures/{measure_id}/updates/new",
            f"/monitor/updates/{draft_id}",
            f"/monitor/updates/{draft_id}/edit",
            f"/claims/measures/{measure_id}/new",
            f"/claims/{claim_id}",
            "/notifications",
            "/account",
            "/account/two-step",
        ],
        "reviewer@example.org": [
            "/review/",
            f"/review/updates/{submitted_id}",
            "/review/claims/",
            f"/review/claims/{claim_id}",
        ],
        "admin@example.org": [
            "/admin/",
            "/admin/users",
            f"/admin/users/{monitor_id}",
            "/admin/users/invite",
            "/admin/audit",
            f"/admin/measures/{measure_id}",
            f"/admin/milestones/{milestone_id}",
            "/admin/organisations/",
            "/admin/organisations/new",
            f"/admin/organisations/{organisation_id}/edit",
            f"/admin/organisations/{organisation_id}/links",
            "/admin/organisations/import",
            "/admin/reminders/",
        ],
    }
