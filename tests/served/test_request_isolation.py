"""The served app keeps visitors apart: with two gunicorn workers, several signed-in users
and anonymous visitors at once, each request sees only its own user, language and form
token, and a transaction never outlives its request."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import current_app, url_for
from sqlalchemy import create_engine, text

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_expectations import EXPECTATIONS, LOGIN, cases
from tests.accounts.route_world import build_world
from tracker.extensions import db

pytestmark = pytest.mark.served
ROUNDS = 20
SIGNED_IN = ("admin", "reviewer", "monitor_a")
#: a page that only this role may open, and that names the user
OWN_PAGE = {"admin": "/admin/users", "reviewer": "/review/", "monitor_a": "/monitor/"}


def _private_get_urls(served, world) -> list[str]:
    """Every GET rule whose anonymous answer is the login page, with its URL values."""
    app = current_app._get_current_object()
    urls = []
    for key in sorted(EXPECTATIONS):
        if key[1] != "GET":
            continue
        for route in cases(key):
            if route.anonymous != LOGIN:
                continue
            values = route.values(world)
            db.session.commit()
            with app.test_request_context():
                urls.append(url_for(key[0], **values))
    return sorted(set(urls))


def test_signed_in_users_get_their_own_pages_and_anonymous_visitors_no_private_page(served):
    world = build_world(str(served.upload_folder))
    emails = {role: world.users[role].email for role in SIGNED_IN}
    private_urls = _private_get_urls(served, world)
    assert len(private_urls) >= 20
    clients = {role: served.client() for role in SIGNED_IN}
    for role, client in clients.items():
        client.login(emails[role], PASSWORD)

    def own_pages(role: str) -> list[str]:
        problems = []
        for page in ("/account", OWN_PAGE[role]):
            response = clients[role].get(page)
            # The admin's user list names everyone; other pages name only their user.
            others = [
                e
                for r, e in emails.items()
                if r != role and e in response.text and page != "/admin/users"
            ]
            if response.status_code != 200 or emails[role] not in response.text or others:
                problems.append(f"{role} {page}: {response.status_code}, others shown {others}")
        return problems

    def anonymous(url: str) -> list[str]:
        response = served.client().get(url)  # a new visitor: no cookies at all
        location = response.headers.get("Location", "")
        leaked = [e for e in emails.values() if e in response.text]
        if response.status_code != 302 or not location.startswith("/login") or leaked:
            return [f"anonymous {url}: {response.status_code} {location} {leaked}"]
        return []

    jobs = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(ROUNDS):
            jobs += [pool.submit(own_pages, role) for role in SIGNED_IN]
            jobs += [pool.submit(anonymous, url) for url in private_urls]
        problems = [problem for job in jobs for problem in job.result()]
    assert problems == [], f"{len(problems)} of {len(jobs)} requests: {problems[:5]}"


def _html_lang(response) -> str:
    marker = '<html lang="'
    start = response.text.index(marker) + len(marker)
    return response.text[start : start + 2]


def test_each_request_answers_in_its_own_language(served):
    world = build_world(str(served.upload_folder))
    english_account = world.users["reviewer"]
    english_account.locale = "en"
    db.session.commit()
    asks_english, remembers_nothing = served.client(), served.client()
    signed_in = served.client()
    signed_in.login(english_account.email, PASSWORD)
    for _ in range(ROUNDS):
        assert _html_lang(asks_english.get("/?lang=en")) == "en"
        assert _html_lang(served.client().get("/")) == "az"
        assert _html_lang(asks_english.get("/")) == "en"  # remembered in its session
        assert _html_lang(remembers_nothing.get("/")) == "az"
        assert _html_lang(signed_in.get("/")) == "en"  # the account's language
        # Pages do not follow the browser's header; the default is Azerbaijani.
        assert _html_lang(served.client().get("/", headers={"Accept-Language": "en"})) == "az"
    # The JSON API follows Accept-Language.
    english = served.client().get("/api/v1/plans/no-such-plan", headers={"Accept-Language": "en"})
    azerbaijani = served.client().get("/api/v1/plans/no-such-plan")
    assert english.status_code == azerbaijani.status_code == 404
    assert english.json()["error"]["message"] == "The page you asked for does not exist."
    assert azerbaijani.json()["error"]["message"] != english.json()["error"]["message"]


def _update_form(csrf_token: str, title: str) -> dict:
    data = {
        "csrf_token": csrf_token,
        "completion": "limited",
        "as_of_date": "2021-06-15",
        "narrative_az": "Tədbir qismən icra olunub.",
        "narrative_en": title,
        "evidence-0-evidence_type": "official_website",
        "evidence-0-title": title,
        "evidence-0-evidence_date": "2021-06-01",
        "evidence-0-url": "https://example.gov.az/report",
        "submit_for_review": "Submit for review",
    }
    return data


def test_every_form_posted_by_three_clients_in_turn_is_accepted(served):
    from tests.accounts.conftest import make_user
    from tracker.models import StatusUpdate

    world = build_world(str(served.upload_folder))
    monitors = [world.users["monitor_a"]] + [
        make_user(f"monitor.a{n}@example.org", organisation=world.organisation_a) for n in (2, 3)
    ]
    reviewers = [world.users["reviewer"]] + [
        make_user(f"reviewer{n}@example.org", role="reviewer") for n in (2, 3)
    ]
    db.session.commit()

    # Login: each visitor fetches the form, then all three post in turn.
    clients = [served.client() for _ in monitors]
    tokens = [client.csrf_token("/login") for client in clients]
    for client, token, user in zip(clients, tokens, monitors, strict=True):
        response = client.post(
            "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/monitor/"

    # A status update each, submitted for review.
    form_page = f"/monitor/measures/{world.measure_a.id}/updates/new"
    tokens = [client.csrf_token(form_page) for client in clients]
    for n, (client, token) in enumerate(zip(clients, tokens, strict=True)):
        response = client.post(form_page, data=_update_form(token, f"Report {n}"))
        assert response.status_code == 302, response.text[:500]
    db.session.rollback()
    submitted = db.session.scalars(
        db.select(StatusUpdate)
        .where(StatusUpdate.narrative_en.like("Report %"))
        .order_by(StatusUpdate.id)
    ).all()
    assert [u.review_state for u in submitted] == ["submitted"] * 3

    # Review: three reviewers approve one update each.
    deciders = [served.client() for _ in reviewers]
    for client, user in zip(deciders, reviewers, strict=True):
        client.login(user.email, PASSWORD)
    tokens = [
        client.csrf_token(f"/review/updates/{u.id}")
        for client, u in zip(deciders, submitted, strict=True)
    ]
    for client, token, update in zip(deciders, tokens, submitted, strict=True):
        response = client.post(
            f"/review/updates/{update.id}/approve", data={"csrf_token": token, "comment": ""}
        )
        assert response.status_code == 302, response.text[:500]
    db.session.rollback()
    assert {db.session.get(StatusUpdate, u.id).review_state for u in submitted} == {"approved"}

    # Password reset: three anonymous visitors ask at once, each with its own token.
    visitors = [served.client() for _ in monitors]
    tokens = [visitor.csrf_token("/password/forgot") for visitor in visitors]
    for visitor, token, user in zip(visitors, tokens, monitors, strict=True):
        response = visitor.post("/password/forgot", data={"csrf_token": token, "email": user.email})
        assert response.status_code in (200, 302), response.status_code
    assert "Traceback" not in served.log_text()


def test_the_cli_writes_while_the_server_runs_and_the_next_request_sees_it(served, tmp_path):
    from tests.registry.conftest import xlsx_bytes
    from tests.registry.survey_export import generate

    # A login writes (the attempt, the user's last login): the old leak kept that open.
    admin = served.client()
    admin.login("first-admin@example.org", served.first_admin_password)
    assert admin.get("/admin/users").status_code == 200
    before = served.client().get("/api/v1/registry/stats").json()

    survey = tmp_path / "survey.xlsx"
    survey.write_bytes(xlsx_bytes(generate(5, seed=9, as_xlsx=True).table))
    imported = served.run_cli("import-organisations", str(survey))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    after = served.client().get("/api/v1/registry/stats").json()
    assert after["total"] == before["total"] + 5

    linked = served.run_cli("link-measures", "Milli QHT Forumu", "1.1", "--lead")
    assert linked.returncode == 0, linked.stdout + linked.stderr
    measure_page = served.client().get("/plans/az-nap-2020-2022/measures/1.1?lang=az")
    assert "Milli QHT Forumu" in measure_page.text

    reminders = served.run_cli("send-reminders", "--now", "2022-10-02T09:00")
    assert reminders.returncode == 0, reminders.stdout + reminders.stderr
    for result in (imported, linked, reminders):
        assert "database is locked" not in result.stdout + result.stderr
    assert not served.log_lines_with("database is locked")


def test_no_connection_stays_idle_in_a_transaction(served):
    if not served.application_name:
        pytest.skip("pg_stat_activity is PostgreSQL's")
    admin = served.client()
    admin.login("first-admin@example.org", served.first_admin_password)
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = ["/", "/agencies/", "/registry/", "/api/v1/plans/az-nap-2020-2022"]
        list(pool.map(lambda url: served.client().get(url).status_code, pages * 10))
        list(pool.map(lambda url: admin.get(url).status_code, ["/admin/users", "/account"] * 10))
    time.sleep(2.5)
    engine = create_engine(served.database_url.split("?")[0])
    with engine.connect() as connection:
        idle = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                "AND state LIKE 'idle in transaction%' "
                "AND state_change < now() - interval '2 seconds'"
            ),
            {"name": served.application_name},
        ).scalar()
    engine.dispose()
    assert idle == 0
