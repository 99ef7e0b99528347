"""A forged Host header never reaches an absolute link: not in the Atom feed, the JSON API,
the iCalendar feeds, a PDF report or an email (reset, invitation, reminder digest). Every
absolute link is built on PUBLIC_BASE_URL (tracker.web.links.public_url)."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, date, datetime

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import make_claim, make_organisation, make_update
from tests.helpers import CSRF_INPUT, RecordingHandler, SMTPServer, free_port
from tracker.extensions import db
from tracker.models import Evidence, Measure, MonitoringLink, StoredFile, User
from tracker.services.accounts import emails
from tracker.services.reminders import run_reminders
from tracker.services.reports import build_requested
from tracker.vocabulary import Completion

PUBLIC = "https://tracker.example.org"
FORGED = "evil.example"
#: what a forging client sends: its own Host, and the headers some proxies trust
FORGED_HEADERS = {
    "X-Forwarded-Host": FORGED,
    "X-Forwarded-Server": FORGED,
    "Forwarded": f"host={FORGED};proto=https",
}
PLAN = "az-nap-2020-2022"


@pytest.fixture
def smtp(app):
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
    try:
        yield SMTPServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture
def world(app, seeded, smtp):
    app.config.update(PUBLIC_BASE_URL=PUBLIC, TRACKER_TODAY="2022-10-02")
    measure = db.session.scalar(
        select(Measure).where(Measure.end_year == 2022).order_by(Measure.position)
    )
    organisation = make_organisation("Şəffaflıq Assosiasiyası", name_en="Transparency")
    db.session.add(
        MonitoringLink(
            organisation_id=organisation.id, measure_id=measure.id, start_date=date(2020, 1, 1)
        )
    )
    monitor = User(
        email="monitor@example.org", role="monitor", organisation_id=organisation.id, locale="en"
    )
    admin = User(email="admin@example.org", role="admin", locale="en")
    db.session.add_all([monitor, admin])
    stored = StoredFile(
        stored_name="forged-host-test.pdf",
        original_filename="report.pdf",
        content_type="application/pdf",
        size_bytes=10,
        sha256="0" * 64,
    )
    db.session.add(stored)
    db.session.flush()
    update = make_update(
        measure,
        organisation,
        Completion.LIMITED,
        date(2021, 6, 1),
        narrative_en="Approved and public.",
        narrative_az="Təsdiqlənib.",
        decided_dt=datetime(2021, 6, 5, tzinfo=UTC),
    )
    update.evidence.append(
        Evidence(evidence_type="official_document", title="The report", file_id=stored.id)
    )
    update.evidence.append(
        Evidence(evidence_type="official_website", title="News", url="https://example.gov.az/n")
    )
    make_claim(measure, Completion.COMPLETE, date(2021, 2, 1))
    db.session.commit()
    return measure, organisation, monitor, admin


def forged_get(client, url: str, status: int = 200):
    response = client.get(url, base_url=f"http://{FORGED}", headers=FORGED_HEADERS)
    assert response.status_code == status, (url, response.status_code)
    return response


def test_the_feeds_and_the_api_never_show_a_forged_host(app, world):
    measure, organisation, _monitor, _admin = world
    client = app.test_client()
    answers = {
        url: forged_get(client, url).get_data(as_text=True)
        for url in (
            "/feeds/updates.atom",
            f"/feeds/updates.atom?plan={PLAN}&lang=en",
            f"/plans/{PLAN}/measures/{measure.code}/feed.atom",
            f"/registry/{organisation.id}/feed.atom?lang=en",
            "/api/v1/plans",
            f"/api/v1/plans/{PLAN}",
            "/api/v1/measures",
            f"/api/v1/measures/{PLAN}/{measure.code}",
            f"/api/v1/measures/{measure.id}/updates",
            "/api/v1/updates",
            f"/api/v1/scorecard/{PLAN}",
            "/api/v1/organisations",
            f"/api/v1/organisations/{organisation.id}",
            "/api/v1/openapi.json",
            "/calendar/",
            f"/calendar/plan/{PLAN}.ics",
            f"/calendar/organisation/{organisation.id}.ics",
        )
    }
    leaks = [url for url, body in answers.items() if FORGED in body]
    assert leaks == []
    # The links are there, on the public address: the check above is not vacuous.
    assert f"{PUBLIC}/plans/{PLAN}/measures/{measure.code}" in answers["/feeds/updates.atom"]
    for feed in (
        f"/plans/{PLAN}/measures/{measure.code}/feed.atom",
        f"/registry/{organisation.id}/feed.atom?lang=en",
    ):
        assert f"{PUBLIC}/plans/{PLAN}/measures/{measure.code}" in answers[feed], feed
        assert f'rel="self" href="{PUBLIC}/' in answers[feed], feed
    assert f"{PUBLIC}/files/" in answers[f"/api/v1/measures/{measure.id}/updates"]
    assert f"{PUBLIC}/api/v1/measures/" in answers["/api/v1/measures"]
    assert PUBLIC in answers[f"/calendar/plan/{PLAN}.ics"]


def _pdf_text_and_links(body: bytes) -> tuple[str, list[str]]:
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    links = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                links.append(str(action["/URI"]))
    return text, links


def test_a_pdf_report_never_shows_a_forged_host(app, world):
    measure, organisation, _monitor, _admin = world
    client = app.test_client()
    for url in (
        f"/reports/plan/{PLAN}.pdf?lang=en",
        f"/reports/plan/{PLAN}/section/{measure.section.number}.pdf?lang=az",
        f"/reports/organisation/{organisation.id}.pdf?lang=en",
    ):
        db.session.commit()  # on SQLite the test's session would hold the write lock
        preparing = forged_get(client, url, status=202)  # "being prepared"
        assert FORGED.encode() not in preparing.data, url
        build_requested(db.session)  # the scheduler's job, in-process
        response = forged_get(client, url)
        text, links = _pdf_text_and_links(response.data)
        assert FORGED not in text and not [link for link in links if FORGED in link], url
        assert FORGED.encode() not in response.data, url
        assert any(link.startswith(PUBLIC) for link in links), (url, links)


def _forged_post(client, url: str, data: dict):
    page = forged_get(client, url).get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    return client.post(
        url,
        base_url=f"http://{FORGED}",
        headers=FORGED_HEADERS,
        data={"csrf_token": token, **data},
    )


def test_emails_never_show_a_forged_host(app, world, smtp):
    _measure, _organisation, monitor, admin = world
    # A reset and an invitation asked for through the forged host...
    visitor = app.test_client()
    response = _forged_post(visitor, "/password/forgot", {"email": monitor.email})
    assert response.status_code == 302
    admin_browser = app.test_client()
    with admin_browser.session_transaction(base_url=f"http://{FORGED}") as session:
        now = int(time.time())
        session.update(_user_id=admin.get_id(), _login=now, _seen=now, _auth=now)
    response = _forged_post(
        admin_browser,
        "/admin/users/invite",
        {"email": "new@example.org", "role": "reviewer", "organisation_id": "0", "locale": "en"},
    )
    assert response.status_code == 302
    db.session.rollback()
    emails.deliver_account_mail(db.session)
    # ... and the reminder digest of the day.
    run_reminders(db.session, datetime(2022, 10, 2, 5, 0, tzinfo=UTC), date(2022, 10, 2))

    messages = smtp.messages
    assert {m["To"] for m in messages} == {monitor.email, "new@example.org"}
    bodies = {id(m): _bodies(m) for m in messages}
    assert any("/password/reset/" in bodies[id(m)] for m in messages)
    assert any("/invitation/" in bodies[id(m)] for m in messages)
    digests = [
        m for m in messages if m["To"] == monitor.email and "/password/" not in bodies[id(m)]
    ]
    assert digests, "no reminder digest was sent"
    for message in messages:
        assert FORGED not in message.as_string() and FORGED not in bodies[id(message)]
        links = re.findall(r"https?://[^\s\"'<>]+", bodies[id(message)])
        assert links and all(link.startswith(PUBLIC) for link in links), links


def _bodies(message) -> str:
    """The decoded text of every part, and every header."""
    parts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    headers = [f"{name}: {value}" for name, value in message.items()]
    return "\n".join(headers + parts)
