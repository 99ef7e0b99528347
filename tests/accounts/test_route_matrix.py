"""Every route × every role: anonymous, a monitor of organisation A, a monitor of
organisation B, a reviewer and an admin, with the status each should get
(route_expectations.py). Also: every POST refuses a missing CSRF token and changes nothing,
no GET changes anything, and signed-in pages are never cached."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.accounts.route_expectations import EXPECTATIONS, LOGIN, cases
from tests.accounts.route_world import ROLES, World, build_world
from tests.helpers import login
from tracker.extensions import db

IGNORED_METHODS = {"HEAD", "OPTIONS"}
#: a GET may log a refusal (permission.refused); that is the only write it may make
LOG_TABLES = {"audit_entry"}
#: the queue of reports asked for on the web: a GET of a report download adds its request
#: (the scheduler builds it); a cache of public material, not a change of the data
UNCHANGED_TABLES = LOG_TABLES | {"report_request"}


def _routes_of(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


def test_every_route_is_in_the_matrix(app):
    routes = _routes_of(app)
    missing = sorted(routes - set(EXPECTATIONS))
    assert not missing, (
        "new route: add it to the matrix in tests/accounts/route_expectations.py: "
        + ", ".join(f"{endpoint} {method}" for endpoint, method in missing)
    )
    stale = sorted(set(EXPECTATIONS) - routes)
    assert not stale, "the matrix lists routes that no longer exist: " + ", ".join(
        f"{endpoint} {method}" for endpoint, method in stale
    )


def _row_counts(exclude: set[str] = frozenset()) -> dict[str, int]:
    tables = [t for t in db.metadata.sorted_tables if t.name not in exclude]
    counts = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    db.session.rollback()
    return dict(zip((t.name for t in tables), counts, strict=True))


def _client_for(app, world: World, role: str):
    client = app.test_client()
    if role != "anonymous":
        login(client, world.users[role])
    return client


def _url(app, world: World, key: tuple[str, str], index: int) -> str:
    route = cases(key)[index]
    values = route.values(world)
    db.session.commit()
    with app.test_request_context():
        return url_for(key[0], **values)


def _outcome(response) -> int | str:
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return LOGIN
    return response.status_code


MATRIX_CASES = [
    pytest.param(key, index, id=f"{key[0]}-{key[1]}" + (f"-{index}" if index else ""))
    for key in sorted(EXPECTATIONS)
    for index in range(len(cases(key)))
]


@pytest.mark.parametrize(("key", "index"), MATRIX_CASES)
def test_route_matrix(app, key, index):
    assert key in _routes_of(app), f"{key} is in the matrix but not in url_map"
    app.config["WTF_CSRF_ENABLED"] = False
    world = build_world(app.config["UPLOAD_FOLDER"])
    url = _url(app, world, key, index)
    method = key[1]
    got, expected, problems = {}, {}, []
    for role in ROLES:
        client = _client_for(app, world, role)
        before = _row_counts(exclude=UNCHANGED_TABLES) if method == "GET" else None
        response = client.open(url, method=method)
        got[role] = _outcome(response)
        expected[role] = cases(key)[index].status_for(role)
        if role != "anonymous" and response.headers.get("Cache-Control") != "no-store":
            problems.append(f"{role}: a signed-in answer without Cache-Control: no-store")
        if method == "GET" and _row_counts(exclude=UNCHANGED_TABLES) != before:
            problems.append(f"{role}: GET {url} changed the database")
    assert got == expected, f"{method} {url} ({cases(key)[index].note or 'main case'})"
    assert not problems, problems


#: the one POST without CSRF: the one-click unsubscribe of RFC 8058, which a mail client
#: posts without cookies, authorised by the signed token in its URL
CSRF_EXEMPT = {("notifications.unsubscribe_all", "POST")}

POST_ROUTES = [
    pytest.param(key, id=f"{key[0]}")
    for key in sorted(EXPECTATIONS)
    if key[1] == "POST" and key not in CSRF_EXEMPT
]


def test_only_the_one_click_unsubscribe_is_exempt_from_csrf(app):
    from tracker.extensions import csrf

    assert not csrf._exempt_blueprints
    exempt = {name.rpartition(".")[2] for name in csrf._exempt_views}
    assert exempt == {endpoint.partition(".")[2] for endpoint, _ in CSRF_EXEMPT}


@pytest.mark.parametrize("key", POST_ROUTES)
def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, key):
    assert app.config.get("WTF_CSRF_ENABLED", True)
    world = build_world(app.config["UPLOAD_FOLDER"])
    url = _url(app, world, key, 0)
    for role in ROLES:
        client = _client_for(app, world, role)
        before = _row_counts()
        response = client.post(url, data={})
        assert response.status_code == 400, f"{role}: POST {url} without a CSRF token"
        assert "form has expired or was not sent from this site" in response.get_data(as_text=True)
        assert _row_counts() == before, f"{role}: POST {url} without a token changed rows"
