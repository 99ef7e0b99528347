"""The role × route matrix: what each role gets from every endpoint and method.

Every rule of app.url_map (but `static`) needs a row here, keyed by (endpoint, method);
test_route_matrix.py fails on a route without a row ("new route: add it to the matrix")
and on a row without a route. To add a route, add one row: the URL values it needs (read
from the World of route_world.py, or made by a small factory function below) and the
status each role should get.

Statuses: an int, or LOGIN for a redirect to the login page. POSTs are sent with an empty
body and CSRF switched off (a separate test checks that every POST without a token gets
400 and changes nothing), so an allowed POST usually answers 400 (the form is incomplete)
or 302 (a button that needs no fields did its job).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app

from tests.accounts.route_world import World
from tracker.extensions import db

#: a redirect to the login page
LOGIN = "login"

Status = int | str
Values = Callable[[World], dict]


def no_values(_world: World) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    anonymous: Status
    monitor_a: Status
    monitor_b: Status
    reviewer: Status
    admin: Status
    #: the URL's values, from the world
    values: Values = no_values
    #: what this case shows, when a route has several
    note: str = ""

    def status_for(self, role: str) -> Status:
        return getattr(self, role)


def everyone(status: Status = 200, values: Values = no_values, note: str = "") -> Route:
    return Route(status, status, status, status, status, values, note)


def signed_in(status: Status = 200, values: Values = no_values, anonymous: Status = LOGIN) -> Route:
    return Route(anonymous, status, status, status, status, values)


def only(
    roles: str,
    status: Status = 200,
    values: Values = no_values,
    others: Status = 403,
    anonymous: Status = LOGIN,
    note: str = "",
) -> Route:
    """`roles` get `status`; the other signed-in roles get `others`."""
    allowed = set(roles.split())
    statuses = {
        role: (status if role in allowed else others)
        for role in ("monitor_a", "monitor_b", "reviewer", "admin")
    }
    return Route(anonymous=anonymous, values=values, note=note, **statuses)


def admin_only(status: Status = 200, values: Values = no_values) -> Route:
    return only("admin", status, values)


# -- URL values and small factories, by area -------------------------------------------


def user_values(world: World) -> dict:
    return {"user_id": world.other_user.id}


def plan_values(world: World) -> dict:
    return {"key": world.plan.key}


def measure_values(world: World) -> dict:
    return {"measure_id": world.measure_a.id}


def plan_id_values(world: World) -> dict:
    return {"plan_id": world.plan.id}


def file_values(name: str) -> Values:
    """A stored file of the world, by its public id (its row id is never in a URL)."""
    return lambda world: {"public_id": getattr(world, name).public_id}


def organisation_values(world: World) -> dict:
    return {"organisation_id": world.organisation_a.id}


def link_values(world: World) -> dict:
    return {"link_id": world.link_a.id}


def invitation_token(world: World) -> dict:
    from tracker.services.accounts.tokens import make_token
    from tracker.vocabulary import Purpose

    return {"token": make_token(world.other_user, Purpose.INVITATION)}


def reset_token(world: World) -> dict:
    from tracker.services.accounts.tokens import make_token
    from tracker.vocabulary import Purpose

    return {"token": make_token(world.users["monitor_a"], Purpose.PASSWORD_RESET)}


def milestone_values(world: World) -> dict:
    from tracker.models import Milestone

    milestone = Milestone(
        measure_id=world.measure_a.id, title_az="Mərhələ", due_date=date(2021, 6, 30)
    )
    db.session.add(milestone)
    db.session.flush()
    return {"milestone_id": milestone.id}


def notification_of_monitor_a(world: World) -> dict:
    from tracker.models.reminders import ReminderItem

    item = ReminderItem(
        recipient_id=world.users["monitor_a"].id,
        measure_id=world.measure_a.id,
        kind="overdue",
        occurrence="2023-01-01",
        reference_date=date(2023, 1, 1),
        next_attempt_dt=datetime(2023, 1, 1, tzinfo=UTC),
        status="sent",
    )
    db.session.add(item)
    db.session.flush()
    return {"item_id": item.id}


def returned_proposal_values(world: World) -> dict:
    """A claim monitor A's organisation proposed, returned by the reviewer."""
    from tracker.models import GovernmentClaim

    returned = GovernmentClaim(
        measure_id=world.measure_a.id,
        claimed_completion="limited",
        claim_date=date(2022, 5, 1),
        source_title="Returned statement",
        source_url="https://example.org/returned",
        recorded_by_id=world.users["monitor_a"].id,
        organisation_id=world.organisation_a.id,
        review_state="returned",
        return_reason="Cite the decree.",
    )
    db.session.add(returned)
    db.session.flush()
    return {"claim_id": returned.id}


def failed_digest(world: World) -> dict:
    from tracker.models.reminders import ReminderDigest

    digest = ReminderDigest(
        recipient_id=world.users["monitor_a"].id,
        claim_token=secrets.token_hex(16),
        status="failed",
        email=world.users["monitor_a"].email,
        locale="az",
        smtp_code=550,
        error="550 No such user",
    )
    db.session.add(digest)
    db.session.flush()
    return {"digest_id": digest.id}


def unsubscribe_token(world: World) -> dict:
    from tracker.services.reminders import make_unsubscribe_token
    from tracker.vocabulary import ReminderKind

    return {"token": make_unsubscribe_token(world.users["monitor_a"].id, ReminderKind.OVERDUE)}


def list_unsubscribe_token(world: World) -> dict:
    from tracker.services.reminders import make_list_unsubscribe_token

    return {"token": make_list_unsubscribe_token(world.users["monitor_a"].id)}


def archived_report(world: World) -> dict:
    from tracker.models.reports import ReportSnapshot

    file_name = f"{world.plan.key}-2022-12-az.pdf"
    data = b"%PDF-1.4\n%%EOF\n"
    folder = Path(current_app.config["REPORT_ARCHIVE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_bytes(data)
    db.session.add(
        ReportSnapshot(
            plan_id=world.plan.id,
            period="2022-12",
            locale="az",
            as_of_date=date(2022, 12, 31),
            file_name=file_name,
            size_bytes=len(data),
            sha256="0" * 64,
        )
    )
    db.session.flush()
    return {"file_name": file_name}


# -- the matrix ------------------------------------------------------------------------

EXPECTATIONS: dict[tuple[str, str], Route | tuple[Route, ...]] = {
    # accounts (auth, admin)
    ("auth.login", "GET"): Route(200, 302, 302, 302, 302),  # signed in: sent home
    ("auth.login", "POST"): everyone(400),
    ("auth.logout", "POST"): everyone(302),
    # "Stay logged in": JSON of the time left; no session, nothing to keep alive
    ("auth.keep_session_alive", "POST"): signed_in(200, anonymous=401),
    ("auth.account", "GET"): signed_in(200),
    ("auth.change_password", "POST"): signed_in(400),
    ("auth.change_language", "POST"): signed_in(400),
    ("auth.confirm_password", "GET"): signed_in(200),
    ("auth.confirm_password", "POST"): signed_in(400),
    ("auth.forgot_password", "GET"): everyone(200),
    # mail is off in tests: the page says no link can be sent, and nothing is planned
    ("auth.forgot_password", "POST"): everyone(503),
    ("auth.accept_invitation", "GET"): (
        everyone(200, invitation_token),
        everyone(400, lambda w: {"token": "forged"}, note="a forged token"),
    ),
    ("auth.accept_invitation", "POST"): everyone(400, invitation_token),
    ("auth.reset_password", "GET"): (
        everyone(200, reset_token),
        everyone(400, lambda w: {"token": "forged"}, note="a forged token"),
    ),
    ("auth.reset_password", "POST"): everyone(400, reset_token),
    ("admin.index", "GET"): admin_only(),
    ("admin.users", "GET"): admin_only(),
    ("admin.user", "GET"): admin_only(200, user_values),
    ("admin.invite", "GET"): admin_only(),
    ("admin.invite", "POST"): admin_only(400),
    ("admin.change_role", "POST"): admin_only(400, user_values),
    ("admin.disable", "POST"): admin_only(302, user_values),
    ("admin.enable", "POST"): admin_only(400, user_values),  # already enabled
    # mail is off in tests: the page shows the new invitation link
    ("admin.resend_invitation", "POST"): admin_only(200, user_values),
    # the invited account has no password yet: a new invitation is the way, not this link
    ("admin.password_link", "POST"): admin_only(400, user_values),
    # the account has no two-step verification: nothing to turn off
    ("admin.reset_two_step", "POST"): admin_only(409, user_values),
    ("admin.audit", "GET"): admin_only(),
    # no login waits for its code in these sessions: to the login page, or home
    ("two_step.verify", "GET"): Route(LOGIN, 302, 302, 302, 302),
    ("two_step.verify", "POST"): Route(LOGIN, 302, 302, 302, 302),
    ("two_step.settings", "GET"): signed_in(200),
    ("two_step.start_setup", "POST"): signed_in(302),
    ("two_step.cancel_setup", "POST"): signed_in(302),
    ("two_step.turn_on", "POST"): signed_in(400),
    ("two_step.new_recovery_codes", "POST"): signed_in(400),
    ("two_step.turn_off", "POST"): signed_in(400),
    # the public scorecard and its API
    ("public.index", "GET"): everyone(),
    ("public.plans", "GET"): everyone(),
    ("public.plan", "GET"): everyone(200, plan_values),
    ("public.section", "GET"): everyone(200, lambda w: {"key": w.plan.key, "number": 1}),
    ("public.measure", "GET"): everyone(
        200, lambda w: {"key": w.plan.key, "code": w.measure_a.code}
    ),
    ("public.measure_feed", "GET"): everyone(
        200, lambda w: {"key": w.plan.key, "code": w.measure_a.code}
    ),
    ("public.changes", "GET"): everyone(200, plan_values),
    ("public.agencies", "GET"): everyone(),
    # the admins' page of a measure: its milestones
    ("plans_admin.measure", "GET"): only("admin", 200, measure_values),
    ("plans_admin.measure", "POST"): only("admin", 400, measure_values),
    ("plans_admin.edit_milestone", "GET"): only("admin", 200, milestone_values),
    ("plans_admin.edit_milestone", "POST"): only("admin", 400, milestone_values),
    ("plans_admin.archive_milestone", "POST"): only("admin", 302, milestone_values),
    ("public.agency", "GET"): everyone(200, lambda w: {"key": w.agency.key}),
    ("api.plans", "GET"): everyone(),
    ("api.plan", "GET"): everyone(200, plan_values),
    ("api.agencies", "GET"): everyone(),
    ("api.agency", "GET"): everyone(200, lambda w: {"key": w.agency.key}),
    # monitoring: organisation A monitors measure_a; the updates are A's
    ("monitor.home", "GET"): only("monitor_a monitor_b"),
    ("monitor.my_updates", "GET"): only("monitor_a monitor_b"),
    ("monitor.new_update", "GET"): only("monitor_a", 200, measure_values),
    ("monitor.new_update", "POST"): only("monitor_a", 400, measure_values),
    ("monitor.update", "GET"): only("monitor_a", 200, lambda w: {"update_id": w.draft_a.id}),
    ("monitor.edit_update", "GET"): only("monitor_a", 200, lambda w: {"update_id": w.draft_a.id}),
    ("monitor.edit_update", "POST"): only("monitor_a", 400, lambda w: {"update_id": w.draft_a.id}),
    ("monitor.revise_update", "GET"): only(
        "monitor_a", 200, lambda w: {"update_id": w.returned_a.id}
    ),
    ("monitor.revise_update", "POST"): only(
        "monitor_a", 400, lambda w: {"update_id": w.returned_a.id}
    ),
    ("monitor.submit_update", "POST"): only(
        "monitor_a", 302, lambda w: {"update_id": w.draft_a.id}
    ),
    ("monitor.archive_update", "POST"): only(
        "monitor_a", 302, lambda w: {"update_id": w.draft_a.id}
    ),
    ("review.queue", "GET"): only("reviewer admin"),
    ("review.item", "GET"): only("reviewer admin", 200, lambda w: {"update_id": w.submitted_a.id}),
    ("review.approve", "POST"): only("reviewer", 302, lambda w: {"update_id": w.submitted_a.id}),
    ("review.return_update", "POST"): only(
        "reviewer", 400, lambda w: {"update_id": w.submitted_a.id}
    ),
    ("review.comment", "POST"): only("reviewer", 400, lambda w: {"update_id": w.submitted_a.id}),
    ("review.decide", "POST"): only("reviewer", 400, lambda w: {"update_id": w.submitted_a.id}),
    ("review.decide_page", "GET"): only(
        "reviewer admin", 302, lambda w: {"update_id": w.submitted_a.id}
    ),
    # Government claims (issue 10, finding 4): reviewers and admins record them, for a
    # measure or a whole plan; a measure's monitors propose them; reviewers decide.
    ("claims.new_claim", "GET"): only("monitor_a reviewer admin", 200, measure_values),
    ("claims.new_claim", "POST"): only("monitor_a reviewer admin", 400, measure_values),
    ("claims.new_plan_claim", "GET"): only("reviewer admin", 200, plan_id_values),
    ("claims.new_plan_claim", "POST"): only("reviewer admin", 400, plan_id_values),
    ("claims.correct_claim", "GET"): (
        only("monitor_a reviewer admin", 200, lambda w: {"claim_id": w.claim.id}),
        only(
            "monitor_a reviewer admin",
            409,
            lambda w: {"claim_id": w.proposal.id},
            note="a proposal is not corrected: it is reviewed",
        ),
    ),
    ("claims.correct_claim", "POST"): only(
        "monitor_a reviewer admin", 400, lambda w: {"claim_id": w.claim.id}
    ),
    # a monitor revises their organisation's returned proposal (another's: 403)
    ("claims.revise_claim", "GET"): only("monitor_a", 200, returned_proposal_values),
    ("claims.revise_claim", "POST"): only("monitor_a", 400, returned_proposal_values),
    # a proposal's own page, for its organisation (another's: 403); reviewers and admins
    # are sent to their page of it
    ("claims.proposal", "GET"): Route(
        anonymous=LOGIN,
        monitor_a=200,
        monitor_b=403,
        reviewer=302,
        admin=302,
        values=lambda w: {"claim_id": w.proposal.id},
    ),
    ("claim_review.queue", "GET"): only("reviewer admin"),
    ("claim_review.proposal", "GET"): only(
        "reviewer admin", 200, lambda w: {"claim_id": w.proposal.id}
    ),
    ("claim_review.approve", "POST"): only("reviewer", 302, lambda w: {"claim_id": w.proposal.id}),
    ("claim_review.return_claim", "POST"): only(
        "reviewer", 400, lambda w: {"claim_id": w.proposal.id}
    ),
    # A file is readable by those who may read the record that cites it; visitors get 404
    # for what they may not read (they cannot tell an unpublished file from a missing one).
    ("files.download", "GET"): (
        everyone(200, file_values("public_file"), note="approved, public evidence"),
        only(
            "monitor_a reviewer admin",
            values=file_values("private_file"),
            anonymous=404,
            note="private evidence of an approved update",
        ),
        only(
            "monitor_a reviewer admin",
            values=file_values("submitted_file"),
            anonymous=404,
            note="evidence of a submitted update",
        ),
        only(
            "monitor_a admin",
            values=file_values("draft_file"),
            anonymous=404,
            note="evidence of a draft: its organisation's (and admins')",
        ),
        only(
            "monitor_a",
            values=file_values("pending_file"),
            anonymous=404,
            note="a pending upload: its uploader's alone",
        ),
        everyone(200, file_values("claim_file"), note="the source of a current claim"),
        only(
            "monitor_a reviewer admin",
            values=file_values("proposal_file"),
            anonymous=404,
            note="a proposed claim's source: its organisation's, reviewers' and admins'",
        ),
    ),
    ("api.measure_updates", "GET"): everyone(200, measure_values),
    # registry
    ("registry.index", "GET"): everyone(),
    ("registry.organisation", "GET"): everyone(200, organisation_values),
    ("registry.organisation_feed", "GET"): everyone(200, organisation_values),
    ("registry.stats", "GET"): everyone(),
    ("registry.coverage", "GET"): everyone(),
    ("api.organisations", "GET"): everyone(),
    ("api.organisation", "GET"): everyone(200, organisation_values),
    ("api.registry_stats", "GET"): everyone(),
    ("registry_admin.index", "GET"): admin_only(),
    ("registry_admin.create", "GET"): admin_only(),
    ("registry_admin.create", "POST"): admin_only(400),
    ("registry_admin.edit", "GET"): admin_only(200, organisation_values),
    ("registry_admin.edit", "POST"): admin_only(400, organisation_values),
    ("registry_admin.archive", "POST"): admin_only(
        302, lambda w: {"organisation_id": w.organisation_b.id}
    ),
    ("registry_admin.restore", "POST"): admin_only(
        302, lambda w: {"organisation_id": w.organisation_b.id}
    ),
    ("registry_admin.import_file", "GET"): admin_only(),
    ("registry_admin.import_file", "POST"): admin_only(400),
    ("registry_admin.template", "GET"): admin_only(200, lambda w: {"fmt": "csv"}),
    ("registry_admin.links", "GET"): admin_only(200, organisation_values),
    ("registry_admin.add_links", "POST"): admin_only(400, organisation_values),
    ("registry_admin.end", "POST"): admin_only(302, link_values),
    ("registry_admin.make_lead", "POST"): admin_only(302, link_values),
    ("registry_admin.remove_lead", "POST"): admin_only(302, link_values),
    # reminders, notifications and calendars
    ("notifications.index", "GET"): signed_in(),
    ("notifications.mark_read", "POST"): only(
        "monitor_a", 302, notification_of_monitor_a, others=404
    ),
    ("notifications.mark_all_read", "POST"): signed_in(302),
    ("notifications.preferences", "POST"): signed_in(302),
    ("notifications.unsubscribe", "GET"): (
        everyone(200, unsubscribe_token),
        everyone(400, lambda w: {"token": "tampered"}, note="a tampered token"),
    ),
    # the confirmation is shown on the page itself
    ("notifications.unsubscribe", "POST"): everyone(200, unsubscribe_token),
    ("notifications.unsubscribe_all", "GET"): (
        everyone(200, list_unsubscribe_token),
        everyone(400, lambda w: {"token": "tampered"}, note="a tampered token"),
    ),
    # authorised by the signed token alone (RFC 8058 one-click): no CSRF, no session
    ("notifications.unsubscribe_all", "POST"): (
        everyone(200, list_unsubscribe_token),
        everyone(400, lambda w: {"token": "tampered"}, note="a tampered token"),
    ),
    ("reminders_admin.index", "GET"): admin_only(),
    ("reminders_admin.save", "POST"): admin_only(400),
    ("reminders_admin.retry", "POST"): admin_only(302, failed_digest),
    ("calendar.index", "GET"): everyone(),
    ("calendar.plan_feed", "GET"): everyone(200, lambda w: {"plan_key": w.plan.key}),
    ("calendar.organisation_feed", "GET"): everyone(200, organisation_values),
    # reports and open data
    # a report download answers "being prepared" (202); the scheduler builds the file
    ("reports.download", "GET"): everyone(202),
    ("reports.plan_pdf", "GET"): everyone(202, plan_values),
    ("reports.section_pdf", "GET"): everyone(202, lambda w: {"key": w.plan.key, "number": 1}),
    ("reports.agency_pdf", "GET"): everyone(202, lambda w: {"key": w.agency.key}),
    ("reports.organisation_pdf", "GET"): everyone(202, organisation_values),
    ("reports.archive", "GET"): everyone(),
    ("reports.archived_file", "GET"): (
        everyone(200, archived_report),
        everyone(404, lambda w: {"file_name": "no-such-report.pdf"}, note="an unknown file"),
    ),
    ("opendata.index", "GET"): everyone(),
    ("opendata.measures", "GET"): everyone(200, lambda w: {"fmt": "csv"}),
    ("opendata.organisations", "GET"): everyone(200, lambda w: {"fmt": "xlsx"}),
    ("opendata.updates", "GET"): everyone(200, lambda w: {"fmt": "csv"}),
    ("opendata.updates_feed", "GET"): everyone(),
    ("api.measures", "GET"): everyone(),
    ("api.measure", "GET"): everyone(
        200, lambda w: {"plan_key": w.plan.key, "code": w.measure_a.code}
    ),
    ("api.scorecard", "GET"): everyone(200, lambda w: {"plan_key": w.plan.key}),
    ("api.updates", "GET"): everyone(),
    ("api.openapi", "GET"): everyone(),
}


def cases(key: tuple[str, str]) -> tuple[Route, ...]:
    routes = EXPECTATIONS[key]
    return routes if isinstance(routes, tuple) else (routes,)
