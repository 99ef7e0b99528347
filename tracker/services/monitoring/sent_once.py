"""Forms that save once. A form carries a random key, given when it is shown, and the
record it saves keeps the key, unique with the record's writer; the same form sent again
(a double click, a retry, a resubmit) saves nothing and leads to what it saved. The
status updates and the government claims use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tracker.services.errors import StateConflict


class AlreadySaved(StateConflict):
    """The form was sent before, and saved `record`: sending it again saves nothing. Each
    kind of record says so in its own words (`said`)."""

    said = _l("This form was sent already: what it saved is shown here.")

    def __init__(self, record):
        super().__init__(self.said)
        self.record = record


def saved_record(session: Session, writer_column: InstrumentedAttribute, writer, form_key):
    """The record that `writer` saved from the form with `form_key` (`writer_column`: the
    record's author's or recorder's id), if the form was sent before."""
    if not form_key:
        return None
    model = writer_column.class_
    return session.scalar(
        select(model).where(model.form_key == form_key, writer_column == writer.id)
    )


def refuse_resent(
    session: Session,
    writer_column: InstrumentedAttribute,
    writer,
    form_key: str | None,
    already_saved: Callable[[object], Exception],
) -> None:
    """`already_saved(record)` raised when the form was sent before."""
    saved = saved_record(session, writer_column, writer, form_key)
    if saved is not None:
        raise already_saved(saved)


@dataclass(frozen=True)
class SentOnce:
    """The rule for one kind of record: the column naming its writer, and the error that
    says the form was sent before (given the record it saved)."""

    writer_column: InstrumentedAttribute
    already_saved: Callable[[object], Exception]

    def saved_by_form(self, session: Session, writer, form_key: str | None):
        """The record that this writer's form with `form_key` saved, if sent before."""
        return saved_record(session, self.writer_column, writer, form_key)

    def refuse_resent(self, session: Session, writer, form_key: str | None) -> None:
        refuse_resent(session, self.writer_column, writer, form_key, self.already_saved)
