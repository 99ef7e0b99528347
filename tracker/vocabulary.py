"""The product's fixed terms (shared/design/vocabulary.md): keys stored by value, with labels."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Completion(StrEnum):
    NO_EVIDENCE = "no_evidence"
    NOT_STARTED = "not_started"
    LIMITED = "limited"
    SUBSTANTIAL = "substantial"
    COMPLETE = "complete"


#: Weight of each completion level in the score; no_evidence is not scored.
COMPLETION_WEIGHTS: dict[Completion, float | None] = {
    Completion.NO_EVIDENCE: None,
    Completion.NOT_STARTED: 0.0,
    Completion.LIMITED: 1 / 3,
    Completion.SUBSTANTIAL: 2 / 3,
    Completion.COMPLETE: 1.0,
}

COMPLETION_LABELS = {
    Completion.NO_EVIDENCE: _l("No evidence available"),
    Completion.NOT_STARTED: _l("Not started"),
    Completion.LIMITED: _l("Limited"),
    Completion.SUBSTANTIAL: _l("Substantial"),
    Completion.COMPLETE: _l("Complete"),
}


class OpenGovernmentLevel(StrEnum):
    """End-of-term "Did it open government?" levels."""

    WORSENED = "worsened"
    DID_NOT_CHANGE = "did_not_change"
    MARGINAL = "marginal"
    MAJOR = "major"
    OUTSTANDING = "outstanding"


OPEN_GOVERNMENT_LEVEL_LABELS = {
    OpenGovernmentLevel.WORSENED: _l("Worsened"),
    OpenGovernmentLevel.DID_NOT_CHANGE: _l("Did not change"),
    OpenGovernmentLevel.MARGINAL: _l("Marginal"),
    OpenGovernmentLevel.MAJOR: _l("Major"),
    OpenGovernmentLevel.OUTSTANDING: _l("Outstanding"),
}


class AssessmentSource(StrEnum):
    GOVERNMENT = "government"
    CSO = "cso"
    PLATFORM = "platform"


ASSESSMENT_SOURCE_LABELS = {
    AssessmentSource.GOVERNMENT: _l("Government claim"),
    AssessmentSource.CSO: _l("CSO assessment"),
    AssessmentSource.PLATFORM: _l("Open Government Platform"),
}


class AgencyRole(StrEnum):
    EXECUTOR = "executor"
    RECOMMENDED = "recommended"


AGENCY_ROLE_LABELS = {
    AgencyRole.EXECUTOR: _l("Executing agency"),
    AgencyRole.RECOMMENDED: _l("Recommended to"),
}


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    MONITOR = "monitor"


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.REVIEWER: _l("Reviewer (Open Government Platform)"),
    Role.MONITOR: _l("Monitor"),
}


class ReviewState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class ReviewAction(StrEnum):
    """What a reviewer's entry in an update's history records: a decision or a comment."""

    APPROVED = "approved"
    RETURNED = "returned"
    COMMENT = "comment"


REVIEW_STATE_LABELS = {
    ReviewState.DRAFT: _l("Draft"),
    ReviewState.SUBMITTED: _l("Submitted"),
    ReviewState.APPROVED: _l("Approved"),
    ReviewState.RETURNED: _l("Returned"),
}


class EvidenceType(StrEnum):
    OFFICIAL_DOCUMENT = "official_document"
    INFORMATION_REQUEST = "information_request"
    OFFICIAL_WEBSITE = "official_website"
    MEDIA_REPORT = "media_report"
    FIELD_OBSERVATION = "field_observation"
    OTHER = "other"


EVIDENCE_TYPE_LABELS = {
    EvidenceType.OFFICIAL_DOCUMENT: _l("Official document"),
    EvidenceType.INFORMATION_REQUEST: _l("Request for information"),
    EvidenceType.OFFICIAL_WEBSITE: _l("Official website"),
    EvidenceType.MEDIA_REPORT: _l("Media report"),
    EvidenceType.FIELD_OBSERVATION: _l("Field observation"),
    EvidenceType.OTHER: _l("Other"),
}


class RequestOutcome(StrEnum):
    ANSWERED = "answered"
    PARTIAL = "partial"
    REFUSED = "refused"
    NO_REPLY = "no_reply"


REQUEST_OUTCOME_LABELS = {
    RequestOutcome.ANSWERED: _l("Answered"),
    RequestOutcome.PARTIAL: _l("Partly answered"),
    RequestOutcome.REFUSED: _l("Refused"),
    RequestOutcome.NO_REPLY: _l("No reply"),
}


class DelayReason(StrEnum):
    NO_FUNDING = "no_funding"
    NO_LEGAL_BASIS = "no_legal_basis"
    AGENCY_INACTIVE = "agency_inactive"
    INFORMATION_WITHHELD = "information_withheld"
    PRIORITIES_CHANGED = "priorities_changed"
    EXTERNAL_SHOCK = "external_shock"
    OTHER = "other"


DELAY_REASON_LABELS = {
    DelayReason.NO_FUNDING: _l("No funding"),
    DelayReason.NO_LEGAL_BASIS: _l("No legal basis"),
    DelayReason.AGENCY_INACTIVE: _l("Agency inactive"),
    DelayReason.INFORMATION_WITHHELD: _l("Information withheld"),
    DelayReason.PRIORITIES_CHANGED: _l("Priorities changed"),
    DelayReason.EXTERNAL_SHOCK: _l("External shock (e.g. COVID-19, war)"),
    DelayReason.OTHER: _l("Other"),
}


# --- states and kinds of the registry, reminders, accounts, reports and mail ---


class OrganisationKind(StrEnum):
    ORGANISATION = "organisation"
    #: a coalition or network: other registry entries are its members
    COALITION = "coalition"


class ReminderKind(StrEnum):
    DEADLINE_APPROACHING = "deadline_approaching"
    OVERDUE = "overdue"
    UPDATE_STALE = "update_stale"
    UPDATE_RETURNED = "update_returned"
    REVIEW_WAITING = "review_waiting"


REMINDER_KIND_LABELS = {
    ReminderKind.DEADLINE_APPROACHING: _l("Deadline approaching"),
    ReminderKind.OVERDUE: _l("Overdue"),
    ReminderKind.UPDATE_STALE: _l("No recent approved update"),
    ReminderKind.UPDATE_RETURNED: _l("Update returned by a reviewer"),
    ReminderKind.REVIEW_WAITING: _l("Waiting for review"),
}


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    #: planned while mail was off: shown in the app, never mailed
    IN_APP_ONLY = "in_app_only"
    #: the person unsubscribed from the kind before it went out
    CANCELLED = "cancelled"


class DigestStatus(StrEnum):
    #: claimed by a run that is sending it now
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class Purpose(StrEnum):
    """What a signed token may be used for; each purpose signs with its own salt."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose name, not a password)


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID = "invalid"
    THROTTLED = "throttled"


class ReportKind(StrEnum):
    PLAN = "plan"
    SECTION = "section"
    AGENCY = "agency"
    ORGANISATION = "organisation"


class MailOutcome(StrEnum):
    SENT = "sent"
    #: refused for now (4xx): retry later
    DEFERRED = "deferred"
    #: no answer at all (connection refused, dropped, timeout, TLS, login): retry later
    UNREACHABLE = "unreachable"
    #: refused for good (5xx)
    REJECTED = "rejected"


# --- Azerbaijani-aware text matching, for searches and imports ---
# Azerbaijani (like Turkish) pairs I/ı and İ/i; Python's lower() gets both wrong.
_AZ_UPPER_TO_LOWER = str.maketrans({"I": "ı", "İ": "i"})
# Folding lets a query typed on a keyboard without Azerbaijani letters still match.
_AZ_FOLD = str.maketrans({"ə": "e", "ı": "i", "ö": "o", "ü": "u", "ş": "s", "ç": "c", "ğ": "g"})
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def az_lower(text: str) -> str:
    """Lower-case with Azerbaijani rules: "İ" → "i", "I" → "ı"."""
    return unicodedata.normalize("NFC", text).translate(_AZ_UPPER_TO_LOWER).lower()


def fold(text: str) -> str:
    """A search key: Azerbaijani lower case, letters folded to ASCII, spaces collapsed.
    "İqtisadiyyat", "Iqtisadiyyat" and "iqtisadiyyat" fold alike, and "hokumet" matches
    "hökumət"."""
    lowered = az_lower(text).translate(_AZ_FOLD)
    # Remove any other combining marks left after decomposition.
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped).strip()


def label_key(text: str) -> str:
    """A comparison key that also ignores punctuation: for matching labels and names."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def matches_all_words(query: str, *texts: str) -> bool:
    """True when every word of the query occurs in the folded texts."""
    haystack = " ".join(fold(t) for t in texts if t)
    return all(word in haystack for word in fold(query).split())
