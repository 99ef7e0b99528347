"""What changed between an update and the version it revises, field by field, for the
review page: completion, progress, the "as of" date, the reasons for delay, each narrative
as a word diff (difflib), and the evidence added and removed.

The result holds plain text and records only; templates escape it like any other text.
Evidence carried over to a revision is a copy (services.monitoring.updates), so items are
matched by what they say and point to, not by id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from tracker.models import Evidence, StatusUpdate

#: words, runs of white space, and single other characters: a diff never splits a word
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    """A run of text of a narrative diff: "equal", "insert" or "delete"."""

    op: str
    text: str


@dataclass(frozen=True)
class Change:
    """One field that changed: its name and both values."""

    name: str
    before: object
    after: object


@dataclass
class UpdateDiff:
    changes: list[Change] = field(default_factory=list)
    #: language → the narrative's segments, for the narratives that changed
    narratives: dict[str, list[Segment]] = field(default_factory=dict)
    reasons_added: list[str] = field(default_factory=list)
    reasons_removed: list[str] = field(default_factory=list)
    evidence_added: list[Evidence] = field(default_factory=list)
    evidence_removed: list[Evidence] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.changes
            or self.narratives
            or self.reasons_added
            or self.reasons_removed
            or self.evidence_added
            or self.evidence_removed
        )


def word_diff(before: str, after: str) -> list[Segment]:
    """`before` → `after` as segments of words kept, deleted and inserted."""
    old, new = _TOKENS.findall(before or ""), _TOKENS.findall(after or "")
    segments: list[Segment] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(new[j1:j2])))
    return segments


def _evidence_key(item: Evidence) -> tuple:
    return (
        item.evidence_type,
        item.title,
        item.url,
        item.file_id,
        item.evidence_date,
        item.is_private,
        item.request_sent_on,
        item.request_agency_id,
        item.request_answered_on,
        item.request_outcome,
    )


def _evidence_changes(old: list[Evidence], new: list[Evidence]) -> tuple[list, list]:
    old_keys = [_evidence_key(e) for e in old]
    new_keys = [_evidence_key(e) for e in new]
    added = [e for e, key in zip(new, new_keys, strict=True) if key not in old_keys]
    removed = [e for e, key in zip(old, old_keys, strict=True) if key not in new_keys]
    return added, removed


def compare_updates(before: StatusUpdate, after: StatusUpdate) -> UpdateDiff:
    """What `after` changes of `before` (the version it revises)."""
    diff = UpdateDiff()
    for name in ("completion", "progress_percent", "as_of_date"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            diff.changes.append(Change(name, old, new))
    for language in ("az", "en"):
        old, new = getattr(before, f"narrative_{language}"), getattr(after, f"narrative_{language}")
        if (old or "") != (new or ""):
            diff.narratives[language] = word_diff(old, new)
    old_reasons, new_reasons = list(before.delay_reasons or []), list(after.delay_reasons or [])
    diff.reasons_added = [r for r in new_reasons if r not in old_reasons]
    diff.reasons_removed = [r for r in old_reasons if r not in new_reasons]
    diff.evidence_added, diff.evidence_removed = _evidence_changes(
        list(before.evidence), list(after.evidence)
    )
    return diff
