"""Windows' high-contrast themes (forced colours), emulated in Chromium on the served app,
light and dark: the charts' text takes the theme's text colour, the bars, the legends'
swatches and the regions' shades keep the colours that carry the data, and a badge keeps
its outline. In a dark theme the section numbers and months were once #1b1f24 on black,
and every legend lost its swatches."""

from __future__ import annotations

import pytest

from tests.browser_colours import page_function
from tests.served_pages import signed_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.served]

#: what a reader of the page in a forced-colours theme could not make out
_LOST_IN_FORCED_COLOURS = page_function("""
  const page = rgb(getComputedStyle(document.body).backgroundColor);
  const lost = [];
  for (const text of document.querySelectorAll("svg text")) {
    const ratio = contrast(rgb(getComputedStyle(text).fill), page);
    if (ratio < 4.5) lost.push(`chart text "${text.textContent}" at ${ratio.toFixed(2)}:1`);
  }
  for (const legend of document.querySelectorAll(".legend")) {
    const colours = [...legend.querySelectorAll(".swatch")].map(
      swatch => getComputedStyle(swatch).backgroundColor);
    if (colours.some(colour => rgb(colour)[3] === 0) || new Set(colours).size < colours.length) {
      lost.push(`legend swatches ${colours.join(" ")}`);
    }
  }
  const fills = new Set([...document.querySelectorAll(".bar-chart rect, .pair-chart rect")]
    .map(rect => getComputedStyle(rect).fill));
  if (document.querySelector(".bar-chart, .pair-chart") && fills.size < 2) {
    lost.push(`bars all in ${[...fills]}`);
  }
  const shades = new Set([...document.querySelectorAll(".region-scale span")]
    .map(span => getComputedStyle(span).backgroundColor));
  if (document.querySelector(".region-scale") && shades.size < 6) {
    lost.push(`region shades ${[...shades]}`);
  }
  for (const badge of document.querySelectorAll(".badge")) {
    const style = getComputedStyle(badge);
    if (parseFloat(style.borderTopWidth) < 1 || contrast(rgb(style.borderTopColor), page) < 3) {
      lost.push(`badge "${badge.textContent.trim()}" without an outline`);
    }
  }
  return lost;
""")


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_a_high_contrast_theme_keeps_the_charts_legends_and_badges_readable(
    served, browser, scheme
):
    signed_in_pages()  # an approved assessment: the charts have two colours
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, forced_colors="active", color_scheme=scheme
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    lost = {}
    for path in ("/", "/registry/stats", "/plans/az-nap-2020-2022/measures/2.3"):
        page.goto(f"{served.url}{path}?lang=en")
        assert page.evaluate("matchMedia('(forced-colors: active)').matches")
        lost[path] = page.evaluate(_LOST_IN_FORCED_COLOURS)
    assert {path: found for path, found in lost.items() if found} == {}
    context.close()
