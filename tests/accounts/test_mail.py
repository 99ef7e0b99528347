"""tracker.services.mail against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email.policy
import logging
import re
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from tests.accounts.conftest import free_port, text_of
from tracker.services import mail, mail_outbox
from tracker.services.mail import MailDeliveryError, mail_enabled, send_message
from tracker.services.reminders import outbox as reminder_outbox
from tracker.vocabulary import MailOutcome


def test_mail_is_off_without_smtp_host(app, caplog):
    assert not mail_enabled()
    with caplog.at_level(logging.INFO, logger="tracker.services.mail"):
        send_message("someone@example.org", "Hello", "Body")
    assert "Mail is off" in caplog.text


def test_a_message_reaches_the_server_with_text_and_html(app, mail_on):
    assert mail_enabled()
    send_message("Monitor@Example.org", "Şəffaflıq: test", "Salam, dünya", "<p>Salam</p>")
    assert len(mail_on.messages) == 1
    message = mail_on.messages[0]
    assert message["To"] == "Monitor@Example.org"
    assert message["From"] == "tracker@example.org"
    assert message["Subject"] == "Şəffaflıq: test"
    assert message["Message-ID"].endswith("@example.org>")
    assert text_of(message).strip() == "Salam, dünya"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Salam</p>"


def test_a_5xx_answer_is_a_permanent_failure(app, mail_on):
    mail_on.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    with pytest.raises(MailDeliveryError) as raised:
        send_message("gone@example.org", "Hello", "Body")
    assert raised.value.permanent is True
    assert raised.value.code == 550
    assert mail_on.messages == []


def test_a_4xx_answer_is_a_temporary_failure(app, mail_on):
    mail_on.handler.refuse["busy@example.org"] = "451 4.3.0 Try again later"
    with pytest.raises(MailDeliveryError) as raised:
        send_message("busy@example.org", "Hello", "Body")
    assert raised.value.permanent is False
    assert raised.value.code == 451


def test_a_refused_connection_is_a_temporary_failure(app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with pytest.raises(MailDeliveryError) as raised:
        send_message("someone@example.org", "Hello", "Body")
    assert raised.value.permanent is False
    assert raised.value.code is None


def test_tls_against_a_plain_server_is_a_temporary_failure(app, mail_on):
    app.config.update(SMTP_TLS="ssl", SMTP_TIMEOUT=2)
    with pytest.raises(MailDeliveryError) as raised:
        send_message("someone@example.org", "Hello", "Body")
    assert raised.value.permanent is False
    assert mail_on.messages == []


def test_an_unknown_tls_mode_is_refused_before_connecting(app, mail_on):
    app.config.update(SMTP_TLS="sometimes")
    with pytest.raises(MailDeliveryError, match="SMTP_TLS") as raised:
        send_message("someone@example.org", "Hello", "Body")
    assert raised.value.permanent is True


def test_a_line_break_in_a_header_is_refused(app, mail_on):
    with pytest.raises(MailDeliveryError):
        send_message("a@example.org\r\nBcc: victim@example.org", "Hello", "Body")
    with pytest.raises(MailDeliveryError):
        send_message("a@example.org", "Hello\nBcc: victim@example.org", "Body")
    assert mail_on.messages == []


def _normalised(message, policy=None) -> bytes:
    """The message's bytes without what differs between two builds: the date and the
    MIME boundary."""
    raw = message.as_bytes(policy=policy)
    raw = re.sub(rb"Date: [^\r\n]*\r?\n", b"", raw)
    return re.sub(rb"=_[0-9a-f]{32}", b"BOUNDARY", raw)


def test_outgoing_messages_reuse_repeated_headers_and_write_what_the_standard_policy_writes(
    app, monkeypatch
):
    def build(n: int):
        return mail.build_automatic_message(
            f"monitor{n}@example.org",
            f"{n} xatırlatma: Açıq Hökumət",
            "Salam, dünya\n" * 40,
            "<p>Salam</p>\n" * 40,
            message_key=f"reminders.token{n}",
            headers={"List-Unsubscribe": f"<https://tracker.example.org/u/{n}>"},
        )

    first, second = build(1), build(2)
    # a long unsubscribe link stays one line, as RFC 2369 mail clients read it, never
    # RFC 2047 encoded-words; with either line end
    long_link = f"<https://tracker.example.org/unsubscribe-all/{'t' * 120}>"
    long = mail.build_message("m@example.org", "S", "body", headers={"List-Unsubscribe": long_link})
    for line_end in ("\n", "\r\n"):
        written = long.as_bytes(policy=mail.OUTGOING.clone(linesep=line_end))
        assert f"\nList-Unsubscribe: {long_link}{line_end}".encode() in written
    # a repeated value is parsed once and shared; the varying ones are each their own
    assert first.get("From") is second.get("From")
    assert first.get("Auto-Submitted") is second.get("Auto-Submitted")
    assert first["To"] == "monitor1@example.org" and second["To"] == "monitor2@example.org"
    assert second["Subject"] == "2 xatırlatma: Açıq Hökumət"

    # each header object is folded once per set of folding settings: written again, or
    # with the CRLF line ends smtplib asks for, a message reads the same
    crlf = mail.OUTGOING.clone(linesep="\r\n")
    first_crlf = first.as_bytes(policy=crlf)
    assert first_crlf.count(b"\r\n") > 10 and first.as_bytes(policy=crlf) == first_crlf
    assert first_crlf.replace(b"\r\n", b"\n") == first.as_bytes()
    # the multipart boundary is the process's own, and its header one shared object: "_"
    # is not in base64, so no line of a part can be a delimiter
    boundary = first.get_boundary()
    assert re.fullmatch(r"=_[0-9a-f]{32}", boundary) and second.get_boundary() == boundary
    assert first.get("Content-Type") is second.get("Content-Type")
    delimiters = [line for line in first_crlf.split(b"\r\n") if line.startswith(b"--")]
    assert delimiters == [f"--{boundary}".encode()] * 2 + [f"--{boundary}--".encode()]

    monkeypatch.setattr(mail, "OUTGOING", email.policy.default)
    assert _normalised(first) == _normalised(build(1))
    assert _normalised(second) == _normalised(build(2))
    assert _normalised(first, crlf) == _normalised(
        build(1), email.policy.default.clone(linesep="\r\n")
    )

    # a header given as an object (not hashable) is made as the standard policy makes it
    message = EmailMessage(policy=mail.OUTGOING)
    message["Reply-To"] = Address("Ağa Şəffaf", "aga", "example.org")
    assert message["Reply-To"].addresses[0].username == "aga"


def test_both_outboxes_back_off_and_give_up_by_one_rule():
    """RetryPolicy.next_attempt decides for the account outbox and the reminder outbox."""
    now = datetime(2022, 10, 2, 5, 0, tzinfo=UTC)
    policy = mail.RetryPolicy(
        claim_timeout=timedelta(minutes=5),
        base=timedelta(minutes=1),
        cap=timedelta(minutes=4),
        max_attempts=5,
    )
    later = [policy.next_attempt(MailOutcome.DEFERRED, n, now) for n in range(1, 5)]
    assert [when - now for when in later] == [timedelta(minutes=m) for m in (1, 2, 4, 4)]
    assert policy.next_attempt(MailOutcome.UNREACHABLE, 1, now) == now + timedelta(minutes=1)
    assert policy.next_attempt(MailOutcome.DEFERRED, 5, now) is None
    assert policy.next_attempt(MailOutcome.REJECTED, 1, now) is None
    assert mail_outbox.RETRY.next_attempt(MailOutcome.DEFERRED, 9, now) is not None
    assert mail_outbox.RETRY.next_attempt(MailOutcome.DEFERRED, 10, now) is None
    assert reminder_outbox.RETRY.next_attempt(MailOutcome.DEFERRED, 15, now) is not None
    assert reminder_outbox.RETRY.next_attempt(MailOutcome.DEFERRED, 16, now) is None
