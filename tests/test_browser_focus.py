"""Keyboard focus in Chromium on the served app. Tabbing through a page, every control the
focus lands on is on screen, and its focus ring can be seen against the colour behind it:
one of the ring's colours has at least 3:1 contrast with it (WCAG 2.1, 1.4.11 and 2.4.7).
A ring of one pale yellow once vanished on the white page, and was seen only on the
blue header.

The ring's colours are its outline and the box-shadows it spreads; the colour behind is the
nearest solid background of the control's parents (the page's white when none has one)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser_colours import page_function
from tests.factories import make_claim, make_update
from tests.monitoring.conftest import link, make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion

pytestmark = [pytest.mark.browser, pytest.mark.served]

#: the element that has the focus, and what is wrong with its focus ring ("" when nothing)
_FOCUS_PROBLEM = page_function("""
  const focused = document.activeElement;
  if (!focused || focused === document.body) return null;
  // a file input hides behind its button in the page's language, which shows its focus
  const element = focused.matches(".file-enhanced")
    ? focused.nextElementSibling.querySelector(".file-choose") : focused;
  const background = behind(element.parentElement);
  const style = getComputedStyle(element);
  const rings = [];
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) {
    rings.push(rgb(style.outlineColor));
  }
  for (const shadow of style.boxShadow.match(/rgba?\\([^)]*\\)[^,]*/g) || []) {
    const lengths = shadow.replace(/rgba?\\([^)]*\\)/, "").match(/-?[\\d.]+px/g) || [];
    if (!shadow.includes("inset") && parseFloat(lengths[3] || "0") >= 2) rings.push(rgb(shadow));
  }
  const rect = element.getBoundingClientRect();
  const name = `${element.tagName.toLowerCase()}.${element.className}`
    + ` "${(element.textContent || element.name || "").replace(/\\s+/g, " ").trim().slice(0, 40)}"`;
  const problems = [];
  if (!element.checkVisibility() || rect.width < 1 || rect.height < 1
      || rect.bottom < 0 || rect.top > innerHeight || rect.right < 0 || rect.left > innerWidth) {
    problems.push("not on screen");
  }
  const best = Math.max(0, ...rings.map(ring => contrast(ring, background)));
  if (best < 3) problems.push(`ring contrast ${best.toFixed(2)} on rgb(${background})`);
  return {name, problem: problems.join("; ")};
""")

#: a page's controls are fewer than this; the walk stops early when the focus comes round
MAX_TABS = 150


def _tab_through(page) -> list[str]:
    """Press Tab until the focus leaves the page or comes back round; each focused control
    with a problem, as "name: problem"."""
    # Chromium moves the focus to an autofocus field at a rendering step after "load", and
    # on a busy machine that can come after the walk has begun: two frames let it happen
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # the walk starts at the top of the page, even where a field has autofocus
    page.evaluate(
        """() => { document.body.tabIndex = -1; document.body.focus();
                  document.body.removeAttribute("tabindex"); }"""
    )
    problems, seen = [], []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_PROBLEM)
        if focused is None or (seen and focused["name"] == seen[0]):
            break
        seen.append(focused["name"])
        if focused["problem"]:
            problems.append(f"{focused['name']}: {focused['problem']}")
    assert len(seen) > 5, seen
    return problems


def _monitored_measure() -> int:
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    make_user("monitor@example.org", "monitor", organisation, locale="az")
    measure = db.session.scalars(select(Measure).where(Measure.code == "2.3")).one()
    measure_id = measure.id
    link(organisation, measure)
    make_update(measure, organisation, Completion.LIMITED)
    make_claim(measure, Completion.COMPLETE)
    db.session.commit()
    return measure_id


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)], ids=["wide", "phone"])
def test_every_focused_control_shows_a_ring_that_can_be_seen(served, browser, viewport):
    measure_id = _monitored_measure()
    width, height = viewport
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    problems = {}
    public = (
        "/",
        "/plans/az-nap-2020-2022/measures/2.3",
        "/registry/",
        "/registry/stats",
        "/login",
    )
    for path in public:
        page.goto(f"{served.url}{path}")
        problems[path] = _tab_through(page)
    log_in(page, served.url, "monitor@example.org")
    for path in ("/monitor/", f"/monitor/measures/{measure_id}/updates/new"):
        page.goto(f"{served.url}{path}")
        problems[path] = _tab_through(page)
    found = [f"{path} {problem}" for path, listed in problems.items() for problem in listed]
    assert not found, "\n".join(found)
    page.context.close()
