"""Status updates: the one write path for monitors' assessments (their reads are in
history.py, their input and its rules in inputs.py).

Rules kept here, whoever calls (a view, a command, a job):
- the organisation is the author's, never taken from input;
- a draft can be edited; once submitted an update's content never changes;
- a revision (of a returned update) or a correction (of an approved one) is a new update
  whose `replaces_id` points to the one it replaces; nothing is deleted, only archived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import clock
from tracker.models import Evidence, Measure, StatusUpdate, StoredFile
from tracker.services import reminders
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.monitoring import sent_once, uploads
from tracker.services.monitoring.events import record_event
from tracker.services.monitoring.history import live_successor
from tracker.services.monitoring.inputs import (
    Problems,
    UpdateInput,
    check_update,
    evidence_name,
)
from tracker.vocabulary import ReviewState

#: what an evidence item keeps as it is, whether it comes from input or is carried over
_EVIDENCE_FIELDS = (
    "evidence_type",
    "evidence_date",
    "is_private",
    "request_sent_on",
    "request_agency_id",
    "request_answered_on",
    "request_outcome",
)


def _evidence(item, **values) -> Evidence:
    """An evidence row from an EvidenceInput or from another update's Evidence."""
    return Evidence(**{name: getattr(item, name) for name in _EVIDENCE_FIELDS}, **values)


@dataclass
class _CheckedFiles:
    """The input's files, checked before anything is written: new uploads read into
    memory, and the author's pending files that the input names, by evidence index."""

    uploads: dict[int, uploads.CheckedUpload] = field(default_factory=dict)
    pending: dict[int, StoredFile] = field(default_factory=dict)


def _check_files(session: Session, author, data: UpdateInput) -> _CheckedFiles:
    """Read and check every file (413 if one is too large), and find the pending ones."""
    files = _CheckedFiles()
    problems = Problems()
    status = 400
    for index, item in enumerate(data.evidence):
        if item.upload is None:
            continue
        try:
            files.uploads[index] = uploads.check_upload(item.upload)
        except InvalidInput as error:
            problems.add(evidence_name(index, "upload"), error.message)
            status = max(status, error.status)
    wanted = {
        index: item.pending_file
        for index, item in enumerate(data.evidence)
        if item.pending_file and item.upload is None
    }
    found = uploads.pending_files(session, author, wanted.values())
    for index, public_id in wanted.items():
        if public_id in found:
            files.pending[index] = found[public_id]
        else:
            problems.add(evidence_name(index, "upload"), uploads.expired_pending_message())
    if len(found) < len(wanted):
        # the same form, sent at the same time, may have saved its update with the file
        _check_form_not_sent(session, author, data.form_key)
    problems.raise_any(status)
    return files


def _checked_input(session: Session, author, measure: Measure, data: UpdateInput) -> _CheckedFiles:
    """Check the input, then its files; nothing is written yet."""
    check_update(session, measure, data)
    return _check_files(session, author, data)


def _stored_file(session: Session, index: int, files: _CheckedFiles, uploader):
    """The file of the input's evidence item `index`: a new upload written now (kept only
    if the transaction commits, see uploads), or a pending file attached now."""
    if index in files.uploads:
        return uploads.store_checked(session, files.uploads[index], uploader)
    stored = files.pending.get(index)
    if stored is not None and not uploads.attach_pending(session, uploader, stored):
        raise InvalidInput(
            problems={evidence_name(index, "upload"): [uploads.expired_pending_message()]}
        )
    return stored


def _add_evidence(
    session: Session, target: StatusUpdate, data: UpdateInput, files: _CheckedFiles, uploader
) -> None:
    """Add the input's evidence with its files."""
    for index, item in enumerate(data.evidence):
        stored = _stored_file(session, index, files, uploader)
        target.evidence.append(
            _evidence(
                item,
                title=item.title.strip(),
                url=None if stored else (item.url or None),
                file_id=stored.id if stored else None,
            )
        )


def _set_content(target: StatusUpdate, data: UpdateInput) -> None:
    target.completion = data.completion
    target.progress_percent = data.progress_percent
    target.as_of_date = data.as_of_date
    target.narrative_az = data.narrative_az.strip()
    target.narrative_en = data.narrative_en.strip()
    target.delay_reasons = [str(r) for r in data.delay_reasons]


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


def _check_kept(replaces: StatusUpdate, keep_ids: tuple[int, ...]) -> None:
    if set(keep_ids) - {e.id for e in replaces.evidence}:
        raise InvalidInput(
            problems={"keep_evidence_ids": [_l("Choose only evidence of this update.")]}
        )


def _carry_over(target: StatusUpdate, replaces: StatusUpdate, keep_ids: tuple[int, ...]):
    """Copy the kept evidence items of the replaced update (references to the same files)."""
    for item in replaces.evidence:
        if item.id in keep_ids:
            target.evidence.append(
                _evidence(item, title=item.title, url=item.url, file_id=item.file_id)
            )


class AlreadySaved(sent_once.AlreadySaved):
    """The update form was sent before, and saved `record`: it saves nothing again."""

    said = _l("This form was sent already: here is the update it saved.")


#: an update form sent twice saves one update, by its author
_SENT_ONCE = sent_once.SentOnce(StatusUpdate.author_id, AlreadySaved)
#: (session, author, form_key): the update that form saved, if it was sent before
saved_by_form = _SENT_ONCE.saved_by_form
_check_form_not_sent = _SENT_ONCE.refuse_resent


def create_update(
    session: Session,
    author,
    measure: Measure,
    data: UpdateInput,
    *,
    replaces: StatusUpdate | None = None,
) -> StatusUpdate:
    """A new draft for the author's organisation (a revision/correction when `replaces`).

    AlreadySaved when the author sent the same form before (its `form_key`): a double
    click, a retry or a resubmit saves one update; the unique key settles a race."""
    if author.organisation_id is None:
        raise StateConflict(_l("Only a monitor of an organisation can post updates."))
    _check_form_not_sent(session, author, data.form_key)
    if replaces is not None:
        _check_replaceable(session, author, measure, replaces)
        _check_kept(replaces, data.keep_evidence_ids)
    files = _checked_input(session, author, measure, data)
    new = StatusUpdate(
        measure_id=measure.id,
        organisation_id=author.organisation_id,
        author_id=author.id,
        replaces_id=replaces.id if replaces else None,
        review_state=ReviewState.DRAFT,
        form_key=data.form_key or None,
    )
    _set_content(new, data)
    try:
        with session.begin_nested():
            session.add(new)
            if replaces is not None:
                _carry_over(new, replaces, data.keep_evidence_ids)
            _add_evidence(session, new, data, files, author)
            session.flush()
    except IntegrityError:
        # another request with the same form committed first
        _check_form_not_sent(session, author, data.form_key)
        raise
    record_event(
        session,
        "update.created",
        new,
        author,
        "measure_id",
        "organisation_id",
        "replaces_id",
        summary=f"{measure.code} {new.completion}",
        evidence_items=len(new.evidence),
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
    files = _checked_input(session, editor, draft.measure, data)
    _set_content(draft, data)
    _add_evidence(session, draft, data, files, editor)
    session.flush()
    record_event(session, "update.edited", draft, editor, evidence_items=len(draft.evidence))
    return draft


def _change_draft(session: Session, actor, draft: StatusUpdate, **values) -> bool:
    """One conditional UPDATE of a current draft of the actor's organisation: of any number
    of simultaneous changes exactly one succeeds. Whether this one did."""
    result = session.execute(
        update(StatusUpdate)
        .where(
            StatusUpdate.id == draft.id,
            StatusUpdate.organisation_id == actor.organisation_id,
            StatusUpdate.review_state == ReviewState.DRAFT,
            StatusUpdate.is_archived.is_(False),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def submit_update(session: Session, actor, draft: StatusUpdate) -> StatusUpdate:
    """Draft → submitted, once: the content is final from here on."""
    if not _change_draft(
        session, actor, draft, review_state=ReviewState.SUBMITTED, submitted_dt=clock.now_utc()
    ):
        raise StateConflict(_l("This update is no longer a draft; it cannot be submitted again."))
    submitted = _lock(session, draft.id)
    if submitted.replaces_id is not None:
        # A returned update is settled once its revision is submitted; an approved one
        # stays public until its correction is approved (see services.review).
        settled = session.execute(
            update(StatusUpdate)
            .where(
                StatusUpdate.id == submitted.replaces_id,
                StatusUpdate.review_state == ReviewState.RETURNED,
            )
            .values(is_archived=True)
            .execution_options(synchronize_session=False)
        )
        if settled.rowcount == 1:
            reminders.settle_returned(session, submitted.replaces)
    record_event(session, "update.submitted", submitted, actor, "measure_id", "replaces_id")
    reminders.notify_submitted(session, submitted)
    return submitted


def archive_draft(session: Session, actor, draft: StatusUpdate) -> None:
    """Set a draft aside. It is kept, not deleted."""
    if not _change_draft(session, actor, draft, is_archived=True):
        raise StateConflict(_l("Only a draft can be archived."))
    session.expire(draft)
    record_event(session, "update.archived", draft, actor)
