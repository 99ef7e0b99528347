"""Fixtures of the monitoring tests: two organisations, their monitors, a reviewer and an
admin; organisation A monitors three measures, B one; small valid files of every type."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers import login
from tests.reminders.conftest import MailServer
from tracker.extensions import db
from tracker.models import Measure, MonitoringLink, Organisation, User
from tracker.services.accounts.passwords import hash_password

TODAY = "2021-06-30"
PASSWORD = "monitoring test passphrase"
_HASHES: dict[str, str] = {}


def pdf_bytes(pages: int = 1, javascript: str | None = None) -> bytes:
    """A real PDF made with pypdf: blank pages, and a document-level script if given."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if javascript:
        writer.add_js(javascript)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(image_format: str, size: tuple[int, int] = (4, 3)) -> bytes:
    """A real image made with Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


PDF_BYTES = pdf_bytes()
PNG_BYTES = image_bytes("PNG")
JPEG_BYTES = image_bytes("JPEG")


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    types = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    document = (
        b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
        b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Report</w:t></w:r></w:p>'
        b"</w:body></w:document>"
    )
    return _zip([("[Content_Types].xml", types), ("word/document.xml", document)])


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def odt_bytes() -> bytes:
    return _zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            (
                "content.xml",
                b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
                b'xmlns:office:1.0"><office:body/></office:document-content>',
            ),
        ]
    )


def password_hash() -> str:
    # argon2id at OWASP parameters costs ~50 ms; one hash serves every test user.
    if PASSWORD not in _HASHES:
        _HASHES[PASSWORD] = hash_password(PASSWORD)
    return _HASHES[PASSWORD]


def make_user(email: str, role: str, organisation: Organisation | None = None, **fields) -> User:
    user = User(
        email=email,
        role=role,
        organisation_id=organisation.id if organisation else None,
        password_hash=password_hash(),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_organisation(name_az: str, name_en: str) -> Organisation:
    organisation = Organisation(name_az=name_az, name_en=name_en)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def link(organisation: Organisation, measure: Measure, start: date = date(2020, 1, 1)):
    db.session.add(
        MonitoringLink(organisation_id=organisation.id, measure_id=measure.id, start_date=start)
    )
    db.session.flush()


@dataclass
class World:
    org_a: Organisation
    org_b: Organisation
    monitor_a: User
    monitor_b: User
    reviewer: User
    admin: User
    #: measures 1.1, 1.2, 1.3 (organisation A) and 2.1 (organisation B)
    measures: dict[str, Measure]

    def measure(self, code: str) -> Measure:
        return self.measures[code]


@pytest.fixture
def world(app, seeded) -> World:
    app.config["TRACKER_TODAY"] = TODAY
    measures = {
        m.code: m
        for m in db.session.scalars(
            select(Measure).where(Measure.code.in_(["1.1", "1.2", "1.3", "2.1", "9.4"]))
        )
    }
    org_a = make_organisation("Şəffaflıq Assosiasiyası", "Transparency Association")
    org_b = make_organisation("Hüquq Mərkəzi", "Law Centre")
    world = World(
        org_a=org_a,
        org_b=org_b,
        monitor_a=make_user("aysel@example.org", "monitor", org_a, display_name="Aysel Q."),
        monitor_b=make_user("bahram@example.org", "monitor", org_b, display_name="Bahram M."),
        reviewer=make_user("reviewer@example.org", "reviewer", display_name="Rəna R."),
        admin=make_user("admin@example.org", "admin"),
        measures=measures,
    )
    for code in ("1.1", "1.2", "1.3"):
        link(org_a, measures[code])
    link(org_b, measures["2.1"])
    db.session.commit()
    return world


#: the PUBLIC_BASE_URL of the notice emails' links (the `smtp` fixture)
NOTICE_BASE_URL = "https://tracker.example.org"


@pytest.fixture
def smtp(app):
    """A running SMTP server the app sends the notices' emails to."""
    server = MailServer()
    server.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_TLS="none",
        SMTP_TIMEOUT=5,
        PUBLIC_BASE_URL=NOTICE_BASE_URL,
        MAIL_FROM="tracker@example.org",
    )
    yield server
    server.stop()


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client, url: str = "/monitor/") -> str:
    """The session's CSRF token, read from a page's form as a browser would."""
    response = client.get(url)
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def as_user(client, user: User):
    """Log in, with the interface in English (the tests read English messages)."""
    login(client, user)
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def update_form(**overrides) -> dict:
    """A valid update form: one link and no file; override or add fields by name."""
    data = {
        "completion": "limited",
        "progress_percent": "40",
        "as_of_date": "2021-06-15",
        "narrative_az": "Tədbir qismən icra olunub.",
        "narrative_en": "Partly implemented.",
        "delay_reasons": ["agency_inactive"],
        "evidence-0-evidence_type": "official_website",
        "evidence-0-title": "Ministry page",
        "evidence-0-evidence_date": "2021-06-01",
        "evidence-0-url": "https://example.gov.az/report",
        "save_draft": "Save as draft",
    }
    for index in (0, 1, 2):
        for name in (
            "evidence_type",
            "title",
            "evidence_date",
            "url",
            "request_sent_on",
            "request_agency_id",
            "request_answered_on",
            "request_outcome",
        ):
            data.setdefault(f"evidence-{index}-{name}", "")
    data.update(overrides)
    return data


def file_field(content: bytes, filename: str):
    return (io.BytesIO(content), filename)


def store_file(content: bytes = PDF_BYTES, filename: str = "report.pdf", uploader=None):
    """A stored upload, written to the upload folder as the upload service does."""
    from tracker.services.monitoring import uploads

    checked = uploads.check_upload(uploads.Upload(filename=filename, stream=io.BytesIO(content)))
    return uploads.store_checked(db.session, checked, uploader)


def make_claim(measure: Measure, recorder: User, stored, source_title: str):
    """An approved claim on `measure` whose source is the stored file `stored`."""
    from tracker.models import GovernmentClaim

    claim = GovernmentClaim(
        measure_id=measure.id,
        claimed_completion="complete",
        claim_date=date(2021, 5, 1),
        source_title=source_title,
        file_id=stored.id,
        recorded_by_id=recorder.id,
    )
    db.session.add(claim)
    return claim


def make_update(
    measure: Measure,
    author: User,
    state: str = "approved",
    *,
    completion: str = "limited",
    as_of: date = date(2021, 6, 1),
    narrative: str = "Narrative",
    evidence: list[dict] | None = None,
    **fields,
):
    """An update written straight to the database (for read-side tests)."""
    from tracker.models import Evidence, StatusUpdate

    update = StatusUpdate(
        measure_id=measure.id,
        organisation_id=author.organisation_id,
        author_id=author.id,
        completion=completion,
        as_of_date=as_of,
        narrative_en=narrative,
        review_state=state,
        **fields,
    )
    for item in evidence or []:
        update.evidence.append(
            Evidence(evidence_type=item.pop("evidence_type", "official_document"), **item)
        )
    db.session.add(update)
    db.session.flush()
    return update


@pytest.fixture
def served_world(served):
    """The route matrix's world (tests/accounts/route_world.py) in the served app's
    database, committed so that the server sees it."""
    from tests.accounts.route_world import build_world

    built = build_world(str(served.upload_folder))
    db.session.commit()
    return built


def served_signed_in(served, world, role: str):
    """A served-app client logged in as one of the world's users."""
    from tests.accounts.conftest import PASSWORD as WORLD_PASSWORD

    client = served.client()
    client.login(world.users[role].email, WORLD_PASSWORD)
    return client


def served_decision(reviewer, page: str, action: str, **text):
    """A reviewer's decision over HTTP, as the record's page sends it: `page` is the
    update's or proposal's review page, `action` approve or return (with its text); the
    answer must be the redirect of a decision made."""
    response = reviewer.post_form(page, text, action=f"{page}/{action}")
    assert response.status_code == 302, (page, action, response.status_code)
    return response
