"""Outgoing mail over SMTP, configured from app.config.

The API other areas rely on (keep it stable):

- ``mail_enabled() -> bool``: True when SMTP_HOST is set.
- ``send_message(to, subject, text_body, html_body=None) -> None``: sends one message to
  one address. It returns only once the server has accepted the message (a 2xx answer to
  DATA). When mail is off (no SMTP_HOST) it logs that and returns without sending: a
  caller that must know whether a message left, checks ``mail_enabled()`` first.
- ``MailDeliveryError``: raised on every failure. ``.permanent`` is True when the server
  answered 5xx (do not retry) and False for a 4xx answer, a refused or dropped
  connection, a timeout or a TLS failure (retry later). ``.code`` is the SMTP reply code
  when the server gave one, else None.

Configuration: SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_TLS ("none",
"starttls" or "ssl"), MAIL_FROM, and optionally SMTP_TIMEOUT (seconds, default 10).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

logger = logging.getLogger(__name__)

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_TIMEOUT_SECONDS = 10


class MailDeliveryError(Exception):
    """A message could not be delivered to the SMTP server."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        #: True for a 5xx answer: retrying will not help
        self.permanent = permanent
        #: the SMTP reply code, when the server answered
        self.code = code


def mail_enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _build_message(to: str, subject: str, text_body: str, html_body: str | None) -> EmailMessage:
    sender = current_app.config.get("MAIL_FROM") or "tracker@localhost"
    for value in (to, subject, sender):
        if "\n" in value or "\r" in value:
            raise MailDeliveryError("a mail header contains a line break", permanent=True)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text_body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    return message


def _is_permanent(code: int | None) -> bool:
    return code is not None and 500 <= code < 600


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host = config["SMTP_HOST"]
    port = int(config.get("SMTP_PORT") or 25)
    timeout = float(config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS)
    tls_mode = (config.get("SMTP_TLS") or "none").lower()
    if tls_mode not in TLS_MODES:
        raise MailDeliveryError(
            f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls_mode!r}", permanent=True
        )
    context = ssl.create_default_context()
    if tls_mode == "ssl":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if tls_mode == "starttls":
            connection.starttls(context=context)
        if config.get("SMTP_USER"):
            connection.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    except BaseException:
        connection.close()
        raise
    return connection


def send_message(to: str, subject: str, text_body: str, html_body: str | None = None) -> None:
    """Send one message; raise MailDeliveryError unless the server accepted it."""
    if not mail_enabled():
        logger.info("Mail is off (SMTP_HOST is not set): not sending %r to %s", subject, to)
        return
    message = _build_message(to, subject, text_body, html_body)
    try:
        connection = _connect()
        try:
            connection.send_message(message)
        finally:
            try:
                connection.quit()
            except smtplib.SMTPException:
                connection.close()
    except MailDeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        code = codes[0] if codes else None
        raise MailDeliveryError(
            f"the server refused the recipient {to}: {error.recipients}",
            permanent=bool(codes) and all(_is_permanent(c) for c in codes),
            code=code,
        ) from error
    except smtplib.SMTPResponseException as error:
        # Sender refused, data refused, authentication failed, or a refused connection.
        code = error.smtp_code
        raise MailDeliveryError(
            f"the SMTP server answered {code}: {error.smtp_error!r}",
            permanent=_is_permanent(code),
            code=code,
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        # Dropped connection, refused connection, timeout, TLS failure: try again later.
        raise MailDeliveryError(
            f"could not talk to the SMTP server: {error}", permanent=False
        ) from error
    logger.info("Sent %r to %s", subject, to)
