"""Where a registry entry comes from, in the reader's language. The seed cites the CSO
mapping report as "Annex 5; section 6.11"; an administrator may write anything else, which
is shown as written."""

from __future__ import annotations

import re

from flask_babel import gettext as _

_PART = re.compile(r"^(annex|section)\s+(\d+(?:\.\d+)*)$", re.IGNORECASE)


def _part_in_words(part: str) -> str:
    match = _PART.match(part)
    if match is None:
        return part
    kind, number = match.group(1).lower(), match.group(2)
    if kind == "annex":
        return _("Annex %(number)s", number=number)
    return _("Section %(number)s", number=number)


def source_citation(source: str) -> str:
    """The entry's source with the report's parts named in the current language."""
    parts = [part.strip() for part in source.split(";")]
    return "; ".join(_part_in_words(part) for part in parts if part)
