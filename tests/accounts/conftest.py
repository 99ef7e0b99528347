"""Fixtures of the accounts tests: users, a real SMTP server, and logging in by the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from flask_babel import force_locale

from tests.helpers import (
    RecordingHandler,
    RequestIsolatingClient,
    SMTPServer,
    csrf_token_from,
    free_port,
)
from tracker.extensions import db
from tracker.models import Organisation, User
from tracker.services.accounts.passwords import hash_password

PASSWORD = "correct horse battery staple"


# One request-isolating test client for the whole suite (see tests/helpers.py).
FreshContextClient = RequestIsolatingClient


@pytest.fixture(autouse=True)
def _accounts_test_setup(app):
    app.test_client_class = FreshContextClient
    # Services called directly by a test run outside a request: messages in English.
    with force_locale("en"):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


def fresh() -> None:
    """End the test's own transaction, so that it sees what requests have committed."""
    db.session.rollback()


_PASSWORD_HASH: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    # Hashing costs ~50 ms at OWASP parameters; the tests reuse one hash per password.
    if password not in _PASSWORD_HASH:
        _PASSWORD_HASH[password] = hash_password(password)
    return _PASSWORD_HASH[password]


def make_user(
    email: str,
    role: str = "monitor",
    organisation: Organisation | None = None,
    password: str | None = PASSWORD,
    **fields,
) -> User:
    user = User(
        email=email,
        role=role,
        organisation_id=organisation.id if organisation else None,
        password_hash=password_hash(password) if password else None,
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_organisation(name: str) -> Organisation:
    organisation = Organisation(name_az=name, name_en=f"{name} (en)")
    db.session.add(organisation)
    db.session.flush()
    return organisation


@pytest.fixture
def organisation(app) -> Organisation:
    return make_organisation("Şəffaflıq Assosiasiyası")


@pytest.fixture
def admin(app) -> User:
    user = make_user("admin@example.org", role="admin")
    db.session.commit()
    return user


@pytest.fixture
def monitor(app, organisation) -> User:
    user = make_user("monitor@example.org", role="monitor", organisation=organisation)
    db.session.commit()
    return user


def login_with_form(client, email: str, password: str = PASSWORD, **extra):
    """Log in through the real form, as a browser would."""
    token = csrf_token_from(client, "/login")
    return client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, **extra}
    )


def post_with_csrf(client, page_url: str, action_url: str, data: dict | None = None):
    """Post to a form's action with the CSRF token from the page that shows the form."""
    token = csrf_token_from(client, page_url)
    return client.post(action_url, data={"csrf_token": token, **(data or {})})


# -- a real SMTP server on 127.0.0.1 ---------------------------------------------------


class CountingHandler(RecordingHandler):
    """Also counts the connections the server accepted."""

    connections: int = 0


class _CountingSMTP(SMTP):
    def connection_made(self, transport) -> None:
        self.event_handler.connections += 1
        super().connection_made(transport)


class CountingController(Controller):
    def factory(self):
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def smtp_server():
    handler = CountingHandler()
    port = free_port()
    controller = CountingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture
def mail_on(app, smtp_server) -> SMTPServer:
    """The app sends mail to the local SMTP server."""
    app.config.update(
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TLS="none",
        MAIL_FROM="tracker@example.org",
    )
    return smtp_server


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path of the first link in the message that starts with path_prefix."""
    for word in text_of(message).split():
        if path_prefix in word:
            return word[word.index(path_prefix) :]
    raise AssertionError(f"no {path_prefix} link in the message")


class StoppedClock:
    """A clock that stands still until the test moves it (patched over tracker.clock)."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float = 0, **delta) -> None:
        self.moment += timedelta(seconds=seconds, **delta)
