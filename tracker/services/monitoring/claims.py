"""Government claims: what the government says about a measure or a whole plan, with its
source (an official document: a link or an uploaded file).

Reviewers and admins record claims; what they record is public at once. A monitor of a
measure may propose a claim on it, which goes through review as an update does
(submitted → approved | returned, see `claim_review`) and is not public before it is
approved. A plan-wide claim ("the plan was fully implemented") stands for each measure of
the plan that has no claim of its own (services.plans.status). A correction is a new claim
that points to the one it corrects; that one is archived, not deleted, once the correction
is approved.

A returned proposal is never changed either: a monitor of its organisation revises it, once,
by proposing a new claim that points to it (`revises_id`) and corrects what it corrected.
Its source file may be kept: the revision cites the same stored file. Once revised, the
returned proposal is no longer its organisation's to act on, and its return notices are
read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from tracker import clock
from tracker.dates import show_date
from tracker.models import ActionPlan, GovernmentClaim, Measure, StoredFile
from tracker.services import reminders
from tracker.services.accounts import (
    can_propose_claim,
    can_record_claim,
    is_monitor,
    why_not_monitor,
)
from tracker.services.errors import InvalidInput, NotAllowed, StateConflict
from tracker.services.monitoring import sent_once, uploads
from tracker.services.monitoring.events import record_event
from tracker.services.monitoring.inputs import Problems, check_source
from tracker.vocabulary import Completion, ReviewState, Role

MAX_TITLE_LENGTH = 500
ALREADY_REVISED = _l(
    "This proposal was already revised. Its revision is listed on the measure's page."
)


@dataclass(frozen=True)
class ClaimInput:
    #: None: left out or unreadable, a problem like any other
    claimed_completion: Completion | None
    claim_date: date | None
    source_title: str
    source_url: str | None = None
    upload: uploads.Upload | None = None
    #: the public id of a file the recorder chose on an earlier attempt, kept pending
    pending_file: str | None = None
    note: str = ""
    #: the random key of the form it comes from ("" when unknown): see ClaimAlreadySaved
    form_key: str = ""
    #: a revision keeps the source file of the proposal it revises (no upload chosen)
    keep_revised_file: bool = False


def _keeps_file(data: ClaimInput, revises: GovernmentClaim | None) -> bool:
    """The claim cites the source file of the returned proposal it revises."""
    return (
        data.keep_revised_file
        and revises is not None
        and revises.file_id is not None
        and data.upload is None
        and not data.pending_file
    )


def claim_problems(
    data: ClaimInput, target: Measure | ActionPlan, revises: GovernmentClaim | None = None
) -> Problems:
    """Each problem of the claim on `target` (a revision of `revises`), named after
    ClaimInput's fields."""
    plan = target if isinstance(target, ActionPlan) else target.plan
    problems = Problems()
    if data.claimed_completion is None:
        problems.add(
            "claimed_completion", _l("Choose the level of completion the government claims.")
        )
    if data.claim_date is None:
        problems.add("claim_date", _l("Enter the date of the government's report or statement."))
    elif data.claim_date > clock.today():
        problems.add("claim_date", _l("The claim's date cannot be in the future."))
    elif data.claim_date < plan.starts_on:
        problems.add(
            "claim_date",
            _l(
                "The claim's date cannot be before the plan began (%(date)s).",
                date=show_date(plan.starts_on),
            ),
        )
    if not data.source_title.strip():
        problems.add("source_title", _l("Name the source: the report, statement or page."))
    elif len(data.source_title) > MAX_TITLE_LENGTH:
        problems.add(
            "source_title",
            _l("Use at most %(count)d characters in the title.", count=MAX_TITLE_LENGTH),
        )
    check_source(
        problems,
        "source_url",
        data.source_url,
        data.upload is not None or bool(data.pending_file) or _keeps_file(data, revises),
        _l("Give a link to the source or upload it as a file."),
    )
    return problems


def _store_source(
    session: Session, data: ClaimInput, recorder, revises: GovernmentClaim | None
) -> StoredFile | None:
    """The source file: an upload, checked and written now (kept only if the transaction
    commits), the recorder's pending file, attached now (never another user's), or the
    file of the returned proposal a revision revises (the same stored file)."""
    if _keeps_file(data, revises):
        return revises.file
    if data.upload is None and data.pending_file:
        stored = uploads.take_pending(session, recorder, data.pending_file)
        if stored is None:
            # the same form, sent at the same time, may have attached it to its claim
            _check_form_not_sent(session, recorder, data.form_key)
            raise InvalidInput(problems={"upload": [uploads.expired_pending_message()]})
        return stored
    if data.upload is None:
        return None
    try:
        checked = uploads.check_upload(data.upload)
    except InvalidInput as error:
        raise InvalidInput(problems={"upload": [error.message]}, status=error.status) from error
    return uploads.store_checked(session, checked, recorder)


def archive_replaced(session: Session, replaces: GovernmentClaim) -> None:
    """Archive the claim a correction replaces; 409 when another correction did first."""
    result = session.execute(
        update(GovernmentClaim)
        .where(GovernmentClaim.id == replaces.id, GovernmentClaim.is_archived.is_(False))
        .values(is_archived=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateConflict(_l("This claim was corrected in the meantime. Reload the page."))
    session.expire(replaces)


def refusal(user, target: Measure | ActionPlan):
    """Why this user may neither record nor propose a claim on the target, or None."""
    if can_record_claim(user):
        return None
    if isinstance(target, ActionPlan):
        return _l("Only reviewers and administrators record claims about a whole plan.")
    if can_propose_claim(user, target):
        return None
    if getattr(user, "role", None) != Role.MONITOR:
        return _l("Only reviewers, administrators and the measure's monitors record claims.")
    return why_not_monitor(user, target)


def _check_replaces(target: Measure | ActionPlan, replaces: GovernmentClaim | None) -> None:
    if replaces is None:
        return
    same_target = (
        replaces.plan_id == target.id and replaces.measure_id is None
        if isinstance(target, ActionPlan)
        else replaces.measure_id == target.id
    )
    if not same_target or not replaces.is_public:
        raise StateConflict(_l("Only the current claims of this measure can be corrected."))


def revise_refusal(user, returned: GovernmentClaim):
    """Why this user may not revise this proposal at all (a message for a 403), or None:
    only a monitor of the organisation that proposed it, on a measure it still monitors."""
    if (
        not is_monitor(user)
        or returned.organisation_id != user.organisation_id
        or returned.measure is None
    ):
        return _l("Only a monitor of the organisation that proposed it can revise a proposal.")
    return refusal(user, returned.measure)


def revision_of(session: Session, claim_id: int) -> GovernmentClaim | None:
    """The proposal that revises this returned one, if any."""
    return session.scalar(select(GovernmentClaim).where(GovernmentClaim.revises_id == claim_id))


def revision_conflict(session: Session, returned: GovernmentClaim):
    """Why this proposal cannot be revised now (a message for a 409), or None."""
    if returned.review_state != ReviewState.RETURNED:
        return _l("Only a returned proposal can be revised.")
    if revision_of(session, returned.id) is not None:
        return ALREADY_REVISED
    if returned.replaces is not None and not returned.replaces.is_public:
        return _l(
            "The claim this proposal corrected was corrected in the meantime. "
            "Propose a correction of the current claim instead."
        )
    return None


def _check_revises(session: Session, recorder, target, revises: GovernmentClaim | None) -> None:
    if revises is None:
        return
    reason = revise_refusal(recorder, revises)
    if reason is not None or not isinstance(target, Measure) or revises.measure_id != target.id:
        raise NotAllowed(reason or _l("Only a claim on this measure can be revised here."))
    conflict = revision_conflict(session, revises)
    if conflict is not None:
        raise StateConflict(conflict)


class ClaimAlreadySaved(sent_once.AlreadySaved):
    """The claim form was sent before, and recorded `record`: it records nothing again."""

    said = _l("This form was sent already: the claim it recorded is shown here.")


#: a claim form sent twice records one claim, by its recorder
_SENT_ONCE = sent_once.SentOnce(GovernmentClaim.recorded_by_id, ClaimAlreadySaved)
#: (session, recorder, form_key): the claim that form recorded, if it was sent before
saved_by_form = _SENT_ONCE.saved_by_form
_check_form_not_sent = _SENT_ONCE.refuse_resent


def _archive_corrected(session: Session, recorder, replaces: GovernmentClaim, form_key: str):
    try:
        archive_replaced(session, replaces)
    except StateConflict:
        # the same form, sent at the same time, may have corrected it
        _check_form_not_sent(session, recorder, form_key)
        raise


def _insert_once(session: Session, recorder, claim: GovernmentClaim) -> None:
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        # another request with the same form committed first, or another revision of the
        # same returned proposal (ix_government_claim_revises)
        _check_form_not_sent(session, recorder, claim.form_key)
        if claim.revises_id is not None and revision_of(session, claim.revises_id):
            raise StateConflict(ALREADY_REVISED) from None
        raise


def _new_claim(
    recorder, target, data: ClaimInput, stored: StoredFile | None, replaces, revises
) -> GovernmentClaim:
    """The claim's row, not added yet: approved at once when the recorder records claims,
    else a proposal of the recorder's organisation."""
    direct = can_record_claim(recorder)
    plan_wide = isinstance(target, ActionPlan)
    return GovernmentClaim(
        measure_id=None if plan_wide else target.id,
        plan_id=target.id if plan_wide else None,
        claimed_completion=data.claimed_completion,
        claim_date=data.claim_date,
        source_title=data.source_title.strip(),
        source_url=None if stored else data.source_url,
        file_id=stored.id if stored else None,
        note=data.note.strip(),
        recorded_by_id=recorder.id,
        organisation_id=None if direct else recorder.organisation_id,
        review_state=ReviewState.APPROVED if direct else ReviewState.SUBMITTED,
        decided_by_id=recorder.id if direct else None,
        decided_dt=clock.now_utc() if direct else None,
        replaces_id=replaces.id if replaces else None,
        revises_id=revises.id if revises else None,
        form_key=data.form_key or None,
    )


def record_claim(
    session: Session,
    recorder,
    target: Measure | ActionPlan,
    data: ClaimInput,
    *,
    replaces: GovernmentClaim | None = None,
    revises: GovernmentClaim | None = None,
) -> GovernmentClaim:
    """Record a claim on a measure or a whole plan (a correction when `replaces` is given;
    a monitor's revision of a returned proposal when `revises` is, which corrects what
    that one corrected).

    A reviewer's or admin's claim is approved at once, and the claim it corrects archived;
    a monitor's is a proposal, submitted for review, and the reviewers who may decide on
    it are told in the same transaction (and a revised proposal's return notices are
    read). ClaimAlreadySaved when the recorder sent the same form before (its `form_key`);
    the unique keys settle a race."""
    _check_form_not_sent(session, recorder, data.form_key)
    reason = refusal(recorder, target)
    if reason is not None:
        raise NotAllowed(reason)
    _check_revises(session, recorder, target, revises)
    replaces = revises.replaces if revises is not None else replaces
    _check_replaces(target, replaces)
    claim_problems(data, target, revises).raise_any()
    stored = _store_source(session, data, recorder, revises)
    if can_record_claim(recorder) and replaces is not None:
        _archive_corrected(session, recorder, replaces, data.form_key)
    claim = _new_claim(recorder, target, data, stored, replaces, revises)
    _insert_once(session, recorder, claim)
    record_event(
        session,
        "claim.recorded"
        if claim.is_public
        else ("claim.revised" if claim.revises_id else "claim.proposed"),
        claim,
        recorder,
        "measure_id",
        "plan_id",
        "replaces_id",
        "revises_id",
        summary=f"{target.key if claim.is_plan_wide else target.code} {claim.claimed_completion}",
    )
    if not claim.is_public:
        reminders.notify_proposed(session, claim)
    if revises is not None:
        reminders.settle_returned(session, revises)
    return claim


def proposals_of(session: Session, organisation_id: int, measure_id: int) -> list[GovernmentClaim]:
    """An organisation's proposals on a measure that are not approved (theirs to follow),
    with the returned proposal each revises (one query): a returned one that was revised
    is left out, its revision stands for it."""
    revision = aliased(GovernmentClaim)
    return list(
        session.scalars(
            select(GovernmentClaim)
            .where(
                GovernmentClaim.organisation_id == organisation_id,
                GovernmentClaim.measure_id == measure_id,
                GovernmentClaim.review_state != ReviewState.APPROVED,
                ~exists().where(revision.revises_id == GovernmentClaim.id),
            )
            .options(joinedload(GovernmentClaim.revises))
            .order_by(GovernmentClaim.created_dt.desc(), GovernmentClaim.id.desc())
        )
    )
