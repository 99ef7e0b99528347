"""Forms that save once. A form carries a random key, given when it is shown, and the
record it saves keeps the key, unique with the record's writer; the same form sent again
(a double click, a retry, a resubmit) saves nothing and leads to what it saved. The
status updates and the government claims use it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session


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
