"""The layout in Chromium on the served app, measured by the boxes the browser lays out
(never by pixels): at 1366 px the navigation keeps "Çıxış" beside the other links and
the monitor's badges keep their height; at 390 px the signed-in navigation folds behind
a "Menu" button (a <details>: with and without JavaScript) and wide tables scroll
inside their box, with a shadow as the cue; every page has a favicon, and its content starts
the same space under the header; a badge too long for a phone wraps as a pill a line; the
controls of a filter form's row line up; the account's links share the language switch's
line of text; the open data downloads fit a phone; an update's card ends at its padding; a
list's search and filters fold on a phone while none is chosen (and stay open on an error), on
the public lists and the admin's; one page of every public
kind fits a 320 px phone (WCAG reflow) in both languages; on a page shorter than the window
the footer ends at the window's bottom edge."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Locator, expect
from sqlalchemy import select

from tests.factories import make_update
from tests.monitoring.conftest import make_organisation, make_user
from tests.monitoring.test_browser_path import log_in
from tests.reminders.conftest import link
from tests.served_pages import public_paths
from tracker.extensions import db
from tracker.models import Evidence, Measure

pytestmark = [pytest.mark.browser, pytest.mark.served]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _monitor_with_measures(count: int = 3) -> None:
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    make_user("monitor@example.org", "monitor", organisation, locale="az")
    for measure in db.session.scalars(select(Measure).order_by(Measure.position).limit(count)):
        link(organisation, measure)
    make_user("admin@example.org", "admin", locale="az")
    db.session.commit()


def _page(browser, viewport, javascript: bool = True):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _log_in_az(page, base: str, email: str) -> None:
    log_in(page, base, email)
    page.goto(f"{base}/?lang=az")


@pytest.mark.parametrize("email", ["admin@example.org", "monitor@example.org"])
def test_log_out_stays_on_the_line_of_the_other_links_at_1366(served, browser, email):
    _monitor_with_measures()
    page = _page(browser, DESKTOP)
    _log_in_az(page, served.url, email)
    nav = page.locator("nav.site-nav-wide")
    expect(nav).to_be_visible()
    expect(page.locator("details.nav-menu")).to_be_hidden()
    # "Çıxış" sits beside the account's email and the language switch, on one line
    log_out = page.locator("nav.account-nav").get_by_role("button", name="Çıxış")
    account = page.locator("nav.account-nav").get_by_role("link", name=email)
    language = page.locator("nav.lang-switch").get_by_role("link", name="English")
    box = log_out.bounding_box()
    for neighbour in (account, language):
        other = neighbour.bounding_box()
        # on the same line: their boxes overlap vertically
        assert other["y"] < box["y"] + box["height"] and box["y"] < other["y"] + other["height"]
    assert box["height"] < 2.2 * 16
    # and the links of the navigation take one line
    tops = {round(li.bounding_box()["y"]) for li in nav.locator("li").all()}
    assert len(tops) == 1, tops
    page.context.close()


#: the top of the text (not of the box) of the header's account and language links
_HEADER_TEXT_TOPS = """() => [...document.querySelectorAll(
    '.account-nav a, .account-nav button, .lang-switch a')].map(e => {
  const text = document.createRange();
  text.selectNodeContents(e);
  return [e.textContent.trim(), text.getBoundingClientRect().top];
})"""


@pytest.mark.parametrize("email", ["admin@example.org", "monitor@example.org"])
def test_the_account_links_share_the_language_switchs_line_of_text(served, browser, email):
    # The log-out form kept the margin under every inline form: it pushed the account's
    # links 4 px above the language switch and made the header taller when signed in
    _monitor_with_measures()
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}/?lang=az")
    signed_out = page.locator("header.site-header").bounding_box()["height"]
    _log_in_az(page, served.url, email)
    tops = page.evaluate(_HEADER_TEXT_TOPS)
    assert [name for name, _ in tops] == [email, "Çıxış", "Azərbaycanca", "English"]
    assert max(top for _, top in tops) - min(top for _, top in tops) < 0.5, tops
    signed_in = page.locator("header.site-header").bounding_box()["height"]
    assert abs(signed_in - signed_out) < 0.5, (signed_in, signed_out)
    page.context.close()


def test_the_monitors_badges_keep_their_height_at_1366(served, browser):
    _monitor_with_measures()
    page = _page(browser, DESKTOP)
    _log_in_az(page, served.url, "monitor@example.org")
    page.goto(f"{served.url}/monitor/?lang=az")
    rows = page.locator(".monitor-measures > li")
    expect(rows).to_have_count(3)
    for row in rows.all():
        button = row.locator(".meta .button").bounding_box()
        badges = row.locator(".meta .badge").all()
        assert len(badges) >= 2, "the completion and deadline badges are both measured"
        for badge in badges:
            box = badge.bounding_box()
            font = float(badge.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
            assert box["height"] < 2 * font, box
            assert box["height"] < button["height"]
    page.context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_the_signed_in_navigation_folds_behind_a_menu_on_a_phone(served, browser, javascript):
    _monitor_with_measures()
    page = _page(browser, PHONE, javascript)
    _log_in_az(page, served.url, "admin@example.org")
    header = page.locator("header.site-header")
    expect(page.locator("nav.site-nav-wide")).to_be_hidden()
    menu = page.locator("details.nav-menu > summary")
    expect(menu).to_be_visible()
    expect(menu).to_have_css("color", "rgb(255, 255, 255)")  # readable on the blue header
    folded = header.bounding_box()["height"]
    assert folded < 0.2 * PHONE["height"], folded
    log_out = page.locator("details.nav-menu").get_by_role("button", name="Çıxış")
    expect(log_out).to_be_hidden()
    menu.click()
    expect(log_out).to_be_visible()
    expect(page.locator("details.nav-menu").get_by_role("link", name="Admin")).to_be_visible()
    assert header.bounding_box()["height"] > folded
    # the open list stays inside the screen's width
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.context.close()


def test_wide_tables_scroll_inside_their_box_with_a_cue_on_a_phone(served, browser):
    page = _page(browser, PHONE)
    page.goto(f"{served.url}/registry/coverage?lang=az")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    wide = page.locator(".table-wrap").evaluate_all(
        "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth)"
        ".map(b => getComputedStyle(b).backgroundImage)"
    )
    assert wide, "no table is wider than a phone: nothing to check"
    assert all(image.count("gradient") >= 2 for image in wide), wide
    page.context.close()


#: each table box: does it scroll, its tabindex, role and the text of what names it
_TABLE_BOXES = """boxes => boxes.map(b => [
  b.scrollWidth > b.clientWidth, b.getAttribute("tabindex"), b.getAttribute("role"),
  (document.getElementById(b.getAttribute("aria-labelledby")) || {}).textContent])"""


def test_a_table_that_scrolls_takes_the_keyboards_focus_and_one_that_fits_does_not(served, browser):
    page = _page(browser, PHONE)
    page.goto(f"{served.url}/agencies/?lang=en")
    # outside a named section the box is a region named by the table's caption
    assert page.locator(".table-wrap").evaluate_all(_TABLE_BOXES) == [
        [True, "0", "region", "Agencies with their measures"]
    ]
    page.keyboard.press("Tab")
    while not page.evaluate("document.activeElement.matches('.table-wrap')"):
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".table-wrap")).not_to_have_js_property("scrollLeft", 0)
    # a wide window: the table fits, and the box is no tab stop
    page.set_viewport_size(DESKTOP)
    expect(page.locator(".table-wrap")).not_to_have_attribute("tabindex", "0")
    assert page.locator(".table-wrap").evaluate_all(_TABLE_BOXES) == [[False, None, None, None]]
    # in the statistics' named sections the section names it; the box only takes the focus
    page.set_viewport_size(PHONE)
    page.goto(f"{served.url}/registry/stats?lang=en")
    boxes = page.locator(".table-wrap").evaluate_all(_TABLE_BOXES)
    assert [box for box in boxes if box[0]] and all(
        box[1:] == ["0", None, None] for box in boxes if box[0]
    ), boxes
    page.context.close()


def test_every_page_links_a_favicon_that_is_served(served, browser):
    page = _page(browser, DESKTOP)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(f"{served.url}/?lang=az")
    icon = page.locator('link[rel="icon"]')
    href = icon.evaluate("e => e.href")
    response = requests.get(href, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert "<svg" in response.text
    assert missing == []
    page.context.close()


_FIRST_AND_LAST_GAPS = """() => {
  const header = document.querySelector("header.site-header").getBoundingClientRect().bottom;
  const shown = [...document.querySelector("main").querySelectorAll("*")]
    .filter(e => e.checkVisibility()).map(e => e.getBoundingClientRect())
    .filter(r => r.height > 0);
  const top = Math.min(...shown.map(r => r.top));
  const bottom = Math.max(...shown.map(r => r.bottom));
  const footer = document.querySelector("footer.site-footer").getBoundingClientRect().top;
  return [top - header, footer - bottom];
}"""


@pytest.mark.parametrize(
    "path",
    ["/", "/registry/", "/registry/stats", "/agencies/", "/login", "/measures/no-such-measure"],
)
def test_every_page_starts_the_same_space_under_the_header(served, browser, path):
    # The kicker line, a heading or breadcrumbs: whatever comes first sits 1.5rem under
    # the header, and the last thing shown 3rem or more above the footer (.wrap's padding
    # once zeroed main's, and headings touched the header). A closed <details> shows none
    # of its content, hence checkVisibility
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}{path}?lang=az")
    under_header, above_footer = page.evaluate(_FIRST_AND_LAST_GAPS)
    assert abs(under_header - 24) <= 1, (path, under_header)
    assert above_footer >= 48 - 1, (path, above_footer)
    page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("path", ["/login", "/password/forgot"])
def test_on_a_short_page_the_footer_ends_at_the_bottom_of_the_window(served, browser, path, width):
    # A page shorter than the window once ended with its footer halfway up and white below
    # it; now the main part grows and the footer takes the window's bottom edge
    page = _page(browser, {"width": width, "height": 2400})
    page.goto(f"{served.url}{path}?lang=az")
    footer = page.locator("footer.site-footer").evaluate("e => e.getBoundingClientRect()")
    assert footer["bottom"] == 2400, (path, width, footer)
    assert page.evaluate("document.documentElement.scrollHeight") == 2400
    page.context.close()


@pytest.mark.parametrize("path", ["/plans/az-nap-2020-2022/measures/2.3", "/monitor/"])
def test_a_long_badge_wraps_as_one_pill_a_line_on_a_phone(served, browser, path):
    # "Not complete when the plan ended (date)" is wider than a phone's line: it wraps,
    # and each line is a pill of its own instead of one tall, round-ended box. In the
    # monitor's list the badge sits in a flex row, which made it one box
    _monitor_with_measures(1)
    page = _page(browser, PHONE)
    _log_in_az(page, served.url, "monitor@example.org")
    page.goto(f"{served.url}{path}?lang=az")
    badge = page.locator("main .badge-overdue.badge-wrap").first
    expect(badge).to_be_visible()
    lines = badge.evaluate("e => [...e.getClientRects()].map(r => r.height)")
    font = badge.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert all(height < 2 * font for height in lines), (lines, font)
    assert len(lines) >= 2, "the badge fits one line: nothing to check"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.context.close()


def test_the_open_data_downloads_fit_a_phone_and_name_their_data_set(served, browser):
    # the files were a table whose download column fell off a phone's screen
    page = _page(browser, PHONE)
    page.goto(f"{served.url}/data/?lang=az")
    links = page.locator(".datasets .downloads a")
    expect(links).to_have_count(6)
    for download in links.all():
        box = download.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    measures = page.get_by_role("link", name="CSV (Tədbirlər)", exact=True)
    expect(measures).to_have_attribute("href", "/data/measures.csv")
    page.context.close()
    # side by side on a wide screen, each card's downloads sit on one line at their foot
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}/data/?lang=az")
    tops = {round(box["y"]) for box in map(Locator.bounding_box, page.locator(".downloads").all())}
    assert len(tops) == 1, tops
    page.context.close()


#: the space between a card's last line of content and its border, and that card's padding
_CARD_ENDS = """card => {
  const last = [...card.querySelectorAll("*")].filter(e => e.checkVisibility())
    .map(e => e.getBoundingClientRect()).filter(r => r.height > 0);
  const style = getComputedStyle(card);
  const inner = card.getBoundingClientRect().bottom - parseFloat(style.borderBottomWidth);
  const lastItem = card.querySelector(".evidence-list > li:last-child");
  return [inner - Math.max(...last.map(r => r.bottom)), parseFloat(style.paddingBottom),
          getComputedStyle(lastItem).borderBottomStyle];
}"""


def test_an_update_card_ends_at_its_padding(served, browser):
    # The evidence list drew a rule under its last item and kept its margin: a line and
    # 1rem of space at the foot of every approved update
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    update = make_update(measure, make_organisation("Şəffaflıq Assosiasiyası", "Transparency"))
    update.evidence.append(
        Evidence(evidence_type="official_website", title="Sayt", url="https://example.gov.az/")
    )
    db.session.commit()
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}/plans/az-nap-2020-2022/measures/2.3?lang=az")
    card = page.locator("section[aria-labelledby=updates-heading] .card").first
    space, padding, rule = card.evaluate(_CARD_ENDS)
    assert abs(space - padding) <= 1, (space, padding)
    assert rule == "none"
    page.context.close()


#: each one-line control of a page's filter form: its name, top and height
_FILTER_CONTROLS = """() => [...document.querySelectorAll(
    'form.filters input:not([type=hidden]):not([type=checkbox]), form.filters select')]
  .map(e => { const r = e.getBoundingClientRect(); return [e.name, r.top, r.height]; })"""


@pytest.mark.parametrize(
    "path",
    [
        "/reports/archive",  # a select, a date box and a select
        "/registry/",  # a search box beside selects
        "/plans/az-nap-2020-2022/changes",  # text boxes for dates
        "/plans/az-nap-2020-2022/",  # the scorecard's search beside selects
    ],
)
def test_the_controls_of_a_filter_row_line_up(served, browser, path):
    # Chromium draws a select 39 px high, a text box 42 px and a date box 44 px: side by
    # side in a row, their labels and boxes were out of line by up to 5 px
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}{path}?lang=en")
    controls = page.evaluate(_FILTER_CONTROLS)
    assert len(controls) >= 2, controls
    heights = {round(height) for _name, _top, height in controls}
    assert len(heights) == 1, controls
    rows = {}
    for name, top, height in controls:
        row = next((start for start in rows if abs(start - top) < height / 2), top)
        rows.setdefault(row, []).append((name, top))
    assert all(abs(top - row) <= 1 for row, members in rows.items() for _n, top in members), rows
    assert any(len(members) >= 2 for members in rows.values()), rows
    page.context.close()


#: [name above, name below, space between] for each two visible fields of a form stacked one
#: under the other in the same fieldset
_FIELD_GAPS = """() => {
  const fields = [...document.querySelectorAll('main form .field')]
    .filter(f => f.getBoundingClientRect().height > 0);
  const gaps = [];
  for (let i = 1; i < fields.length; i++) {
    const above = fields[i - 1].getBoundingClientRect(), below = fields[i].getBoundingClientRect();
    const sameSet = fields[i - 1].closest('fieldset') === fields[i].closest('fieldset');
    if (below.top >= above.bottom && sameSet)
      gaps.push([fields[i - 1].querySelector('[name]').name, fields[i].querySelector('[name]').name,
                 below.top - above.bottom]);
  }
  return gaps;
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_update_forms_fields_are_one_space_apart(served, browser, viewport):
    # Fields side by side in a grid stack on a phone; the grid's gap and each field's own
    # margin then put 2rem between them where the rest of the form has 1rem
    _monitor_with_measures(1)
    measure_id = db.session.scalar(select(Measure.id).order_by(Measure.position).limit(1))
    db.session.commit()  # ends the read, which would hold SQLite's lock against the server
    page = _page(browser, viewport)
    _log_in_az(page, served.url, "monitor@example.org")
    page.goto(f"{served.url}/monitor/measures/{measure_id}/updates/new?lang=az")
    gaps = page.evaluate(_FIELD_GAPS)
    rem = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert len(gaps) >= 8, gaps
    assert [gap for gap in gaps if abs(gap[2] - rem) > 1] == []
    page.context.close()


@pytest.mark.parametrize(
    ("path", "first_item"),
    [("/plans/az-nap-2020-2022/", "#section-1"), ("/registry/", ".org-list li")],
)
def test_search_and_filters_fold_on_a_phone_until_one_is_chosen(served, browser, path, first_item):
    # The scorecard's eight filters took a screen and a half on a phone before the first
    # measure; the registry's, a screen before the first organisation
    make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    db.session.commit()
    page = _page(browser, PHONE)
    page.goto(f"{served.url}{path}?lang=az")
    panel = page.locator("details.filter-panel")
    expect(panel).not_to_have_attribute("open", "")
    summary = panel.locator("summary")
    expect(summary).to_have_text("Axtarış və filtrlər")
    expect(summary).to_have_accessible_name("Axtarış və filtrlər")  # the arrow is not read
    expect(page.locator("form.filters select").first).to_be_hidden()
    # the list starts right under the folded panel
    gap = page.evaluate(
        """([panel, item]) => document.querySelector(item).getBoundingClientRect().top
            - document.querySelector(panel).getBoundingClientRect().bottom""",
        ["details.filter-panel", first_item],
    )
    assert 0 <= gap < 300, gap
    summary.click()
    expect(page.locator("form.filters select").first).to_be_visible()
    page.locator("form.filters input[name=q]").fill("Şəffaflıq")
    page.locator("form.filters").get_by_role("button").first.click()
    page.wait_for_url("**q=*")
    # a chosen filter keeps the panel open, and its summary counts it
    expect(panel).to_have_attribute("open", "")
    expect(summary).to_have_text("Axtarış və filtrlər (1 seçilib)")
    page.context.close()

    # Without JavaScript the panel stays open; on a wide screen there is no toggle at all
    page = _page(browser, PHONE, javascript=False)
    page.goto(f"{served.url}{path}?lang=az")
    expect(page.locator("form.filters select").first).to_be_visible()
    page.context.close()
    page = _page(browser, DESKTOP)
    page.goto(f"{served.url}{path}?lang=az")
    expect(page.locator("details.filter-panel summary")).to_be_hidden()
    expect(page.locator("form.filters select").first).to_be_visible()
    page.set_viewport_size(PHONE)
    page.set_viewport_size(DESKTOP)  # a narrow window widened again keeps them open
    expect(page.locator("form.filters select").first).to_be_visible()
    page.context.close()


@pytest.mark.parametrize(
    ("path", "first_item"), [("/admin/audit", ".audit-table"), ("/admin/users", "main table")]
)
def test_the_admin_lists_filters_fold_on_a_phone_and_stay_open_on_an_error(
    served, browser, path, first_item
):
    # The audit log's seven filters took a screen and a half on a phone before its first
    # entry. A filter with an error keeps the panel open, where the message is
    _monitor_with_measures(1)
    page = _page(browser, PHONE)
    _log_in_az(page, served.url, "admin@example.org")
    page.goto(f"{served.url}{path}?lang=az")
    panel = page.locator("details.filter-panel")
    expect(panel).not_to_have_attribute("open", "")
    expect(page.locator(first_item)).to_be_in_viewport()
    panel.locator("summary").click()
    expect(page.locator("form.filters select").first).to_be_visible()
    # (the users list answered a bad filter with a whole-page 400 and no panel)
    bad_filter = {"/admin/audit": "date_from=2026-13-45", "/admin/users": "role=bogus"}[path]
    response = page.goto(f"{served.url}{path}?{bad_filter}&lang=az")
    assert response.status == 400
    expect(panel).to_have_attribute("open", "")
    expect(panel.locator(".field-error")).to_be_visible()
    page.context.close()


SMALL_PHONE = {"width": 320, "height": 780}
#: the first element in <main>, or else the first text, that reaches past the screen's right
#: edge (a wide table scrolls in its own box, so it does not count)
_FIRST_TOO_WIDE = """(width) => {
  const inTable = node => (node.parentElement || node).closest(".table-wrap");
  const wide = [...document.querySelectorAll("main *")].find(
    e => e.getBoundingClientRect().right > width + 1 && !inTable(e));
  if (wide) return `${wide.tagName}.${wide.className}: ${wide.textContent.trim().slice(0, 60)}`;
  // a word or an address too long for its line runs past a box that fits the screen
  const range = document.createRange();
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    range.selectNodeContents(node);
    if (range.getBoundingClientRect().right > width + 1 && !inTable(node)) {
      return `text in ${node.parentElement.tagName}: ${node.textContent.trim().slice(0, 60)}`;
    }
  }
  return "";
}"""


@pytest.mark.parametrize("lang", ["az", "en"])
def test_every_kind_of_public_page_fits_a_small_phone(served, browser, lang):
    # An organisation's page scrolled sideways in Azerbaijani: its "Interviewed for the
    # 2022 needs assessment" badge did not wrap, and is longer in az than in en
    page = _page(browser, SMALL_PHONE)
    too_wide = {}
    for path in public_paths(served.url):
        response = page.goto(f"{served.url}{path}?lang={lang}")
        assert response.status == 200, path
        if page.evaluate("document.scrollingElement.scrollWidth") > SMALL_PHONE["width"]:
            too_wide[path] = page.evaluate(_FIRST_TOO_WIDE, SMALL_PHONE["width"])
    assert too_wide == {}
    page.context.close()
