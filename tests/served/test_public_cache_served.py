"""The cache of public pages in the served app: two gunicorn workers share it in Redis
(under the served app's own key prefix), a write in one worker is seen by the next
request in either, answers carry ETag and Last-Modified and revalidate to 304, and a
signed-in page is never stored nor shared."""

from __future__ import annotations

import pytest

from tests.registry.test_admin import form_data

pytestmark = pytest.mark.served
#: enough fresh connections that both workers answer
ROUNDS = 16
PAGES = ["/", "/registry/", "/registry/stats", "/api/v1/plans/az-nap-2020-2022", "/plans/"]


def _new_organisation(served) -> str:
    admin = served.client()
    admin.login("first-admin@example.org", served.first_admin_password)
    name = "Keşdə Olmayan Birlik"
    page = "/admin/organisations/new"
    data = form_data("", name_az=name, name_en="Never Cached Union")
    del data["csrf_token"]
    response = admin.post_form(page, data)
    assert response.status_code == 302, response.text[:500]
    return name


def test_both_workers_share_the_cache_and_the_next_request_sees_a_write(served):
    for url in PAGES:
        answers = [served.client().get(url) for _ in range(ROUNDS)]
        assert {a.status_code for a in answers} == {200}, url
        assert len({a.content for a in answers}) == 1, url
        assert len({a.headers["ETag"] for a in answers}) == 1, url
        assert all("Set-Cookie" not in a.headers for a in answers), url
    keys = served.cached_page_keys()
    assert len(keys) >= len(PAGES)
    before = served.client().get("/registry/").text

    name = _new_organisation(served)  # written by one worker
    assert name not in before
    for _ in range(ROUNDS):  # every next request, in either worker, sees it
        assert name in served.client().get("/registry/").text
        assert "Never Cached Union" in served.client().get("/registry/?lang=en").text
    assert "Traceback" not in served.log_text()


def test_answers_revalidate_to_304_until_the_data_changes(served):
    first = served.client().get("/registry/stats")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for _ in range(4):
        same = served.client().get("/registry/stats", headers={"If-None-Match": etag})
        assert same.status_code == 304
        again = served.client().get("/registry/stats", headers={"If-Modified-Since": modified})
        assert again.status_code == 304
    _new_organisation(served)
    changed = served.client().get("/registry/stats", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_signed_in_page_is_never_cached_nor_served_to_others(served):
    admin = served.client()
    admin.login("first-admin@example.org", served.first_admin_password)
    for _ in range(4):
        signed_in = admin.get("/?lang=en")
        assert "ETag" not in signed_in.headers
        assert signed_in.headers["Cache-Control"] == "no-store"
        assert "Log out" in signed_in.text
    anonymous = [served.client().get("/?lang=en") for _ in range(ROUNDS)]
    assert all("Log out" not in a.text and "csrf_token" not in a.text for a in anonymous)
    assert all("ETag" in a.headers for a in anonymous)
