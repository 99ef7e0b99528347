"""Printing a page in Chromium on the served app (page.pdf renders it with the print style
sheet, and pypdf reads the paper back): the navigation, language switch, filters and feed
links stay off the paper; a folded Azerbaijani original is printed; a claim's source prints its
address; and every text on a coloured background keeps that colour, which browsers
otherwise leave out and then lighten the white text on it (badges came out pale grey)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import make_claim, make_update
from tests.monitoring.conftest import link, make_organisation
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion

pytestmark = [pytest.mark.browser, pytest.mark.served]

SOURCE_URL = "https://e-gov.example.az/2022"

#: text on a background that is not (nearly) white, whose colour would not be printed
_BACKGROUNDS_LOST_IN_PRINT = """() => {
  const rgb = colour => colour.match(/[\\d.]+/g).map(Number);
  const light = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.85 * 255;
  const lost = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !element.checkVisibility()) continue;
    for (let e = element; e; e = e.parentElement) {
      const colour = rgb(getComputedStyle(e).backgroundColor);
      if (colour.length === 4 && colour[3] <= 0.5) continue;
      if (!light(colour) && getComputedStyle(e).printColorAdjust !== "exact") {
        lost.push(`${e.tagName}.${e.className}: ${element.textContent.trim().slice(0, 40)}`);
      }
      break;
    }
  }
  return lost;
}"""


def _measure_with_a_claim_and_an_assessment() -> Measure:
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    link(organisation, measure)
    make_update(measure, organisation, Completion.LIMITED)
    claim = make_claim(measure, Completion.COMPLETE)
    claim.source_url = SOURCE_URL
    db.session.commit()
    return measure


def _printed_text(page) -> str:
    paper = PdfReader(io.BytesIO(page.pdf(format="A4")))
    return re.sub(r"\s+", " ", " ".join(sheet.extract_text() for sheet in paper.pages))


def test_a_measure_prints_its_content_in_colour_without_the_screens_controls(served, browser):
    measure = _measure_with_a_claim_and_an_assessment()
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/plans/az-nap-2020-2022/measures/2.3?lang=en")
    expect_folded = page.locator("main details").first
    assert expect_folded.get_attribute("open") is None  # the original is folded on screen

    text = _printed_text(page)
    # the page's content, with the folded original and the claim source's address
    assert "Disclosure of information on the execution indicators" in text
    assert re.sub(r"\s+", " ", measure.title_az)[:60] in text
    assert f"Government report <{SOURCE_URL}>" in text
    assert "Limited" in text and "Complete" in text
    # none of the screen's controls
    for control in ("Skip to content", "Azərbaycanca", "Log in", "Registry", "Menu", "Atom"):
        assert control not in text, control
    # the page on screen is as it was: the original folds again after printing
    assert expect_folded.get_attribute("open") is None

    page.emulate_media(media="print")
    assert page.evaluate(_BACKGROUNDS_LOST_IN_PRINT) == []
    page.context.close()


def test_the_scorecard_prints_without_its_filters_and_with_its_badges(served, browser):
    _measure_with_a_claim_and_an_assessment()
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{served.url}/plans/az-nap-2020-2022/?lang=az")
    text = _printed_text(page)
    assert "Axtarış və filtrlər" not in text and "Filtrlə" not in text
    assert "Bölmələr və tədbirlər" in text
    page.emulate_media(media="print")
    assert page.evaluate(_BACKGROUNDS_LOST_IN_PRINT) == []
    page.context.close()
