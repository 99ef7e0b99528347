"""Status updates with evidence, their review, and the government's claims."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import EnumText, UTCDateTime, utc_now
from tracker.vocabulary import Completion, EvidenceType, RequestOutcome, ReviewAction, ReviewState

#: how many random bytes a file's public id holds (token_urlsafe: 32 characters)
PUBLIC_ID_BYTES = 24


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


class StoredFile(db.Model):
    """An uploaded file, kept under a random name outside static/.

    A file belongs to the record that cites it (an evidence item, a government claim) and
    is readable by those who may read that record. Until a record cites it, it is pending:
    its uploader's alone, for a day (see services.monitoring.uploads)."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the file's id in URLs: random, so that no one finds a file by counting
    public_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_public_id)
    #: random name on disk, never derived from user input
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    #: the uploader's filename, sanitised: shown on its uploader's own form only; pages and
    #: downloads name the file after its record (services.monitoring.file_names)
    original_filename: Mapped[str] = mapped_column(String(255))
    #: detected from the file's magic bytes, not from the upload's headers
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: what a PDF can run when opened ("javascript", "launch", "additional_actions"); empty
    #: for a file that can run nothing. Reviewers see a warning beside such a file.
    active_content: Mapped[list] = mapped_column(JSON, default=list)
    #: set while the file is pending (uploaded with a form that was not saved yet): the
    #: moment it expires and is removed; None once a record cites it
    pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def has_active_content(self) -> bool:
        return bool(self.active_content)


class StatusUpdate(db.Model):
    """A monitoring organisation's assessment of a measure. Append-only once submitted:
    a correction is a new update whose `replaces_id` points to the one it replaces."""

    __tablename__ = "status_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the update this one corrects or revises
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("status_update.id"), index=True)
    #: Completion key (IRM scale)
    completion: Mapped[Completion] = mapped_column(EnumText(Completion, 20))
    progress_percent: Mapped[int | None] = mapped_column(Integer)
    #: the date the assessment describes
    as_of_date: Mapped[date] = mapped_column(Date)
    narrative_az: Mapped[str] = mapped_column(Text, default="")
    narrative_en: Mapped[str] = mapped_column(Text, default="")
    #: DelayReason keys
    delay_reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: ReviewState: draft → submitted → approved | returned
    review_state: Mapped[ReviewState] = mapped_column(
        EnumText(ReviewState, 20), default=ReviewState.DRAFT, index=True
    )
    #: the reason a reviewer gave when returning it (the monitor sees it)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    submitted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the random key of the form it was sent from: the same form sent twice by its author
    #: saves once (unique with the author: ix_status_update_form_key)
    form_key: Mapped[str | None] = mapped_column(String(64))

    measure: Mapped[Measure] = relationship()  # noqa: F821
    organisation: Mapped[Organisation] = relationship()  # noqa: F821
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    replaces: Mapped[StatusUpdate | None] = relationship(remote_side=[id])
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="update", order_by="Evidence.id", cascade="all, delete-orphan"
    )

    def narrative(self, locale: str) -> str:
        if locale == "en" and self.narrative_en:
            return self.narrative_en
        return self.narrative_az or self.narrative_en


Index("ix_status_update_form_key", StatusUpdate.author_id, StatusUpdate.form_key, unique=True)

#: the public feeds' and the updates API's order, newest decision first
#: (services.reports.exports.approved_updates_statement): the approved ones are read in
#: index order, never sorted from all rows
Index(
    "ix_status_update_published_order",
    StatusUpdate.review_state,
    func.coalesce(StatusUpdate.decided_dt, StatusUpdate.created_dt).desc(),
    StatusUpdate.id.desc(),
)

#: updates waiting for review, written as literals: the WHERE of a partial index, which a
#: query repeats to use it (SQLite matches the terms as written)
AWAITING_REVIEW = text(f"review_state = '{ReviewState.SUBMITTED.value}' AND is_archived = false")
#: "is an update of this link waiting for review?" (the reminders ask it of every link):
#: a few rows, and without it SQLite chose among three single-column indexes by the order
#: they were made in, and took 1.5 to 7 s at 500,000 links
Index(
    "ix_status_update_awaiting_review",
    StatusUpdate.organisation_id,
    StatusUpdate.measure_id,
    sqlite_where=AWAITING_REVIEW,
    postgresql_where=AWAITING_REVIEW,
)

#: the approved updates that count, written as literals: the WHERE of a partial index, which
#: a query repeats to use it (as AWAITING_REVIEW)
APPROVED_CURRENT = text(f"review_state = '{ReviewState.APPROVED.value}' AND is_archived = false")
#: every page's "latest approved assessment of each measure and organisation"
#: (services.plans.status): the rows come in the window's order, with every column it reads,
#: so neither database sorts nor reads the table. Without it, at 1,000,000 updates (200 a
#: measure), PostgreSQL sorted a plan's 12,800 updates: 9.5-13.5 ms, against 2.4-3.0 ms
Index(
    "ix_status_update_latest_approved",
    StatusUpdate.measure_id,
    StatusUpdate.organisation_id,
    StatusUpdate.as_of_date.desc(),
    StatusUpdate.id.desc(),
    StatusUpdate.completion,
    StatusUpdate.progress_percent,
    sqlite_where=APPROVED_CURRENT,
    postgresql_where=APPROVED_CURRENT,
)


class Evidence(db.Model):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("status_update.id"), index=True)
    #: EvidenceType key
    evidence_type: Mapped[EvidenceType] = mapped_column(EnumText(EvidenceType, 40))
    title: Mapped[str] = mapped_column(Text)
    evidence_date: Mapped[date | None] = mapped_column(Date)
    #: an http(s) link, or None when a file is attached
    url: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    #: private evidence is shown to reviewers only; the public sees that it exists
    is_private: Mapped[bool] = mapped_column(default=False)
    #: information_request: date sent, agency, date answered and outcome
    request_sent_on: Mapped[date | None] = mapped_column(Date)
    request_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    request_answered_on: Mapped[date | None] = mapped_column(Date)
    #: RequestOutcome key
    request_outcome: Mapped[RequestOutcome | None] = mapped_column(EnumText(RequestOutcome, 20))

    update: Mapped[StatusUpdate] = relationship(back_populates="evidence")
    file: Mapped[StoredFile | None] = relationship()
    request_agency: Mapped[Agency | None] = relationship()  # noqa: F821


class ReviewDecision(db.Model):
    """A reviewer's decision or comment on an update: the review's history."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("status_update.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: "approved", "returned" or "comment"
    decision: Mapped[ReviewAction] = mapped_column(EnumText(ReviewAction, 20))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    update: Mapped[StatusUpdate] = relationship()
    reviewer: Mapped[User] = relationship()  # noqa: F821


class GovernmentClaim(db.Model):
    """What the government says, with its source: about one measure, or about the whole
    plan (`measure_id` None, `plan_id` set), which then stands for each measure that has no
    claim of its own.

    Reviewers and admins record claims from official documents (approved at once); a
    monitor proposes one (submitted), which a reviewer approves or returns, as an update.
    Only approved, current claims are public. A correction is a new claim whose
    `replaces_id` points to the one it corrects, which is archived once it is approved. A
    returned proposal is never changed: its organisation's monitor revises it by proposing
    a new one whose `revises_id` points to it, once (ix_government_claim_revises)."""

    __tablename__ = "government_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the measure the claim is about; None for a claim about the whole plan
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measure.id"), index=True)
    #: the plan of a plan-wide claim (None for a claim about one measure)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("action_plan.id"), index=True)
    #: Completion key the government claims
    claimed_completion: Mapped[Completion] = mapped_column(EnumText(Completion, 20))
    #: the date of the government's report or statement
    claim_date: Mapped[date] = mapped_column(Date)
    source_title: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the organisation of the monitor who proposed it (None when a reviewer recorded it)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: ReviewState: submitted (a monitor's proposal) → approved | returned
    review_state: Mapped[ReviewState] = mapped_column(
        EnumText(ReviewState, 20), default=ReviewState.APPROVED, index=True
    )
    #: the reason a reviewer gave when returning a proposal
    return_reason: Mapped[str] = mapped_column(Text, default="")
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the claim this one corrects
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("government_claim.id"))
    #: the returned proposal this proposal revises (it corrects what that one corrected)
    revises_id: Mapped[int | None] = mapped_column(ForeignKey("government_claim.id"))
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: the random key of the form it was sent from, so that the same form sent twice
    #: records once (unique with the recorder: ix_government_claim_form_key)
    form_key: Mapped[str | None] = mapped_column(String(64))

    measure: Mapped[Measure | None] = relationship()  # noqa: F821
    plan: Mapped[ActionPlan | None] = relationship()  # noqa: F821
    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821
    file: Mapped[StoredFile | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    replaces: Mapped[GovernmentClaim | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id]
    )
    revises: Mapped[GovernmentClaim | None] = relationship(
        remote_side=[id], foreign_keys=[revises_id]
    )

    @property
    def is_plan_wide(self) -> bool:
        return self.measure_id is None

    @property
    def is_public(self) -> bool:
        return self.review_state == ReviewState.APPROVED and not self.is_archived


Index(
    "ix_government_claim_form_key",
    GovernmentClaim.recorded_by_id,
    GovernmentClaim.form_key,
    unique=True,
)
#: a returned proposal is revised once: of two revisions sent at the same time one is saved
Index(
    "ix_government_claim_revises",
    GovernmentClaim.revises_id,
    unique=True,
    sqlite_where=GovernmentClaim.revises_id.is_not(None),
    postgresql_where=GovernmentClaim.revises_id.is_not(None),
)
