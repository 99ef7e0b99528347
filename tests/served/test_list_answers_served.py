"""Answers the QA pass found inconsistent, checked on the served app (`tracker serve`:
gunicorn workers and the scheduler) over real HTTP, with a cookie jar per visitor: each
reads as its kind does elsewhere on the site."""

from __future__ import annotations

import re

import pytest

from tests.reminders.conftest import BAD_LINK_WORDS
from tests.served.server import FIRST_ADMIN_EMAIL

pytestmark = pytest.mark.served

FIELD_ERROR = re.compile(r'<ul class="field-error" id="([\w-]+)-errors">\s*<li>(.*?)</li>', re.S)


@pytest.fixture
def admin(served):
    visitor = served.client()
    visitor.login(FIRST_ADMIN_EMAIL, served.first_admin_password)
    return visitor


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "Choose one of the options in the list."),
        ("az", "Siyahıdakı variantlardan birini seçin."),
    ],
)
def test_an_unknown_role_in_the_users_filter_shows_beside_it(admin, lang, message):
    """As the audit log's filters: the page with the problem beside the field, a 400."""
    users = admin.get(f"/admin/users?role=bogus&lang={lang}")
    audit = admin.get(f"/admin/audit?action=made.up&lang={lang}")
    for answer, field in ((users, "role"), (audit, "action")):
        assert answer.status_code == 400
        assert FIELD_ERROR.findall(answer.text) == [(field, message)]
    assert "Check the form" not in users.text
    assert admin.get(f"/admin/users?role=admin&lang={lang}").status_code == 200


#: the 404's message, whatever the number of pages the served data fills
PAST_THE_END = {
    "en": re.compile(r"This list has \d+ pages?; there is no page 999\."),
    "az": re.compile(r"Bu siyahıda \d+ səhifə var; 999 nömrəli səhifə yoxdur\."),
}


@pytest.mark.parametrize("lang", ["en", "az"])
def test_a_page_past_the_end_of_the_audit_log_is_a_404_as_on_other_lists(admin, lang):
    """It showed the last page; the registry, the plans and the rest answer 404."""
    assert admin.get(f"/admin/audit?page=1&lang={lang}").status_code == 200
    for path in ("/admin/audit", "/registry/"):
        past = admin.get(f"{path}?page=999&lang={lang}")
        assert past.status_code == 404, path
        assert PAST_THE_END[lang].search(past.text), path


@pytest.mark.parametrize(
    ("lang", "said", "way_on"),
    BAD_LINK_WORDS,
)
def test_a_bad_unsubscribe_link_says_so_and_where_reminders_are_managed(served, lang, said, way_on):
    """It said "Check the form"; now a 400 like a bad password link's, naming the way on."""
    visitor = served.client()
    for path in ("/unsubscribe/garbage", "/unsubscribe-all/garbage"):
        answer = visitor.get(f"{path}?lang={lang}")
        assert answer.status_code == 400, path
        assert said in answer.text and way_on in answer.text, path
        assert 'href="/login?next=/notifications"' in answer.text, path
    reset = visitor.get(f"/password/reset/garbage?lang={lang}")
    assert reset.status_code == 400  # the password link's answer, for comparison


@pytest.mark.parametrize(
    ("lang", "on_the_page", "in_the_api"),
    [
        ("en", "The “since” date cannot be in the future.", "since cannot be in the future."),
        ("az", "“Başlama tarixi” gələcəkdə ola bilməz.", "since gələcək tarix ola bilməz."),
    ],
)
def test_a_since_in_the_future_is_refused_on_the_page_and_in_the_api(
    served, lang, on_the_page, in_the_api
):
    """It was accepted and listed nothing. (The served app runs on the real clock: 2099
    is in its future, 2021 in its past.)"""
    visitor = served.client()
    page = f"/plans/az-nap-2020-2022/changes?lang={lang}&since="
    api = f"/api/v1/updates?plan=az-nap-2020-2022&lang={lang}&since="
    assert visitor.get(f"{page}2021-01-01").status_code == 200
    assert visitor.get(f"{api}2021-01-01").status_code == 200
    refused = visitor.get(f"{page}2099-01-01")
    assert refused.status_code == 400 and on_the_page in refused.text
    answer = visitor.get(f"{api}2099-01-01")
    assert answer.status_code == 400 and answer.json()["error"]["message"] == in_the_api


@pytest.mark.parametrize(("lang", "day"), [("en", "May 19, 2021"), ("az", "19 may 2021")])
def test_the_being_prepared_page_shows_its_date_as_every_page_does(served, lang, day):
    """Through the project's date filter (tracker.dates), not a format of its own."""
    visitor = served.client()
    visitor.get(f"/?lang={lang}")  # the page speaks the visitor's language
    preparing = visitor.get(f"/reports/plan/az-nap-2020-2022.pdf?as_of=2021-05-19&lang={lang}")
    assert preparing.status_code == 202
    situation = re.search(r'<p class="muted">([^<]*)</p>', preparing.text).group(1)
    assert day in situation
