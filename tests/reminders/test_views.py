"""The notification list, the unsubscribe links, the admin page and the calendar feeds."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from tests.helpers import QueryCounter, csrf_token_from, login
from tests.reminders.conftest import (
    BAD_LINK_WORDS,
    UNSUBSCRIBE_LINK,
    baku,
    heading,
    link,
    make_organisation,
    text_of,
)
from tracker.extensions import db
from tracker.models import Measure, Milestone, ReminderItem, ReminderOptOut, ReminderSetting
from tracker.services import reminders
from tracker.services.plans.status import measure_states
from tracker.services.reminders import run_reminders
from tracker.services.reminders.subscriptions import LIST_UNSUBSCRIBE_SALT, UNSUBSCRIBE_SALT
from tracker.vocabulary import ReminderKind


def run(when: str):
    return run_reminders(db.session, baku(when))


# --- notifications -------------------------------------------------------------------------


def test_the_in_app_list_shows_the_same_items_as_the_email(world, smtp, client):
    run("2022-10-02T09:00")
    email = text_of(smtp.to("adam@example.org")[0])
    login(client, world.a_en)
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    items = db.session.scalars(
        select(ReminderItem).where(ReminderItem.recipient_id == world.a_en.id)
    ).all()
    assert len(items) == 4
    for item in items:
        assert f'id="item-{item.id}"' in page
    sentences = [line for line in email.splitlines() if line.startswith("  - ")]
    assert len(sentences) == len(items)
    for line in sentences:
        assert line.split(": ", 1)[1] in page  # each item's sentence
    assert "4 unread of 4 reminders." in page
    assert page.count("Deadline approaching") >= 2


def test_the_count_agrees_with_the_total_and_is_left_out_with_none(world, client):
    login(client, world.a_en)
    empty = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "No notifications yet." in empty and "unread of" not in empty
    run("2022-10-02T09:00")
    items = db.session.scalars(
        select(ReminderItem).where(ReminderItem.recipient_id == world.a_en.id)
    ).all()
    token = csrf_token_from(client, "/account")  # the list would mark every item seen
    for item in items[1:]:
        client.post(f"/notifications/{item.id}/read", data={"csrf_token": token})
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "1 unread of 4 reminders." in page
    # seen is read: that visit marked the last one
    page = client.get("/notifications?lang=az").get_data(as_text=True)
    assert "4 xatırlatmadan 0 oxunmayıb." in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_marking_read_needs_a_post_with_csrf_and_only_ones_own_items(world, client):
    run("2022-10-02T09:00")
    mine = db.session.scalar(
        select(ReminderItem).where(ReminderItem.recipient_id == world.a_az.id).limit(1)
    )
    theirs = db.session.scalar(
        select(ReminderItem).where(ReminderItem.recipient_id == world.b_az.id).limit(1)
    )
    login(client, world.a_az)
    token = csrf_token_from(client, "/notifications")
    assert client.get(f"/notifications/{mine.id}/read").status_code == 405
    assert client.post(f"/notifications/{mine.id}/read").status_code == 400
    assert (
        client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code
        == 404
    )
    response = client.post(f"/notifications/{mine.id}/read", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReminderItem, mine.id).read_dt is not None
    assert db.session.get(ReminderItem, theirs.id).read_dt is None

    client.post("/notifications/read-all", data={"csrf_token": token})
    unread = db.session.scalar(
        select(func.count())
        .select_from(ReminderItem)
        .where(ReminderItem.recipient_id == world.a_az.id, ReminderItem.read_dt.is_(None))
    )
    assert unread == 0


def test_a_bad_page_number_is_a_400(world, client):
    login(client, world.a_az)
    assert client.get("/notifications?page=abc").status_code == 400
    assert client.get("/notifications?page=0").status_code == 400
    # past the end: a 404 that says how many pages there are, as on every other list
    assert client.get("/notifications?page=1").status_code == 200
    past = client.get("/notifications?page=99&lang=en")
    assert past.status_code == 404
    assert "This list has 1 page; there is no page 99." in past.get_data(as_text=True)


def test_the_list_takes_the_same_number_of_queries_however_many_items(world, client):
    login(client, world.a_az)
    run("2022-10-02T09:00")

    def queries():
        with QueryCounter() as counter:
            assert client.get("/notifications").status_code == 200
        return counter.count

    few = queries()
    for measure in db.session.scalars(select(Measure).where(Measure.end_year == 2022)):
        link(world.org_a, measure)
    db.session.commit()
    run("2022-12-01T09:00")
    assert queries() == few


def test_the_preferences_form_stops_and_restarts_a_kind(world, client):
    login(client, world.a_az)
    token = csrf_token_from(client, "/notifications")
    data = {
        "csrf_token": token,
        "deadline_approaching": "y",
        "update_stale": "y",
        "update_approved": "y",
        "claim_returned": "y",
        "claim_approved": "y",
    }
    client.post("/notifications/preferences", data=data)
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == {
        ReminderKind.OVERDUE,
        ReminderKind.UPDATE_RETURNED,
    }
    data.update(overdue="y", update_returned="y")
    client.post("/notifications/preferences", data=data)
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == set()
    # history is kept: the row stays, inactive
    assert db.session.scalar(select(func.count()).select_from(ReminderOptOut)) == 2


# --- unsubscribe links ---------------------------------------------------------------------


def _unsubscribe_path(smtp, address: str, kind: ReminderKind, locale: str) -> str:
    body = text_of(smtp.to(address)[0])
    line = body.split(f"\n- {heading(kind, locale)}: ")[1].split("\n")[0]
    return UNSUBSCRIBE_LINK.search(line).group(1)


def test_the_unsubscribe_link_stops_that_kind_for_that_person(world, smtp, client):
    run("2022-10-02T09:00")
    path = _unsubscribe_path(smtp, "aysel@example.org", ReminderKind.DEADLINE_APPROACHING, "az")

    page = client.get(path)
    assert page.status_code == 200
    assert "a…@example.org" in page.get_data(as_text=True)
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == set()  # GET changes nothing

    token = csrf_token_from(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == {
        ReminderKind.DEADLINE_APPROACHING
    }

    run("2022-12-01T09:00")  # the 30-day reminders
    assert "30 days left" in text_of(smtp.to("adam@example.org")[-1])
    assert len(smtp.to("aysel@example.org")) == 1  # nothing new for her
    thirty_day = db.session.scalars(
        select(ReminderItem.recipient_id).where(ReminderItem.occurrence == "2022-12-31/30")
    ).all()
    assert world.a_en.id in thirty_day and world.a_az.id not in thirty_day


def test_an_unsubscribe_link_speaks_its_readers_language_unless_the_visitor_chose(
    world, app, client
):
    """Someone who follows the link from an email has often never chosen a language on
    the site: the page speaks the email's (the account's), not the site's default."""
    links = {
        "az": [
            f"/unsubscribe/{reminders.make_unsubscribe_token(world.a_az.id, ReminderKind.OVERDUE)}",
            f"/unsubscribe-all/{reminders.make_list_unsubscribe_token(world.a_az.id)}",
        ],
        "en": [
            f"/unsubscribe/{reminders.make_unsubscribe_token(world.a_en.id, ReminderKind.OVERDUE)}",
            f"/unsubscribe-all/{reminders.make_list_unsubscribe_token(world.a_en.id)}",
        ],
    }
    for default in ("az", "en"):
        app.config["BABEL_DEFAULT_LOCALE"] = default
        for locale, paths in links.items():
            for path in paths:
                page = app.test_client().get(path).get_data(as_text=True)
                assert f'<html lang="{locale}"' in page, (default, path)
    # a visitor's own choice, or ?lang=, still wins
    chooser = app.test_client()
    chooser.get("/?lang=en")
    assert '<html lang="en"' in chooser.get(links["az"][0]).get_data(as_text=True)
    asked = app.test_client().get(links["en"][1] + "?lang=az").get_data(as_text=True)
    assert '<html lang="az"' in asked


def test_a_tampered_unsubscribe_link_gets_400(world, smtp, client):
    run("2022-10-02T09:00")
    path = _unsubscribe_path(smtp, "aysel@example.org", ReminderKind.DEADLINE_APPROACHING, "az")
    payload, signature = path.rsplit(".", 1)
    # change the first character: the last one's low bits are base64 padding, so "B" for
    # "A" there can decode to the same signature (a test that failed about one run in 20)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_user = reminders.make_unsubscribe_token(world.a_en.id, ReminderKind.OVERDUE)
    forged_payload = other_user.split(".")[0]
    for bad in (
        f"{payload}.{flipped}",
        f"/unsubscribe/{forged_payload}.{signature}",
        "/unsubscribe/not-a-token",
    ):
        assert client.get(bad).status_code == 400
        assert client.post(bad, data={}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ReminderOptOut)) == 0


@pytest.mark.parametrize(
    ("lang", "said", "login_label"),
    BAD_LINK_WORDS,
)
def test_a_bad_unsubscribe_link_says_so_and_where_reminders_are_managed(
    world, app, client, lang, said, login_label
):
    """It said "Check the form and try again" (there is no form); a bad password link
    names the link and the way on, and so does this page now, with the same 400."""
    gone = reminders.make_unsubscribe_token(987654, ReminderKind.OVERDUE)  # nobody's
    for path in ("/unsubscribe/garbage", f"/unsubscribe/{gone}", "/unsubscribe-all/garbage"):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 400, path
        html = response.get_data(as_text=True)
        assert said in html and login_label in html, path
        assert 'href="/login?next=/notifications"' in html, path
        assert "Check the form" not in html and "Formanı yoxlayın" not in html, path
    # the one-click POST of a mail client gets the same answer
    assert said in client.post(f"/unsubscribe-all/garbage?lang={lang}").get_data(as_text=True)
    # someone signed in is sent to the settings themselves
    login(client, world.a_az)
    html = client.get(f"/unsubscribe/garbage?lang={lang}").get_data(as_text=True)
    assert 'href="/notifications#reminder-emails"' in html
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="reminder-emails"' in page


def test_unsubscribe_tokens_are_the_ones_the_library_makes_and_old_links_still_work(
    world, app, client
):
    """The tokens skip URLSafeSerializer's attempt to compress, which never shrinks a
    payload this small: they are the same, so links in emails already sent still work."""
    secret = app.config["SECRET_KEY"]
    one_kind = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)
    every_kind = URLSafeSerializer(secret, salt=LIST_UNSUBSCRIBE_SALT)
    for user in (world.a_az, world.a_en, world.reviewer):
        for kind in ReminderKind:
            token = reminders.make_unsubscribe_token(user.id, kind)
            assert token == one_kind.dumps({"u": user.id, "k": str(kind)})
            assert reminders.read_unsubscribe_token(token) == (user.id, kind)
        assert reminders.make_list_unsubscribe_token(user.id) == every_kind.dumps({"u": user.id})
    # a compressed payload (which the library makes for long ones) is read as well
    padded = one_kind.dumps({"u": world.a_az.id, "k": "overdue", "pad": "x" * 200})
    assert padded.startswith(".")
    assert reminders.read_unsubscribe_token(padded) == (world.a_az.id, ReminderKind.OVERDUE)
    path = "/unsubscribe-all/" + every_kind.dumps({"u": world.a_az.id})
    assert client.get(path).status_code == 200


def test_an_unsubscribe_post_without_csrf_is_refused(world, client):
    path = "/unsubscribe/" + reminders.make_unsubscribe_token(world.a_az.id, ReminderKind.OVERDUE)
    assert client.post(path, data={}).status_code == 400
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == set()


# --- admin ---------------------------------------------------------------------------------


def test_only_admins_see_the_reminder_settings(world, client):
    login(client, world.a_az)
    assert client.get("/admin/reminders/").status_code == 403
    login(client, world.reviewer)
    assert client.get("/admin/reminders/").status_code == 403
    login(client, world.admin)
    page = client.get("/admin/reminders/?lang=en")
    assert page.status_code == 200
    assert 'value="90, 30, 7"' in page.get_data(as_text=True)


def _settings_form(client, **changes) -> dict:
    """The settings form as the page gives it: every kind switched on, the usual days."""
    data = {
        "csrf_token": csrf_token_from(client, "/admin/reminders/"),
        **{f"{kind}_enabled": "y" for kind in ReminderKind},
        "deadline_approaching_offsets": "90, 30, 7",
        "overdue_interval": "30",
        "update_stale_interval": "90",
        "review_waiting_interval": "7",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_admin_changes_the_defaults(world, client):
    login(client, world.admin)
    response = client.post(
        "/admin/reminders/",
        data=_settings_form(
            client,
            deadline_approaching_offsets="14; 60",
            update_stale_interval="45",
            review_waiting_enabled=None,
        ),
    )
    assert response.status_code == 302
    settings = reminders.load_settings(db.session)
    assert settings[ReminderKind.DEADLINE_APPROACHING].offsets_days == (60, 14)
    assert settings[ReminderKind.UPDATE_STALE].interval_days == 45
    assert settings[ReminderKind.REVIEW_WAITING].is_enabled is False
    assert settings[ReminderKind.OVERDUE].interval_days == 30
    # the instant notices' switches, sent on, stay on
    switched_on = {kind for kind in ReminderKind if settings[kind].is_enabled}
    assert switched_on == set(ReminderKind) - {ReminderKind.REVIEW_WAITING}


@pytest.mark.parametrize(
    "changes",
    [
        {"deadline_approaching_offsets": "90, soon"},
        {"deadline_approaching_offsets": ""},
        {"deadline_approaching_offsets": "0"},
        {"overdue_interval": "-3"},
        {"update_stale_interval": "99999"},
        {"review_waiting_interval": ""},
    ],
)
def test_bad_settings_get_a_clear_message_and_change_nothing(world, client, changes):
    login(client, world.admin)
    response = client.post("/admin/reminders/?lang=en", data=_settings_form(client, **changes))
    assert response.status_code == 400
    assert "field-error" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReminderSetting)) == 0


# --- calendar feeds ------------------------------------------------------------------------


def _feed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return response.get_data(), Calendar.from_ical(response.get_data())


def test_the_plan_feed_has_each_measures_due_date(world, client):
    raw, calendar = _feed(client, f"/calendar/plan/{world.plan.key}.ics?lang=en")
    events = calendar.walk("VEVENT")
    measures = list(db.session.scalars(select(Measure)))
    states = measure_states(db.session, measures)
    assert len(events) == len(measures) == 64
    by_uid = {str(e["UID"]): e for e in events}
    for measure in measures:
        event = by_uid[f"measure-{measure.id}-due@tracker.example.org"]
        assert event.decoded("DTSTART") == states[measure.id].due_date
        assert str(event["SUMMARY"]).startswith(f"Due: {measure.code} ")
        assert str(event["URL"]) == (
            f"https://tracker.example.org/plans/{world.plan.key}/measures/{measure.code}"
        )
    # RFC 5545: CRLF line ends, lines folded at 75 octets
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    # stable UIDs: a second fetch describes the same events
    _raw, again = _feed(client, f"/calendar/plan/{world.plan.key}.ics?lang=en")
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(by_uid)


def test_a_final_milestone_moves_the_event_and_other_milestones_are_added(world, client):
    m1 = world.m_2022[0]
    db.session.add_all(
        [
            Milestone(measure_id=m1.id, title_az="Son", due_date=date(2023, 3, 31), is_final=True),
            Milestone(measure_id=m1.id, title_az="Aralıq, hesabat; 1", due_date=date(2021, 6, 1)),
        ]
    )
    db.session.commit()
    _raw, calendar = _feed(client, f"/calendar/organisation/{world.org_a.id}.ics")
    events = {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
    assert events[f"measure-{m1.id}-due"].decoded("DTSTART") == date(2023, 3, 31)
    milestone = [e for uid, e in events.items() if uid.startswith("milestone-")]
    assert len(milestone) == 1
    assert "Aralıq, hesabat; 1" in str(milestone[0]["SUMMARY"])


def test_the_organisation_feed_has_only_its_monitored_measures(world, client):
    _raw, calendar = _feed(client, f"/calendar/organisation/{world.org_b.id}.ics")
    uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
    assert uids == {
        f"measure-{world.m_2022[0].id}-due@tracker.example.org",
        f"measure-{world.m_2021.id}-due@tracker.example.org",
    }


def test_a_feeds_links_and_dates_are_in_its_language(world, app, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    app.config["TRACKER_TODAY"] = "2021-06-30"
    site = "https://tracker.example.org"
    page = f"{site}/plans/{world.plan.key}/measures/{world.m_2021.code}"
    due = f"measure-{world.m_2021.id}-due@tracker.example.org"
    for lang, url, status in (
        ("en", f"{page}?lang=en", "Status on June 30, 2021: "),
        ("az", page, "30 iyun 2021 tarixinə status: "),
    ):
        _raw, calendar = _feed(client, f"/calendar/organisation/{world.org_b.id}.ics?lang={lang}")
        event = next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == due)
        assert str(event["URL"]) == url
        assert str(event["DESCRIPTION"]).splitlines()[-2].startswith(status)
    # the feeds' own addresses: the default language needs no ?lang=, as the Atom feeds'
    az_page = client.get("/calendar/?lang=az").get_data(as_text=True)
    assert f"{site}/calendar/plan/{world.plan.key}.ics<" in az_page.replace('"', "<")
    en_page = client.get("/calendar/?lang=en").get_data(as_text=True)
    assert f"{site}/calendar/plan/{world.plan.key}.ics?lang=en" in en_page


def test_unknown_and_archived_feeds_are_404(world, client):
    archived = make_organisation("Arxiv Birliyi")
    archived.is_archived = True
    db.session.commit()
    assert client.get("/calendar/plan/no-such-plan.ics").status_code == 404
    assert client.get("/calendar/organisation/999999.ics").status_code == 404
    assert client.get(f"/calendar/organisation/{archived.id}.ics").status_code == 404


def test_the_calendar_page_lists_the_feeds(world, client):
    page = client.get("/calendar/?lang=en").get_data(as_text=True)
    assert f"/calendar/plan/{world.plan.key}.ics" in page
    login(client, world.a_az)
    page = client.get("/calendar/?lang=en").get_data(as_text=True)
    assert f"/calendar/organisation/{world.org_a.id}.ics" in page


@pytest.fixture(autouse=True)
def _public_base_url(app):
    app.config["PUBLIC_BASE_URL"] = "https://tracker.example.org"


def test_the_one_click_unsubscribe_works_without_csrf_and_stops_every_kind(world, client, app):
    assert app.config.get("WTF_CSRF_ENABLED", True)
    path = "/unsubscribe-all/" + reminders.make_list_unsubscribe_token(world.a_az.id)
    assert client.get(path).status_code == 200
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == set()  # GET changes nothing
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert reminders.opted_out_kinds(db.session, world.a_az.id) == set(ReminderKind)
    assert reminders.opted_out_kinds(db.session, world.a_en.id) == set()
    # a one-kind token is no one-click token
    one_kind = reminders.make_unsubscribe_token(world.a_en.id, ReminderKind.OVERDUE)
    assert client.post(f"/unsubscribe-all/{one_kind}").status_code == 400
    assert reminders.opted_out_kinds(db.session, world.a_en.id) == set()
