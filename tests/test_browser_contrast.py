"""Text contrast in Chromium on the served app: every piece of text that the public and a
monitor see, in every badge's colour, meets WCAG 2.1 AA (4.5:1, or 3:1 for large text)
against the colour behind it. A notification badge was once white on white.

The background is the nearest ancestor's solid colour (the page's white when none has
one): the app draws no text over images or gradients, so that is the colour behind it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.browser_colours import page_function
from tests.factories import make_claim, make_update
from tests.monitoring.conftest import link, make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db
from tracker.models import Measure, Milestone
from tracker.models.reminders import ReminderItem
from tracker.vocabulary import Completion, DeliveryStatus, MilestoneState, ReminderKind

pytestmark = [pytest.mark.browser, pytest.mark.served]

#: the text elements whose contrast falls short, as "ratio tag.class colour on colour: text"
_LOW_CONTRAST = page_function("""
  const short = [];
  const checked = new Set();
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || checked.has(element) || !element.checkVisibility()) continue;
    checked.add(element);
    const style = getComputedStyle(element);
    const ratio = contrast(rgb(style.color), behind(element));
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      short.push(`${ratio.toFixed(2)} ${element.tagName}.${element.className} ${style.color}`
        + ` on ${behind(element)}: ${node.textContent.trim().slice(0, 50)}`);
    }
  }
  return short;
""")

PUBLIC_PATHS = (
    "/plans/az-nap-2020-2022/",
    "/plans/az-nap-2020-2022/measures/2.3",
    "/plans/az-nap-2020-2022/measures/1.1",
    "/agencies/",
    "/registry/",
    "/registry/stats",
    "/registry/coverage",
    "/data/",
    "/login",
)
MONITOR_PATHS = ("/monitor/", "/monitor/updates", "/notifications")


def _every_badge_shown() -> None:
    """Measure 2.3 with an approved assessment, a government claim that disputes it and an
    overdue milestone; 1.1 with a milestone of each state; a monitor with a notification of
    every kind and an update in each review state."""
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    monitor = make_user("monitor@example.org", "monitor", organisation, locale="az")
    measures = {
        m.code: m
        for m in db.session.scalars(select(Measure).where(Measure.code.in_(("1.1", "2.3"))))
    }
    for measure in measures.values():
        link(organisation, measure)
    approved = make_update(measures["2.3"], organisation, Completion.LIMITED)
    make_claim(measures["2.3"], Completion.COMPLETE)
    for state in MilestoneState:
        db.session.add(
            Milestone(
                measure_id=measures["1.1"].id,
                title_az=f"Mərhələ {state}",
                due_date=date(2021, 6, 30),
                state=state,
            )
        )
    for state in ("draft", "submitted", "returned"):
        make_update(measures["1.1"], organisation, Completion.SUBSTANTIAL, state=state)
    for kind in ReminderKind:
        db.session.add(
            ReminderItem(
                recipient_id=monitor.id,
                measure_id=measures["2.3"].id,
                kind=kind,
                occurrence=f"contrast-{kind}",
                organisation_id=organisation.id,
                update_id=approved.id,
                reference_date=date(2022, 12, 31),
                next_attempt_dt=datetime(2023, 1, 1, tzinfo=UTC),
                status=DeliveryStatus.SENT,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("lang", ["az", "en"])
def test_every_text_meets_wcag_aa_contrast(served, browser, lang):
    _every_badge_shown()
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.set_default_timeout(15_000)
    low = {}
    for path in PUBLIC_PATHS:
        page.goto(f"{served.url}{path}?lang={lang}")
        low[path] = page.evaluate(_LOW_CONTRAST)
    log_in(page, served.url, "monitor@example.org")
    for path in MONITOR_PATHS:
        page.goto(f"{served.url}{path}?lang={lang}")
        low[path] = page.evaluate(_LOW_CONTRAST)
    # every kind's badge was on the page, so the check covered its colour
    assert page.locator(".notification .badge").count() == len(ReminderKind)
    assert {path: short for path, short in low.items() if short} == {}
    page.context.close()
