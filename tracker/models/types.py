"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator

from tracker import clock


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_now() -> datetime:
    """Column default: the clock module's now."""
    return clock.now_utc()


class EnumText(TypeDecorator):
    """A vocabulary StrEnum stored by its value as text. Reads give enum members; writes
    take members or their values and refuse anything else before it reaches the row."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        # a dict lookup per row read: calling the enum class costs several times more, and
        # a reminder run reads a million rows
        self._members = {member.value: member for member in enum_class}

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum_class(value)


def in_language(field: str):
    """A method `field(locale)`: the English text in English when there is one, else the
    Azerbaijani original (the plan's own text stays Azerbaijani)."""

    def text(self, locale: str) -> str:
        english = getattr(self, f"{field}_en")
        return english if locale == "en" and english else getattr(self, f"{field}_az")

    text.__name__ = field
    return text
