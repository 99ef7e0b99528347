"""A small, complete world for the role × route matrix: one plan, two monitoring
organisations (A and B), a user per role, and the records the parametrised routes need.

Built fresh for each route, so that one route's POST cannot change what the next sees.
Rows of route_expectations.py read these objects' ids to build their URLs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.accounts.conftest import password_hash
from tracker.extensions import db
from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    GovernmentClaim,
    Measure,
    MeasureAgency,
    MonitoringLink,
    Organisation,
    Section,
    StatusUpdate,
    StoredFile,
    User,
)
from tracker.vocabulary import Completion, ReviewState

#: the roles of the matrix, in the order each route is tried
ROLES = ("anonymous", "monitor_b", "reviewer", "admin", "monitor_a")


@dataclass
class World:
    plan: ActionPlan
    section: Section
    agency: Agency
    #: monitored by organisation A
    measure_a: Measure
    #: monitored by organisation B
    measure_b: Measure
    organisation_a: Organisation
    organisation_b: Organisation
    users: dict[str, User]
    #: an invited reviewer without a password: the target of the admin's user routes
    other_user: User
    draft_a: StatusUpdate
    submitted_a: StatusUpdate
    approved_a: StatusUpdate
    returned_a: StatusUpdate
    #: evidence files by the record that cites them (see file_access)
    public_file: StoredFile
    private_file: StoredFile
    draft_file: StoredFile
    submitted_file: StoredFile
    #: uploaded by monitor A with a form that was not saved yet
    pending_file: StoredFile
    claim_file: StoredFile
    claim: GovernmentClaim
    #: a claim monitor A proposed, waiting for review, with its source file
    proposal_file: StoredFile
    proposal: GovernmentClaim
    link_a: MonitoringLink


def _measure(plan: ActionPlan, section: Section, code: str, position: int) -> Measure:
    measure = Measure(
        plan=plan,
        section=section,
        code=code,
        position=position,
        title_az=f"Tədbir {code}",
        title_en=f"Measure {code}",
        indicator_az="İndikator",
        indicator_en="Indicator",
        deadline="2020–2022",
        start_year=2020,
        end_year=2022,
        due_date=date(2022, 12, 31),
    )
    db.session.add(measure)
    return measure


def _stored_file(name: str, uploader: User, **extra) -> StoredFile:
    stored = StoredFile(
        stored_name=secrets.token_hex(20),
        original_filename=f"{name}.pdf",
        content_type="application/pdf",
        size_bytes=8,
        sha256="0" * 64,
        uploaded_by_id=uploader.id,
        **extra,
    )
    db.session.add(stored)
    return stored


def _update(
    measure: Measure, organisation: Organisation, author: User, state: ReviewState, **extra
):
    update = StatusUpdate(
        measure=measure,
        organisation=organisation,
        author_id=author.id,
        completion=str(Completion.LIMITED),
        as_of_date=date(2021, 6, 1),
        narrative_en=f"A {state} update",
        review_state=str(state),
        **extra,
    )
    db.session.add(update)
    return update


def build_world(upload_folder: str) -> World:
    from pathlib import Path

    plan = ActionPlan(
        key="matrix-plan",
        country="AZ",
        title_az="Test planı",
        title_en="Test plan",
        period="2020–2022",
        start_year=2020,
        end_year=2022,
    )
    section = Section(plan=plan, number=1, title_az="Bölmə", title_en="Section")
    db.session.add_all([plan, section])
    measure_a = _measure(plan, section, "1.1", 1)
    measure_b = _measure(plan, section, "1.2", 2)
    # The seeded plan (in the served app's database) already names this agency.
    agency = db.session.scalar(select(Agency).where(Agency.key == "ministry-of-justice"))
    if agency is None:
        agency = Agency(
            key="ministry-of-justice", name_az="Ədliyyə Nazirliyi", name_en="Ministry of Justice"
        )
        db.session.add(agency)
    db.session.add(
        MeasureAgency(
            measure=measure_a,
            agency=agency,
            role="executor",
            position=1,
            name_as_written="Ədliyyə Nazirliyi",
        )
    )
    organisation_a = Organisation(name_az="Təşkilat A", name_en="Organisation A")
    organisation_b = Organisation(name_az="Təşkilat B", name_en="Organisation B")
    db.session.add_all([organisation_a, organisation_b])
    db.session.flush()
    link_a = MonitoringLink(
        organisation_id=organisation_a.id, measure_id=measure_a.id, start_date=date(2020, 1, 1)
    )
    link_b = MonitoringLink(
        organisation_id=organisation_b.id, measure_id=measure_b.id, start_date=date(2020, 1, 1)
    )
    db.session.add_all([link_a, link_b])

    users = {
        "admin": User(email="admin@example.org", role="admin", password_hash=password_hash()),
        "reviewer": User(
            email="reviewer@example.org", role="reviewer", password_hash=password_hash()
        ),
        "monitor_a": User(
            email="monitor.a@example.org",
            role="monitor",
            organisation_id=organisation_a.id,
            password_hash=password_hash(),
        ),
        "monitor_b": User(
            email="monitor.b@example.org",
            role="monitor",
            organisation_id=organisation_b.id,
            password_hash=password_hash(),
        ),
    }
    other_user = User(email="invited@example.org", role="reviewer", password_hash=None)
    db.session.add_all([*users.values(), other_user])
    db.session.flush()

    author = users["monitor_a"]
    draft_a = _update(measure_a, organisation_a, author, ReviewState.DRAFT)
    submitted_a = _update(measure_a, organisation_a, author, ReviewState.SUBMITTED)
    approved_a = _update(measure_a, organisation_a, author, ReviewState.APPROVED)
    returned_a = _update(
        measure_a, organisation_a, author, ReviewState.RETURNED, return_reason="Add a source"
    )
    public_file = _stored_file("public", author)
    private_file = _stored_file("private", author)
    draft_file = _stored_file("draft", author)
    submitted_file = _stored_file("submitted", author)
    pending_file = _stored_file(
        "pending", author, pending_until=datetime.now(UTC) + timedelta(hours=24)
    )
    claim_file = _stored_file("claim", users["reviewer"])
    proposal_file = _stored_file("proposal", author)
    db.session.flush()
    folder = Path(upload_folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stored in (
        public_file,
        private_file,
        draft_file,
        submitted_file,
        pending_file,
        claim_file,
        proposal_file,
    ):
        (folder / stored.stored_name).write_bytes(b"%PDF-1.4\n%%EOF\n")
    db.session.add_all(
        [
            Evidence(
                update=approved_a,
                evidence_type="official_document",
                title="Public evidence",
                file_id=public_file.id,
            ),
            Evidence(
                update=approved_a,
                evidence_type="official_document",
                title="Private evidence",
                file_id=private_file.id,
                is_private=True,
            ),
            Evidence(
                update=draft_a,
                evidence_type="official_document",
                title="Draft evidence",
                file_id=draft_file.id,
            ),
            Evidence(
                update=submitted_a,
                evidence_type="official_document",
                title="Submitted evidence",
                file_id=submitted_file.id,
            ),
            GovernmentClaim(
                measure=measure_b,
                claimed_completion=str(Completion.LIMITED),
                claim_date=date(2022, 11, 1),
                source_title="Government statement",
                file_id=claim_file.id,
                recorded_by_id=users["reviewer"].id,
            ),
        ]
    )
    claim = GovernmentClaim(
        measure=measure_a,
        claimed_completion=str(Completion.COMPLETE),
        claim_date=date(2022, 12, 1),
        source_title="Government report",
        source_url="https://example.org/report",
    )
    proposal = GovernmentClaim(
        measure=measure_a,
        claimed_completion=str(Completion.SUBSTANTIAL),
        claim_date=date(2022, 6, 1),
        source_title="Ministry statement",
        file_id=proposal_file.id,
        recorded_by_id=author.id,
        organisation_id=organisation_a.id,
        review_state=str(ReviewState.SUBMITTED),
    )
    db.session.add_all([claim, proposal])
    db.session.commit()
    return World(
        plan=plan,
        section=section,
        agency=agency,
        measure_a=measure_a,
        measure_b=measure_b,
        organisation_a=organisation_a,
        organisation_b=organisation_b,
        users=users,
        other_user=other_user,
        draft_a=draft_a,
        submitted_a=submitted_a,
        approved_a=approved_a,
        returned_a=returned_a,
        public_file=public_file,
        private_file=private_file,
        draft_file=draft_file,
        submitted_file=submitted_file,
        pending_file=pending_file,
        claim_file=claim_file,
        claim=claim,
        proposal_file=proposal_file,
        proposal=proposal,
        link_a=link_a,
    )
