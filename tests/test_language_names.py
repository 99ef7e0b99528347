"""A language's name is written in that language and marked with its lang, wherever a page
offers a language: the switch in the header, the report links, the report archive and the
language choosers. A screen reader then reads "Azərbaycanca" as Azerbaijani on an English
page, and "English" as English on an Azerbaijani one (WCAG 3.1.2, language of parts)."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from tests.accounts.conftest import PASSWORD, make_user
from tests.helpers import login
from tracker.extensions import db
from tracker.i18n import LANGUAGE_NAMES
from tracker.services.reports.archive import archive_monthly_snapshot

PLAN = "az-nap-2020-2022"
#: elements that have no end tag
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _TextLanguages(HTMLParser):
    """Each text node with the language of the innermost element that declares one."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip():
            declared = [lang for _tag, lang in self.open if lang]
            self.texts.append((data.strip(), declared[-1] if declared else None))


def language_names_on(html: str) -> list[tuple[str, str | None, str]]:
    """(text, its language, the language it names) for every text that holds a name."""
    parser = _TextLanguages()
    parser.feed(html)
    return [
        (text, lang, code)
        for text, lang in parser.texts
        for code, name in LANGUAGE_NAMES.items()
        if name in text
    ]


@pytest.fixture
def signed_in_admin(client, seeded):
    admin = make_user("admin@example.org", role="admin")
    archive_monthly_snapshot(db.session, datetime(2021, 7, 1, 2, 0, tzinfo=UTC))
    db.session.commit()
    login(client, admin)
    return client


@pytest.mark.parametrize("interface", ["az", "en"])
@pytest.mark.parametrize(
    "path, names",
    [
        (f"/plans/{PLAN}/", 4),  # the switch and the report links
        ("/reports/archive", 6),  # the switch, the report language and a month's two files
        ("/account", 4),  # the switch and the interface language
        ("/admin/users/invite", 4),  # the switch and the invitation's language
    ],
)
def test_every_language_name_is_marked_with_its_language(signed_in_admin, path, names, interface):
    response = signed_in_admin.get(f"{path}?lang={interface}")
    assert response.status_code == 200
    found = language_names_on(response.get_data(as_text=True))
    offered = [text for text, _lang, _code in found if text in LANGUAGE_NAMES.values()]
    assert len(offered) == names, found
    assert [(text, lang) for text, lang, code in found if lang != code] == []


def test_the_check_sees_a_name_left_unmarked():
    html = '<html lang="en"><p><a href="/r.pdf">Report, PDF (Azərbaycanca)</a><br>'
    html += '<span lang="az">Azərbaycanca</span></p><p>English</p></html>'
    assert language_names_on(html) == [
        ("Report, PDF (Azərbaycanca)", "en", "az"),
        ("Azərbaycanca", "az", "az"),
        ("English", "en", "en"),
    ]


def test_the_served_app_marks_the_names(served):
    """Through the served app, an English visitor and an Azerbaijani account, one cookie jar
    each: the report links and the language chooser."""
    make_user("names.admin@example.org", role="admin", locale="az")
    visitor, admin = served.client(), served.client()
    plan_page = visitor.get(f"/plans/{PLAN}/?lang=en")
    assert plan_page.status_code == 200
    found = language_names_on(plan_page.text)
    assert ("Azərbaycanca", "az", "az") in found
    assert [(text, lang) for text, lang, code in found if lang != code] == []
    admin.login("names.admin@example.org", PASSWORD)
    account = admin.get("/account")
    assert account.status_code == 200 and '<html lang="az">' in account.text
    found = language_names_on(account.text)
    assert found.count(("English", "en", "en")) == 2  # the header's switch and the chooser
    assert [(text, lang) for text, lang, code in found if lang != code] == []
