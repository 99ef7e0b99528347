"""Outgoing mail over SMTP: the one sender every email goes through.

- ``SmtpSender``: one connection for a run of messages, opened on first use, checked with
  NOOP before each message (so a dropped connection never half-sends one) and reopened
  when needed. ``send`` never raises: it returns a ``SendResult`` whose ``MailOutcome`` says
  whether the server took the message, refused it for now (4xx: retry later), refused it
  for good (5xx), or could not be reached.
- ``send_message(to, subject, text_body, html_body=None)``: one message on a connection of
  its own; raises ``MailDeliveryError`` unless the server accepted it. When mail is off
  (no SMTP_HOST) it logs that and returns: a caller that must know whether a message left
  checks ``mail_enabled()`` first.

Configuration: SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_TLS ("none",
"starttls" or "ssl"), MAIL_FROM, and optionally SMTP_TIMEOUT (seconds, default 10).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import lru_cache

from flask import current_app
from sqlalchemy import update

from tracker import clock
from tracker.numbers import counted
from tracker.vocabulary import MailOutcome

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


@dataclass(frozen=True)
class SendResult:
    outcome: MailOutcome
    code: int | None = None
    error: str = ""


def mail_enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def sender_address() -> str:
    return current_app.config.get("MAIL_FROM") or "tracker@localhost"


class _ReusedHeaders(HeaderRegistry):
    """The standard header registry, made cheaper: each header class is made once (the
    standard registry makes a new class per header), and a repeated value (From, the
    automatic headers, a part's Content-Type) is parsed once. Header objects are
    immutable, so messages share them. Building a reminder digest's message took more
    CPU than rendering the digest."""

    def __init__(self) -> None:
        super().__init__()
        self._class_of = lru_cache(maxsize=None)(super().__getitem__)
        self._header = lru_cache(maxsize=256)(super().__call__)

    def __getitem__(self, name: str):
        return self._class_of(name.lower())

    def __call__(self, name: str, value):
        if isinstance(value, str):
            return self._header(name, value)
        return super().__call__(name, value)  # an Address, say: not hashable


class _OutgoingPolicy(policy.EmailPolicy):
    """The standard policy, but a header object is folded once per set of folding
    settings: the repeated headers are objects shared by every message (_ReusedHeaders),
    and folding one (parsing it again and laying it out) is a good part of writing a
    reminder digest's message. The folded bytes are kept on the header object, so an
    object never shares them with another that merely reads the same."""

    def fold_binary(self, name, value):
        if name.lower() in UNFOLDED_HEADERS and self.max_line_length != MAX_LINE_LENGTH:
            return self.clone(max_line_length=MAX_LINE_LENGTH).fold_binary(name, value)
        folds = getattr(value, "__dict__", None)  # a header object; a plain str has none
        if folds is None:
            return super().fold_binary(name, value)
        key = ("_folded", name, self.linesep, self.max_line_length, self.utf8, self.cte_type)
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold_binary(name, value)
        return folded


#: the standard policy (RFC 5322 headers, \n line ends that smtplib turns into CRLF)
OUTGOING = _OutgoingPolicy(header_factory=_ReusedHeaders())
#: RFC 5322's limit on a line: a header that must not be folded is written up to it
MAX_LINE_LENGTH = 998
#: headers whose value is a URL in angle brackets (RFC 2369, RFC 8058): mail clients read
#: them as they are, so a long one must stay on its line, not become RFC 2047 encoded-words
UNFOLDED_HEADERS = {"list-unsubscribe"}


#: The multipart boundary of this process's messages. "_" is not in the base64 alphabet
#: and both parts are base64, so no line of a part can be a delimiter line, whatever the
#: text: one boundary serves every message, its Content-Type header is parsed once
#: (_ReusedHeaders), and the generator need not make a boundary per message and search
#: the whole message for it (the search and the parse were over a quarter of the time it
#: took to write a reminder digest: 1.13-1.19 ms a message before, 0.82-0.85 ms after).
_BOUNDARY = f"=_{uuid.uuid4().hex}"


def build_message(
    to: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A text message with an optional HTML alternative. Raises ValueError for a header
    with a line break (header injection)."""
    sender = sender_address()
    values = [to, subject, sender, *(headers or {}).values()]
    if any("\n" in value or "\r" in value for value in values):
        raise ValueError("a mail header contains a line break")
    message = EmailMessage(policy=OUTGOING)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or make_msgid(
        domain=sender.rpartition("@")[2] or "localhost"
    )
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text_body, cte="base64")
    if html_body is not None:
        message.add_alternative(html_body, subtype="html", cte="base64")
        message.set_boundary(_BOUNDARY)
    return message


#: headers of every email the app sends by itself: no auto-replies, please
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def build_automatic_message(
    to: str,
    subject: str,
    text_body: str,
    html_body: str | None,
    *,
    message_key: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """An outbox's message. Its Message-ID derives from `message_key` (the outbox's claim),
    so a copy the server gets twice carries the same id and mail systems drop the duplicate."""
    domain = sender_address().rpartition("@")[2] or "localhost"
    return build_message(
        to,
        subject,
        text_body,
        html_body,
        message_id=f"<{message_key}@{domain}>",
        headers={**AUTOMATIC_HEADERS, **(headers or {})},
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How an outbox retries: it backs off from `base`, doubling up to `cap`, and gives up
    after `max_attempts`; a claim older than `claim_timeout` (wall clock) is taken to belong
    to a process that died."""

    claim_timeout: timedelta
    base: timedelta
    cap: timedelta
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        """Backoff after the n-th failed delivery."""
        return min(self.base * (2 ** max(attempts - 1, 0)), self.cap)

    def next_attempt(self, outcome: MailOutcome, attempts: int, now: datetime) -> datetime | None:
        """When to try again after a delivery that was not sent (`attempts` counts it), or
        None: give up, because the server refused for good (5xx) or the attempts are used
        up."""
        if outcome == MailOutcome.REJECTED or attempts >= self.max_attempts:
            return None
        return now + self.delay(attempts)

    def recover_stale_claims(self, session, model, now: datetime, *where) -> int:
        """An outbox's rows (`model`: its status, claimed_dt, next_attempt_dt and last_error)
        left in "sending" by a process that died go back to "retry", due at `now`, once
        their claim is older than `claim_timeout` (wall clock). Returns how many."""
        result = session.execute(
            update(model)
            .where(
                *where,
                model.status == "sending",
                model.claimed_dt < clock.now_utc() - self.claim_timeout,
            )
            .values(
                status="retry",
                next_attempt_dt=now,
                last_error="interrupted while sending; the claim was recovered",
            )
        )
        return result.rowcount or 0


def run_summary_parts(retry: int, failed: int, recovered: int, stopped_early: bool) -> list[str]:
    """How an outbox run's summary ends, in the same words for every outbox."""
    parts = []
    if retry:
        parts.append(f"{retry} to retry")
    if failed:
        parts.append(f"{failed} failed")
    if recovered:
        parts.append(f"{counted(recovered, 'interrupted send')} recovered")
    if stopped_early:
        parts.append("stopped early: the mail server could not be reached")
    return parts


def _classify(code: int | None, text: str) -> SendResult:
    if code is not None and 500 <= code < 600:
        return SendResult(MailOutcome.REJECTED, code, text)
    if code is not None and 400 <= code < 500:
        return SendResult(MailOutcome.DEFERRED, code, text)
    return SendResult(MailOutcome.UNREACHABLE, code, text)


def _reply_text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class SmtpSender:
    """One SMTP connection for a run of messages, opened on first use."""

    def __init__(self, config) -> None:
        self.host = config["SMTP_HOST"]
        self.port = int(config.get("SMTP_PORT") or 25)
        self.timeout = float(config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS)
        self.tls = (config.get("SMTP_TLS") or "none").lower()
        self.user = config.get("SMTP_USER")
        self.password = config.get("SMTP_PASSWORD") or ""
        self._connection: smtplib.SMTP | None = None
        self._context: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # Made only when TLS is on, once per run: loading the CA store is slow.
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _connect(self) -> smtplib.SMTP:
        if self.tls not in TLS_MODES:
            raise smtplib.SMTPException(
                f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {self.tls!r}"
            )
        if self.tls == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.tls == "starttls":
                connection.starttls(context=self._tls_context())
            if self.user:
                connection.login(self.user, self.password)
        except BaseException:
            connection.close()
            raise
        return connection

    def _ready_connection(self) -> smtplib.SMTP:
        """The open connection if the server still answers, else a new one. The check
        comes before the message, so a dropped connection never half-sends it."""
        if self._connection is not None:
            try:
                code, _reply = self._connection.noop()
                if code == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        self._connection = self._connect()
        return self._connection

    def send(self, message: EmailMessage) -> SendResult:
        try:
            connection = self._ready_connection()
        except smtplib.SMTPResponseException as error:
            # refused at the greeting, HELO or login: the server or our settings, not
            # this message
            self.close()
            return SendResult(
                MailOutcome.UNREACHABLE, error.smtp_code, _reply_text(error.smtp_error)
            )
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return SendResult(MailOutcome.UNREACHABLE, None, f"could not reach the server: {error}")
        try:
            connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return _classify(code, f"{code} {_reply_text(reply)}")
        except smtplib.SMTPResponseException as error:
            # sender or data refused; 421 means the server is closing the connection
            if error.smtp_code == 421:
                self.close()
            return _classify(error.smtp_code, f"{error.smtp_code} {_reply_text(error.smtp_error)}")
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return SendResult(MailOutcome.UNREACHABLE, None, f"the connection failed: {error}")
        return SendResult(MailOutcome.SENT, 250)

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            self._connection.close()
        self._connection = None


def send_message(to: str, subject: str, text_body: str, html_body: str | None = None) -> None:
    """Send one message; raise MailDeliveryError unless the server accepted it."""
    if not mail_enabled():
        logger.info("Mail is off (SMTP_HOST is not set): not sending %r to %s", subject, to)
        return
    sender = SmtpSender(current_app.config)
    if sender.tls not in TLS_MODES:
        raise MailDeliveryError(
            f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {sender.tls!r}", permanent=True
        )
    try:
        message = build_message(to, subject, text_body, html_body)
    except ValueError as error:
        raise MailDeliveryError(str(error), permanent=True) from error
    try:
        result = sender.send(message)
    finally:
        sender.close()
    if result.outcome != MailOutcome.SENT:
        raise MailDeliveryError(
            f"{result.outcome}: {result.error}",
            permanent=result.outcome == MailOutcome.REJECTED,
            code=result.code,
        )
    logger.info("Sent %r to %s", subject, to)
