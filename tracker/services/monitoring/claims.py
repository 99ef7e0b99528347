"""Government claims: what the government says about a measure, with its source.

A claim is a cited fact, so it is recorded as it is and shown at once; the state function
(services.status) compares the latest one with the approved CSO assessments. A mistaken
claim is corrected by a new claim that replaces it; the old one is archived, not deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from tracker import clock
from tracker.models import GovernmentClaim, Measure, StoredFile
from tracker.services import audit
from tracker.services.errors import InvalidInput, StateConflict
from tracker.services.monitoring import uploads
from tracker.services.monitoring.inputs import Problems, check_source
from tracker.vocabulary import Completion

MAX_TITLE_LENGTH = 500


@dataclass(frozen=True)
class ClaimInput:
    claimed_completion: Completion
    claim_date: date
    source_title: str
    source_url: str | None = None
    upload: uploads.Upload | None = None
    note: str = ""


def _check(data: ClaimInput) -> None:
    """Raise InvalidInput naming each problem after ClaimInput's fields."""
    problems = Problems()
    if data.claim_date > clock.today():
        problems.add("claim_date", _l("The claim's date cannot be in the future."))
    if not data.source_title.strip():
        problems.add("source_title", _l("Name the source: the report, statement or page."))
    elif len(data.source_title) > MAX_TITLE_LENGTH:
        problems.add(
            "source_title", _l("Keep the title under %(count)s characters.", count=MAX_TITLE_LENGTH)
        )
    check_source(
        problems,
        "source_url",
        data.source_url,
        data.upload,
        _l("Give a link to the source or upload it as a file."),
    )
    problems.raise_any()


def _store_source(session: Session, data: ClaimInput, recorder) -> StoredFile | None:
    """The uploaded source, checked and written (kept only if the transaction commits)."""
    if data.upload is None:
        return None
    try:
        checked = uploads.check_upload(data.upload)
    except InvalidInput as error:
        raise InvalidInput(problems={"upload": [error.message]}, status=error.status) from error
    return uploads.store_checked(session, checked, recorder)


def _archive_replaced(session: Session, replaces: GovernmentClaim) -> None:
    result = session.execute(
        update(GovernmentClaim)
        .where(GovernmentClaim.id == replaces.id, GovernmentClaim.is_archived.is_(False))
        .values(is_archived=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateConflict(_l("This claim was corrected in the meantime. Reload the page."))
    session.expire(replaces)


def record_claim(
    session: Session,
    recorder,
    measure: Measure,
    data: ClaimInput,
    *,
    replaces: GovernmentClaim | None = None,
) -> GovernmentClaim:
    """Record a claim (a correction when `replaces` is given, which is then archived)."""
    if replaces is not None and (replaces.measure_id != measure.id or replaces.is_archived):
        raise StateConflict(_l("Only the current claims of this measure can be corrected."))
    _check(data)
    stored = _store_source(session, data, recorder)
    if replaces is not None:
        _archive_replaced(session, replaces)
    claim = GovernmentClaim(
        measure_id=measure.id,
        claimed_completion=data.claimed_completion,
        claim_date=data.claim_date,
        source_title=data.source_title.strip(),
        source_url=None if stored else data.source_url,
        file_id=stored.id if stored else None,
        note=data.note.strip(),
        recorded_by_id=recorder.id,
        replaces_id=replaces.id if replaces else None,
    )
    session.add(claim)
    session.flush()
    audit.record(
        session,
        "claim.recorded",
        "government_claim",
        claim.id,
        actor=recorder,
        summary=f"{measure.code} {claim.claimed_completion}",
        details={"measure_id": measure.id, "replaces_id": claim.replaces_id},
    )
    return claim


def current_claims(session: Session, measure_id: int) -> list[GovernmentClaim]:
    """The measure's current (non-archived) claims, newest first, with their files."""
    return list(
        session.scalars(
            select(GovernmentClaim)
            .where(GovernmentClaim.measure_id == measure_id, GovernmentClaim.is_archived.is_(False))
            .options(joinedload(GovernmentClaim.file))
            .order_by(GovernmentClaim.claim_date.desc(), GovernmentClaim.id.desc())
        )
    )
