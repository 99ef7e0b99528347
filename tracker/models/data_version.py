"""The public data's version: one row that every write to public data moves on.

Cached public pages and their ETags are keyed by it (tracker.data_version bumps it, in the
same transaction as the write; tracker.web.public_cache reads it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime

#: the one row's id
DATA_VERSION_ID = 1


class DataVersion(db.Model):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: moves on by one with every transaction that writes public data
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    #: when that transaction ran (real time): the public pages' Last-Modified
    changed_dt: Mapped[datetime] = mapped_column(UTCDateTime)
