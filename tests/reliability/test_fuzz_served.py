"""A fuzz of every form and filter through the served app (issue 11, item 7): 300 seeded
random submissions each, with valid CSRF tokens, as the role that may use it; not one
answer may be a 5xx. Values: random text in many scripts, huge and odd numbers, empty,
long, and the page's own valid values (tests/reliability/fuzz.py). Control characters
are left to tests/reliability/test_input_edge.py."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_world import build_world
from tests.reliability.fuzz import FormFields, form_on, random_case
from tests.served.server import CSRF_INPUT
from tracker.extensions import db

pytestmark = pytest.mark.served

CASES = 300
SEED = 20261201
#: the longest random text in a POST, and in a query string (whose line gunicorn limits)
LONGEST_POSTED = 4_000
LONGEST_QUERY = 1_500


@dataclass(frozen=True)
class Target:
    name: str
    #: who uses it (a key of the world's users), or None for a visitor
    actor: str | None
    #: the page that shows the form
    page: str
    #: where the form goes, when not to the page itself
    action: str | None = None
    #: an API filter: the fields of the form on `page`, sent as a query to `action`
    api: bool = False


FORMS = [
    Target("login", None, "/login"),
    Target("forgot-password", None, "/password/forgot"),
    Target("status-update", "monitor_a", "/monitor/measures/{measure_a}/updates/new"),
    Target("claim", "monitor_a", "/claims/measures/{measure_a}/new"),
    # the review page's one form: one text box, approve / return / comment buttons
    Target(
        "review", "reviewer", "/review/updates/{submitted}", "/review/updates/{submitted}/review"
    ),
    Target("invite-user", "admin", "/admin/users/invite"),
    Target("new-organisation", "admin", "/admin/organisations/new"),
]
FILTERS = [
    Target("scorecard", None, "/"),
    Target("registry", None, "/registry/"),
    Target("report-download", None, "/reports/archive", "/reports/download"),
    Target("admin-users", "admin", "/admin/users"),
    Target("audit-log", "admin", "/admin/audit"),
    Target("admin-organisations", "admin", "/admin/organisations/"),
    Target("api-measures", None, "/", "/api/v1/measures", api=True),
    Target("api-organisations", None, "/registry/", "/api/v1/organisations", api=True),
    Target("api-updates", None, "/", "/api/v1/updates", api=True),
]


def prepared(served, target: Target):
    """A client signed in as the target's actor, the page's form, where it goes and the
    page's CSRF token."""
    world = build_world(str(served.upload_folder))
    ids = {"measure_a": world.measure_a.id, "submitted": world.submitted_a.id}
    actor = world.users[target.actor].email if target.actor else None
    db.session.commit()
    client = served.client()
    if actor:
        client.login(actor, PASSWORD)
    page = target.page.format(**ids)
    action = (target.action or target.page).format(**ids)
    shown = client.get(page + ("&" if "?" in page else "?") + "lang=en")
    assert shown.status_code == 200, (page, shown.status_code)
    form = form_on(shown.text, page if target.api else action)
    token = CSRF_INPUT.search(shown.text)
    return client, form, action, token.group(1) if token else ""


def run_cases(form: FormFields, action: str, send, longest: int) -> list[str]:
    rng = random.Random(f"{SEED}-{action}")
    failures = []
    for number in range(CASES):
        data = random_case(rng, form, longest)
        response = send(action, data)
        if response.status_code >= 500:
            failures.append(f"case {number}: {response.status_code} for {data!r}"[:600])
    return failures


@pytest.mark.parametrize("target", FORMS, ids=lambda t: getattr(t, "name", None))
def test_300_random_submissions_of_a_form_get_no_5xx(served, target):
    client, form, action, token = prepared(served, target)
    assert token, f"no CSRF token on {target.page}"

    def send(url, data):
        return client.post(url + "?lang=en", data=[("csrf_token", token), *data])

    failures = run_cases(form, action, send, LONGEST_POSTED)
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("target", FILTERS, ids=lambda t: t.name)
def test_300_random_filters_get_no_5xx(served, target):
    client, form, action, _token = prepared(served, target)

    def send(url, data):
        return client.get(url, params=data)

    failures = run_cases(form, action, send, LONGEST_QUERY)
    assert not failures, "\n".join(failures[:10])
