"""Answers the QA pass found inconsistent, checked on the served app (`tracker serve`:
gunicorn workers and the scheduler) over real HTTP, with a cookie jar per visitor: each
reads as its kind does elsewhere on the site."""

from __future__ import annotations

import re

import pytest

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
