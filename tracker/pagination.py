"""One page of a list: what services return and the shared pagination macro shows.
(Reading page numbers from a request is the web kit's part: tracker.web.pagination.)"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Page:
    """One page of a list: its items, its number, the page size and the total."""

    items: list
    number: int
    per_page: int
    total: int

    @classmethod
    def of(cls, items: list, number: int, per_page: int) -> Page:
        """Page `number` of a list already in memory (a page past the last is empty)."""
        start = (number - 1) * per_page
        return cls(items[start : start + per_page], number, per_page, len(items))

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page
