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
from werkzeug.datastructures import FileStorage

from tracker import clock
from tracker.models import GovernmentClaim, Measure
from tracker.services import audit
from tracker.services.monitoring import uploads
from tracker.services.monitoring.updates import (
    InvalidInput,
    StateConflict,
    is_http_url,
    link_error_message,
)
from tracker.vocabulary import Completion

MAX_TITLE_LENGTH = 500


@dataclass(frozen=True)
class ClaimInput:
    claimed_completion: Completion
    claim_date: date
    source_title: str
    source_url: str | None = None
    upload: FileStorage | None = None
    note: str = ""


def _validate(data: ClaimInput) -> dict[str, list]:
    errors: dict[str, list] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if data.claim_date > clock.today():
        add("claim_date", _l("The claim's date cannot be in the future."))
    if not data.source_title.strip():
        add("source_title", _l("Name the source: the report, statement or page."))
    elif len(data.source_title) > MAX_TITLE_LENGTH:
        add(
            "source_title", _l("Keep the title under %(count)s characters.", count=MAX_TITLE_LENGTH)
        )
    if data.source_url and data.upload:
        add("source_url", _l("Give either a link or a file, not both."))
    elif not data.source_url and not data.upload:
        add("source_url", _l("Give a link to the source or upload it as a file."))
    elif data.source_url and not is_http_url(data.source_url):
        add("source_url", link_error_message())
    return errors


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
    errors = _validate(data)
    if errors:
        raise InvalidInput(errors)
    stored = None
    if data.upload is not None:
        try:
            checked = uploads.check_upload(data.upload)
        except uploads.UploadError as error:
            raise InvalidInput({"file": [error.message]}, error.status) from error
        stored = uploads.store_checked(session, checked, recorder)
    try:
        if replaces is not None:
            result = session.execute(
                update(GovernmentClaim)
                .where(GovernmentClaim.id == replaces.id, GovernmentClaim.is_archived.is_(False))
                .values(is_archived=True)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise StateConflict(
                    _l("This claim was corrected in the meantime. Reload the page.")
                )
            session.expire(replaces)
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
    except Exception:
        if stored is not None:
            uploads.discard([stored])
        raise
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
