"""Delivering reminder digests: claim recipients' items in batches, send one digest per
recipient, record the server's answers in batches (services.reminders.jobs runs it).

Processes: composing and encoding digests is CPU work, so a large run delivers in several
processes at once (REMINDER_DELIVERY_PROCESSES, each with REMINDER_RECIPIENTS_PER_PROCESS
recipients at least): this one and others it starts beside it, each building the app
with the run's configuration. They share a counter of the run's batches of recipients,
and each takes the next batch when it is ready for one: a process that starts a second or
two later (it builds the app) or runs slower takes fewer, and all finish together.

Claiming: one INSERT claims up to CLAIM_BATCH recipients (a ReminderClaim each, with a
token of its own; a recipient another process holds is skipped) and one SELECT reads
their sendable items (services.reminders.outbox). It is committed before anything of the
batch is sent, so two processes never send the same item.

Sending: a few threads (SENDERS), each with an SMTP connection of its own
(tracker.services.mail.SmtpSender, the one sender of every email, which checks the
connection with NOOP before each reuse so that a message is never sent twice on a
connection the server had dropped), send while this thread composes the next digests. A
message counts as sent only when the server answered 250 to its data. The answer decides
what becomes of the items: 4xx → retry later; 5xx → failed for good; no answer
(connection refused or dropped, timeout, TLS or login failure) → retry later and stop
this run: the messages already handed to a connection get their own answers recorded,
and the batch's claims not sent yet are released at once.

Recording: the answers are written together, one digest row each, one UPDATE for all the
items that were sent (by their ids) and one DELETE of their claims, with one commit per
RECORD_EVERY digests or RECORD_SECONDS, whichever comes first. The trade-off: a process
that dies leaves the claims of the digests it had not recorded yet (at most one claim
batch: CLAIM_BATCH recipients); a later run deletes them after CLAIM_TIMEOUT
(services.reminders.jobs) and sends their items, and those of them the server had
already accepted (at most RECORD_EVERY digests, or RECORD_SECONDS'
worth, plus the few in flight) are sent a second time, with the same Message-ID. Per
digest, the window was one message; per batch, it is bounded and short. A run whose
claim batch grows old (a slow server) refreshes its claims, so that no other process
takes a live run's claims for interrupted.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from tracker.clock import baku_date
from tracker.database import is_sqlite_in_memory
from tracker.extensions import db
from tracker.models import ReminderDigest, ReminderItem, User
from tracker.services import mail
from tracker.services.mail import SendResult, SmtpSender
from tracker.services.reminders.digests import (
    ITEM_COLUMNS,
    ComposedDigest,
    DetailCache,
    InfoCache,
    Recipient,
    compose_digest,
    load_recipients,
)
from tracker.services.reminders.outbox import (
    CLAIM_TIMEOUT,
    RETRY,
    SENDABLE,
    RunReport,
    claim_batch,
    id_list,
    in_ids,
    in_states,
    recipients_with_due_items,
    refresh_claims,
    release_claims,
    sendable,
)
from tracker.services.reminders.subscriptions import list_unsubscribe_headers
from tracker.vocabulary import DeliveryStatus, DigestStatus, MailOutcome

logger = logging.getLogger(__name__)

#: recipients one INSERT claims (one commit makes the claims durable)
CLAIM_BATCH = 200
#: answers recorded with one commit: every RECORD_EVERY digests or RECORD_SECONDS
RECORD_EVERY = 100
RECORD_SECONDS = 1.0
#: SMTP connections a run sends on at once, one sending thread each
SENDERS = 2
#: messages handed to the senders and not answered yet, at most
IN_FLIGHT = 8
#: a batch's claims are refreshed once they are this old (well before CLAIM_TIMEOUT)
REFRESH_SECONDS = CLAIM_TIMEOUT.total_seconds() / 3


def mail_enabled() -> bool:
    return mail.mail_enabled()


def build_message(digest: ComposedDigest, token: str) -> EmailMessage:
    return mail.build_automatic_message(
        digest.to,
        digest.subject,
        digest.text_body,
        digest.html_body,
        message_key=f"reminders.{token}",
        headers=list_unsubscribe_headers(digest.list_unsubscribe_url),
    )


# --- recording the answer --------------------------------------------------------------------


def _outcome(result: SendResult, rows: list, now: datetime, report: RunReport):
    """The digest's status and the values its items take, counted in the report."""
    if result.outcome == MailOutcome.SENT:
        report.digests_sent += 1
        report.items_sent += len(rows)
        return DigestStatus.SENT, {"status": DeliveryStatus.SENT, "sent_dt": now, "last_error": ""}
    failed = {"attempts": ReminderItem.attempts + 1, "last_error": result.error[:2000]}
    # No answer, or "try again later": back off; a 5xx, or too many attempts: give up.
    attempts = max(row.attempts for row in rows) + 1
    retry_at = RETRY.next_attempt(result.outcome, attempts, now)
    if retry_at is None:
        report.digests_failed += 1
        return DigestStatus.FAILED, {"status": DeliveryStatus.FAILED, **failed}
    report.digests_retry += 1
    failed["next_attempt_dt"] = retry_at
    return DigestStatus.RETRY, {"status": DeliveryStatus.RETRY, **failed}


def _record_answers(session: Session, answered: list, now: datetime, report: RunReport) -> None:
    """One digest row per answered digest (one executemany, returning their ids), one
    executemany UPDATE for the items of the digests the server accepted, one UPDATE per
    digest it did not (a few, with their own attempts and backoff), and the claims deleted
    (one DELETE). An item is marked only while it is still pending or to retry: one that
    another run sent or failed meanwhile (after taking over a claim thought stale, see
    services.reminders.jobs) keeps that record."""
    if not answered:
        return
    digests, sent, other = [], [], []
    for claimed, result in answered:
        status, values = _outcome(result, claimed.rows, now, report)
        digests.append(
            {
                "recipient_id": claimed.recipient.id,
                "claim_token": claimed.token,
                "status": status,
                "email": claimed.recipient.email,
                "locale": claimed.digest.locale,
                "subject": claimed.digest.subject,
                "item_count": len(claimed.rows),
                "smtp_code": result.code,
                "error": result.error[:2000],
                "created_dt": now,
                "finished_dt": now,
            }
        )
        if status == DigestStatus.SENT:
            sent.append(claimed)
        else:
            other.append((claimed, values))
        _log_failure(claimed.recipient, result)
    table = ReminderDigest.__table__
    ids = dict(
        session.execute(table.insert().returning(table.c.claim_token, table.c.id), digests).all()
    )
    items = ReminderItem.__table__
    # each digest's items by their ids (the primary key), among the sendable states
    still_sendable = and_(in_ids(session, items.c.id, "ids"), in_states(items.c.status, SENDABLE))
    if sent:
        session.execute(
            items.update()
            .where(still_sendable)
            .values(
                digest_id=bindparam("digest"),
                status=str(DeliveryStatus.SENT),
                sent_dt=now,
                last_error="",
            ),
            [_digest_items(session, claimed, ids) for claimed in sent],
        )
    for claimed, values in other:
        session.execute(
            items.update().where(still_sendable).values(digest_id=bindparam("digest"), **values),
            _digest_items(session, claimed, ids),
        )
    release_claims(session, [claimed.token for claimed, _result in answered])


def _digest_items(session: Session, claimed: _Digest, ids: dict) -> dict:
    """The parameters that name a digest's items (their ids) and the digest's row."""
    return {"ids": id_list(session, [row.id for row in claimed.rows]), "digest": ids[claimed.token]}


# --- a run's delivery ------------------------------------------------------------------------


def _log_failure(recipient: Recipient, result: SendResult) -> None:
    if result.outcome == MailOutcome.UNREACHABLE:
        logger.warning("Mail server unreachable; the remaining reminders wait: %s", result.error)
    elif result.outcome != MailOutcome.SENT:
        logger.warning(
            "Reminder digest to %s not delivered (%s): %s",
            recipient.email,
            result.outcome,
            result.error,
        )


@dataclass
class _Digest:
    """A claimed recipient's digest, composed, and (once started) the server's answer."""

    recipient: Recipient
    digest: ComposedDigest
    rows: list
    token: str
    answer: Future | None = None


class _Senders:
    """SENDERS threads, each sending on an SMTP connection of its own."""

    def __init__(self, config) -> None:
        self.config = config
        self.local = threading.local()
        self.lock = threading.Lock()
        self.senders: list[SmtpSender] = []
        self.pool = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="reminder-mail")

    def _send(self, message: EmailMessage) -> SendResult:
        sender = getattr(self.local, "sender", None)
        if sender is None:
            sender = self.local.sender = SmtpSender(self.config)
            with self.lock:
                self.senders.append(sender)
        return sender.send(message)

    def start(self, claimed: _Digest) -> _Digest:
        """Hand the message to a sending thread (it is built here: it needs the app)."""
        try:
            message = build_message(claimed.digest, claimed.token)
        except ValueError as error:
            claimed.answer = Future()
            claimed.answer.set_result(SendResult(MailOutcome.REJECTED, None, str(error)))
            return claimed
        claimed.answer = self.pool.submit(self._send, message)
        return claimed

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for sender in self.senders:
            sender.close()


@dataclass
class _Run:
    """One delivery run: the digests in flight, the answers not recorded yet, and the
    claims held (claimed, not recorded)."""

    session: Session
    now: datetime
    report: RunReport
    senders: _Senders
    in_flight: deque = field(default_factory=deque)
    answered: list = field(default_factory=list)
    held: set = field(default_factory=set)
    recorded_at: float = field(default_factory=time.monotonic)
    refreshed_at: float = field(default_factory=time.monotonic)
    stopped: bool = False

    def claim(self, recipient_ids: list[int]) -> dict[str, list]:
        """Claim the batch's items (durable before anything is sent): rows by token, in
        the order of the recipients."""
        self.record()
        by_token = claim_batch(self.session, recipient_ids, self.now, ITEM_COLUMNS)
        self.session.commit()
        self.refreshed_at = time.monotonic()
        self.held.update(by_token)
        return by_token

    def send(self, claimed: _Digest) -> None:
        self.in_flight.append(self.senders.start(claimed))
        while self.in_flight and (
            len(self.in_flight) >= IN_FLIGHT or self.in_flight[0].answer.done()
        ):
            self._collect()
        if (
            len(self.answered) >= RECORD_EVERY
            or time.monotonic() - self.recorded_at >= RECORD_SECONDS
        ):
            self.record()

    def _collect(self) -> None:
        sent = self.in_flight.popleft()
        result = sent.answer.result()
        self.answered.append((sent, result))
        if result.outcome == MailOutcome.UNREACHABLE:
            self.report.stopped_early = True
            self.stopped = True

    def drain(self) -> None:
        """Wait for every answer in flight."""
        while self.in_flight:
            self._collect()

    def record(self) -> None:
        """Write the answers so far (one commit); refresh the claims still held once they
        are getting old."""
        answered, self.answered = self.answered, []
        _record_answers(self.session, answered, self.now, self.report)
        self.held.difference_update(claimed.token for claimed, _result in answered)
        if self.held and time.monotonic() - self.refreshed_at >= REFRESH_SECONDS:
            refresh_claims(self.session, sorted(self.held))
            self.refreshed_at = time.monotonic()
        self.session.commit()
        self.recorded_at = time.monotonic()

    def release(self, tokens: list[str]) -> None:
        """Claims this run will not send (it stopped): the items wait for the next run."""
        release_claims(self.session, tokens)
        self.held.difference_update(tokens)
        self.session.commit()

    def wind_up(self) -> None:
        """After an error: the answers the server gave are recorded; claims not answered
        are kept until they are recovered (see the module's docstring)."""
        self.in_flight_answers()
        self.session.rollback()
        self.record()

    def in_flight_answers(self) -> None:
        for claimed in self.in_flight:
            try:
                self.answered.append((claimed, claimed.answer.result()))
            except Exception:  # a sending thread's error: no answer to record
                logger.exception("Reminder digest to %s: no answer", claimed.recipient.email)
        self.in_flight.clear()


def _deliver_batch(run: _Run, recipients, batch, cache, details) -> None:
    claimed = run.claim(batch)
    cache.fill([row for rows in claimed.values() for row in rows])
    # end the read: on SQLite a transaction outside a request holds the write lock
    # (tracker.database), which another delivery process is waiting for
    run.session.commit()
    for token, rows in claimed.items():
        if run.stopped:
            break
        recipient = recipients[rows[0].recipient_id]
        digest = compose_digest(recipient, cache.items(rows), details)
        run.send(_Digest(recipient, digest, rows, token))
    if run.stopped:
        run.drain()
        answered = {claimed.token for claimed, _result in run.answered}
        run.release([t for t in claimed if t in run.held and t not in answered])


def deliver_due(session: Session, now: datetime, report: RunReport) -> None:
    """Deliver every digest due now: in this process, and for a large run in more
    processes beside it (`delivery_processes`), which take the run's batches of recipients
    from a shared counter (`SharedBatches`). A claim is atomic, so the processes never
    send the same item (services.reminders.outbox). The other processes' figures are added
    to `report`; an error in any of them is raised once all have finished."""
    recipient_ids = recipients_with_due_items(session, now)
    session.commit()
    config = current_app.config
    processes = delivery_processes(len(recipient_ids), config, session.get_bind().url)
    if processes == 1:
        deliver_recipients(session, now, report, recipient_ids)
        return
    report.delivery_processes = processes
    factory = current_app.extensions["app_factory"]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked threads
    taken = context.Value("q", 0)  # recipients handed out so far, with a lock of its own
    with ProcessPoolExecutor(
        processes - 1, mp_context=context, initializer=_share_counter, initargs=(taken,)
    ) as pool:
        others = [
            pool.submit(deliver_in_process, factory, dict(config), recipient_ids, now, CLAIM_BATCH)
            for _ in range(processes - 1)
        ]
        try:
            batches = SharedBatches(taken, recipient_ids, CLAIM_BATCH)
            deliver_recipients(session, now, report, recipient_ids, batches)
        finally:
            error = _add_figures(others, report)
    if error is not None:
        raise error


def delivery_processes(recipients: int, config, database_url) -> int:
    """How many processes deliver a run: REMINDER_DELIVERY_PROCESSES at most, and
    REMINDER_RECIPIENTS_PER_PROCESS recipients each at least (a process takes a second or
    two to start). SQLite in memory is one process's alone: one process."""
    per_process = max(config["REMINDER_RECIPIENTS_PER_PROCESS"], 1)
    wanted = min(config["REMINDER_DELIVERY_PROCESSES"], recipients // per_process)
    if wanted <= 1 or is_sqlite_in_memory(database_url):
        return 1
    return wanted


class SharedBatches:
    """A run's batches of recipients, handed out by a counter that the run's delivery
    processes share: each batch goes to one process, whichever asks first."""

    def __init__(self, taken, recipient_ids: list[int], batch: int) -> None:
        self.taken = taken  # a multiprocessing.Value: the recipients handed out so far
        self.recipient_ids = recipient_ids
        self.batch = batch

    def __iter__(self) -> Iterator[list[int]]:
        while True:
            with self.taken.get_lock():
                start = self.taken.value
                self.taken.value = start + self.batch
            if start >= len(self.recipient_ids):
                return
            yield self.recipient_ids[start : start + self.batch]


#: the counter of the run that started this delivery process (set as it starts)
_taken = None


def _share_counter(taken) -> None:
    global _taken
    _taken = taken


def deliver_in_process(
    app_factory, config: dict, recipient_ids: list[int], now: datetime, batch: int
):
    """A delivery process: builds the app with the run's configuration and delivers the
    batches of `recipient_ids` it takes from the run's counter; returns its figures
    (RunReport.delivery_figures)."""
    app = app_factory(config)
    with app.app_context():
        session = db.session
        report = RunReport(
            now=now, today=baku_date(now), dry_run=False, mail_enabled=True, planning=False
        )
        try:
            batches = SharedBatches(_taken, recipient_ids, batch)
            deliver_recipients(session, now, report, recipient_ids, batches)
        finally:
            session.remove()
            db.engine.dispose()
    return report.delivery_figures()


def _add_figures(others: list[Future], report: RunReport) -> BaseException | None:
    """Wait for the other delivery processes and add their figures; returns the first
    error one of them raised (logged), if any."""
    first_error = None
    for future in others:
        try:
            report.add_delivery(future.result())
        except Exception as error:
            logger.exception("Reminder run: a delivery process failed")
            first_error = first_error or error
    return first_error


def _batches(recipient_ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(recipient_ids), size):
        yield recipient_ids[start : start + size]


def deliver_recipients(
    session: Session,
    now: datetime,
    report: RunReport,
    recipient_ids: list[int],
    batches: Iterable[list[int]] | None = None,
) -> None:
    """Claim, send and record one digest per recipient of `recipient_ids`, in batches of
    CLAIM_BATCH recipients (or the batches `batches` hands out): one claim and one
    commit per batch, answers recorded every RECORD_EVERY digests or RECORD_SECONDS. After
    a connection failure the batch's claims not sent yet are released, and the run stops."""
    details = DetailCache()
    cache = InfoCache(session)
    recipients = load_recipients(session, recipient_ids)
    session.commit()
    senders = _Senders(current_app.config)
    run = _Run(session, now, report, senders)
    try:
        if batches is None:
            batches = _batches(recipient_ids, CLAIM_BATCH)
        for batch in batches:
            if run.stopped:
                break
            _deliver_batch(run, recipients, batch, cache, details)
        run.drain()
        run.record()
    except BaseException:
        try:
            run.wind_up()
        except Exception:
            logger.exception("Reminder run: the answers could not be recorded")
        raise
    finally:
        senders.close()


def preview_digests(session: Session, now: datetime) -> list[ComposedDigest]:
    """The digests a run would send now, composed but not claimed or sent (dry run)."""
    details = DetailCache()
    cache = InfoCache(session)
    rows = session.execute(
        select(*ITEM_COLUMNS)
        .join(User, User.id == ReminderItem.recipient_id)
        .where(sendable(now), User.is_enabled.is_(True))
        .order_by(ReminderItem.recipient_id, ReminderItem.id)
    ).all()
    by_recipient: dict[int, list] = defaultdict(list)
    for row in rows:
        by_recipient[row.recipient_id].append(row)
    recipients = load_recipients(session, sorted(by_recipient))
    cache.fill(rows)
    return [
        compose_digest(recipients[recipient_id], cache.items(by_recipient[recipient_id]), details)
        for recipient_id in sorted(by_recipient)
    ]
