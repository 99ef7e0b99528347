"""Delivery in batches (services.reminders.delivery): one claim for many recipients,
answers recorded together, and still exactly once: with two runs at the same moment, after
a crash in the middle of a batch, and when the server goes away in the middle of one."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.reminders.conftest import (
    baku,
    link,
    make_organisation,
    make_user,
    measures_due,
    reminder_item_reads,
)
from tracker import clock
from tracker.extensions import db
from tracker.models import ReminderClaim, ReminderDigest, ReminderItem
from tracker.services import reminders
from tracker.services.mail import SendResult, SmtpSender
from tracker.services.reminders import delivery, outbox, run_reminders
from tracker.services.reminders.digests import ITEM_COLUMNS
from tracker.vocabulary import MailOutcome, ReminderKind

NOW = "2022-10-02T09:00"


@pytest.fixture
def people(seeded) -> list[str]:
    """Twelve organisations with one monitor each, monitoring two measures due 2022-12-31:
    12 digests of 4 reminders (2 deadline, 2 no recent update)."""
    measures = measures_due(2022)[:2]
    addresses = []
    for n in range(12):
        organisation = make_organisation(f"Birlik {n:02d}")
        addresses.append(make_user(f"m{n:02d}@example.org", organisation=organisation).email)
        for measure in measures:
            link(organisation, measure)
    db.session.commit()
    return addresses


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of five recipients, one message at a time, answers recorded at the end of a
    run (unless it stops): the steps of a run happen in a known order."""
    monkeypatch.setattr(delivery, "CLAIM_BATCH", 5)
    monkeypatch.setattr(delivery, "SENDERS", 1)
    monkeypatch.setattr(delivery, "IN_FLIGHT", 1)
    monkeypatch.setattr(delivery, "RECORD_EVERY", 1000)
    monkeypatch.setattr(delivery, "RECORD_SECONDS", 3600)


def plan() -> int:
    now = baku(NOW)
    planned, _new = reminders.plan_outbox(db.session, now.date(), now)
    db.session.commit()
    return planned


def statuses() -> Counter:
    rows = db.session.execute(
        select(ReminderItem.status, func.count()).group_by(ReminderItem.status)
    ).all()
    return Counter({str(status): count for status, count in rows})


def recipient_ids(addresses: list[str]) -> list[int]:
    return sorted(db.session.scalars(select(ReminderItem.recipient_id).distinct()).all())[
        : len(addresses)
    ]


def test_a_batch_claim_takes_each_item_once(people, smtp):
    planned = plan()
    ids = recipient_ids(people)
    now = baku(NOW)
    first = outbox.claim_batch(db.session, ids[:8], now, ITEM_COLUMNS)
    db.session.commit()
    second = outbox.claim_batch(db.session, ids, now, ITEM_COLUMNS)
    db.session.commit()
    rows = [row for claimed in (first, second) for items in claimed.values() for row in items]
    assert len(first) == 8 and len(second) == 4 and len(rows) == 12 * 4
    assert len({row.id for row in rows}) == len(rows)
    # one claim token per recipient, shared by nothing else; its items are its own, by id
    tokens = {token: items[0].recipient_id for token, items in (first | second).items()}
    assert sorted(tokens.values()) == ids and list(tokens.values()) == ids
    assert claims() == tokens
    for token, items in (first | second).items():
        assert {row.recipient_id for row in items} == {tokens[token]}
        assert [row.id for row in items] == sorted(row.id for row in items)
    # kinds are read as their text, which equals the enum member
    assert {row.kind for row in rows} <= set(ReminderKind) and type(rows[0].kind) is str
    # the items are untouched until the answers are recorded; a held recipient is skipped
    assert statuses() == Counter({"pending": planned})
    assert outbox.claim_batch(db.session, ids, now, ITEM_COLUMNS) == {}


def test_a_recipient_without_sendable_items_keeps_no_claim(people, smtp):
    plan()
    ids = recipient_ids(people)
    now = baku(NOW)
    first = outbox.claim_batch(db.session, ids[:2], now, ITEM_COLUMNS)
    db.session.commit()
    db.session.execute(
        update(ReminderItem).where(ReminderItem.recipient_id == ids[1]).values(status="sent")
    )
    outbox.release_claims(db.session, [list(first)[-1]])
    db.session.commit()
    assert outbox.claim_batch(db.session, ids[1:3], now, ITEM_COLUMNS)
    db.session.commit()
    # ids[1] has nothing left to send: no claim is kept for it
    assert sorted(claims().values()) == [ids[0], ids[2]]


def claims() -> dict[str, int]:
    """The claims held: token → recipient."""
    return dict(db.session.execute(select(ReminderClaim.token, ReminderClaim.recipient_id)).all())


#: the outbox's indexes that lead with the recipient: the sendable items', and the unique key
#: (as PostgreSQL and SQLite name it)
BY_RECIPIENT = {
    "ix_reminder_item_sendable",
    "uq_reminder_item_recipient_id_measure_id_kind_occurrence",
    "sqlite_autoindex_reminder_item_1",
}


def test_a_batch_claim_reads_only_its_recipients_sendable_items(people, smtp):
    """The claim reads a batch's items by recipient, in one read of the outbox. An earlier
    claim picked the items' ids by recipient and then matched them against every sendable
    item: on PostgreSQL a scan of the whole outbox per batch (1.0 s a claim at 950,000
    items; 0.5 s through the sendable items' index)."""
    plan()
    batch = recipient_ids(people)[:3]
    reads = []

    def explain(connection, _cursor, statement, parameters, _context, _many):
        if statement.startswith("SELECT") and "FROM reminder_item" in statement:
            reads.append(reminder_item_reads(connection, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        claimed = outbox.claim_batch(db.session, batch, baku(NOW), ITEM_COLUMNS)
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    db.session.rollback()
    assert [len(items) for items in claimed.values()] == [4, 4, 4]
    # one read of the outbox, by an index that starts with the recipient (which of the two
    # depends on the statistics of the moment); the old statement read it twice
    [[index]] = reads
    assert index in BY_RECIPIENT, reads


def test_two_runs_at_the_same_moment_send_each_digest_once(people, smtp, app, monkeypatch):
    monkeypatch.setattr(delivery, "CLAIM_BATCH", 3)
    planned = plan()
    start = threading.Barrier(2)

    def deliver(_n):
        with app.app_context():
            start.wait()
            try:
                return run_reminders(db.session, baku(NOW), plan=False)
            finally:
                db.session.remove()

    # two threads, each with a session of its own; an error in one fails the test here
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(deliver, range(2)))

    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert sum(r.digests_sent for r in reports) == len(people)
    assert sum(r.items_sent for r in reports) == planned
    assert statuses() == Counter({"sent": planned})
    assert db.session.scalar(select(func.count()).select_from(ReminderDigest)) == len(people)


def test_a_crash_in_the_middle_of_a_batch_leaves_claims_that_a_later_run_recovers(
    people, smtp, small_batches, monkeypatch
):
    planned = plan()
    compose = delivery.compose_digest
    composed = []

    def compose_then_crash(recipient, items, details):
        if len(composed) == 7:  # the third recipient of the second batch
            raise RuntimeError("the process dies")
        composed.append(recipient.email)
        return compose(recipient, items, details)

    monkeypatch.setattr(delivery, "compose_digest", compose_then_crash)
    with pytest.raises(RuntimeError):
        run_reminders(db.session, baku(NOW), plan=False)
    monkeypatch.setattr(delivery, "compose_digest", compose)

    # What the server accepted is recorded; the rest of the crashed batch stays claimed,
    # and the next batches were never claimed.
    assert smtp.recipients() == Counter({address: 1 for address in people[:7]})
    assert statuses() == Counter({"sent": 7 * 4, "pending": 5 * 4})
    crashed = recipient_ids(people)[7:10]
    assert sorted(claims().values()) == crashed

    # Too soon: a live process could still hold those claims; the others go out.
    soon = run_reminders(db.session, baku("2022-10-02T09:05"), plan=False)
    assert soon.recovered_claims == 0
    assert smtp.recipients() == Counter({a: 1 for a in people[:7] + people[10:]})
    assert sorted(claims().values()) == crashed

    db.session.execute(
        update(ReminderClaim).values(
            claimed_dt=clock.now_utc() - reminders.CLAIM_TIMEOUT - timedelta(minutes=1)
        )
    )
    db.session.commit()
    later = run_reminders(db.session, baku("2022-10-02T09:40"), plan=False)
    assert later.recovered_claims == 3
    assert later.items_sent == 3 * 4
    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert statuses() == Counter({"sent": planned})


def test_the_server_going_away_in_a_batch_releases_its_unsent_claims(
    people, smtp, small_batches, monkeypatch
):
    planned = plan()
    gone = people[6]  # the second recipient of the second batch

    class Dropping(SmtpSender):
        def send(self, message):
            if message["To"] == gone:
                return SendResult(MailOutcome.UNREACHABLE, None, "the connection failed")
            return super().send(message)

    monkeypatch.setattr(delivery, "SmtpSender", Dropping)
    report = run_reminders(db.session, baku(NOW), plan=False)
    assert report.stopped_early
    assert report.digests_sent == 6 and report.digests_retry == 1
    assert smtp.recipients() == Counter({address: 1 for address in people[:6]})

    items = db.session.execute(
        select(ReminderItem.recipient_id, ReminderItem.status, ReminderItem.attempts)
        .where(ReminderItem.status != "sent")
        .order_by(ReminderItem.recipient_id)
    ).all()
    by_status = Counter((str(status), attempts) for _recipient, status, attempts in items)
    # the one attempted: retry, one attempt; the other three of its batch: released
    # unattempted, as the last batch, never claimed
    assert by_status == Counter({("retry", 1): 4, ("pending", 0): 3 * 4 + 2 * 4})
    assert claims() == {}

    monkeypatch.setattr(delivery, "SmtpSender", SmtpSender)
    run_reminders(db.session, baku("2022-10-02T09:20"), plan=False)
    run_reminders(db.session, baku("2022-10-02T10:00"), plan=False)
    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert statuses() == Counter({"sent": planned})


@pytest.fixture
def three_processes(app):
    """Shares of four recipients at least, three processes at most: the twelve recipients
    of `people` go to this process and two others."""
    app.config.update(REMINDER_DELIVERY_PROCESSES=3, REMINDER_RECIPIENTS_PER_PROCESS=4)


def test_a_run_uses_several_processes_only_when_each_has_enough_recipients():
    config = {"REMINDER_DELIVERY_PROCESSES": 3, "REMINDER_RECIPIENTS_PER_PROCESS": 4}
    on_file = make_url("sqlite:////var/lib/tracker/tracker.db")
    assert delivery.delivery_processes(12, config, on_file) == 3
    # eleven recipients are enough for two processes of four at least
    assert delivery.delivery_processes(11, config, on_file) == 2
    assert delivery.delivery_processes(7, config, on_file) == 1
    single = {**config, "REMINDER_DELIVERY_PROCESSES": 1}
    assert delivery.delivery_processes(12, single, on_file) == 1
    # a database in memory belongs to one process
    assert delivery.delivery_processes(12, config, make_url("sqlite://")) == 1
    postgres = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert delivery.delivery_processes(12, config, postgres) == 3


def test_processes_sharing_a_counter_take_each_batch_once():
    """Each batch goes to whichever process asks first, once: here three iterators (as
    three processes would) take turns in an uneven order."""
    taken = multiprocessing.get_context("spawn").Value("q", 0)
    ids = list(range(100, 123))
    shares = [iter(delivery.SharedBatches(taken, ids, 5)) for _ in range(3)]
    handed: list[list[int]] = [[], [], []]
    for turn in (0, 0, 2, 1, 0, 2, 2, 1):
        handed[turn].extend(next(shares[turn], []))
    assert sorted(handed[0] + handed[1] + handed[2]) == ids
    assert [len(share) for share in handed] == [13, 5, 5]
    assert all(next(share, None) is None for share in shares)


def test_a_large_run_delivers_in_several_processes_each_digest_once(
    people, smtp, three_processes, monkeypatch
):
    planned = plan()
    # batches of one recipient; this process waits until another has taken a batch (the
    # others take a second or two to start), so the others surely deliver some
    monkeypatch.setattr(delivery, "CLAIM_BATCH", 1)
    mine: list[int] = []
    take = delivery.SharedBatches.__iter__

    def after_the_others(batches):
        deadline = time.monotonic() + 60
        while batches.taken.value == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        for batch in take(batches):
            mine.extend(batch)
            yield batch

    monkeypatch.setattr(delivery.SharedBatches, "__iter__", after_the_others)
    report = run_reminders(db.session, baku(NOW), plan=False)

    assert report.delivery_processes == 3 and len(mine) < len(people)
    assert report.digests_sent == len(people) and report.items_sent == planned
    assert "12 digests sent (48 reminders) by 3 processes" in report.summary()
    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert statuses() == Counter({"sent": planned})
    digests = db.session.execute(select(ReminderDigest.recipient_id, ReminderDigest.status)).all()
    assert len(digests) == len(people) and {str(status) for _r, status in digests} == {"sent"}

    again = run_reminders(db.session, baku("2022-10-02T15:00"), plan=False)
    assert again.digests_sent == 0 and again.delivery_processes == 1
    assert len(smtp.messages) == len(people)


def test_a_delivery_process_that_fails_loses_nothing(people, smtp, three_processes, app):
    planned = plan()
    # the other processes build the app from this configuration: a database they cannot open
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-folder/tracker.db",
        SQLALCHEMY_ENGINE_OPTIONS={},
    )

    with pytest.raises(OperationalError):
        run_reminders(db.session, baku(NOW), plan=False)

    # the others never started: this process took every batch, and the run still reports
    # their failure (nothing is half-done: each digest sent is recorded)
    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert statuses() == Counter({"sent": planned})

    app.config.update(REMINDER_DELIVERY_PROCESSES=1)
    run_reminders(db.session, baku("2022-10-02T09:20"), plan=False)
    assert smtp.recipients() == Counter({address: 1 for address in people})
    assert statuses() == Counter({"sent": planned})
