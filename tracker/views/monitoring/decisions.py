"""The POST of a reviewer's form (approve, return, comment), for updates and for proposed
claims alike: validate, let the service decide with the form's one text, commit once and
go on. Refused text shows the form again with the message beside the text; a refused
reviewer is logged (403); a record decided in the meantime (a second click, another
reviewer) is a 409 whose page opens the record as it is now."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from flask_login import current_user

from tracker.extensions import db
from tracker.services.errors import InvalidInput, NotAllowed, StateConflict
from tracker.web.errors_map import NextStep, http_error
from tracker.web.forms import reject_unexpected_fields
from tracker.web.permissions import record_refusal


def act(
    load: Callable,
    render: Callable,
    form,
    form_key: str,
    decide: Callable,
    text_field: str,
    *,
    done: str,
    next_url: str,
    record_page: NextStep,
):
    """`load()` gives the record (or stops with 404/403), `render(record, status=…,
    **{form_key: form})` shows its page again, `decide(session, user, record, text)` is
    the service's decision; `record_page` links the record from a conflict's page."""
    record = load()
    reject_unexpected_fields(form)
    if not form.validate():
        return render(record, status=400, **{form_key: form})
    try:
        decide(db.session, current_user, record, form[text_field].data or "")
    except NotAllowed:
        record_refusal(403)
        raise
    except StateConflict as error:
        db.session.rollback()
        raise http_error(error.status, error.message, next_step=record_page) from error
    except InvalidInput as error:
        db.session.rollback()
        form.show_problems(error, names=dict.fromkeys(error.problems, text_field))
        return render(load(), status=400, **{form_key: form})
    db.session.commit()
    flash(done, "success")
    return redirect(next_url)
