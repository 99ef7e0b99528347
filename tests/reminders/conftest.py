"""Fixtures of the reminder tests: people and links, and a real SMTP server (aiosmtpd on
127.0.0.1) that can answer 451 or 550 for chosen recipients or attempts."""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Measure, MonitoringLink, Organisation, User

BAKU = ZoneInfo("Asia/Baku")
BASE_URL = "https://tracker.example.org"


def free_port() -> int:
    # Controller(port=0) cannot report the port it got: take a free one first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def baku(text: str) -> datetime:
    """A Baku time such as "2022-10-02T09:00", as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BAKU).astimezone(UTC)


class ScriptedHandler:
    """Accepts every message, unless told to answer a code for a recipient: `refuse`
    always, `refuse_once` on the next attempt only."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.refuse_once: dict[str, str] = {}
        self.attempts: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.attempts[address] += 1
            answer = self.refuse_once.pop(address, None) or self.refuse.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self) -> None:
        self.handler = ScriptedHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def recipients(self) -> Counter:
        return Counter(str(m["To"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]) == address]


def heading(kind, locale: str) -> str:
    """A digest section's heading as the person reads it (translated when a catalog has it)."""
    from flask_babel import force_locale

    from tracker.vocabulary import REMINDER_KIND_LABELS

    with force_locale(locale):
        return str(REMINDER_KIND_LABELS[kind])


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


UNSUBSCRIBE_LINK = re.compile(r"https://tracker\.example\.org(/unsubscribe/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def mail_config(app):
    app.config.update(PUBLIC_BASE_URL=BASE_URL, MAIL_FROM="tracker@example.org")
    return app.config


@pytest.fixture
def smtp(app, mail_config):
    """A running SMTP server the app sends to."""
    server = MailServer()
    server.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TLS="none", SMTP_TIMEOUT=5)
    yield server
    server.stop()


def make_organisation(name: str) -> Organisation:
    organisation = Organisation(name_az=name, name_en=f"{name} (EN)")
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_user(email: str, role: str = "monitor", organisation=None, **fields) -> User:
    user = User(
        email=email,
        role=role,
        organisation_id=organisation.id if organisation else None,
        password_hash="not-used-by-these-tests",
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def link(organisation, measure, start=date(2020, 1, 1), end=None) -> MonitoringLink:
    row = MonitoringLink(
        organisation_id=organisation.id, measure_id=measure.id, start_date=start, end_date=end
    )
    db.session.add(row)
    db.session.flush()
    return row


def measures_due(year: int) -> list[Measure]:
    return list(
        db.session.scalars(
            select(Measure).where(Measure.end_year == year).order_by(Measure.position)
        )
    )


def measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


class World:
    """Two organisations monitoring a few measures, their monitors and a reviewer.

    - A (an az and an en speaker) monitors two measures due 2022-12-31 (1.2 and 1.3)
    - B (one az speaker) monitors the first of them and a measure due 2021-12-31
    - C monitors nothing (its monitor must get nothing)
    """

    def __init__(self, plan) -> None:
        self.plan = plan
        self.org_a = make_organisation("Açıq Cəmiyyət Birliyi")
        self.org_b = make_organisation("Şəffaflıq Mərkəzi")
        self.org_c = make_organisation("Boş Təşkilat")
        self.a_az = make_user("aysel@example.org", organisation=self.org_a, locale="az")
        self.a_en = make_user("adam@example.org", organisation=self.org_a, locale="en")
        self.b_az = make_user("bahruz@example.org", organisation=self.org_b, locale="az")
        self.c_az = make_user("cavid@example.org", organisation=self.org_c, locale="az")
        self.reviewer = make_user("rena@example.org", role="reviewer", locale="en")
        self.admin = make_user("admin@example.org", role="admin", locale="en")
        self.m_2022 = measures_due(2022)[:2]
        self.m_2021 = measures_due(2021)[0]
        for m in self.m_2022:
            link(self.org_a, m)
        link(self.org_b, self.m_2022[0])
        link(self.org_b, self.m_2021)
        db.session.commit()


@pytest.fixture
def world(seeded) -> World:
    return World(seeded)


def reminder_item_reads(connection, statement, parameters) -> list[str]:
    """How the database's plan of `statement` reads reminder_item: for each step that reads
    it, the index it uses, else what it does (a scan of the whole table, a rowid lookup)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [row[3] for row in rows if "reminder_item" in row[3]]
        return [
            step.split("INDEX ", 1)[1].split(" ")[0] if "INDEX " in step else step for step in steps
        ]
    # A test's outbox is small enough for a sequential scan to be the cheapest plan:
    # without it, the planner shows which indexes the statement can be answered by.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    [(plan,)] = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    reads, nodes = [], [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        # the scans, not the UPDATE's own node (ModifyTable)
        if node.get("Relation Name") == "reminder_item" and "Scan" in node["Node Type"]:
            # a bitmap heap scan reads the table through the index of its bitmap index scan
            bitmap = [
                child["Index Name"] for child in node.get("Plans", []) if "Index Name" in child
            ]
            reads.append(node.get("Index Name") or "+".join(bitmap) or node["Node Type"])
    return reads


#: what a bad unsubscribe link's page says, and its way on, in each language
BAD_LINK_WORDS = [
    (
        "en",
        "This unsubscribe link is not valid or has expired.",
        "Log in to manage reminder emails",
    ),
    (
        "az",
        "Bu abunəlikdən çıxma keçidi etibarsızdır və ya müddəti bitib.",
        "Xatırlatma məktublarını idarə etmək üçün daxil olun",
    ),
]
