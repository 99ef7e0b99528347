"""A database that cannot be reached (issue 11, item 2): reads are tried again for a
moment, and what still fails is a 503 with Retry-After and a translated page, or a JSON
error on the API; never a 500. Writes are never run again.

The served tests run on a throwaway PostgreSQL cluster that they start themselves on a
port of their own (tests/reliability/pg_cluster.py); the shared server is never touched."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from flask import request_started

from tests.conftest import make_test_config
from tests.helpers import free_port
from tests.reliability.pg_cluster import ThrowawayCluster, why_no_cluster
from tests.served.server import FIRST_ADMIN_EMAIL, ServedApp
from tracker import create_app
from tracker.web import unavailable

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:{port}/nothing?connect_timeout=2"
READ_PAGES = ("/", "/api/v1/scorecard/az-nap-2020-2022", "/agencies/")


def assert_unavailable(response, *, json: bool = False) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) == unavailable.RETRY_AFTER_SECONDS
    if json:
        error = response.json()["error"]
        assert error["status"] == 503
        assert "The database cannot be reached" in error["message"]


# --- in process: a database on a port where nothing listens --------------------------------


@pytest.fixture
def unreachable_app(tmp_path):
    url = UNREACHABLE.format(port=free_port())
    app = create_app(make_test_config((url, {}), tmp_path, WTF_CSRF_ENABLED=False))
    app.wsgi_app.delays = (0.01, 0.01)
    tries: list[str] = []

    def count(_sender, **_extra):
        from flask import request

        tries.append(request.method)

    request_started.connect(count, app)
    yield app, tries
    request_started.disconnect(count, app)


def test_a_read_is_tried_three_times_then_gets_503_with_retry_after(unreachable_app):
    app, tries = unreachable_app
    response = app.test_client().get("/?lang=en")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    page = response.get_data(as_text=True)
    assert "The database cannot be reached at the moment" in page
    assert "Traceback" not in page
    assert tries == ["GET", "GET", "GET"]


def test_the_api_gets_a_json_503(unreachable_app):
    app, _tries = unreachable_app
    response = app.test_client().get("/api/v1/scorecard/az-nap-2020-2022?lang=en")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert response.json["error"]["status"] == 503
    assert "The database cannot be reached" in response.json["error"]["message"]


def test_a_write_is_never_tried_again(unreachable_app):
    app, tries = unreachable_app
    response = app.test_client().post(
        "/login?lang=en", data={"email": "someone@example.org", "password": "x" * 12}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)
    assert tries == ["POST"]


# --- served: a real restart of PostgreSQL under read load ----------------------------------


@pytest.fixture(scope="module")
def cluster_served(tmp_path_factory, served_smtp):
    problem = why_no_cluster()
    if problem:
        pytest.skip(f"no throwaway PostgreSQL cluster: {problem}")
    cluster = ThrowawayCluster().create()
    served = ServedApp(
        workdir=tmp_path_factory.mktemp("served-pg-restart"),
        database_url=cluster.url,
        smtp_port=served_smtp.port,
        port=free_port(),
        smtp=served_smtp,
    )
    try:
        served.start()
        yield cluster, served
    finally:
        served.stop()
        cluster.destroy()


def read_until(stop: threading.Event, client, answers: list) -> None:
    while not stop.is_set():
        for page in READ_PAGES:
            try:
                response = client.get(page + "?lang=en", timeout=30)
            except requests.RequestException as error:  # a refused connection is a failure too
                answers.append((time.monotonic(), page, repr(error), None))
                continue
            answers.append(
                (time.monotonic(), page, response.status_code, response.headers.get("Retry-After"))
            )


@pytest.mark.served
def test_a_postgresql_restart_under_reads_gives_no_500_and_recovers(cluster_served):
    cluster, served = cluster_served
    admin = served.client()
    admin.login(FIRST_ADMIN_EMAIL, served.first_admin_password)
    readers = [served.client() for _ in range(3)] + [admin]
    answers: list = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=read_until, args=(stop, client, answers)) for client in readers
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    began = time.monotonic()
    cluster.restart()
    restarted = time.monotonic()
    time.sleep(3.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    statuses = [status for _at, _page, status, _retry in answers]
    during = [a for a in answers if began <= a[0] <= restarted + unavailable.RETRY_AFTER_SECONDS]
    print(
        f"restart took {restarted - began:.2f} s; {len(answers)} reads, "
        f"{statuses.count(200)} × 200, {statuses.count(503)} × 503, "
        f"{sum(1 for s in statuses if s not in (200, 503))} other"
    )
    assert during, "no read ran during the restart"
    assert all(status in (200, 503) for status in statuses), sorted(set(map(str, statuses)))
    assert all(retry for _at, _page, status, retry in answers if status == 503)
    # recovered: every read after the restart and the retries settled succeeds
    settled = restarted + sum(unavailable.RETRY_DELAYS) + 0.5
    assert [a for a in answers if a[0] > settled], "no read after the restart"
    assert all(a[2] == 200 for a in answers if a[0] > settled)
    assert admin.get("/admin/").status_code == 200  # the session survived


@pytest.mark.served
def test_a_stopped_database_gives_503_with_retry_after_then_recovers(cluster_served):
    cluster, served = cluster_served
    visitor = served.client()
    assert visitor.get("/?lang=en").status_code == 200
    cluster.stop()
    try:
        page = visitor.get("/?lang=en")
        assert_unavailable(page)
        assert "The database cannot be reached at the moment" in page.text
        assert_unavailable(visitor.get("/api/v1/scorecard/az-nap-2020-2022"), json=True)
        # every page reads the database (the footer names the plan-wide claims): 503 too
        assert_unavailable(visitor.get("/login?lang=en"))
    finally:
        cluster.start()
    assert visitor.get("/?lang=en").status_code == 200
