"""Reminder digests: one email per person per run, in that person's language, grouped by
kind, with direct links and a signed unsubscribe link per kind, and their delivery.

Sending: one SMTP connection serves a whole run (tracker.services.mail.SmtpSender, the one
sender of every email), checked with NOOP before each reuse so that a message is never
sent twice on a connection the server had dropped. A message counts as sent only when the
server answered 250 to its data. The answer is classified for services.reminders: 4xx →
retry later; 5xx → failed for good; no answer (connection refused or dropped, timeout, TLS
or login failure) → retry later and stop this run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from tracker.models import (
    ActionPlan,
    Measure,
    Milestone,
    Organisation,
    ReminderDigest,
    ReminderItem,
    User,
)
from tracker.services import mail
from tracker.services.mail import SendResult, SmtpSender
from tracker.services.reminders.planning import (
    MAX_ATTEMPTS,
    RunReport,
    _sendable,
    claim_items,
    make_unsubscribe_token,
    recipients_with_due_items,
    retry_delay,
)
from tracker.vocabulary import (
    REMINDER_KIND_LABELS,
    DeliveryStatus,
    DigestStatus,
    MailOutcome,
    ReminderKind,
)

logger = logging.getLogger(__name__)

#: the order of a digest's sections: what needs acting on first
KIND_ORDER = (
    ReminderKind.OVERDUE,
    ReminderKind.UPDATE_RETURNED,
    ReminderKind.REVIEW_WAITING,
    ReminderKind.DEADLINE_APPROACHING,
    ReminderKind.UPDATE_STALE,
)


def mail_enabled() -> bool:
    return mail.mail_enabled()


class LinkBuilder:
    """Absolute links to the app's pages for emails, built from PUBLIC_BASE_URL without a
    request (a run happens in the scheduler or on the command line)."""

    def __init__(self, app: Flask) -> None:
        base = urlsplit(app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000")
        self._adapter = app.url_map.bind(
            base.netloc or "127.0.0.1:5000",
            script_name=base.path or "/",
            url_scheme=base.scheme or "http",
        )
        self._endpoints = app.view_functions

    def url(self, endpoint: str, **values) -> str | None:
        if endpoint not in self._endpoints:
            return None
        try:
            return self._adapter.build(endpoint, values, force_external=True)
        except BuildError:
            return None

    def first(self, *candidates: tuple[str, dict]) -> str | None:
        for endpoint, values in candidates:
            found = self.url(endpoint, **values)
            if found:
                return found
        return None


def link_candidates(item: ReminderItem | DigestItem) -> list[tuple[str, dict]]:
    """Where a reminder's link goes, best first: the page where the person can act on it,
    then the measure's public page. Endpoints an area has not (yet) built are skipped."""
    candidates: list[tuple[str, dict]] = []
    if item.kind == ReminderKind.UPDATE_RETURNED and item.update_id:
        candidates.append(("monitor.revise_update", {"update_id": item.update_id}))
    elif item.kind == ReminderKind.REVIEW_WAITING and item.update_id:
        candidates.append(("review.item", {"update_id": item.update_id}))
    elif item.kind in (ReminderKind.UPDATE_STALE, ReminderKind.OVERDUE):
        candidates.append(("monitor.new_update", {"measure_id": item.measure_id}))
    measure = item.measure
    candidates.append(("public.measure", {"key": measure.plan.key, "code": measure.code}))
    return candidates


def item_link(item: ReminderItem | DigestItem, links: LinkBuilder) -> str:
    return links.first(*link_candidates(item)) or links.url("notifications.index") or ""


def _long_date(day: date) -> str:
    return format_date(day, "long")


def item_detail(item: ReminderItem | DigestItem, locale: str) -> str:
    """One sentence saying what the reminder is about, in the current language."""
    day = _long_date(item.reference_date)
    days = item.day_count
    organisation = item.organisation.name(locale) if item.organisation else ""
    kind = item.kind
    if kind == ReminderKind.DEADLINE_APPROACHING:
        if item.milestone is not None:
            title = (
                item.milestone.title_en
                if locale == "en" and item.milestone.title_en
                else (item.milestone.title_az)
            )
            return ngettext(
                "Milestone “%(milestone)s” is due on %(date)s: %(num)d day left.",
                "Milestone “%(milestone)s” is due on %(date)s: %(num)d days left.",
                days,
                milestone=title,
                date=day,
            )
        return ngettext(
            "Due on %(date)s: %(num)d day left.",
            "Due on %(date)s: %(num)d days left.",
            days,
            date=day,
        )
    if kind == ReminderKind.OVERDUE:
        if days == 0:
            return _("Due today (%(date)s) and not complete.", date=day)
        return ngettext(
            "Due on %(date)s: %(num)d day overdue and not complete.",
            "Due on %(date)s: %(num)d days overdue and not complete.",
            days,
            date=day,
        )
    if kind == ReminderKind.UPDATE_STALE:
        return ngettext(
            "%(organisation)s has no approved update since %(date)s (%(num)d day).",
            "%(organisation)s has no approved update since %(date)s (%(num)d days).",
            days,
            organisation=organisation,
            date=day,
        )
    if kind == ReminderKind.UPDATE_RETURNED:
        return _(
            "A reviewer returned the update of %(organisation)s on %(date)s. Revise it and "
            "submit it again.",
            organisation=organisation,
            date=day,
        )
    return ngettext(
        "The update of %(organisation)s has waited for review since %(date)s (%(num)d day).",
        "The update of %(organisation)s has waited for review since %(date)s (%(num)d days).",
        days,
        organisation=organisation,
        date=day,
    )


# --- what a digest says ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInfo:
    key: str


@dataclass(frozen=True)
class MeasureInfo:
    """What a digest needs of a measure, kept across commits (no lazy loads per item)."""

    id: int
    code: str
    position: int
    title_az: str
    title_en: str
    plan: PlanInfo

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_az


@dataclass(frozen=True)
class OrganisationInfo:
    name_az: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_az


@dataclass(frozen=True)
class MilestoneInfo:
    title_az: str
    title_en: str


@dataclass(frozen=True)
class DigestItem:
    """A reminder item as a digest shows it: the same attributes `item_detail` and
    `link_candidates` read on a ReminderItem."""

    id: int
    kind: str
    measure_id: int
    update_id: int | None
    reference_date: date
    day_count: int
    measure: MeasureInfo
    organisation: OrganisationInfo | None
    milestone: MilestoneInfo | None


class InfoCache:
    """Measures, organisations and milestones a run has met, loaded once each: one query
    per kind of record per batch of new ids, not one per item."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.measures: dict[int, MeasureInfo] = {}
        self.organisations: dict[int, OrganisationInfo] = {}
        self.milestones: dict[int, MilestoneInfo] = {}

    def _missing(self, ids, known) -> list[int]:
        return sorted({i for i in ids if i is not None and i not in known})

    def fill(self, rows) -> None:
        measure_ids = self._missing((r.measure_id for r in rows), self.measures)
        for start in range(0, len(measure_ids), 1000):
            for row in self.session.execute(
                select(
                    Measure.id,
                    Measure.code,
                    Measure.position,
                    Measure.title_az,
                    Measure.title_en,
                    ActionPlan.key,
                )
                .join(ActionPlan, ActionPlan.id == Measure.plan_id)
                .where(Measure.id.in_(measure_ids[start : start + 1000]))
            ):
                self.measures[row.id] = MeasureInfo(
                    row.id, row.code, row.position, row.title_az, row.title_en, PlanInfo(row.key)
                )
        organisation_ids = self._missing((r.organisation_id for r in rows), self.organisations)
        for start in range(0, len(organisation_ids), 1000):
            for row in self.session.execute(
                select(Organisation.id, Organisation.name_az, Organisation.name_en).where(
                    Organisation.id.in_(organisation_ids[start : start + 1000])
                )
            ):
                self.organisations[row.id] = OrganisationInfo(row.name_az, row.name_en)
        milestone_ids = self._missing((r.milestone_id for r in rows), self.milestones)
        if milestone_ids:
            for row in self.session.execute(
                select(Milestone.id, Milestone.title_az, Milestone.title_en).where(
                    Milestone.id.in_(milestone_ids)
                )
            ):
                self.milestones[row.id] = MilestoneInfo(row.title_az, row.title_en)

    def items(self, rows) -> list[DigestItem]:
        self.fill(rows)
        return [
            DigestItem(
                id=row.id,
                kind=row.kind,
                measure_id=row.measure_id,
                update_id=row.update_id,
                reference_date=row.reference_date,
                day_count=row.day_count,
                measure=self.measures[row.measure_id],
                organisation=self.organisations.get(row.organisation_id),
                milestone=self.milestones.get(row.milestone_id),
            )
            for row in rows
        ]


_ITEM_COLUMNS = (
    ReminderItem.id,
    ReminderItem.recipient_id,
    ReminderItem.kind,
    ReminderItem.measure_id,
    ReminderItem.organisation_id,
    ReminderItem.milestone_id,
    ReminderItem.update_id,
    ReminderItem.reference_date,
    ReminderItem.day_count,
    ReminderItem.attempts,
)


@dataclass(frozen=True)
class DigestEntry:
    item_id: int
    code: str
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class DigestSection:
    kind: ReminderKind
    heading: str
    entries: tuple[DigestEntry, ...]
    unsubscribe_url: str


@dataclass(frozen=True)
class ComposedDigest:
    recipient_id: int
    to: str
    locale: str
    subject: str
    sections: tuple[DigestSection, ...]
    text_body: str
    html_body: str

    @property
    def item_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    locale: str
    display_name: str


class DetailCache:
    """Sentences repeat across a run (the same due date, the same days left): format each
    once per language."""

    def __init__(self) -> None:
        self._done: dict[tuple, str] = {}

    def __call__(self, item, locale: str) -> str:
        key = (
            locale,
            item.kind,
            item.reference_date,
            item.day_count,
            item.organisation,
            item.milestone,
        )
        if key not in self._done:
            self._done[key] = item_detail(item, locale)
        return self._done[key]


def compose_digest(
    recipient: Recipient,
    items: list[DigestItem],
    links: LinkBuilder,
    details: DetailCache | None = None,
) -> ComposedDigest:
    locale = recipient.locale if recipient.locale in ("az", "en") else "az"
    details = details or DetailCache()
    by_kind: dict[str, list[DigestItem]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    with force_locale(locale):
        sections = tuple(
            DigestSection(
                kind=kind,
                heading=str(REMINDER_KIND_LABELS[kind]),
                entries=tuple(
                    DigestEntry(
                        item_id=item.id,
                        code=item.measure.code,
                        title=item.measure.title(locale),
                        detail=details(item, locale),
                        url=item_link(item, links),
                    )
                    for item in sorted(
                        by_kind[kind], key=lambda i: (i.reference_date, i.measure.position, i.id)
                    )
                ),
                unsubscribe_url=links.url(
                    "notifications.unsubscribe",
                    token=make_unsubscribe_token(recipient.id, kind),
                )
                or "",
            )
            for kind in KIND_ORDER
            if by_kind.get(kind)
        )
        count = sum(len(s.entries) for s in sections)
        subject = ngettext(
            "%(num)d reminder from the Open Government Tracker",
            "%(num)d reminders from the Open Government Tracker",
            count,
        )
        context = {
            "recipient": recipient,
            "sections": sections,
            "notifications_url": links.url("notifications.index") or "",
            "subject": subject,
            "lang": locale,
        }
        text_body = render_template("email/reminder_digest.txt", **context)
        html_body = render_template("email/reminder_digest.html", **context)
    return ComposedDigest(
        recipient_id=recipient.id,
        to=recipient.email,
        locale=locale,
        subject=subject,
        sections=sections,
        text_body=text_body,
        html_body=html_body,
    )


# --- sending ---------------------------------------------------------------------------------


def build_message(digest: ComposedDigest, token: str) -> EmailMessage:
    domain = mail.sender_address().rpartition("@")[2] or "localhost"
    return mail.build_message(
        digest.to,
        digest.subject,
        digest.text_body,
        digest.html_body,
        # Derived from the claim: a copy the server gets twice (see the stale-claim policy)
        # carries the same Message-ID, so mail systems can drop the duplicate.
        message_id=f"<reminders.{token}@{domain}>",
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


def send_digest(sender: SmtpSender, digest: ComposedDigest, token: str) -> SendResult:
    try:
        message = build_message(digest, token)
    except ValueError as error:
        return SendResult(MailOutcome.REJECTED, None, str(error))
    return sender.send(message)


# --- a run's delivery ------------------------------------------------------------------------


def _recipients(session: Session, ids: list[int]) -> dict[int, Recipient]:
    found: dict[int, Recipient] = {}
    for start in range(0, len(ids), 1000):
        for row in session.execute(
            select(User.id, User.email, User.locale, User.display_name).where(
                User.id.in_(ids[start : start + 1000])
            )
        ):
            found[row.id] = Recipient(row.id, row.email, row.locale, row.display_name)
    return found


def _record_outcome(
    session: Session,
    recipient: Recipient,
    digest: ComposedDigest,
    rows: list,
    token: str,
    result: SendResult,
    now: datetime,
    report: RunReport,
) -> None:
    """One digest row for the attempt, and one UPDATE for its items."""
    record = ReminderDigest(
        recipient_id=recipient.id,
        claim_token=token,
        email=recipient.email,
        locale=digest.locale,
        subject=digest.subject,
        item_count=len(rows),
        smtp_code=result.code,
        error=result.error[:2000],
        created_dt=now,
        finished_dt=now,
    )
    claimed = update(ReminderItem).where(ReminderItem.claim_token == token)
    if result.outcome == MailOutcome.SENT:
        record.status = DigestStatus.SENT
        values = {"status": DeliveryStatus.SENT, "sent_dt": now, "last_error": ""}
        report.digests_sent += 1
        report.items_sent += len(rows)
    elif result.outcome == MailOutcome.REJECTED:
        record.status = DigestStatus.FAILED
        values = {
            "status": DeliveryStatus.FAILED,
            "attempts": ReminderItem.attempts + 1,
            "last_error": result.error[:2000],
        }
        report.digests_failed += 1
    else:
        attempts = max(row.attempts for row in rows) + 1
        gave_up = attempts >= MAX_ATTEMPTS
        record.status = DigestStatus.FAILED if gave_up else DigestStatus.RETRY
        values = {
            "status": DeliveryStatus.FAILED if gave_up else DeliveryStatus.RETRY,
            "attempts": ReminderItem.attempts + 1,
            "next_attempt_dt": now + retry_delay(attempts),
            "last_error": result.error[:2000],
        }
        if gave_up:
            report.digests_failed += 1
        else:
            report.digests_retry += 1
    session.add(record)
    session.flush()
    session.execute(claimed.values(digest_id=record.id, **values))


def _claimed_rows(session: Session, token: str) -> list:
    return list(
        session.execute(
            select(*_ITEM_COLUMNS)
            .where(ReminderItem.claim_token == token)
            .order_by(ReminderItem.id)
        )
    )


def deliver_due(session: Session, now: datetime, report: RunReport) -> None:
    """Claim, send and record one digest per recipient, committing after each send."""
    links = LinkBuilder(current_app)
    details = DetailCache()
    cache = InfoCache(session)
    sender = SmtpSender(current_app.config)
    recipient_ids = recipients_with_due_items(session, now)
    recipients = _recipients(session, recipient_ids)
    session.commit()
    try:
        for recipient_id in recipient_ids:
            token, claimed = claim_items(session, recipient_id, now)
            # The claim is durable before anything is sent.
            session.commit()
            if not claimed:
                continue
            rows = _claimed_rows(session, token)
            recipient = recipients[recipient_id]
            digest = compose_digest(recipient, cache.items(rows), links, details)
            result = send_digest(sender, digest, token)
            _record_outcome(session, recipient, digest, rows, token, result, now, report)
            session.commit()
            if result.outcome == MailOutcome.UNREACHABLE:
                logger.warning(
                    "Mail server unreachable; the remaining reminders wait: %s", result.error
                )
                report.stopped_early = True
                break
            if result.outcome != MailOutcome.SENT:
                logger.warning(
                    "Reminder digest to %s not delivered (%s): %s",
                    recipient.email,
                    result.outcome,
                    result.error,
                )
    finally:
        sender.close()


def preview_digests(session: Session, now: datetime) -> list[ComposedDigest]:
    """The digests a run would send now, composed but not claimed or sent (dry run)."""
    links = LinkBuilder(current_app)
    details = DetailCache()
    cache = InfoCache(session)
    rows = session.execute(
        select(*_ITEM_COLUMNS)
        .join(User, User.id == ReminderItem.recipient_id)
        .where(_sendable(now), User.is_enabled.is_(True))
        .order_by(ReminderItem.recipient_id, ReminderItem.id)
    ).all()
    by_recipient: dict[int, list] = defaultdict(list)
    for row in rows:
        by_recipient[row.recipient_id].append(row)
    recipients = _recipients(session, sorted(by_recipient))
    return [
        compose_digest(
            recipients[recipient_id], cache.items(by_recipient[recipient_id]), links, details
        )
        for recipient_id in sorted(by_recipient)
    ]
