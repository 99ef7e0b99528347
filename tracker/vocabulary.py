"""The product's fixed terms (shared/design/vocabulary.md): keys stored by value, with labels."""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class LabelledEnum(StrEnum):
    """A term stored by its key, with its label in the interface's language:
    `MEMBER = "key", _l("Label")`; `member.label` gives the label."""

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def labels_of(terms: type[LabelledEnum]) -> dict:
    """{member: label} of a labelled vocabulary, for forms, templates and exports."""
    return {term: term.label for term in terms}


class Completion(LabelledEnum):
    NO_EVIDENCE = "no_evidence", _l("No evidence available")
    NOT_STARTED = "not_started", _l("Not started")
    LIMITED = "limited", _l("Limited")
    SUBSTANTIAL = "substantial", _l("Substantial")
    COMPLETE = "complete", _l("Complete")


class MilestoneState(LabelledEnum):
    """A milestone's own state; services.plans.status reads it into the measure's state."""

    PLANNED = "planned", _l("Planned")
    IN_PROGRESS = "in_progress", _l("In progress")
    DONE = "done", _l("Done")


MILESTONE_STATE_LABELS = labels_of(MilestoneState)


#: Weight of each completion level in the score; no_evidence is not scored.
COMPLETION_WEIGHTS: dict[Completion, float | None] = {
    Completion.NO_EVIDENCE: None,
    Completion.NOT_STARTED: 0.0,
    Completion.LIMITED: 1 / 3,
    Completion.SUBSTANTIAL: 2 / 3,
    Completion.COMPLETE: 1.0,
}

COMPLETION_LABELS = labels_of(Completion)


class OpenGovernmentLevel(LabelledEnum):
    """End-of-term "Did it open government?" levels."""

    WORSENED = "worsened", _l("Worsened")
    DID_NOT_CHANGE = "did_not_change", _l("Did not change")
    MARGINAL = "marginal", _l("Marginal")
    MAJOR = "major", _l("Major")
    OUTSTANDING = "outstanding", _l("Outstanding")


OPEN_GOVERNMENT_LEVEL_LABELS = labels_of(OpenGovernmentLevel)


class AssessmentSource(LabelledEnum):
    GOVERNMENT = "government", _l("Government claim")
    CSO = "cso", _l("CSO assessment")
    PLATFORM = "platform", _l("Open Government Platform")


ASSESSMENT_SOURCE_LABELS = labels_of(AssessmentSource)


class AgencyRole(LabelledEnum):
    EXECUTOR = "executor", _l("Executing agency")
    RECOMMENDED = "recommended", _l("Recommended to")


AGENCY_ROLE_LABELS = labels_of(AgencyRole)


class Role(LabelledEnum):
    ADMIN = "admin", _l("Administrator")
    REVIEWER = "reviewer", _l("Reviewer (Open Government Platform)")
    MONITOR = "monitor", _l("Monitor")


ROLE_LABELS = labels_of(Role)


class ReviewState(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")
    APPROVED = "approved", _l("Approved")
    RETURNED = "returned", _l("Returned")


class ReviewAction(StrEnum):
    """What a reviewer's entry in an update's history records: a decision or a comment."""

    APPROVED = "approved"
    RETURNED = "returned"
    COMMENT = "comment"


REVIEW_STATE_LABELS = labels_of(ReviewState)


class EvidenceType(LabelledEnum):
    OFFICIAL_DOCUMENT = "official_document", _l("Official document")
    INFORMATION_REQUEST = "information_request", _l("Request for information")
    OFFICIAL_WEBSITE = "official_website", _l("Official website")
    MEDIA_REPORT = "media_report", _l("Media report")
    FIELD_OBSERVATION = "field_observation", _l("Field observation")
    OTHER = "other", _l("Other")


EVIDENCE_TYPE_LABELS = labels_of(EvidenceType)


class ActiveContent(LabelledEnum):
    """What an uploaded PDF can run when it is opened (reviewers see a warning)."""

    JAVASCRIPT = "javascript", _l("JavaScript")
    LAUNCH = "launch", _l("an action that starts a program")
    ADDITIONAL_ACTIONS = "additional_actions", _l("actions that run when it is opened or used")


ACTIVE_CONTENT_LABELS = labels_of(ActiveContent)


class RequestOutcome(LabelledEnum):
    ANSWERED = "answered", _l("Answered")
    PARTIAL = "partial", _l("Partly answered")
    REFUSED = "refused", _l("Refused")
    NO_REPLY = "no_reply", _l("No reply")


REQUEST_OUTCOME_LABELS = labels_of(RequestOutcome)


class DelayReason(LabelledEnum):
    NO_FUNDING = "no_funding", _l("No funding")
    NO_LEGAL_BASIS = "no_legal_basis", _l("No legal basis")
    AGENCY_INACTIVE = "agency_inactive", _l("Agency inactive")
    INFORMATION_WITHHELD = "information_withheld", _l("Information withheld")
    PRIORITIES_CHANGED = "priorities_changed", _l("Priorities changed")
    EXTERNAL_SHOCK = "external_shock", _l("External shock (e.g. COVID-19, war)")
    OTHER = "other", _l("Other")


DELAY_REASON_LABELS = labels_of(DelayReason)


# --- states and kinds of the registry, reminders, accounts, reports and mail ---


class OrganisationKind(StrEnum):
    ORGANISATION = "organisation"
    #: a coalition or network: other registry entries are its members
    COALITION = "coalition"


class ReminderKind(LabelledEnum):
    DEADLINE_APPROACHING = "deadline_approaching", _l("Deadline approaching")
    #: from its due date on (the day itself is not yet overdue on the scorecard)
    OVERDUE = "overdue", _l("Due or overdue")
    UPDATE_STALE = "update_stale", _l("No recent approved update")
    UPDATE_RETURNED = "update_returned", _l("Update returned by a reviewer")
    REVIEW_WAITING = "review_waiting", _l("Waiting for review")
    #: instant notices (services.reminders.notices), recorded when the event happens
    UPDATE_SUBMITTED = "update_submitted", _l("Update submitted for review")
    UPDATE_APPROVED = "update_approved", _l("Update approved by a reviewer")
    #: a monitor proposed a government claim (services.monitoring.claims): to its reviewers
    CLAIM_PROPOSED = "claim_proposed", _l("Government claim proposed for review")
    #: a reviewer decided a proposed claim (services.monitoring.claim_review): to the monitors
    #: of the proposing organisation, as for a returned or approved update
    CLAIM_RETURNED = "claim_returned", _l("Proposed government claim returned by a reviewer")
    CLAIM_APPROVED = "claim_approved", _l("Proposed government claim approved by a reviewer")


REMINDER_KIND_LABELS = labels_of(ReminderKind)


class DeliveryStatus(StrEnum):
    """An outbox row's email: pending → sent | retry | failed (a run claims the recipient
    while it sends, models.ReminderClaim)."""

    PENDING = "pending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    #: planned while mail was off: shown in the app, never mailed
    IN_APP_ONLY = "in_app_only"
    #: the person unsubscribed from the kind before it went out
    CANCELLED = "cancelled"
    #: an instant notice whose email waits in the mail outbox (services.mail_outbox); it
    #: takes the email's outcome once the mail-outbox job has handled it
    QUEUED = "queued"


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


class MailKind(StrEnum):
    """What an email of the mail outbox is (tracker.models.mail.MailRequest)."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of email, not a password)
    #: an instant notice (submitted, returned, approved update): services.reminders.notices
    NOTICE = "notice"
    #: the account's security changed: its owner is told, whoever made the change
    TWO_STEP_ON = "two_step_on"
    TWO_STEP_OFF = "two_step_off"
    RECOVERY_CODES = "recovery_codes"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a kind of email, not a password)


class MailStatus(StrEnum):
    """pending → sending → sent | retry | failed; skipped when there is nothing to send
    (no such account, mail off, too many resets); cancelled when a newer one replaced it."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID = "invalid"
    THROTTLED = "throttled"
    #: the password is right and the account has two-step verification: a code comes next
    SECOND_STEP = "second_step"


class ReportKind(StrEnum):
    PLAN = "plan"
    SECTION = "section"
    AGENCY = "agency"
    ORGANISATION = "organisation"


class ReportRequestStatus(StrEnum):
    """A report asked for on the web: queued → building → ready (or failed)."""

    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


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
#: what separates a query's words: spaces and punctuation, except the dots and slashes of
#: codes, dates and numbers ("1.2", "01/2021")
_QUERY_SEPARATORS = re.compile(r"[^\w./]+")


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


#: the Azerbaijani alphabet in its order ("x" after "h", "q" after "k", "ə" after "e")
AZ_ALPHABET = "abcçdeəfgğhxıijkqlmnoöprsştuüvyz"
_AZ_RANK = {letter: rank for rank, letter in enumerate(AZ_ALPHABET)}


def _rank(char: str, ranks: dict[str, int]) -> int:
    """Digits first, then the alphabet's letters in its order, then any other letter."""
    if char.isdigit():
        return int(char) if char in "0123456789" else 9
    return 10 + ranks.get(char, len(AZ_ALPHABET) + ord(char))


_EN_RANK = {letter: rank for rank, letter in enumerate("abcdefghijklmnopqrstuvwxyz")}


# Pure, and asked for every name of a list on every request: registries run to 10,000s.
@functools.lru_cache(maxsize=65536)
def collation_key(text: str, locale: str) -> tuple:
    """A sort key for names in the language of the page: in Azerbaijani the alphabet's
    order (a b c ç d e ə … h x ı i … k q …, "İ"/"I" lower-cased the Azerbaijani way),
    in English the Latin order with "ə", "ş", "ç" … read as "e", "s", "c". Punctuation,
    quotes and spaces do not count, except to break ties."""
    if locale == "az":
        letters, ranks = az_lower(text), _AZ_RANK
    else:
        letters, ranks = fold(text), _EN_RANK
    primary = tuple(_rank(c, ranks) for c in letters if c.isalnum())
    return primary, az_lower(text)


#: letters and digits a stored sort key holds; names alike beyond them sort by id
SORT_KEY_LETTERS = 64


def collation_sort_key(text: str, locale: str) -> str:
    """`collation_key` as a string whose byte order (SQLite's BINARY, PostgreSQL's "C")
    is the key's order, so that the database can sort and page names in the collation:
    six hex digits a letter (a shorter name first), a space, then the lower-cased name."""
    primary, secondary = collation_key(text, locale)
    letters = "".join(f"{rank:06x}" for rank in primary[:SORT_KEY_LETTERS])
    return f"{letters} {secondary[:200]}"


def sort_by_name(named, locale: str) -> list:
    """Things with a `name(locale)` (organisations, agencies) in the order of the names
    shown in `locale`, by its collation; a stable sort, so ties keep their order."""
    return sorted(named, key=lambda thing: collation_key(thing.name(locale), locale))


def label_key(text: str) -> str:
    """A comparison key that also ignores punctuation: for matching labels and names."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def search_words(query: str) -> list[str]:
    """The folded words of a search query, without its punctuation: quotes, apostrophes
    (straight or curly) and dashes of any kind separate words, so `"açıq hökumət"`,
    `ministry’s` and `e–hökumət` find the texts that write them otherwise."""
    words = (word.strip("./") for word in _QUERY_SEPARATORS.split(fold(query)))
    return [word for word in words if word]


def matches_all_words(query: str, *texts: str) -> bool:
    """True when every word of the query occurs in the folded texts."""
    haystack = " ".join(fold(t) for t in texts if t)
    return all(word in haystack for word in search_words(query))
