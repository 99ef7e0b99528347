"""Files kept across a form's attempts, for every form with file inputs (the update form,
the claim form): a file chosen on a form that comes back with a mistake elsewhere is
stored as the user's pending file (services.monitoring.uploads), shown on the form again
and attached when the form is saved. Which fields are file slots, the form says
(forms.monitoring's _KeepsFiles)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_login import current_user

from tracker.extensions import db
from tracker.services.monitoring import uploads


def _validate_keeping_files(form) -> int | None:
    """Keep each file chosen in this attempt as the user's pending file, then run the
    fields' own checks. None when every check passed and every file was kept, otherwise
    the status to answer with (400, or a refused file's own)."""
    stored, refused = uploads.keep_pending(db.session, current_user, form.new_uploads())
    valid = form.validate()
    # this attempt's stored files go in their slots for the next attempt, the refused ones
    # say why, and the kept files the user removed or replaced go
    dropped = form.dropped_files(set(stored))
    uploads.discard_pending(db.session, current_user, dropped)
    form.keep_files(stored, refused, dropped)
    if valid and not refused:
        return None
    return max([400, *(error.status for error in refused.values())])


def refused_attempt(form, render: Callable, other_problems: Callable[[], Mapping]):
    """The POST's first step: the files first, so that a mistake elsewhere loses none of
    them, then the fields' own checks. When these fail, the form comes back (`render`)
    with the kept files and every problem, the service's (`other_problems`) too, and the
    kept files are committed for the next attempt. None when the form may be written."""
    try:
        status = _validate_keeping_files(form)
    except uploads.StorageFull as error:
        db.session.rollback()  # nothing of this attempt is kept
        form.form_errors.append(error.message)
        return render(status=error.status)
    if status is None:
        return None
    form.show_other_problems(other_problems())
    db.session.commit()
    return render(status=status)


def shown_files(form) -> dict:
    """The user's pending files the form keeps, by public id, to show on it; a slot whose
    file is no longer kept (expired, or never this user's) drops it and says so."""
    kept = uploads.pending_files(db.session, current_user, form.kept_files())
    form.forget_missing_files(kept, uploads.expired_pending_message())
    return kept
