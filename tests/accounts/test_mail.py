"""tracker.services.mail against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest

from tests.accounts.conftest import free_port, text_of
from tracker.services.mail import MailDeliveryError, mail_enabled, send_message


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
