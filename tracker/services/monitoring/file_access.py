"""Who may download a file: exactly those who may read a record that cites it.

- An evidence item's file follows its update (accounts' can_view_update): an approved,
  current update is public; a submitted, returned or archived one is for reviewers, admins
  and the authoring organisation; a draft is its organisation's (and admins'). A private
  item narrows that to reviewers, admins and the authoring organisation.
- A government claim's source file follows the claim: an approved, current claim is
  public; a proposal (submitted or returned) and an archived (corrected) claim are for
  reviewers, admins, the person who recorded it and the monitors of the organisation that
  proposed it (accounts' can_view_claim, as an update's files), so that a colleague who
  revises a returned proposal can open the file the revision keeps.
- A pending file (uploaded with a form that was not saved yet) is its uploader's alone.
- A file that no record cites and that is not pending is no one's.

A file may be cited by several records (a revision carries its predecessor's evidence
over); it is readable through any of them, and public when any citation is public.
Files are found by their random public id, never by their row id.

A download is named after the record that lets its viewer have it (file_names): the
first public one by id, so every visitor and a shared cache get the same name; else the
first the viewer may read. It is never the uploader's own file name, not even for the
uploader: one rule for everyone, and a name a reviewer or a colleague forwards names no one.
A pending file, which no record cites yet, gets the neutral "file-<id>" name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.models import Evidence, GovernmentClaim, StatusUpdate, StoredFile
from tracker.services.accounts import (
    can_see_private_evidence,
    can_view_claim,
    can_view_update,
    is_monitor,
)
from tracker.services.monitoring.file_names import public_file_name
from tracker.services.monitoring.uploads import PUBLIC_ID_PATTERN
from tracker.vocabulary import ReviewState


@dataclass(frozen=True)
class FileAccess:
    #: the user may download the file
    allowed: bool
    #: anyone may: the answer may be cached by shared caches
    public: bool = False
    #: the name the download goes by (file_names.public_file_name), never the uploader's
    download_name: str = ""


NO_ACCESS = FileAccess(False)


def find_file(session: Session, public_id: str) -> StoredFile | None:
    """A stored file by its public id (None for anything that is not one)."""
    if not PUBLIC_ID_PATTERN.match(public_id or ""):
        return None
    return session.scalar(select(StoredFile).where(StoredFile.public_id == public_id))


def _is_public_update(update: StatusUpdate) -> bool:
    return update.review_state == ReviewState.APPROVED and not update.is_archived


def _evidence_access(user, item: Evidence) -> FileAccess:
    update = item.update
    if item.is_private:
        same_organisation = is_monitor(user) and update.organisation_id == user.organisation_id
        allowed = can_view_update(user, update) and (
            can_see_private_evidence(user) or same_organisation
        )
        return FileAccess(allowed)
    if _is_public_update(update):
        return FileAccess(True, public=True)
    return FileAccess(can_view_update(user, update))


def _claim_access(user, claim: GovernmentClaim) -> FileAccess:
    if claim.is_public:
        return FileAccess(True, public=True)
    return FileAccess(can_view_claim(user, claim))


def _strongest(accesses: list[FileAccess]) -> FileAccess:
    """The first public access, else the first allowed one, each with its record's name."""
    public = [a for a in accesses if a.public]
    allowed = [a for a in accesses if a.allowed]
    return (public or allowed or [NO_ACCESS])[0]


def file_access(session: Session, user, stored: StoredFile) -> FileAccess:
    """What this user may do with this file, from the records that cite it (two queries)."""
    if stored.pending_until is not None:
        owner = getattr(user, "is_authenticated", False) and stored.uploaded_by_id == user.id
        return FileAccess(bool(owner), download_name=public_file_name(stored, kind="file"))
    evidence = session.scalars(
        select(Evidence)
        .where(Evidence.file_id == stored.id)
        .options(joinedload(Evidence.update))
        .order_by(Evidence.id)
    ).all()
    claims = session.scalars(
        select(GovernmentClaim)
        .where(GovernmentClaim.file_id == stored.id)
        .order_by(GovernmentClaim.id)
    ).all()
    accesses = [
        replace(_evidence_access(user, item), download_name=public_file_name(stored, item.title))
        for item in evidence
    ]
    accesses += [
        replace(
            _claim_access(user, claim),
            download_name=public_file_name(stored, claim.source_title, kind="source"),
        )
        for claim in claims
    ]
    return _strongest(accesses)
