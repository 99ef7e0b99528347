"""One edge for text (issue 11, item 1): a NUL or another control character in a path, a
query value, a form field or a JSON string is refused with 400 and a translated message
before any view runs, on SQLite and PostgreSQL alike (PostgreSQL answered 500, SQLite
stored the NUL). Tab, LF and CR pass; a password is never altered, only refused.

Each case is checked in process and on the served app (gunicorn workers, real HTTP)."""

from __future__ import annotations

import io
import sys
import unicodedata

import pytest
from sqlalchemy import func, select

from tests.accounts.conftest import PASSWORD
from tests.accounts.route_world import build_world
from tests.monitoring import conftest as monitoring
from tests.monitoring.conftest import as_user, csrf, update_form
from tracker.extensions import db
from tracker.models import Evidence, LoginAttempt, StatusUpdate
from tracker.web.input_edge import has_control_character

PLAN = "/plans/az-nap-2020-2022"
ADDRESS_REFUSED = "The address contains a control character"
FORM_REFUSED = "The form contains a control character"
#: the addresses of the issue, and a few more of the same kind
BAD_ADDRESSES = (
    f"{PLAN}/measures/1.1%00",
    "/plans/a%00/",
    f"{PLAN}/measures/1.1%1B",
    "/registry/?q=a%00b",
    f"{PLAN}/measures/1.1?lang=en%00",
    "/registry/?q%00=a",
)
#: the monitoring tests' world: the seeded plan, two organisations and their monitors
world = monitoring.world
API_ADDRESSES = ("/api/v1/plans/a%00", "/api/v1/measures?plan=az-nap-2020-2022%00")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def with_english(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "lang=en"


def test_the_edge_refuses_exactly_category_cc_less_tab_lf_and_cr():
    refused = {
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cc"
    } - {"\t", "\n", "\r"}
    assert all(has_control_character(f"a{character}b") for character in refused)
    for allowed in ("tab\there", "line\r\nbreak", "Şəffaflıq — “quoted”", "\u200b\u00ad", ""):
        assert not has_control_character(allowed)


# --- in process ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", BAD_ADDRESSES)
def test_a_control_character_in_the_address_is_a_400_page(client, seeded, path):
    response = client.get(with_english(path))
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert ADDRESS_REFUSED in response.get_data(as_text=True)


@pytest.mark.parametrize("path", API_ADDRESSES)
def test_a_control_character_in_an_api_address_is_a_json_400(client, seeded, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400
    assert ADDRESS_REFUSED in response.json["error"]["message"]


def test_a_nul_in_the_login_email_is_a_400_and_no_attempt_is_written(client, seeded):
    token = csrf(client, "/login?lang=en")
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a\x00b@example.org", "password": "x"}
    )
    assert response.status_code == 400
    assert FORM_REFUSED in response.get_data(as_text=True)
    assert count(LoginAttempt) == 0


def test_a_password_with_a_control_character_is_refused_not_altered(client, world):
    """The password `PASSWORD` + U+0001 is not `PASSWORD`: it must not log in, not even
    after the character is stripped."""
    token = csrf(client, "/login?lang=en")
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": world.monitor_a.email, "password": PASSWORD + "\x01"},
    )
    assert response.status_code == 400 and FORM_REFUSED in response.get_data(as_text=True)
    assert client.get("/monitor/").status_code == 302  # still not logged in


@pytest.mark.parametrize(
    "field", ["narrative_en", "narrative_az", "evidence-0-title", "evidence-0-url"]
)
def test_a_nul_in_an_update_is_a_400_and_nothing_is_written(client, world, field):
    as_user(client, world.monitor_a)
    url = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    data = update_form(csrf_token=csrf(client), **{field: "Qismən\x00 icra"})
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert FORM_REFUSED in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0 and count(Evidence) == 0


def test_tab_and_crlf_from_a_textarea_pass_unchanged(client, world):
    as_user(client, world.monitor_a)
    url = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    narrative = "Birinci sətir\r\n\tİkinci sətir"
    data = update_form(csrf_token=csrf(client), narrative_en=narrative)
    assert client.post(url, data=data, content_type="multipart/form-data").status_code == 302
    assert db.session.scalar(select(StatusUpdate.narrative_en)) == narrative


def test_a_control_character_in_an_upload_name_is_refused(client, world):
    as_user(client, world.monitor_a)
    url = f"/monitor/measures/{world.measure('1.1').id}/updates/new"
    data = update_form(csrf_token=csrf(client))
    data["evidence-1-file"] = (io.BytesIO(b"%PDF-1.4"), "report\x00.pdf")
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and FORM_REFUSED in response.get_data(as_text=True)
    assert count(StatusUpdate) == 0


def test_a_control_character_in_a_json_body_is_refused(client, seeded):
    response = client.post("/api/v1/plans", json={"title": ["ok", {"nested": "a\x00b"}]})
    assert response.status_code == 400
    assert FORM_REFUSED in response.json["error"]["message"]
    response = client.post("/api/v1/plans", json={"key\x1f": "value"})
    assert response.status_code == 400


# --- the served app ------------------------------------------------------------------------


@pytest.mark.served
def test_the_served_app_refuses_control_characters_with_400_everywhere(served):
    visitor = served.client()
    for path in BAD_ADDRESSES:
        response = visitor.get(with_english(path))
        assert response.status_code == 400, path
        assert ADDRESS_REFUSED in response.text, path
    for path in API_ADDRESSES:
        response = visitor.get(path)
        assert response.status_code == 400, path
        assert ADDRESS_REFUSED in response.json()["error"]["message"], path
    visitor.get("/?lang=en")
    response = visitor.post_form(
        "/login", {"email": "a\x00b@example.org", "password": "anything at all"}
    )
    assert response.status_code == 400 and FORM_REFUSED in response.text
    assert count(LoginAttempt) == 0


@pytest.mark.served
def test_the_served_app_refuses_a_nul_in_an_update_and_keeps_tabs_and_crlf(served):
    built = build_world(str(served.upload_folder))
    measure_id = built.measure_a.id
    db.session.commit()
    before = count(StatusUpdate)
    monitor = served.client()
    monitor.login(built.users["monitor_a"].email, PASSWORD)
    page = f"/monitor/measures/{measure_id}/updates/new?lang=en"
    for field in ("narrative_en", "evidence-0-title"):
        response = monitor.post_form(page, update_form(**{field: "Qismən\x00 icra"}))
        assert response.status_code == 400, field
        assert FORM_REFUSED in response.text, field
    db.session.rollback()
    assert count(StatusUpdate) == before
    narrative = "Birinci sətir\r\n\tİkinci sətir"
    response = monitor.post_form(page, update_form(narrative_en=narrative))
    assert response.status_code == 302
    db.session.rollback()
    assert count(StatusUpdate) == before + 1
    newest = db.session.scalar(select(StatusUpdate).order_by(StatusUpdate.id.desc()).limit(1))
    assert newest.narrative_en == narrative
