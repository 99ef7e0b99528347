"""Status updates: the one write path for monitors' assessments, and the read models of
their history.

Rules kept here, whoever calls (a view, a command, a job):
- the organisation is the author's, never taken from input;
- a draft can be edited; once submitted an update's content never changes;
- a revision (of a returned update) or a correction (of an approved one) is a new update
  whose `replaces_id` points to the one it replaces; nothing is deleted, only archived.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.datastructures import FileStorage

from tracker import clock
from tracker.models import (
    Agency,
    Evidence,
    GovernmentClaim,
    Measure,
    MonitoringLink,
    Organisation,
    ReviewDecision,
    StatusUpdate,
    StoredFile,
)
from tracker.services import audit
from tracker.services.monitoring import uploads
from tracker.services.plans import MeasureState, measure_state, measure_states
from tracker.vocabulary import (
    Completion,
    DelayReason,
    EvidenceType,
    RequestOutcome,
    ReviewState,
)

MAX_URL_LENGTH = 2000
#: how many approved updates the public measure page lists (the API has them all)
PUBLIC_HISTORY_LIMIT = 50


class InvalidInput(Exception):
    """The input breaks a rule. `errors` maps the form's field names to messages;
    `status` is 413 when a file is too large, else 400."""

    def __init__(self, errors: dict[str, list], status: int = 400):
        super().__init__(sorted(errors))
        self.errors = errors
        self.status = status


class StateConflict(Exception):
    """The update is no longer in the state the action needs (someone else acted first)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EvidenceInput:
    evidence_type: EvidenceType
    title: str
    evidence_date: date | None
    url: str | None = None
    upload: FileStorage | None = None
    is_private: bool = False
    request_sent_on: date | None = None
    request_agency_id: int | None = None
    request_answered_on: date | None = None
    request_outcome: RequestOutcome | None = None


@dataclass(frozen=True)
class UpdateInput:
    completion: Completion
    as_of_date: date
    narrative_az: str = ""
    narrative_en: str = ""
    progress_percent: int | None = None
    delay_reasons: tuple[DelayReason, ...] = ()
    evidence: tuple[EvidenceInput, ...] = ()
    #: ids of the replaced update's evidence items to carry over (revisions, corrections)
    keep_evidence_ids: tuple[int, ...] = ()


# --- validation ----------------------------------------------------------------------------


def is_http_url(value: str) -> bool:
    """An absolute http(s) link with a host; `javascript:`, `data:` and the like are not."""
    if not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def link_error_message():
    return _l("Enter a link that starts with http:// or https://, or upload a file instead.")


class _Errors(dict):
    def add(self, name: str, message) -> None:
        self.setdefault(name, []).append(message)


def _check_evidence(
    errors: _Errors, index: int, item: EvidenceInput, today: date, agency_ids: set[int]
) -> None:
    prefix = f"evidence-{index}-"
    if not item.title.strip():
        errors.add(prefix + "title", _l("Give the evidence a title."))
    if item.evidence_date is None:
        errors.add(prefix + "evidence_date", _l("Enter the date of the evidence."))
    elif item.evidence_date > today:
        errors.add(prefix + "evidence_date", _l("The evidence date cannot be in the future."))
    if item.url and item.upload:
        errors.add(prefix + "url", _l("Give either a link or a file, not both."))
    elif not item.url and not item.upload:
        errors.add(prefix + "url", _l("Give a link to the evidence or upload a file."))
    elif item.url and not is_http_url(item.url):
        errors.add(prefix + "url", link_error_message())
    if item.evidence_type == EvidenceType.INFORMATION_REQUEST:
        if item.request_sent_on is None:
            errors.add(prefix + "request_sent_on", _l("Enter the date the request was sent."))
        elif item.request_sent_on > today:
            errors.add(prefix + "request_sent_on", _l("The date sent cannot be in the future."))
        if item.request_agency_id is None or item.request_agency_id not in agency_ids:
            errors.add(prefix + "request_agency_id", _l("Choose the agency the request went to."))
        if item.request_outcome is None:
            errors.add(prefix + "request_outcome", _l("Choose the outcome of the request."))
        if item.request_answered_on is not None:
            if item.request_outcome == RequestOutcome.NO_REPLY:
                errors.add(
                    prefix + "request_answered_on",
                    _l("A request with no reply has no answer date. Clear the date."),
                )
            elif item.request_sent_on and item.request_answered_on < item.request_sent_on:
                errors.add(
                    prefix + "request_answered_on",
                    _l("The answer date cannot be before the date sent."),
                )
            elif item.request_answered_on > today:
                errors.add(
                    prefix + "request_answered_on",
                    _l("The answer date cannot be in the future."),
                )
    elif any(
        value is not None
        for value in (
            item.request_sent_on,
            item.request_agency_id,
            item.request_answered_on,
            item.request_outcome,
        )
    ):
        errors.add(
            prefix + "evidence_type",
            _l(
                "Request details belong to a request for information. Choose that type or "
                "clear the request details."
            ),
        )


def _validate(session: Session, measure: Measure, data: UpdateInput) -> _Errors:
    errors = _Errors()
    today = clock.today()
    if data.as_of_date > today:
        errors.add("as_of_date", _l("The “as of” date cannot be in the future."))
    if not (data.narrative_az.strip() or data.narrative_en.strip()):
        errors.add("narrative_az", _l("Write the narrative in Azerbaijani, in English or in both."))
    if data.progress_percent is not None and not 0 <= data.progress_percent <= 100:
        errors.add("progress_percent", _l("Enter a percentage from 0 to 100."))
    if data.completion == Completion.COMPLETE and data.delay_reasons:
        errors.add("delay_reasons", _l("A complete measure has no reasons for delay. Clear them."))
    elif data.completion in (Completion.NOT_STARTED, Completion.LIMITED, Completion.SUBSTANTIAL):
        due_date = measure_state(session, measure, data.as_of_date).due_date
        if data.as_of_date > due_date and not data.delay_reasons:
            errors.add(
                "delay_reasons",
                _l(
                    "The measure was overdue on the “as of” date. Choose at least one "
                    "reason for the delay."
                ),
            )
    agency_ids: set[int] = set()
    if any(e.evidence_type == EvidenceType.INFORMATION_REQUEST for e in data.evidence):
        wanted = {e.request_agency_id for e in data.evidence if e.request_agency_id}
        agency_ids = set(session.scalars(select(Agency.id).where(Agency.id.in_(wanted))))
    for index, item in enumerate(data.evidence):
        _check_evidence(errors, index, item, today, agency_ids)
    return errors


def _check_uploads(data: UpdateInput) -> dict[int, uploads.CheckedUpload]:
    checked: dict[int, uploads.CheckedUpload] = {}
    errors = _Errors()
    status = 400
    for index, item in enumerate(data.evidence):
        if item.upload is None:
            continue
        try:
            checked[index] = uploads.check_upload(item.upload)
        except uploads.UploadError as error:
            errors.add(f"evidence-{index}-file", error.message)
            status = max(status, error.status)
    if errors:
        raise InvalidInput(errors, status)
    return checked


# --- writes --------------------------------------------------------------------------------


def _add_evidence(
    session: Session,
    target: StatusUpdate,
    data: UpdateInput,
    checked: dict[int, uploads.CheckedUpload],
    uploader,
) -> list[StoredFile]:
    written: list[StoredFile] = []
    try:
        for index, item in enumerate(data.evidence):
            stored = None
            if index in checked:
                stored = uploads.store_checked(session, checked[index], uploader)
                written.append(stored)
            target.evidence.append(
                Evidence(
                    evidence_type=item.evidence_type,
                    title=item.title.strip(),
                    evidence_date=item.evidence_date,
                    url=None if stored else (item.url or None),
                    file_id=stored.id if stored else None,
                    is_private=item.is_private,
                    request_sent_on=item.request_sent_on,
                    request_agency_id=item.request_agency_id,
                    request_answered_on=item.request_answered_on,
                    request_outcome=item.request_outcome,
                )
            )
    except Exception:
        uploads.discard(written)
        raise
    return written


def _copy_kept_evidence(target: StatusUpdate, source: StatusUpdate, keep_ids: tuple[int, ...]):
    for item in source.evidence:
        if item.id in keep_ids:
            target.evidence.append(
                Evidence(
                    evidence_type=item.evidence_type,
                    title=item.title,
                    evidence_date=item.evidence_date,
                    url=item.url,
                    file_id=item.file_id,
                    is_private=item.is_private,
                    request_sent_on=item.request_sent_on,
                    request_agency_id=item.request_agency_id,
                    request_answered_on=item.request_answered_on,
                    request_outcome=item.request_outcome,
                )
            )


def live_successor(session: Session, update_id: int) -> StatusUpdate | None:
    """A draft or submitted update that already revises or corrects this one."""
    return session.scalar(
        select(StatusUpdate)
        .where(
            StatusUpdate.replaces_id == update_id,
            StatusUpdate.is_archived.is_(False),
            StatusUpdate.review_state.in_([ReviewState.DRAFT, ReviewState.SUBMITTED]),
        )
        .limit(1)
    )


def _check_replaceable(session: Session, author, measure: Measure, replaces: StatusUpdate):
    if (
        replaces.organisation_id != author.organisation_id
        or replaces.measure_id != measure.id
        or replaces.is_archived
        or replaces.review_state not in (ReviewState.RETURNED, ReviewState.APPROVED)
    ):
        raise StateConflict(
            _l("Only a returned or approved update of your organisation can be revised.")
        )
    if live_successor(session, replaces.id) is not None:
        raise StateConflict(
            _l("This update is already being revised. Open the existing revision instead.")
        )


def create_update(
    session: Session,
    author,
    measure: Measure,
    data: UpdateInput,
    *,
    replaces: StatusUpdate | None = None,
) -> StatusUpdate:
    """A new draft for the author's organisation (a revision/correction when `replaces`)."""
    if author.organisation_id is None:
        raise StateConflict(_l("Only a monitor of an organisation can post updates."))
    if replaces is not None:
        _check_replaceable(session, author, measure, replaces)
        unknown = set(data.keep_evidence_ids) - {e.id for e in replaces.evidence}
        if unknown:
            raise InvalidInput({"keep_evidence": [_l("Choose only evidence of this update.")]})
    errors = _validate(session, measure, data)
    if errors:
        raise InvalidInput(errors)
    checked = _check_uploads(data)
    new = StatusUpdate(
        measure_id=measure.id,
        organisation_id=author.organisation_id,
        author_id=author.id,
        replaces_id=replaces.id if replaces else None,
        completion=data.completion,
        progress_percent=data.progress_percent,
        as_of_date=data.as_of_date,
        narrative_az=data.narrative_az.strip(),
        narrative_en=data.narrative_en.strip(),
        delay_reasons=[str(r) for r in data.delay_reasons],
        review_state=ReviewState.DRAFT,
    )
    session.add(new)
    if replaces is not None:
        _copy_kept_evidence(new, replaces, data.keep_evidence_ids)
    _add_evidence(session, new, data, checked, author)
    session.flush()
    audit.record(
        session,
        "update.created",
        "status_update",
        new.id,
        actor=author,
        summary=f"{measure.code} {new.completion}",
        details={
            "measure_id": measure.id,
            "organisation_id": new.organisation_id,
            "replaces_id": new.replaces_id,
            "evidence_items": len(new.evidence),
        },
    )
    return new


def _lock(session: Session, update_id: int) -> StatusUpdate:
    """Reload the update with a row lock (PostgreSQL; SQLite writes are serialised)."""
    return session.execute(
        select(StatusUpdate)
        .where(StatusUpdate.id == update_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def edit_draft(session: Session, editor, draft: StatusUpdate, data: UpdateInput) -> StatusUpdate:
    """Change a draft's content and add evidence; a submitted update can no longer change."""
    draft = _lock(session, draft.id)
    if draft.review_state != ReviewState.DRAFT or draft.is_archived:
        raise StateConflict(_l("This update was already submitted; its content is final."))
    if draft.organisation_id != editor.organisation_id:
        raise StateConflict(_l("Only your organisation's drafts can be edited."))
    errors = _validate(session, draft.measure, data)
    if errors:
        raise InvalidInput(errors)
    checked = _check_uploads(data)
    draft.completion = data.completion
    draft.progress_percent = data.progress_percent
    draft.as_of_date = data.as_of_date
    draft.narrative_az = data.narrative_az.strip()
    draft.narrative_en = data.narrative_en.strip()
    draft.delay_reasons = [str(r) for r in data.delay_reasons]
    _add_evidence(session, draft, data, checked, editor)
    session.flush()
    audit.record(
        session,
        "update.edited",
        "status_update",
        draft.id,
        actor=editor,
        details={"evidence_items": len(draft.evidence)},
    )
    return draft


def submit_update(session: Session, actor, draft: StatusUpdate) -> StatusUpdate:
    """Draft → submitted, once: the content is final from here on."""
    result = session.execute(
        update(StatusUpdate)
        .where(
            StatusUpdate.id == draft.id,
            StatusUpdate.organisation_id == actor.organisation_id,
            StatusUpdate.review_state == ReviewState.DRAFT,
            StatusUpdate.is_archived.is_(False),
        )
        .values(review_state=ReviewState.SUBMITTED, submitted_dt=clock.now_utc())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateConflict(_l("This update is no longer a draft; it cannot be submitted again."))
    submitted = _lock(session, draft.id)
    if submitted.replaces_id is not None:
        # A returned update is settled once its revision is submitted; an approved one
        # stays public until its correction is approved (see services.review).
        session.execute(
            update(StatusUpdate)
            .where(
                StatusUpdate.id == submitted.replaces_id,
                StatusUpdate.review_state == ReviewState.RETURNED,
            )
            .values(is_archived=True)
            .execution_options(synchronize_session=False)
        )
    audit.record(
        session,
        "update.submitted",
        "status_update",
        submitted.id,
        actor=actor,
        details={"measure_id": submitted.measure_id, "replaces_id": submitted.replaces_id},
    )
    return submitted


def archive_draft(session: Session, actor, draft: StatusUpdate) -> None:
    """Set a draft aside. It is kept, not deleted."""
    result = session.execute(
        update(StatusUpdate)
        .where(
            StatusUpdate.id == draft.id,
            StatusUpdate.organisation_id == actor.organisation_id,
            StatusUpdate.review_state == ReviewState.DRAFT,
            StatusUpdate.is_archived.is_(False),
        )
        .values(is_archived=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateConflict(_l("Only a draft can be archived."))
    session.expire(draft)
    audit.record(session, "update.archived", "status_update", draft.id, actor=actor)


# --- reads ---------------------------------------------------------------------------------


def _evidence_loading():
    return selectinload(StatusUpdate.evidence).options(
        joinedload(Evidence.file), joinedload(Evidence.request_agency)
    )


def load_update(session: Session, update_id: int) -> StatusUpdate | None:
    """One update with its measure, organisation and evidence."""
    return session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.id == update_id)
        .options(
            joinedload(StatusUpdate.measure).joinedload(Measure.plan),
            joinedload(StatusUpdate.organisation),
            _evidence_loading(),
        )
    )


def version_history(
    session: Session, target: StatusUpdate, *, with_drafts: bool = False
) -> list[StatusUpdate]:
    """Every update of the same organisation on the same measure, newest first (one query).
    Reviewers see every non-draft version, archived ones included."""
    statement = (
        select(StatusUpdate)
        .where(
            StatusUpdate.measure_id == target.measure_id,
            StatusUpdate.organisation_id == target.organisation_id,
        )
        .order_by(StatusUpdate.created_dt.desc(), StatusUpdate.id.desc())
    )
    if not with_drafts:
        statement = statement.where(StatusUpdate.review_state != ReviewState.DRAFT)
    return list(session.scalars(statement))


def decisions_by_update(session: Session, update_ids: list[int]) -> dict[int, list]:
    if not update_ids:
        return {}
    grouped: dict[int, list[ReviewDecision]] = defaultdict(list)
    for decision in session.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.update_id.in_(update_ids))
        .options(joinedload(ReviewDecision.reviewer))
        .order_by(ReviewDecision.decided_dt, ReviewDecision.id)
    ):
        grouped[decision.update_id].append(decision)
    return grouped


@dataclass
class MonitoredMeasure:
    measure: Measure
    state: MeasureState
    is_lead: bool
    #: the organisation's newest non-archived update on the measure, if any
    latest_update: StatusUpdate | None = None


@dataclass
class MonitorHome:
    organisation: Organisation
    measures: list[MonitoredMeasure]
    #: drafts and returned updates: the organisation's to-do list
    drafts: list[StatusUpdate] = field(default_factory=list)
    returned: list[StatusUpdate] = field(default_factory=list)
    submitted: list[StatusUpdate] = field(default_factory=list)


def monitor_home(session: Session, organisation: Organisation) -> MonitorHome:
    """The monitor's dashboard in a fixed number of queries: the measures the organisation
    monitors today (overdue first, then by due date), their state, and its open work."""
    today = clock.today()
    links = list(
        session.scalars(
            select(MonitoringLink)
            .where(
                MonitoringLink.organisation_id == organisation.id,
                MonitoringLink.start_date <= today,
                (MonitoringLink.end_date.is_(None)) | (MonitoringLink.end_date >= today),
            )
            .options(joinedload(MonitoringLink.measure).joinedload(Measure.plan))
        )
    )
    measures = {link.measure_id: link.measure for link in links}
    is_lead = {link.measure_id: link.is_lead for link in links if link.is_lead}
    states = measure_states(session, measures.values(), today)
    current = (
        StatusUpdate.organisation_id == organisation.id,
        StatusUpdate.is_archived.is_(False),
    )
    open_work = session.scalars(
        select(StatusUpdate)
        .where(
            *current,
            StatusUpdate.review_state.in_(
                [ReviewState.DRAFT, ReviewState.RETURNED, ReviewState.SUBMITTED]
            ),
        )
        .options(joinedload(StatusUpdate.measure).joinedload(Measure.plan))
        .order_by(StatusUpdate.created_dt.desc(), StatusUpdate.id.desc())
    )
    home = MonitorHome(organisation=organisation, measures=[])
    for item in open_work:
        if item.review_state == ReviewState.DRAFT:
            home.drafts.append(item)
        elif item.review_state == ReviewState.RETURNED:
            home.returned.append(item)
        else:
            home.submitted.append(item)
    ranked = (
        select(
            StatusUpdate.id,
            func.row_number()
            .over(
                partition_by=StatusUpdate.measure_id,
                order_by=(StatusUpdate.created_dt.desc(), StatusUpdate.id.desc()),
            )
            .label("rank"),
        )
        .where(*current)
        .subquery()
    )
    latest = {
        item.measure_id: item
        for item in session.scalars(
            select(StatusUpdate)
            .join(ranked, ranked.c.id == StatusUpdate.id)
            .where(ranked.c.rank == 1)
        )
    }
    home.measures = sorted(
        (
            MonitoredMeasure(
                measure=m,
                state=states[m.id],
                is_lead=is_lead.get(m.id, False),
                latest_update=latest.get(m.id),
            )
            for m in measures.values()
        ),
        key=lambda row: (not row.state.is_overdue, row.state.due_date, row.measure.position),
    )
    return home


def organisation_updates(session: Session, organisation_id: int, page: int, per_page: int = 50):
    """All of an organisation's updates, newest first, one page at a time (two queries)."""
    total = session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(StatusUpdate.organisation_id == organisation_id)
    )
    items = list(
        session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.organisation_id == organisation_id)
            .options(joinedload(StatusUpdate.measure).joinedload(Measure.plan))
            .order_by(StatusUpdate.created_dt.desc(), StatusUpdate.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return items, total or 0


@dataclass
class PublicHistory:
    """What the public may see of a measure's monitoring: approved, current updates only."""

    updates: list[StatusUpdate]
    total: int
    #: non-private evidence per update id
    evidence_by_update: dict[int, list[Evidence]]
    #: how many private items each update has (shown as a count, never their content)
    private_counts: dict[int, int]


def public_history(
    session: Session, measure_id: int, limit: int | None = PUBLIC_HISTORY_LIMIT
) -> PublicHistory:
    """Approved, non-archived updates of a measure, newest first, with their public evidence,
    in a fixed number of queries whatever the number of updates."""
    condition = (
        StatusUpdate.measure_id == measure_id,
        StatusUpdate.review_state == ReviewState.APPROVED,
        StatusUpdate.is_archived.is_(False),
    )
    statement = (
        select(StatusUpdate)
        .where(*condition)
        .options(joinedload(StatusUpdate.organisation), _evidence_loading())
        .order_by(StatusUpdate.as_of_date.desc(), StatusUpdate.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    approved = list(session.scalars(statement))
    # Counted even when the page holds them all, so the number of queries never varies.
    total = (
        len(approved)
        if limit is None
        else session.scalar(select(func.count()).select_from(StatusUpdate).where(*condition))
    )
    evidence_by_update = {u.id: [e for e in u.evidence if not e.is_private] for u in approved}
    private_counts = {u.id: sum(1 for e in u.evidence if e.is_private) for u in approved}
    return PublicHistory(approved, total or 0, evidence_by_update, private_counts)


def is_public_file(session: Session, file_id: int) -> bool:
    """A file anyone may download: public evidence of an approved, current update, or the
    source of a current government claim."""
    evidence = session.scalar(
        select(func.count())
        .select_from(Evidence)
        .join(StatusUpdate, StatusUpdate.id == Evidence.update_id)
        .where(
            Evidence.file_id == file_id,
            Evidence.is_private.is_(False),
            StatusUpdate.review_state == ReviewState.APPROVED,
            StatusUpdate.is_archived.is_(False),
        )
    )
    if evidence:
        return True
    claims = session.scalar(
        select(func.count())
        .select_from(GovernmentClaim)
        .where(GovernmentClaim.file_id == file_id, GovernmentClaim.is_archived.is_(False))
    )
    return bool(claims)


def is_organisation_file(session: Session, organisation_id: int, file_id: int) -> bool:
    """Whether the file belongs to one of the organisation's updates (any state)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Evidence)
            .join(StatusUpdate, StatusUpdate.id == Evidence.update_id)
            .where(Evidence.file_id == file_id, StatusUpdate.organisation_id == organisation_id)
        )
    )
