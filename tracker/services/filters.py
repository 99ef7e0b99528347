"""What the lists' filters share: whether the visitor narrowed the list at all."""

from __future__ import annotations

from dataclasses import fields
from typing import ClassVar

#: the values that mean "no choice made": any other value narrows the list
_UNCHOSEN = (None, "")


class ListFilter:
    """A base for a list's filters, written as a dataclass whose fields default to "no
    choice". A yes/no filter's False is a choice ("not disputed"), so it narrows too."""

    #: fields that set the page's scope rather than the visitor's choice
    SCOPE_FIELDS: ClassVar[frozenset[str]] = frozenset()

    @property
    def is_active(self) -> bool:
        """Whether any filter narrows the list (the page then offers to clear them)."""
        return any(
            getattr(self, field.name) not in _UNCHOSEN
            for field in fields(self)
            if field.name not in self.SCOPE_FIELDS
        )
