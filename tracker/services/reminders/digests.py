"""What a reminder digest says: one email per person per run, in that person's language,
each measure once with all the reasons it is there, a direct link per measure (and per
reason, where a reason's page is another), a signed unsubscribe link per kind, and a
one-click link (RFC 8058) that stops them all.

The same sentences and links serve the in-app notification list. Composing reads the
database only through `InfoCache` (one query per kind of record per batch, not per item)
and renders the email's two bodies; services.reminders.delivery sends them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.dates import show_date
from tracker.models import ActionPlan, Measure, Milestone, Organisation, ReminderItem, User
from tracker.models.types import in_language
from tracker.services.reminders.subscriptions import list_unsubscribe_url, make_unsubscribe_token
from tracker.vocabulary import REMINDER_KIND_LABELS, ReminderKind
from tracker.web.links import public_url

#: the order of a digest's sections: what needs acting on first
KIND_ORDER = (
    ReminderKind.OVERDUE,
    ReminderKind.UPDATE_RETURNED,
    ReminderKind.CLAIM_RETURNED,
    ReminderKind.UPDATE_SUBMITTED,
    ReminderKind.CLAIM_PROPOSED,
    ReminderKind.REVIEW_WAITING,
    ReminderKind.UPDATE_APPROVED,
    ReminderKind.CLAIM_APPROVED,
    ReminderKind.DEADLINE_APPROACHING,
    ReminderKind.UPDATE_STALE,
)
#: ids per IN (...) when loading what the items name
ID_CHUNK = 1000
#: measures a digest lists at most, the most pressing first; it counts the others and links
#: to the notifications page, which lists every reminder (an email stays readable, and a
#: run of thousands of digests stays quick)
DIGEST_MEASURES = 25


def link_target(item: ReminderItem | DigestItem) -> tuple[str, dict]:
    """Where a reminder's link goes, as (endpoint, values): the page where the person can
    act on it, else the measure's public page."""
    if item.kind == ReminderKind.UPDATE_RETURNED and item.update_id:
        return "monitor.revise_update", {"update_id": item.update_id}
    if item.kind in (ReminderKind.REVIEW_WAITING, ReminderKind.UPDATE_SUBMITTED) and item.update_id:
        return "review.item", {"update_id": item.update_id}
    if item.kind == ReminderKind.UPDATE_APPROVED and item.update_id:
        return "monitor.update", {"update_id": item.update_id}
    if item.kind in (ReminderKind.CLAIM_PROPOSED, ReminderKind.REVIEW_WAITING) and item.claim_id:
        return "claim_review.proposal", {"claim_id": item.claim_id}
    if item.kind == ReminderKind.CLAIM_RETURNED and item.claim_id:
        # the proposal's own page, with the reason and a "Revise" button, or once revised
        # the revision: the measure's page no longer lists a revised proposal
        return "claims.proposal", {"claim_id": item.claim_id}
    if item.kind in (ReminderKind.UPDATE_STALE, ReminderKind.OVERDUE):
        return "monitor.new_update", {"measure_id": item.measure_id}
    measure = item.measure
    values = {"key": measure.plan.key, "code": measure.code}
    if item.kind == ReminderKind.CLAIM_APPROVED and item.claim_id:
        # an approved proposal is among the claims on record of the measure's page
        values["_anchor"] = f"claim-{item.claim_id}"
    return "public.measure", values


def item_url(item: ReminderItem | DigestItem) -> str:
    """The reminder's link for an email: absolute, on PUBLIC_BASE_URL."""
    endpoint, values = link_target(item)
    return public_url(endpoint, **values)


def _long_date(day: date) -> str:
    return show_date(day)


def item_detail(item: ReminderItem | DigestItem, locale: str) -> str:
    """One sentence saying what the reminder is about, in the current language."""
    day = _long_date(item.reference_date)
    days = item.day_count
    organisation = item.organisation.name(locale) if item.organisation else ""
    kind = item.kind
    if item.milestone is not None:
        return _milestone_detail(item, locale, day, days)
    if kind == ReminderKind.DEADLINE_APPROACHING:
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
    if kind in NOTICE_SENTENCES:
        return str(NOTICE_SENTENCES[kind]) % {"organisation": organisation, "date": day}
    if kind == ReminderKind.UPDATE_STALE:
        return ngettext(
            "%(organisation)s has no approved update since %(date)s (%(num)d day).",
            "%(organisation)s has no approved update since %(date)s (%(num)d days).",
            days,
            organisation=organisation,
            date=day,
        )
    return _waiting_detail(item, organisation, day, days)


def _waiting_detail(item, organisation: str, day: str, days: int) -> str:
    """The sentence of the review queue's reminder: an update, or a proposed claim."""
    if item.claim_id and organisation:
        return ngettext(
            "The government claim that %(organisation)s proposed on %(date)s has waited "
            "%(num)d day for review.",
            "The government claim that %(organisation)s proposed on %(date)s has waited "
            "%(num)d days for review.",
            days,
            organisation=organisation,
            date=day,
        )
    if item.claim_id:
        return ngettext(
            "A government claim proposed on %(date)s has waited %(num)d day for review.",
            "A government claim proposed on %(date)s has waited %(num)d days for review.",
            days,
            date=day,
        )
    return ngettext(
        "The update of %(organisation)s has waited for review since %(date)s (%(num)d day).",
        "The update of %(organisation)s has waited for review since %(date)s (%(num)d days).",
        days,
        organisation=organisation,
        date=day,
    )


def _milestone_detail(item, locale: str, day: str, days: int) -> str:
    """The sentence of a milestone's reminder: due soon, or overdue."""
    title = item.milestone.title(locale)
    if item.kind == ReminderKind.OVERDUE:
        return ngettext(
            "Milestone “%(milestone)s” was due on %(date)s: %(num)d day overdue.",
            "Milestone “%(milestone)s” was due on %(date)s: %(num)d days overdue.",
            days,
            milestone=title,
            date=day,
        )
    return ngettext(
        "Milestone “%(milestone)s” is due on %(date)s: %(num)d day left.",
        "Milestone “%(milestone)s” is due on %(date)s: %(num)d days left.",
        days,
        milestone=title,
        date=day,
    )


#: the sentence of each instant notice: what happened to one organisation's update or
#: proposed claim, and on which day
NOTICE_SENTENCES = {
    ReminderKind.UPDATE_SUBMITTED: _l(
        "%(organisation)s submitted an update on %(date)s. It waits for your review."
    ),
    ReminderKind.UPDATE_RETURNED: _l(
        "A reviewer returned the update of %(organisation)s on %(date)s. Revise it and "
        "submit it again."
    ),
    ReminderKind.UPDATE_APPROVED: _l(
        "A reviewer approved the update of %(organisation)s on %(date)s. It is public now."
    ),
    ReminderKind.CLAIM_PROPOSED: _l(
        "%(organisation)s proposed a government claim on %(date)s. It waits for your review."
    ),
    ReminderKind.CLAIM_RETURNED: _l(
        "On %(date)s a reviewer returned the government claim that %(organisation)s "
        "proposed. Revise it and propose it again."
    ),
    ReminderKind.CLAIM_APPROVED: _l(
        "On %(date)s a reviewer approved the government claim that %(organisation)s "
        "proposed. It is public now."
    ),
}


# --- what a digest needs of the records an item names ----------------------------------------


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

    title = in_language("title")


@dataclass(frozen=True)
class OrganisationInfo:
    name_az: str
    name_en: str

    name = in_language("name")


@dataclass(frozen=True)
class MilestoneInfo:
    title_az: str
    title_en: str

    title = in_language("title")


class DigestItem(NamedTuple):
    """A reminder item as a digest shows it: the same attributes `item_detail` and
    `link_target` read on a ReminderItem (a named tuple: a run makes one per reminder)."""

    id: int
    kind: ReminderKind
    measure_id: int
    update_id: int | None
    reference_date: date
    day_count: int
    measure: MeasureInfo
    organisation: OrganisationInfo | None
    milestone: MilestoneInfo | None
    #: the proposed claim of a review-queue reminder (a claim's notices are emailed alone,
    #: services.reminders.notices)
    claim_id: int | None = None


#: the columns of an outbox row that a digest reads (InfoCache reads them by position)
ITEM_COLUMNS = (
    ReminderItem.id,
    ReminderItem.recipient_id,
    ReminderItem.kind,
    ReminderItem.measure_id,
    ReminderItem.organisation_id,
    ReminderItem.milestone_id,
    ReminderItem.update_id,
    ReminderItem.reference_date,
    ReminderItem.day_count,
    ReminderItem.claim_id,
    ReminderItem.attempts,
)
#: each of ITEM_COLUMNS' position in a row: a run reads every row of the outbox, and a Row's
#: attributes cost more than its positions
ITEM_POSITION = {column.key: index for index, column in enumerate(ITEM_COLUMNS)}
_MEASURE, _ORGANISATION, _MILESTONE = (
    ITEM_POSITION["measure_id"],
    ITEM_POSITION["organisation_id"],
    ITEM_POSITION["milestone_id"],
)
#: a kind by its value (or by itself): the claim reads kinds as text, and a dict lookup per
#: item costs less than calling the enum
_KIND_OF_VALUE = {kind.value: kind for kind in ReminderKind}
#: the leading columns that make a DigestItem
_DIGEST_FIELDS = ITEM_POSITION["claim_id"] + 1

#: what a digest reads of the records its items name
_MEASURE_INFO = select(
    Measure.id, Measure.code, Measure.position, Measure.title_az, Measure.title_en, ActionPlan.key
).join(ActionPlan, ActionPlan.id == Measure.plan_id)
_ORGANISATION_INFO = select(Organisation.id, Organisation.name_az, Organisation.name_en)
_MILESTONE_INFO = select(Milestone.id, Milestone.title_az, Milestone.title_en)


def _rows_by_id(session: Session, statement, id_column, ids: list[int]):
    """The rows of `statement` for these ids, ID_CHUNK ids per query."""
    for start in range(0, len(ids), ID_CHUNK):
        yield from session.execute(statement.where(id_column.in_(ids[start : start + ID_CHUNK])))


class InfoCache:
    """Measures, organisations and milestones a run has met, loaded once each: one query
    per kind of record per batch of new ids, not one per item."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.measures: dict[int, MeasureInfo] = {}
        self.organisations: dict[int, OrganisationInfo] = {}
        self.milestones: dict[int, MilestoneInfo] = {}

    def _missing(self, ids: set, known) -> list[int]:
        return sorted(i for i in ids if i is not None and i not in known)

    def fill(self, rows) -> None:
        """Load what the rows (ITEM_COLUMNS first) name and the cache has not met yet: no
        query when it has met everything."""
        missing = self._missing({row[_MEASURE] for row in rows}, self.measures)
        for row in _rows_by_id(self.session, _MEASURE_INFO, Measure.id, missing):
            self.measures[row.id] = MeasureInfo(
                row.id, row.code, row.position, row.title_az, row.title_en, PlanInfo(row.key)
            )
        missing = self._missing({row[_ORGANISATION] for row in rows}, self.organisations)
        for row in _rows_by_id(self.session, _ORGANISATION_INFO, Organisation.id, missing):
            self.organisations[row.id] = OrganisationInfo(row.name_az, row.name_en)
        missing = self._missing({row[_MILESTONE] for row in rows}, self.milestones)
        for row in _rows_by_id(self.session, _MILESTONE_INFO, Milestone.id, missing):
            self.milestones[row.id] = MilestoneInfo(row.title_az, row.title_en)

    def items(self, rows) -> list[DigestItem]:
        """The rows as digest items; `fill` must have met them (once per batch, not once
        per digest)."""
        measures, organisations, milestones = self.measures, self.organisations, self.milestones
        return [
            DigestItem(
                id_,
                _KIND_OF_VALUE[kind],
                measure_id,
                update_id,
                reference_date,
                day_count,
                measures[measure_id],
                organisations.get(organisation_id),
                milestones.get(milestone_id),
                claim_id,
            )
            for (
                id_,
                _recipient,
                kind,
                measure_id,
                organisation_id,
                milestone_id,
                update_id,
                reference_date,
                day_count,
                claim_id,
            ) in (row[:_DIGEST_FIELDS] for row in rows)
        ]


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    locale: str
    display_name: str


def load_recipients(session: Session, ids: list[int]) -> dict[int, Recipient]:
    statement = select(User.id, User.email, User.locale, User.display_name)
    return {
        row.id: Recipient(row.id, row.email, row.locale, row.display_name)
        for row in _rows_by_id(session, statement, User.id, ids)
    }


# --- the digest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestReason:
    """One reminder about a measure: its kind, what it says and where to act on it."""

    item_id: int
    kind: ReminderKind
    label: str
    detail: str
    url: str


@dataclass(frozen=True)
class DigestMeasure:
    """A measure, once per digest, with every reason the person is reminded of it."""

    code: str
    title: str
    reasons: tuple[DigestReason, ...]

    @property
    def url(self) -> str:
        return self.reasons[0].url


@dataclass(frozen=True)
class DigestKind:
    """A kind of reminder the digest carries: how many, and the link that stops it."""

    kind: ReminderKind
    heading: str
    count: int
    unsubscribe_url: str


@dataclass(frozen=True)
class ComposedDigest:
    recipient_id: int
    to: str
    locale: str
    subject: str
    #: the most pressing DIGEST_MEASURES measures, with every reason for each
    measures: tuple[DigestMeasure, ...]
    #: how many more measures the digest's reminders are about
    more_measures: int
    #: every reminder the digest carries, listed or not
    item_count: int
    kinds: tuple[DigestKind, ...]
    #: the one-click link of the List-Unsubscribe header (RFC 8058): stops every kind
    list_unsubscribe_url: str
    text_body: str
    html_body: str


class DetailCache:
    """Sentences and links repeat across a run (the same due date, the same days left, the
    same measure): format each sentence once per language and build each link once."""

    def __init__(self) -> None:
        self._done: dict[tuple, str] = {}
        self._urls: dict[tuple, str] = {}
        self._labels: dict[tuple, str] = {}

    def label(self, kind: str, locale: str) -> str:
        """A kind's label in the current language (`locale`)."""
        key = (kind, locale)
        if key not in self._labels:
            self._labels[key] = str(REMINDER_KIND_LABELS[ReminderKind(kind)])
        return self._labels[key]

    def url(self, item) -> str:
        endpoint, values = link_target(item)
        key = (endpoint, *sorted(values.items()))
        if key not in self._urls:
            self._urls[key] = item_url(item)
        return self._urls[key]

    def __call__(self, item, locale: str) -> str:
        key = (
            locale,
            item.kind,
            item.reference_date,
            item.day_count,
            item.organisation,
            item.milestone,
            # a review-queue reminder says whether an update or a proposed claim waits
            item.claim_id is not None,
        )
        if key not in self._done:
            self._done[key] = item_detail(item, locale)
        return self._done[key]


#: a kind's place in KIND_ORDER
KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


def _urgency(item: DigestItem) -> tuple:
    return (KIND_RANK[item.kind], item.reference_date, item.measure.position, item.id)


def _measures(
    items: list[DigestItem], locale: str, details
) -> tuple[tuple[DigestMeasure, ...], int]:
    """Each measure once, with its reasons in the order of KIND_ORDER; the measures whose
    most pressing reason comes first in KIND_ORDER (then the soonest) first: the first
    DIGEST_MEASURES of them, and how many more there are."""
    by_measure: dict[int, list[DigestItem]] = defaultdict(list)
    for item in items:
        by_measure[item.measure_id].append(item)
    # a measure ranks by its most pressing reason; only the listed ones are sorted inside
    ranked = sorted((min(map(_urgency, group)), group) for group in by_measure.values())
    groups = [sorted(group, key=_urgency) for _rank, group in ranked[:DIGEST_MEASURES]]
    listed = tuple(
        DigestMeasure(
            code=group[0].measure.code,
            title=group[0].measure.title(locale),
            reasons=tuple(
                DigestReason(
                    item_id=item.id,
                    kind=item.kind,
                    label=details.label(item.kind, locale),
                    detail=details(item, locale),
                    url=details.url(item),
                )
                for item in group
            ),
        )
        for group in groups
    )
    return listed, len(ranked) - len(listed)


def _kinds(recipient: Recipient, items: list[DigestItem]) -> tuple[DigestKind, ...]:
    """The kinds present, with their counts and signed links that stop each of them."""
    counts = Counter(item.kind for item in items)
    return tuple(
        DigestKind(
            kind=kind,
            heading=str(REMINDER_KIND_LABELS[kind]),
            count=counts[kind],
            unsubscribe_url=public_url(
                "notifications.unsubscribe", token=make_unsubscribe_token(recipient.id, kind)
            ),
        )
        for kind in KIND_ORDER
        if counts[kind]
    )


def compose_digest(
    recipient: Recipient, items: list[DigestItem], details: DetailCache | None = None
) -> ComposedDigest:
    """The recipient's email for these items, in their language, both bodies rendered."""
    locale = recipient.locale if recipient.locale in ("az", "en") else "az"
    details = details or DetailCache()
    with force_locale(locale):
        measures, more_measures = _measures(items, locale, details)
        kinds = _kinds(recipient, items)
        subject = ngettext(
            "%(num)d reminder from the Open Government Tracker",
            "%(num)d reminders from the Open Government Tracker",
            len(items),
        )
        context = {
            "recipient": recipient,
            "measures": measures,
            "more_measures": more_measures,
            "kinds": kinds,
            "notifications_url": public_url("notifications.index"),
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
        measures=measures,
        more_measures=more_measures,
        item_count=len(items),
        kinds=kinds,
        list_unsubscribe_url=list_unsubscribe_url(recipient.id),
        text_body=text_body,
        html_body=html_body,
    )
