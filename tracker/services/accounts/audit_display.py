"""The audit log as people read it: translated action names, and the ids an entry's details
hold (a measure, an organisation) shown as codes and names. The records a page names are
loaded together, one query per kind of record, whatever the number of entries.

Stored rows are never rewritten: keys they hold (a status, a form's field, a refused
page's endpoint) are put into words here, when shown, so old rows read as well as new."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.dates import parse_iso_day, show_date
from tracker.models import ActionPlan, AuditEntry, Measure, Organisation, User
from tracker.services.accounts.page_names import page_name
from tracker.vocabulary import (
    COMPLETION_LABELS,
    REMINDER_KIND_LABELS,
    ROLE_LABELS,
    Completion,
    ReminderKind,
    Role,
)

#: every action the code writes, as a person reads it
ACTION_LABELS = {
    "claim.approved": _l("Proposed government claim approved"),
    "claim.proposed": _l("Government claim proposed by a monitor"),
    "claim.recorded": _l("Government claim recorded"),
    "claim.revised": _l("Returned government claim revised by a monitor"),
    "claim.returned": _l("Proposed government claim returned"),
    "coalition.member_added": _l("Member added to a coalition"),
    "coalition.member_removed": _l("Member removed from a coalition"),
    "file.uploaded": _l("File uploaded"),
    "form.rejected": _l("Form refused (unexpected fields)"),
    "invitation.accepted": _l("Invitation accepted"),
    "link.created": _l("Organisation linked to a measure"),
    "link.ended": _l("Link to a measure ended"),
    "link.lead_removed": _l("Lead organisation removed"),
    "link.lead_set": _l("Lead organisation set"),
    "login.failure": _l("Login failed"),
    "login.password_accepted": _l("Password accepted; waiting for the two-step code"),
    "login.success": _l("Logged in"),
    "login.throttled": _l("Login slowed down (too many attempts)"),
    "milestone.added": _l("Milestone added"),
    "milestone.archived": _l("Milestone archived"),
    "milestone.changed": _l("Milestone changed"),
    "organisation.archived": _l("Organisation archived"),
    "organisation.created": _l("Organisation created"),
    "organisation.imported": _l("Organisation imported"),
    "organisation.restored": _l("Organisation restored"),
    "organisation.updated": _l("Organisation edited"),
    "password.change_failed": _l("Password change failed"),
    "password.changed": _l("Password changed"),
    "password.check_failed": _l("Password check failed"),
    "password.confirm_failed": _l("Password confirmation failed"),
    "password.confirmed": _l("Password confirmed"),
    "password.link_made": _l("Password link given by an administrator"),
    "password.reset": _l("Password reset"),
    "password.reset_requested": _l("Password reset requested"),
    "permission.refused": _l("Access refused"),
    "reminders.requeued": _l("Reminder email sent again"),
    "reminders.settings_changed": _l("Reminder settings changed"),
    "reminders.subscribed": _l("Reminders turned on"),
    "reminders.unsubscribed": _l("Reminders stopped"),
    "report.archived": _l("Monthly report archived"),
    "storage.cleaned": _l("File storage cleaned"),
    "update.approved": _l("Update approved"),
    "update.archived": _l("Update archived"),
    "update.commented": _l("Update commented"),
    "update.created": _l("Update drafted"),
    "update.edited": _l("Update edited"),
    "update.returned": _l("Update returned for revision"),
    "update.submitted": _l("Update submitted for review"),
    "update.superseded": _l("Update replaced by a newer one"),
    "two_step.disabled": _l("Two-step verification turned off"),
    "two_step.enabled": _l("Two-step verification turned on"),
    "two_step.recovery_codes": _l("New recovery codes made"),
    "two_step.reset": _l("Two-step verification turned off by an administrator"),
    "user.created": _l("Account created"),
    "user.disabled": _l("Account disabled"),
    "user.enabled": _l("Account enabled"),
    "user.invited": _l("Person invited"),
    "user.role_changed": _l("Role changed"),
}

#: the actors audit.record stores without an account (their email is shown as it is)
ACTOR_LABELS = {"system": _l("the system"), "anonymous": _l("an anonymous visitor")}
#: the names of the kinds of record an entry is about (its target_type); a kind not here
#: is shown as it is stored
TARGET_LABELS = {
    "government_claim": _l("Government claim"),
    "login": _l("Login"),
    "measure": _l("Measure"),
    "milestone": _l("Milestone"),
    "monitoring_link": _l("Monitoring link"),
    "organisation": _l("Organisation"),
    "reminder_digest": _l("Reminder digest"),
    "reminder_setting": _l("Reminder setting"),
    "report_snapshot": _l("Report"),
    "route": _l("Page"),
    "status_update": _l("Update"),
    "stored_file": _l("File"),
    "upload_folder": _l("Upload folder"),
    "user": _l("User"),
}

#: the names of the details' keys
DETAIL_LABELS = {
    "active_content": _l("Active content found (scripts, embedded files)"),
    "after": _l("After"),
    "before": _l("Before"),
    "by_update_id": _l("Replaced by update"),
    "comment": _l("Comment"),
    "content_type": _l("File type"),
    "created": _l("Created"),
    "decision_id": _l("Decision"),
    "due_date": _l("Due date"),
    "email": _l("Email"),
    "expired_pending": _l("Unfinished uploads removed"),
    "end_date": _l("End date"),
    "evidence_items": _l("Evidence items"),
    "fields": _l("Fields changed"),
    "file": _l("File"),
    "interval_days": _l("Days between reminders"),
    "is_archived": _l("Archived"),
    "is_enabled": _l("On"),
    "is_final": _l("Final milestone"),
    "items": _l("Reminders"),
    "kind": _l("Kind"),
    "known_device": _l("Known device"),
    "links_ended": _l("Monitoring links ended"),
    "locale": _l("Language"),
    "mail": _l("Email"),
    "measure_id": _l("Measure"),
    "member_id": _l("Member organisation"),
    "memberships_added": _l("Coalition memberships added"),
    "method": _l("Method"),
    "missing_files": _l("Files missing from the folder"),
    "offsets_days": _l("Days before the deadline"),
    "organisation_id": _l("Organisation"),
    "orphans": _l("Files without a record removed"),
    "path": _l("Address"),
    "pending": _l("Waiting"),
    "period": _l("Period"),
    "plan": _l("Plan"),
    "plan_id": _l("Plan"),
    "reason": _l("Reason"),
    "replaces_id": _l("Replaces"),
    "retry_after": _l("Seconds to wait"),
    "revises_id": _l("Revises"),
    "role": _l("Role"),
    "rows": _l("Rows"),
    "second_step": _l("Second step"),
    "size_bytes": _l("Size in bytes"),
    "start_date": _l("Start date"),
    "state": _l("State"),
    "status": _l("Status"),
    "title_az": _l("Title in Azerbaijani"),
    "title_en": _l("Title in English"),
    "unchanged": _l("Unchanged"),
    "unexpected_fields": _l("Unexpected fields"),
    "updated": _l("Updated"),
    "updated_ids": _l("Updated organisations"),
}

#: the details' keys that name a record, and the kind of record they name
_MEASURE_KEYS = ("measure_id",)
_ORGANISATION_KEYS = ("organisation_id", "member_id")

#: the actions whose summary the code writes as "<measure code or plan key> <status key>"
STATUS_SUMMARIES = frozenset(
    {"claim.proposed", "claim.recorded", "claim.revised", "update.created"}
)
_COMPLETIONS = frozenset(str(term) for term in Completion)
#: the actions whose summary the code writes in English: its pattern, and the words shown
WORDED_SUMMARIES = {
    "organisation.imported": (
        re.compile(r"(?P<file>.*): (?P<created>\d+) created, (?P<updated>\d+) updated"),
        _l("%(file)s: created %(created)s, updated %(updated)s"),
    ),
    "storage.cleaned": (
        re.compile(r"(?P<orphans>\d+) orphans, (?P<expired>\d+) expired pending"),
        _l("Files without a record removed: %(orphans)s; unfinished uploads removed: %(expired)s"),
    ),
}
#: the actions whose "fields" detail names the organisation form's fields
_FORM_FIELD_ACTIONS = frozenset({"organisation.updated"})

#: how the web layer reads a stored path: (path, method) → the URL's values, {} when no
#: rule of this version of the app matches it
RouteValues = Callable[[str, str], dict]


@dataclass(frozen=True)
class WebNames:
    """What only the web layer knows, to name what an entry stores: the values of a
    refused request's path, and the labels of the organisation form's fields."""

    route_values: RouteValues = lambda _path, _method: {}
    field_labels: Mapping[str, object] = field(default_factory=dict)


def action_label(action: str) -> str:
    """The action's name; an action this version does not know keeps its key."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def summary_text(entry: AuditEntry) -> str:
    """The entry's summary in the reader's language ("1.1: Limited" for "1.1 limited"); a
    summary of another form is shown as stored."""
    summary = entry.summary or ""
    if entry.action in STATUS_SUMMARIES:
        code, _, key = summary.rpartition(" ")
        if code and key in _COMPLETIONS:
            return f"{code}: {COMPLETION_LABELS[Completion(key)]}"
    worded = WORDED_SUMMARIES.get(entry.action)
    matched = worded[0].fullmatch(summary) if worded else None
    if matched:
        return str(worded[1]) % matched.groupdict()
    return summary


@dataclass(frozen=True)
class Detail:
    label: str
    value: str
    #: a page about the value (a measure's public page), or None
    link: tuple[str, dict] | None = None

    @property
    def is_one_word(self) -> bool:
        """A date, an email, an id: shown whole, never broken at its hyphens or dots."""
        return " " not in self.value


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    action: str
    #: who acted: an email, or "system" / "anonymous" in the page's language
    actor: str
    target: str
    summary: str
    details: tuple[Detail, ...]


class _MeasureName(NamedTuple):
    """A measure as the log names and links it."""

    code: str
    plan_key: str


@dataclass(frozen=True)
class _Names:
    """The records a page of entries names, loaded at once, and the web layer's names."""

    measures: dict[int, _MeasureName]
    organisations: dict[int, str]
    users: dict[int, str]
    #: a refused request's URL values, by entry id
    routes: dict[int, dict]
    web: WebNames

    def of(self, argument: str, value) -> str:
        """A URL value as a page name shows it: a measure's code, an organisation's name,
        an account's email, or the value itself."""
        named = {
            "measure_id": self.measures.get(value),
            "organisation_id": self.organisations.get(value),
            "user_id": self.users.get(value),
        }.get(argument)
        return named.code if isinstance(named, _MeasureName) else str(named or value)


def _ids(entries: Sequence[AuditEntry], keys: tuple[str, ...], target_type: str) -> set[int]:
    found = set()
    for entry in entries:
        details = entry.details or {}
        # a change's before and after name records too
        nested = [inner for inner in details.values() if isinstance(inner, dict)]
        for values in (details, *nested):
            for key in keys:
                value = values.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    found.add(value)
        if entry.target_type == target_type and entry.target_id.isdigit():
            found.add(int(entry.target_id))
    return found


def _route_values(entries: Sequence[AuditEntry], route_values: RouteValues) -> dict[int, dict]:
    """The URL values of each refused request's (or refused form's) path, by entry id."""
    found = {}
    for entry in entries:
        details = entry.details or {}
        path = details.get("path")
        if entry.target_type == "route" and isinstance(path, str):
            # a refused form has no method in its details: forms are refused on POST
            found[entry.id] = route_values(path, str(details.get("method") or "POST"))
    return found


def _route_ids(routes: dict[int, dict], argument: str) -> set[int]:
    return {v[argument] for v in routes.values() if isinstance(v.get(argument), int)}


def _load_names(session: Session, entries: Sequence[AuditEntry], locale: str, web: WebNames):
    routes = _route_values(entries, web.route_values)
    measure_ids = _ids(entries, _MEASURE_KEYS, "measure") | _route_ids(routes, "measure_id")
    organisation_ids = _ids(entries, _ORGANISATION_KEYS, "organisation") | _route_ids(
        routes, "organisation_id"
    )
    user_ids = _route_ids(routes, "user_id")
    measures, organisations, users = {}, {}, {}
    if measure_ids:
        rows = session.execute(
            select(Measure.id, Measure.code, ActionPlan.key)
            .join(ActionPlan, ActionPlan.id == Measure.plan_id)
            .where(Measure.id.in_(measure_ids))
        )
        measures = {row.id: _MeasureName(row.code, row.key) for row in rows}
    if organisation_ids:
        rows = session.execute(
            select(Organisation.id, Organisation.name_az, Organisation.name_en).where(
                Organisation.id.in_(organisation_ids)
            )
        )
        organisations = {
            row.id: (row.name_en if locale == "en" and row.name_en else row.name_az) for row in rows
        }
    if user_ids:
        rows = session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        users = dict(rows.all())
    return _Names(measures, organisations, users, routes, web)


def _value(key: str, value, names: _Names) -> tuple[str, tuple[str, dict] | None]:
    if key in _MEASURE_KEYS and value in names.measures:
        measure = names.measures[value]
        return measure.code, ("public.measure", {"key": measure.plan_key, "code": measure.code})
    if key in _ORGANISATION_KEYS and value in names.organisations:
        return names.organisations[value], None
    if key == "role" and value in Role.__members__.values():
        return str(ROLE_LABELS[Role(value)]), None
    if key == "kind" and value in ReminderKind.__members__.values():
        return str(REMINDER_KIND_LABELS[ReminderKind(value)]), None
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No")), None
    if isinstance(value, str):
        # a day the details keep as ISO 8601, shown as the log's other dates are
        with suppress(ValueError):
            return show_date(parse_iso_day(value)), None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value), None
    if isinstance(value, dict):
        # a change's before and after: each field named as a detail is
        parts = (
            f"{_detail_label(name)}: {_value(name, inner, names)[0]}"
            for name, inner in sorted(value.items())
        )
        return "; ".join(parts), None
    return ("—" if value is None else str(value)), None


def _detail(entry: AuditEntry, key: str, value, names: _Names) -> Detail:
    if key == "fields" and entry.action in _FORM_FIELD_ACTIONS and isinstance(value, list):
        # the fields as the form names them; "; " because a label may hold a comma
        labels = names.web.field_labels
        return Detail(_detail_label(key), "; ".join(str(labels.get(n, n)) for n in value))
    return Detail(_detail_label(key), *_value(key, value, names))


def _detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key))


def _page(entry: AuditEntry, names: _Names) -> str:
    """What a refused request was for, in words; its path when its page has no name."""
    named = page_name(entry.target_id, names.routes.get(entry.id, {}), names.of)
    if named:
        return named
    path = (entry.details or {}).get("path")
    where = path if isinstance(path, str) and path else entry.target_id
    return f"{TARGET_LABELS['route']} {where}".strip()


def _target(entry: AuditEntry, names: _Names) -> str:
    if entry.target_type == "route":
        return _page(entry, names)
    if entry.target_id.isdigit():
        number = int(entry.target_id)
        if entry.target_type == "measure" and number in names.measures:
            return str(_l("Measure %(code)s", code=names.measures[number].code))
        if entry.target_type == "organisation" and number in names.organisations:
            return names.organisations[number]
    kind = TARGET_LABELS.get(entry.target_type, entry.target_type)
    return f"{kind} {entry.target_id}".strip()


def audit_rows(
    session: Session, entries: Sequence[AuditEntry], locale: str, web: WebNames | None = None
) -> list[AuditRow]:
    """The entries as the log shows them, in the current language."""
    names = _load_names(session, entries, locale, web or WebNames())
    return [
        AuditRow(
            entry=entry,
            action=action_label(entry.action),
            actor=str(ACTOR_LABELS.get(entry.actor_label, entry.actor_label)),
            target=_target(entry, names),
            summary=summary_text(entry),
            details=tuple(
                _detail(entry, key, value, names)
                for key, value in sorted((entry.details or {}).items())
            ),
        )
        for entry in entries
    ]
