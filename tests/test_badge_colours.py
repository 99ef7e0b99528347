"""Every value that a template writes into a badge's class has a colour of its own in the
style sheet. A badge without one falls back to the muted grey (the browser test
tests/test_browser_contrast.py checks that every badge can be read); this keeps each
state and kind told apart by colour as well as by word."""

from __future__ import annotations

import re
from pathlib import Path

from tracker.vocabulary import Completion, MilestoneState, ReminderKind, ReviewState

ROOT = Path(__file__).resolve().parent.parent
STYLE_SHEET = (ROOT / "tracker" / "static" / "css" / "tracker.css").read_text()
#: the class prefix a template writes before a value, and the values it can write
BADGE_VALUES = {
    "badge-": Completion,
    "badge-milestone-": MilestoneState,
    "badge-reminder-": ReminderKind,
    "badge-review-": ReviewState,
}


def _prefixes_in_templates() -> set[str]:
    written = set()
    for template in (ROOT / "templates").rglob("*.html"):
        written.update(re.findall(r"\b(badge-[a-z-]*)\{\{", template.read_text()))
    return written


def test_the_table_knows_every_badge_class_that_a_template_builds_from_a_value():
    assert _prefixes_in_templates() == set(BADGE_VALUES)


def test_every_state_and_kind_has_its_own_badge_colour():
    colourless = [
        f"{prefix}{value}"
        for prefix, values in BADGE_VALUES.items()
        for value in values
        if not re.search(rf"\.{prefix}{value} \{{ background: [^;]+; \}}", STYLE_SHEET)
    ]
    assert colourless == []
