"""Following a measure or an organisation: their Atom feeds (approved updates and claims,
organisations named, persons never, links on the public site in the feed's language),
parsed back with defusedxml, and the links to them on their pages."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from defusedxml import ElementTree as SafeET

from tests.factories import make_update
from tests.reports.conftest import FUTURE_MARKER, HOSTILE_NARRATIVE, SECRET_MARKERS
from tracker.extensions import db
from tracker.vocabulary import Completion, ReviewState

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PLAN = "az-nap-2020-2022"
MEASURE_FEED = f"/plans/{PLAN}/measures/1.1/feed.atom"


def _feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.content_type == "application/atom+xml; charset=utf-8"
    body = response.get_data(as_text=True)
    for marker in SECRET_MARKERS:
        assert marker not in body, marker
    feed = SafeET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    return feed


def _titles(feed) -> list[str]:
    return [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]


def _links(feed) -> list[str]:
    """Every address a feed gives: its own, its page's and each entry's."""
    return [link.get("href") for link in feed.iter(f"{ATOM}link")]


def _ids(feed) -> list[str]:
    return [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]


class _FeedHrefs(HTMLParser):
    """The feed addresses a page gives: its <link rel="alternate"> and visible links."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag in ("a", "link") and urlsplit(href).path.endswith(".atom"):
            self.hrefs.append(href)


def _feed_hrefs(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _FeedHrefs()
    parser.feed(response.get_data(as_text=True))
    return parser.hrefs


def test_a_measures_feed_has_its_approved_updates_and_the_claim(app, monitoring, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    site = app.config["PUBLIC_BASE_URL"]
    feed = _feed(client, MEASURE_FEED + "?lang=en")
    assert feed.findtext(f"{ATOM}title") == "Measure 1.1: updates and claims"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{site}{MEASURE_FEED}?lang=en"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        f"{site}/plans/{PLAN}/measures/1.1?lang=en"
    )
    # newest described date first: the hostile update (2021-05-01), the second
    # organisation's (2021-04-01), the government's claim (2021-02-01)
    assert _titles(feed) == [
        "1.1 · Transparency Association: Limited",
        "1.1 · Legal Education Society: Substantial",
        "1.1 · Government claim: Complete",
    ]
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in entries] == [
        "Transparency Association",
        "Legal Education Society",
        "The government",
    ]
    assert HOSTILE_NARRATIVE in entries[0].findtext(f"{ATOM}content")
    assert {e.find(f"{ATOM}link").get("href") for e in entries} == {
        f"{site}/plans/{PLAN}/measures/1.1?lang=en"
    }
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3 and all(i.startswith("urn:uuid:") for i in ids)


def test_an_organisations_feed_has_only_its_approved_updates(monitoring, client):
    watchdog = monitoring.watchdog
    feed = _feed(client, f"/registry/{watchdog.id}/feed.atom?lang=en")
    assert feed.findtext(f"{ATOM}title") == "Transparency Association: approved updates"
    titles = _titles(feed)
    # 4.3 (as of 2021-08-01), 1.1, 2.1; not the draft, submitted or archived ones
    assert [t.split(" ·")[0] for t in titles] == ["4.3", "1.1", "2.1"]
    assert all("Transparency Association" in t for t in titles)
    body = client.get(f"/registry/{watchdog.id}/feed.atom").get_data(as_text=True)
    assert FUTURE_MARKER in body  # approved, so public (a feed has no "as of")
    assert client.get(f"/registry/{monitoring.archived_org.id}/feed.atom").status_code == 404
    assert client.get("/registry/999999/feed.atom").status_code == 404
    assert client.get(f"/plans/{PLAN}/measures/99.9/feed.atom").status_code == 404


def test_a_newly_approved_update_appears_and_an_unapproved_one_does_not(monitoring, client):
    measure = monitoring.measures["1.1"]
    make_update(measure, monitoring.second, Completion.COMPLETE, date(2021, 6, 1))
    make_update(
        measure, monitoring.second, Completion.COMPLETE, date(2021, 6, 2), ReviewState.RETURNED
    )
    db.session.commit()
    titles = _titles(_feed(client, MEASURE_FEED + "?lang=en"))
    assert titles[0] == "1.1 · Legal Education Society: Complete"
    assert len(titles) == 4


def test_the_pages_link_to_their_feeds(app, monitoring, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    page = client.get(f"/plans/{PLAN}/measures/1.1?lang=en").get_data(as_text=True)
    feed_url = f"{MEASURE_FEED}?lang=en"
    assert (
        f'<link rel="alternate" type="application/atom+xml" '
        f'title="Measure 1.1: updates and claims" href="{feed_url}">'
    ) in page
    assert f'<a href="{feed_url}" type="application/atom+xml">Follow (Atom feed)</a>' in page
    watchdog = monitoring.watchdog
    page = client.get(f"/registry/{watchdog.id}?lang=en").get_data(as_text=True)
    feed_url = f"/registry/{watchdog.id}/feed.atom?lang=en"
    title = "Transparency Association: approved updates"
    assert f'type="application/atom+xml" title="{title}" href="{feed_url}">' in page
    assert f'<a href="{feed_url}" type="application/atom+xml">Follow (Atom feed)</a>' in page


def test_an_english_page_links_to_the_english_feed_and_an_azerbaijani_one_to_the_default(
    app, monitoring, client
):
    """A feed reader keeps no session: only ?lang= gives it the reader's language."""
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    watchdog = monitoring.watchdog
    feeds = {
        f"/plans/{PLAN}/measures/1.1": MEASURE_FEED,
        f"/registry/{watchdog.id}": f"/registry/{watchdog.id}/feed.atom",
        "/data/": "/feeds/updates.atom",
    }
    for page, feed in feeds.items():
        # the <link rel="alternate"> and the visible link alike
        assert _feed_hrefs(client, f"{page}?lang=en") == [f"{feed}?lang=en"] * 2, page
        # English remembered in the session, the page's address without ?lang=
        assert _feed_hrefs(client, page) == [f"{feed}?lang=en"] * 2, page
        assert _feed_hrefs(app.test_client(), page) == [feed] * 2, page
        assert _feed_hrefs(app.test_client(), f"{page}?lang=az") == [feed] * 2, page


def test_an_english_feed_links_to_english_pages_and_an_azerbaijani_one_to_the_default(
    app, monitoring, client
):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    site = app.config["PUBLIC_BASE_URL"]
    feeds = (MEASURE_FEED, f"/registry/{monitoring.watchdog.id}/feed.atom", "/feeds/updates.atom")
    for url in feeds:
        english = _feed(client, f"{url}?lang=en")
        azerbaijani = _feed(app.test_client(), url)
        assert english.get(XML_LANG) == "en" and azerbaijani.get(XML_LANG) == "az"
        # self, alternate and at least one entry's link
        assert len(_links(english)) > 2 and len(_links(azerbaijani)) == len(_links(english))
        for href in _links(english):
            assert href.startswith(f"{site}/"), href
            assert parse_qs(urlsplit(href).query) == {"lang": ["en"]}, href
        for href in _links(azerbaijani):
            assert href.startswith(f"{site}/") and urlsplit(href).query == "", href
        # an entry is the same entry in either language
        assert _ids(english) == _ids(azerbaijani)
    # English remembered in the session: the feed's own address says so
    remembered = _feed(client, MEASURE_FEED)
    assert remembered.get(XML_LANG) == "en"
    self_link = remembered.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == f"{site}{MEASURE_FEED}?lang=en"
    # the updates feed of one plan keeps the plan beside the language
    one_plan = _feed(client, f"/feeds/updates.atom?plan={PLAN}&lang=en")
    self_link = one_plan.find(f"{ATOM}link[@rel='self']").get("href")
    assert parse_qs(urlsplit(self_link).query) == {"plan": [PLAN], "lang": ["en"]}


def test_an_entrys_date_is_written_as_the_pages_write_it_in_the_feeds_language(
    app, monitoring, client
):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"
    firsts = {}
    for lang in ("en", "az"):
        feed = _feed(client, f"{MEASURE_FEED}?lang={lang}")
        contents = [e.findtext(f"{ATOM}content") for e in feed.findall(f"{ATOM}entry")]
        firsts[lang] = [text.splitlines()[0] for text in contents]
    assert firsts["en"] == ["As of May 1, 2021.", "As of April 1, 2021.", "As of February 1, 2021."]
    assert firsts["az"] == [
        "1 may 2021 tarixinə.",
        "1 aprel 2021 tarixinə.",
        "1 fevral 2021 tarixinə.",
    ]
