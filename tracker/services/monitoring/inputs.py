"""What a monitor sends when posting or editing a status update, and the rules it must meet.

The dataclasses are the services' input, whoever builds them (a form, a command, a test).
`check_update` names each problem after the input's own fields: "as_of_date",
"narrative_az", "evidence[1].url"; mapping those to a form's fields is the form's job.
A value left out or unreadable is None, and is a problem like any other: a form whose own
checks failed can still ask for every other problem, to show them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.dates import show_date
from tracker.models import Agency, Measure
from tracker.services.errors import InvalidInput
from tracker.services.monitoring.uploads import Upload
from tracker.services.plans import measure_state
from tracker.vocabulary import Completion, DelayReason, EvidenceType, RequestOutcome

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class EvidenceInput:
    evidence_type: EvidenceType | None
    title: str
    evidence_date: date | None
    url: str | None = None
    upload: Upload | None = None
    #: the public id of a file the author uploaded earlier, kept pending for this item
    pending_file: str | None = None
    is_private: bool = False
    request_sent_on: date | None = None
    request_agency_id: int | None = None
    request_answered_on: date | None = None
    request_outcome: RequestOutcome | None = None


@dataclass(frozen=True)
class UpdateInput:
    completion: Completion | None
    as_of_date: date | None
    narrative_az: str = ""
    narrative_en: str = ""
    progress_percent: int | None = None
    delay_reasons: tuple[DelayReason, ...] = ()
    evidence: tuple[EvidenceInput, ...] = ()
    #: ids of the replaced update's evidence items to carry over (revisions, corrections)
    keep_evidence_ids: tuple[int, ...] = ()
    #: the random key of the form it comes from ("" when unknown): see AlreadySaved
    form_key: str = ""


def evidence_name(index: int, field: str) -> str:
    """The name of a problem with one evidence item's field: "evidence[1].url"."""
    return f"evidence[{index}].{field}"


def is_http_url(value: str) -> bool:
    """An absolute http(s) link with a host; `javascript:`, `data:` and the like are not."""
    if not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def link_error_message():
    return _l("Enter a link that starts with http:// or https://, or upload a file instead.")


class Problems(dict):
    """Problems found so far, by input field name."""

    def add(self, name: str, message) -> None:
        self.setdefault(name, []).append(message)

    def raise_any(self, status: int | None = None) -> None:
        if self:
            raise InvalidInput(problems=self, status=status)


def check_source(problems: Problems, name: str, url: str | None, upload, missing) -> None:
    """A source is a link or a file, never both; a link must be http(s). `missing` says
    what to give when there is neither."""
    if url and upload:
        problems.add(name, _l("Give either a link or a file, not both."))
    elif not url and not upload:
        problems.add(name, missing)
    elif url and not is_http_url(url):
        problems.add(name, link_error_message())


def _check_request(problems: Problems, index: int, item: EvidenceInput, today: date, agencies):
    """The details of a request for information: sent, to a known agency, with an outcome,
    and an answer date that fits them."""

    def add(field, message):
        problems.add(evidence_name(index, field), message)

    if item.request_sent_on is None:
        add("request_sent_on", _l("Enter the date the request was sent."))
    elif item.request_sent_on > today:
        add("request_sent_on", _l("The date sent cannot be in the future."))
    if item.request_agency_id is None or item.request_agency_id not in agencies:
        add("request_agency_id", _l("Choose the agency the request went to."))
    if item.request_outcome is None:
        add("request_outcome", _l("Choose the outcome of the request."))
    if item.request_answered_on is None:
        return
    if item.request_outcome == RequestOutcome.NO_REPLY:
        add(
            "request_answered_on",
            _l("A request with no reply has no answer date. Clear the date."),
        )
    elif item.request_sent_on and item.request_answered_on < item.request_sent_on:
        add("request_answered_on", _l("The answer date cannot be before the date sent."))
    elif item.request_answered_on > today:
        add("request_answered_on", _l("The answer date cannot be in the future."))


def _has_request_details(item: EvidenceInput) -> bool:
    return any(
        value is not None
        for value in (
            item.request_sent_on,
            item.request_agency_id,
            item.request_answered_on,
            item.request_outcome,
        )
    )


def _is_unanswered_request(item: EvidenceInput) -> bool:
    return (
        item.evidence_type == EvidenceType.INFORMATION_REQUEST
        and item.request_outcome == RequestOutcome.NO_REPLY
    )


def _check_evidence(problems: Problems, index: int, item: EvidenceInput, today: date, agencies):
    if item.evidence_type is None:
        problems.add(
            evidence_name(index, "evidence_type"), _l("Choose the type of this evidence item.")
        )
    if not item.title.strip():
        problems.add(evidence_name(index, "title"), _l("Give the evidence a title."))
    if item.evidence_date is None:
        problems.add(evidence_name(index, "evidence_date"), _l("Enter the date of the evidence."))
    elif item.evidence_date > today:
        problems.add(
            evidence_name(index, "evidence_date"),
            _l("The evidence date cannot be in the future."),
        )
    has_file = item.upload is not None or bool(item.pending_file)
    # A request that got no reply is evidence in itself (when it was sent, to which agency,
    # no reply): it needs no link or file.
    if item.url or has_file or not _is_unanswered_request(item):
        check_source(
            problems,
            evidence_name(index, "url"),
            item.url,
            has_file,
            _l("Give a link to the evidence or upload a file."),
        )
    if item.evidence_type == EvidenceType.INFORMATION_REQUEST:
        _check_request(problems, index, item, today, agencies)
    elif _has_request_details(item):
        problems.add(
            evidence_name(index, "evidence_type"),
            _l(
                "Request details belong to a request for information. Choose that type or "
                "clear the request details."
            ),
        )


def _check_progress_fits(problems: Problems, completion: Completion | None, percent: int):
    """The percentage must not contradict the level: readers see both side by side."""
    if completion == Completion.COMPLETE and percent != 100:
        problems.add(
            "progress_percent",
            _l("The progress of a complete measure is 100. Enter 100, or leave it empty."),
        )
    elif completion == Completion.NOT_STARTED and percent != 0:
        problems.add(
            "progress_percent",
            _l("The progress of a measure not started is 0. Enter 0, or leave it empty."),
        )
    elif completion in (Completion.LIMITED, Completion.SUBSTANTIAL) and percent in (0, 100):
        problems.add(
            "progress_percent",
            _l(
                "The progress of a measure under way is from 1 to 99. Correct it, or choose "
                "another level of completion."
            ),
        )


def _check_assessment(session: Session, problems: Problems, measure: Measure, data, today):
    if data.completion is None:
        problems.add("completion", _l("Choose the level of completion."))
    if data.as_of_date is None:
        problems.add("as_of_date", _l("Enter the date your assessment describes."))
    elif data.as_of_date > today:
        problems.add("as_of_date", _l("The “as of” date cannot be in the future."))
    elif data.as_of_date < measure.plan.starts_on:
        # an assessment from before the plan would count in its figures from the start
        problems.add(
            "as_of_date",
            _l(
                "The “as of” date cannot be before the plan began (%(date)s).",
                date=show_date(measure.plan.starts_on),
            ),
        )
    if not (data.narrative_az.strip() or data.narrative_en.strip()):
        problems.add(
            "narrative_az", _l("Write the narrative in Azerbaijani, in English or in both.")
        )
    if data.progress_percent is not None and not 0 <= data.progress_percent <= 100:
        problems.add("progress_percent", _l("Enter a percentage from 0 to 100."))
    elif data.progress_percent is not None:
        _check_progress_fits(problems, data.completion, data.progress_percent)
    if data.completion == Completion.COMPLETE and data.delay_reasons:
        problems.add(
            "delay_reasons", _l("A complete measure has no reasons for delay. Clear them.")
        )
    elif data.as_of_date is not None and data.completion in (
        Completion.NOT_STARTED,
        Completion.LIMITED,
        Completion.SUBSTANTIAL,
    ):
        due_date = measure_state(session, measure, data.as_of_date).due_date
        if data.as_of_date > due_date and not data.delay_reasons:
            problems.add(
                "delay_reasons",
                _l(
                    "The measure was overdue on the “as of” date. Choose at least one "
                    "reason for the delay."
                ),
            )


def _known_agencies(session: Session, data: UpdateInput) -> set[int]:
    if not any(e.evidence_type == EvidenceType.INFORMATION_REQUEST for e in data.evidence):
        return set()
    wanted = {e.request_agency_id for e in data.evidence if e.request_agency_id}
    return set(session.scalars(select(Agency.id).where(Agency.id.in_(wanted))))


def update_problems(session: Session, measure: Measure, data: UpdateInput) -> Problems:
    """Every problem of the update's content and evidence, by input name."""
    problems = Problems()
    today = clock.today()
    _check_assessment(session, problems, measure, data, today)
    agencies = _known_agencies(session, data)
    for index, item in enumerate(data.evidence):
        _check_evidence(problems, index, item, today, agencies)
    return problems


def check_update(session: Session, measure: Measure, data: UpdateInput) -> None:
    """Raise InvalidInput naming every problem of the update's content and evidence."""
    update_problems(session, measure, data).raise_any()
