"""Numbers in addresses (issue 10, finding 8): every whole number in a path goes through
the bounded `<id:…>` converter, so an id no row can have is a 404, and every page number
is checked, so a huge one is a 400; never an OverflowError and a 500.

The walk covers every rule of the URL map with a number in it, requested as an admin
(so that the answer is not just a 403) and, for the monitor's own list, as a monitor."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from werkzeug.routing.converters import NumberConverter

from tests.accounts.conftest import make_organisation, make_user
from tests.helpers import login
from tracker.extensions import db
from tracker.web.converters import MAX_ID, IdConverter

HUGE = "9999999999999999999999999"
#: the values of the rules' other arguments: real ones, so that only the number is wrong
OTHER_ARGUMENTS = {"key": "az-nap-2020-2022", "plan_key": "az-nap-2020-2022", "code": "1.1"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
NUMBER_CONVERTERS = {"int", "id", "float"}
#: every list with pages, and who can see it
PAGED_LISTS = {
    "admin": (
        "/notifications",
        "/registry/",
        "/admin/organisations/",
        "/admin/users",
        "/admin/audit",
        "/api/v1/measures",
        "/api/v1/updates",
    ),
    "monitor": ("/monitor/updates",),
}


def numbered_rules(app) -> list:
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any(m.group(1) in NUMBER_CONVERTERS for m in ARGUMENT.finditer(rule.rule))
    ]
    assert len(rules) >= 30  # the walk sees them all (34 when this was written)
    return rules


def address(rule, number: str) -> str:
    def value(match: re.Match) -> str:
        converter, options, name = match.groups()
        if converter in NUMBER_CONVERTERS:
            return number
        if converter == "any":
            return options.split(",")[0].strip()
        return OTHER_ARGUMENTS.get(name, "csv" if name == "fmt" else "x")

    return ARGUMENT.sub(value, rule.rule)


def test_every_number_in_a_path_is_bounded(app):
    for rule in numbered_rules(app):
        numbers = [c for c in rule._converters.values() if isinstance(c, NumberConverter)]
        assert numbers and all(isinstance(c, IdConverter) for c in numbers), rule.rule


@pytest.fixture
def signed_in_admin(app, client, seeded):
    app.config["WTF_CSRF_ENABLED"] = False  # the posts must reach routing, not the CSRF check
    login(client, make_user("admin.numbers@example.org", role="admin"))
    db.session.commit()
    return client


@pytest.mark.parametrize("number", [HUGE, str(2**63), str(MAX_ID + 1), "0"])
def test_an_id_no_row_can_have_is_a_404_on_every_route(app, signed_in_admin, number):
    answers = {}
    for rule in numbered_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        response = signed_in_admin.open(address(rule, number), method=method)
        answers[f"{method} {rule.rule}"] = response.status_code
    # (Werkzeug's matcher answers one POST, /admin/organisations/<id>/links, with a 405:
    # a refusal all the same, and the view never runs.)
    assert {route: status for route, status in answers.items() if status not in (404, 405)} == {}


def test_the_largest_id_is_an_ordinary_404(app, signed_in_admin):
    for path in (f"/admin/users/{MAX_ID}", f"/registry/{MAX_ID}", f"/monitor/updates/{MAX_ID}"):
        response = signed_in_admin.get(path)
        assert response.status_code in (403, 404), path


@pytest.mark.parametrize("page", [HUGE, str(2**63), "0", "-1", "1e3", "٣"])
def test_a_page_number_out_of_range_is_a_400_with_a_message(app, client, seeded, page):
    app.config["WTF_CSRF_ENABLED"] = False
    organisation = make_organisation("Səhifə QHT")
    users = {
        "admin": make_user("admin.pages@example.org", role="admin"),
        "monitor": make_user("monitor.pages@example.org", organisation=organisation),
    }
    db.session.commit()
    for role, paths in PAGED_LISTS.items():
        login(client, users[role])
        for path in paths:
            response = client.get(f"{path}?page={page}&lang=en")
            assert response.status_code == 400, (path, response.status_code)
            assert "The page number must be" in response.get_data(as_text=True), path


#: lists whose page past the end is a 404 (the admin's users list shows the last)
LISTS_WITH_AN_END = {
    None: (
        "/plans/",
        "/plans/az-nap-2020-2022/changes",
        "/agencies/",
        "/registry/",
    ),
    "admin": ("/admin/organisations/", "/admin/audit"),
    "monitor": ("/monitor/updates",),
}


def test_a_page_past_the_end_of_a_list_is_a_404_that_says_how_many(app, client, seeded):
    """An empty page under "26 organisations" contradicted itself (found by trying it)."""
    organisation = make_organisation("Son Səhifə QHT")
    users = {
        None: None,
        "admin": make_user("admin.last@example.org", role="admin"),
        "monitor": make_user("monitor.last@example.org", organisation=organisation),
    }
    db.session.commit()
    for role, paths in LISTS_WITH_AN_END.items():
        if users[role] is not None:
            login(client, users[role])
        for path in paths:
            joiner = "&" if "?" in path else "?"
            assert client.get(f"{path}{joiner}page=1&lang=en").status_code == 200, path
            past = client.get(f"{path}{joiner}page=99&lang=en")
            assert past.status_code == 404, path
            assert "This list has 1 page; there is no page 99." in past.get_data(as_text=True)


@pytest.mark.served
def test_the_served_app_answers_huge_ids_and_pages_with_404_and_400(served):
    from tests.served.server import FIRST_ADMIN_EMAIL

    admin = served.client()
    admin.login(FIRST_ADMIN_EMAIL, served.first_admin_password)
    answers = {}
    for rule in numbered_rules(current_app):  # the test process's app on the served database
        if "GET" in rule.methods:
            answers[rule.rule] = admin.get(address(rule, HUGE)).status_code
    assert answers and {rule: status for rule, status in answers.items() if status != 404} == {}
    for path in PAGED_LISTS["admin"]:
        response = admin.get(f"{path}?page={HUGE}&lang=en")
        assert response.status_code == 400, path
        assert "The page number must be" in response.text, path
    # the seeded registry's 26 organisations fill one page
    assert served.client().get("/registry/?page=1").status_code == 200
    past = served.client().get("/registry/?page=2&lang=en")
    assert past.status_code == 404 and "there is no page 2" in past.text
