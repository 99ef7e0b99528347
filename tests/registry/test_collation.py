"""Organisation names in the interface language, in that language's alphabetical order:
Azerbaijani puts "ç" after "c", "ə" after "e", "x" after "h", "ı" before "i", "q" after
"k"; English reads those letters as their Latin neighbours."""

from __future__ import annotations

import re

import pytest

from tests.accounts.conftest import login_with_form, make_user
from tracker.extensions import db
from tracker.models import Organisation
from tracker.vocabulary import collation_key, collation_sort_key

#: (Azerbaijani name, English name or "")
NAMES = [
    ("Zəfər Birliyi", ""),
    ("Əmək Hüquqları Mərkəzi", "Labour Rights Centre"),
    ("Elm və Təhsil", ""),
    ("Xeyriyyə Fondu", "Charity Fund"),
    ("Həyat Assosiasiyası", ""),
    ("İnam Mərkəzi", "Trust Centre"),
    ("Işıq Birliyi", ""),
    ("Qanun və Cəmiyyət", "Law and Society"),
    ("Kitab Evi", ""),
    ("Çinar Gənclər Birliyi", ""),
    ("Cəmiyyət və İnkişaf", "Society and Development"),
]
AZ_ORDER = [
    "Cəmiyyət və İnkişaf",
    "Çinar Gənclər Birliyi",
    "Elm və Təhsil",
    "Əmək Hüquqları Mərkəzi",
    "Həyat Assosiasiyası",
    "Xeyriyyə Fondu",
    "Işıq Birliyi",
    "İnam Mərkəzi",
    "Kitab Evi",
    "Qanun və Cəmiyyət",
    "Zəfər Birliyi",
]
EN_ORDER = [
    "Charity Fund",
    "Çinar Gənclər Birliyi",
    "Elm və Təhsil",
    "Həyat Assosiasiyası",
    "Işıq Birliyi",
    "Kitab Evi",
    "Labour Rights Centre",
    "Law and Society",
    "Society and Development",
    "Trust Centre",
    "Zəfər Birliyi",
]


def test_the_azerbaijani_alphabet_orders_names():
    names = [az for az, _ in NAMES]
    assert sorted(names, key=lambda n: collation_key(n, "az")) == AZ_ORDER
    # quotes and case do not move a name
    assert collation_key("«Açıq» Birlik", "az")[0] == collation_key("açıq birlik", "az")[0]
    assert collation_key("İnam", "az")[0] == collation_key("inam", "az")[0]
    assert collation_key("Işıq", "az")[0] == collation_key("ışıq", "az")[0]


@pytest.mark.parametrize("locale", ["az", "en"])
def test_the_stored_sort_key_orders_bytes_as_the_collation_orders_names(locale):
    """The database sorts the registry by collation_sort_key, byte by byte: the same order
    as collation_key, prefixes, digits, quotes and dotted/dotless i included."""
    names = [az for az, _ in NAMES] + [en for _, en in NAMES if en]
    names += ["Açıq", "Açıq Birlik", "«Açıq» Birlik", "Açıqlıq", "2 Addım", "10 Addım", "Ümid"]
    names += ["İnam", "inam", "Inam", "ınam", "A" * 80 + " Birliyi", "A" * 80]
    by_collation = sorted(names, key=lambda n: (collation_key(n, locale), n))
    by_stored_key = sorted(names, key=lambda n: (collation_sort_key(n, locale).encode(), n))
    # Names alike in their first 64 letters tie in the stored key (the id decides).
    long_ones = {"A" * 80 + " Birliyi", "A" * 80}
    assert [n for n in by_stored_key if n not in long_ones] == [
        n for n in by_collation if n not in long_ones
    ]


def test_the_api_pages_follow_the_collation_across_pages(organisations, client):
    names = []
    for page in (1, 2, 3):
        answer = client.get(f"/api/v1/organisations?per_page=4&page={page}").get_json()
        names += [o["name"]["az"] for o in answer["organisations"]]
    assert answer["total"] == len(NAMES)
    assert [n for n in names if n in AZ_ORDER] == AZ_ORDER


@pytest.fixture
def organisations(app):
    for name_az, name_en in NAMES:
        db.session.add(Organisation(name_az=name_az, name_en=name_en))
    db.session.commit()


def _names_in(html: str, pattern: str) -> list[str]:
    known = {az for az, _ in NAMES} | {en for _, en in NAMES if en}
    return [name for name in re.findall(pattern, html) if name in known]


@pytest.mark.parametrize(("lang", "expected"), [("az", AZ_ORDER), ("en", EN_ORDER)])
def test_the_registry_lists_names_in_the_language_and_its_order(
    organisations, client, lang, expected
):
    html = client.get(f"/registry/?lang={lang}").get_data(as_text=True)
    assert _names_in(html, r'class="org-name"[^>]*>([^<]+)</a>') == expected
    api = client.get("/api/v1/organisations", headers={"Accept-Language": lang})
    assert api.status_code == 200


@pytest.mark.parametrize(("lang", "expected"), [("az", AZ_ORDER), ("en", EN_ORDER)])
def test_the_invite_forms_organisations_follow_the_language(organisations, app, lang, expected):
    admin = make_user("admin@example.org", role="admin")
    db.session.commit()
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    response = client.get(f"/admin/users/invite?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    select = re.search(r'<select[^>]* id="organisation_id"[^>]*>(.*?)</select>', html, re.S)[1]
    assert _names_in(select, r"<option[^>]*>([^<]+)</option>") == expected


def test_api_errors_follow_accept_language(client):
    english = client.get("/api/v1/organisations?page=0", headers={"Accept-Language": "en"})
    azerbaijani = client.get("/api/v1/organisations?page=0", headers={"Accept-Language": "az"})
    assert english.status_code == azerbaijani.status_code == 400
    message = english.get_json()["error"]["message"]
    assert message and message != azerbaijani.get_json()["error"]["message"]
