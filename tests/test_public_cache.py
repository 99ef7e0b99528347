"""The public data's version and the cache of public answers (tracker.data_version,
tracker.web.public_cache), in process, on this run's database: the per-process cache, and
Redis (on 127.0.0.1:6379, or TRACKER_TEST_REDIS_URL) shared by two apps as by two workers.
The served app runs with the Redis cache too (tests/served/test_public_cache_served.py)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pyotp
import pytest
import redis
from sqlalchemy import text

from tests.accounts.conftest import PASSWORD, login_with_form, make_user, post_with_csrf
from tests.accounts.test_two_step import KEY, RECOVERY
from tests.conftest import _empty_all_tables, make_test_config
from tests.factories import make_organisation
from tests.helpers import QueryCounter, RequestIsolatingClient, login
from tracker import clock, create_app, data_version
from tracker.extensions import db
from tracker.models import LoginAttempt, Organisation
from tracker.web.public_cache import PUBLIC_ENDPOINTS

REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PLAN = "az-nap-2020-2022"
PAGES = ["/", f"/plans/{PLAN}/", "/registry/", f"/api/v1/plans/{PLAN}", "/registry/stats"]


def _version() -> int:
    db.session.rollback()
    return data_version.current(db.session).number


@pytest.fixture
def cached_app(_schema, database_url, tmp_path):
    """An app with the per-process cache on."""
    app = create_app(make_test_config(database_url, tmp_path, PUBLIC_CACHE_TYPE="SimpleCache"))
    app.test_client_class = RequestIsolatingClient
    yield app
    _leave_no_rows(app)


def _leave_no_rows(app) -> None:
    with app.app_context():
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


def _queries(client, url: str, **kwargs):
    """The answer, and the SQL statements it took (SQLite's BEGIN not counted)."""
    with QueryCounter() as counter:
        response = client.get(url, **kwargs)
    return response, len([s for s in counter.statements if s.split()[0].upper() != "BEGIN"])


# --- the data version ------------------------------------------------------------------


def test_every_write_to_public_data_moves_the_version_on_and_nothing_else_does(app, seeded):
    start = _version()
    organisation = make_organisation("Açıq Cəmiyyət")
    db.session.commit()
    assert _version() == start + 1
    # a bulk statement through the session, and hand-written SQL
    db.session.execute(
        db.update(Organisation).where(Organisation.id == organisation.id).values(name_en="Open")
    )
    db.session.commit()
    assert _version() == start + 2
    db.session.execute(text("UPDATE organisation SET name_en = 'Open Society'"))
    db.session.commit()
    assert _version() == start + 3
    # a write that is rolled back, a private table, and a read change nothing
    make_organisation("Geri alınan")
    db.session.rollback()
    db.session.add(LoginAttempt(email="x@example.org", ip="127.0.0.1"))
    db.session.commit()
    db.session.execute(db.select(Organisation)).all()
    db.session.commit()
    assert _version() == start + 3


#: what public pages, feeds, reports and the API read; every other table must be listed in
#: data_version.PRIVATE_TABLES. A new table fails the test below until it is put in one.
PUBLIC_TABLES = {
    "action_plan",
    "agency",
    "agency_alias",
    "coalition_membership",
    "evidence",
    "government_claim",
    "measure",
    "measure_agency",
    "milestone",
    "monitoring_link",
    "organisation",
    "organisation_choice",
    "organisation_membership",
    "report_snapshot",
    "review_decision",
    "section",
    "status_update",
    "stored_file",
}


def test_every_table_is_known_as_public_or_private():
    # a private table left out would move the public version, and its validators would
    # tell anyone when, say, someone logged in with a recovery code
    tables = set(db.metadata.tables)
    assert tables - data_version.PRIVATE_TABLES == PUBLIC_TABLES


def test_two_step_verification_does_not_move_the_public_version(app, client, seeded):
    user = make_user("reviewer@example.org", role="reviewer")
    db.session.commit()
    start = _version()
    login_with_form(client, user.email)
    post_with_csrf(client, "/account/two-step", "/account/two-step/setup")
    secret = KEY.search(client.get("/account/two-step").get_data(as_text=True)).group(1)
    code = pyotp.TOTP(secret.replace(" ", "")).now()
    turned_on = post_with_csrf(
        client, "/account/two-step", "/account/two-step/on", {"code": code, "password": PASSWORD}
    )
    [recovery_code, *_rest] = RECOVERY.findall(turned_on.get_data(as_text=True))
    other = app.test_client()
    login_with_form(other, user.email)
    assert (
        post_with_csrf(other, "/login/code", "/login/code", {"code": recovery_code}).status_code
        == 302
    )
    assert _version() == start


def test_a_cli_command_moves_the_version_on(app, seeded, runner):
    make_organisation("Milli QHT Forumu")
    db.session.commit()
    start = _version()
    result = runner.invoke(args=["link-measures", "Milli QHT Forumu", "1.1", "--lead"])
    assert result.exit_code == 0, result.output
    assert _version() > start


def test_cached_endpoints_exist():
    from flask import Flask

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_CACHE_TYPE": "NullCache"})
    assert isinstance(app, Flask)
    assert set(app.view_functions) >= PUBLIC_ENDPOINTS


# --- ETag, Last-Modified and 304 ---------------------------------------------------------


def test_public_answers_carry_validators_and_answer_304_until_the_data_changes(client, seeded):
    first = client.get("/")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "no-cache"
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/", headers={"If-Modified-Since": modified}).status_code == 304
    api = client.get(f"/api/v1/plans/{PLAN}")
    assert api.headers["ETag"] != etag
    url = f"/api/v1/plans/{PLAN}"
    revalidated = client.get(url, headers={"If-None-Match": api.headers["ETag"]})
    assert revalidated.status_code == 304

    make_organisation("Yeni Təşkilat")
    db.session.commit()
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    # another language is another answer
    assert client.get("/?lang=az").headers["ETag"] != client.get("/?lang=en").headers["ETag"]


def test_the_feeds_and_what_changed_revalidate_like_the_pages(client, seeded):
    """A feed reader polls: the measure and organisation feeds and the changes page sent no
    validator, so every poll downloaded the whole feed again."""
    organisation = make_organisation("Yeni Təşkilat")
    db.session.commit()
    for url in (
        f"/plans/{PLAN}/measures/1.1/feed.atom",
        f"/registry/{organisation.id}/feed.atom",
        f"/plans/{PLAN}/changes?since=2021-01-01",
    ):
        first = client.get(url)
        assert first.status_code == 200 and "ETag" in first.headers, url
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url


def test_on_a_day_without_writes_last_modified_is_the_start_of_the_day_in_baku(app, client, seeded):
    """Pages count overdue days, so a page changes at midnight in Baku even when the data
    does not: the first visit of a quiet day used to fail (a Baku time in a GMT header)."""
    later = (clock.today() + timedelta(days=3)).isoformat()
    app.config["TRACKER_TODAY"] = later
    for url in ("/", f"/api/v1/plans/{PLAN}"):
        response = client.get(url)
        assert response.status_code == 200
        midnight = datetime.fromisoformat(later).replace(tzinfo=clock.BAKU)
        assert response.headers["Last-Modified"] == format_datetime(
            midnight.astimezone(UTC), usegmt=True
        )
        since = response.headers["Last-Modified"]
        assert client.get(url, headers={"If-Modified-Since": since}).status_code == 304


def test_signed_in_pages_have_no_validators_and_are_never_304(client, seeded):
    from tests.accounts.conftest import make_user

    reviewer = make_user("reviewer@example.org", role="reviewer")
    anonymous = client.get("/")
    login(client, reviewer)
    signed_in = client.get("/", headers={"If-None-Match": anonymous.headers["ETag"]})
    assert signed_in.status_code == 200
    assert "ETag" not in signed_in.headers
    assert signed_in.headers["Cache-Control"] == "no-store"


# --- the per-process cache ----------------------------------------------------------------


def test_a_second_visit_is_served_from_the_cache_and_a_write_is_seen_at_once(cached_app):
    with cached_app.app_context():
        from tracker.services.plans.seeding import seed_plan_file

        seed_plan_file(db.session)
        client = cached_app.test_client()
        for url in PAGES:
            rendered, rendering = _queries(client, url)
            cached, served = _queries(client, url)
            assert rendered.status_code == cached.status_code == 200, url
            assert cached.get_data() == rendered.get_data(), url
            assert served == 1 < rendering, (url, served, rendering)  # the version alone

        before = client.get("/registry/").get_data(as_text=True)
        make_organisation("Tamamilə Yeni Birlik")
        db.session.commit()
        after = client.get("/registry/").get_data(as_text=True)
        assert "Tamamilə Yeni Birlik" not in before
        assert "Tamamilə Yeni Birlik" in after
        db.session.remove()


def test_what_is_cached_carries_no_cookie_no_token_and_no_one_elses_page(cached_app):
    from tests.accounts.conftest import make_user
    from tracker.web.public_cache import cache

    with cached_app.app_context():
        from tracker.services.plans.seeding import seed_plan_file

        seed_plan_file(db.session)
        reviewer = make_user("reviewer@example.org", role="reviewer")
        db.session.commit()
        # A language chosen by ?lang= sets the session cookie on the answer, not in the cache.
        visitor = cached_app.test_client()
        chose = visitor.get("/?lang=en")
        assert "session=" in chose.headers.get("Set-Cookie", "")
        again, count = _queries(cached_app.test_client(), "/?lang=en")
        assert count == 1 and "Set-Cookie" in again.headers  # this visitor's own cookie
        stored = [cache.cache.get(key) for key in list(cache.cache._cache)]
        assert stored
        for status, body, headers in stored:
            assert status == 200 and b"csrf_token" not in body
            assert [name for name, _value in headers] == ["Content-Type"]
        # A signed-in visitor's page is neither stored nor taken from the cache.
        member = cached_app.test_client()
        login(member, reviewer)
        with member.session_transaction() as session:
            session["lang"] = "en"
        page, count = _queries(member, "/?lang=en")
        assert count > 1 and "ETag" not in page.headers
        assert b"Log out" in page.get_data()
        assert b"Log out" not in again.get_data()
        assert b"csrf_token" not in again.get_data()
        db.session.remove()


# --- Redis, shared by two apps as by two workers -------------------------------------------


@pytest.fixture
def redis_prefix():
    prefix = f"tracker-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def test_two_workers_share_the_redis_cache_and_each_sees_the_others_write(
    _schema, database_url, tmp_path, redis_prefix
):
    def worker(name: str):
        app = create_app(
            make_test_config(
                database_url,
                tmp_path / name,
                PUBLIC_CACHE_TYPE=None,
                REDIS_URL=REDIS_URL,
                PUBLIC_CACHE_PREFIX=redis_prefix,
            )
        )
        app.test_client_class = RequestIsolatingClient
        return app

    one, two = worker("one"), worker("two")
    with one.app_context():
        from tracker.services.plans.seeding import seed_plan_file

        seed_plan_file(db.session)
        rendered, rendering = _queries(one.test_client(), "/registry/stats")
    with two.app_context():
        shared, served = _queries(two.test_client(), "/registry/stats")
        assert served == 1 < rendering
        assert shared.get_data() == rendered.get_data()
        keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
        assert keys and all(key.startswith(redis_prefix.encode()) for key in keys)
        # worker two writes; worker one answers with the change at once
        make_organisation("İkinci İşçinin Təşkilatı")
        db.session.commit()
    with one.app_context():
        fresh = one.test_client().get("/registry/")
        assert "İkinci İşçinin Təşkilatı" in fresh.get_data(as_text=True)
        db.session.remove()
    with two.app_context():
        db.session.remove()
        db.engine.dispose()
    _leave_no_rows(one)
