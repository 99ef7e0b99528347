"""Forms of the monitoring workflow: status updates with evidence, review and claims.

Every form here is a TrackerForm, and every view that takes one refuses a POST with a
field the page does not have (a tampered or added hidden field such as an organisation, a
status or a reviewer) with 400, so nothing a page does not offer can ever be written.
The forms turn what was sent into the services' input (inputs.UpdateInput, ClaimInput,
uploads.Upload), and map the input's field names back to their own.
"""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from tracker.services.monitoring.claims import ClaimInput
from tracker.services.monitoring.inputs import (
    MAX_URL_LENGTH,
    EvidenceInput,
    UpdateInput,
    evidence_name,
)
from tracker.services.monitoring.uploads import Upload, max_upload_bytes, too_large_message
from tracker.vocabulary import (
    COMPLETION_LABELS,
    DELAY_REASON_LABELS,
    EVIDENCE_TYPE_LABELS,
    REQUEST_OUTCOME_LABELS,
    Completion,
    DelayReason,
    EvidenceType,
    RequestOutcome,
)
from tracker.web.forms import (
    INVALID_CHOICE,
    INVALID_DATE,
    TOO_LONG,
    AppWordsMeta,
    BoundedNumberField,
    FileChoiceField,
    IsoDateField,
    TrackerForm,
    chosen_id,
    passed,
)

#: evidence slots on the update form; more can be added to a draft afterwards
EVIDENCE_SLOTS = 3
MAX_NARRATIVE_LENGTH = 20_000
MAX_TITLE_LENGTH = 500
MAX_COMMENT_LENGTH = 5000


def _date_field(label, *validators, **kwargs):
    return IsoDateField(
        label,
        validators=list(validators) or [Optional()],
        invalid_value_message=INVALID_DATE,
        **kwargs,
    )


def _select(label, choices, *validators, **kwargs):
    return SelectField(
        label,
        choices=choices,
        validators=list(validators) or [Optional()],
        invalid_choice_message=INVALID_CHOICE,
        **kwargs,
    )


def _labelled(labels) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in labels.items()]


def _blank(label) -> SelectChoice:
    return SelectChoice("", label)


def _completion_field(label, required_message) -> SelectField:
    """A level of completion, to be chosen (the list starts blank)."""
    return _select(
        label,
        [_blank(_l("Choose a level…")), *_labelled(COMPLETION_LABELS)],
        InputRequired(message=required_message),
    )


class UploadField(FileChoiceField):
    """A file input that names the upload limit and the server's message for a larger file:
    the page's script (static/js/uploads.js) refuses such a file when it is chosen. The
    server refuses a request over the limit whole (413), and everything typed with it."""

    def __call__(self, **kwargs):
        kwargs.setdefault("data-max-bytes", max_upload_bytes())
        kwargs.setdefault("data-too-large", str(too_large_message()))
        return super().__call__(**kwargs)


class MultiCheckboxField(SelectMultipleField):
    """Several choices, as checkboxes (no JavaScript needed)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", INVALID_CHOICE)
        super().__init__(label, validators, **kwargs)


def _text(value) -> str:
    return (value or "").strip()


def _member(enum, field):
    """The field's choice as a member of `enum`, or None when it has none or a wrong one
    (its own check says so)."""
    value = passed(field)
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _upload(file_storage) -> Upload | None:
    """The service's view of an uploaded file (werkzeug's FileStorage stays in the web)."""
    if not file_storage:
        return None
    return Upload(filename=file_storage.filename or "", stream=file_storage.stream)


#: the input's names of the evidence fields whose form names differ
_EVIDENCE_INPUT_NAMES = {"file": "upload"}


def _link_field(label) -> URLField:
    """An optional web address (the services check its scheme and form)."""
    return URLField(label, validators=[Optional(), Length(max=MAX_URL_LENGTH, message=TOO_LONG)])


def _text_area(label, required_message=None) -> TextAreaField:
    validators = [Length(max=MAX_COMMENT_LENGTH, message=TOO_LONG)]
    if required_message is not None:
        validators.insert(0, InputRequired(message=required_message))
    return TextAreaField(label, validators=validators)


class _KeptFile:
    """The companions of a `file` input: the file kept from an earlier attempt of the form
    (see uploads' pending files), and a box that removes it."""

    #: the public id of the file kept from an earlier attempt
    pending_file = HiddenField(validators=[Optional(), Length(max=64)])
    remove_file = BooleanField(_l("Remove this file"))

    def kept_file(self) -> str | None:
        """The public id of the pending file this slot keeps (not ticked for removal)."""
        if self.remove_file.data:
            return None
        return _text(self.pending_file.data) or None


class _KeepsFiles:
    """A form whose chosen files survive a mistake elsewhere: each is kept as the user's
    pending file, shown on the form again and attached when the form is saved (the views'
    kept_files). Its file_slots() are _KeptFile forms, keyed by position."""

    def file_slots(self) -> list[_KeptFile]:
        """A form with one file input is its own slot (the claim form); the update form
        gives its evidence items."""
        return [self]

    def new_uploads(self) -> dict[int, Upload]:
        """The files chosen in this attempt, by slot."""
        return {
            index: _upload(slot.file.data)
            for index, slot in enumerate(self.file_slots())
            if slot.file.data
        }

    def kept_files(self) -> list[str]:
        """The public ids of the files the slots keep from earlier attempts."""
        return [slot.kept_file() for slot in self.file_slots() if slot.kept_file()]

    def dropped_files(self, replaced: set[int]) -> list[str]:
        """The public ids of kept files that were ticked for removal, or whose slot got a
        new file (`replaced`: the slots whose new file was stored)."""
        return [
            _text(slot.pending_file.data)
            for index, slot in enumerate(self.file_slots())
            if _text(slot.pending_file.data) and (slot.remove_file.data or index in replaced)
        ]

    def keep_files(self, stored: dict, refused: dict, dropped: list[str]) -> None:
        """Show what happened to this attempt's files: a stored file is kept in its slot
        for the next attempt, a refused one gets its reason, a dropped one goes."""
        for index, slot in enumerate(self.file_slots()):
            if _text(slot.pending_file.data) in dropped:
                slot.pending_file.data = ""
                slot.remove_file.data = False
            if index in stored:
                slot.pending_file.data = stored[index].public_id
            if index in refused:
                slot.file.errors = [*slot.file.errors, refused[index].message]

    def forget_missing_files(self, found: dict, message) -> None:
        """Slots whose kept file is no longer kept (expired, or not this user's) drop it and
        say so, unless the slot already says why."""
        for slot in self.file_slots():
            public_id = _text(slot.pending_file.data)
            if public_id and public_id not in found:
                slot.pending_file.data = ""
                if not slot.file.errors:
                    slot.file.errors = [*slot.file.errors, message]


class EvidenceForm(_KeptFile, Form):
    """One evidence item. A slot left entirely blank is ignored."""

    class Meta(AppWordsMeta):
        pass

    evidence_type = _select(
        _l("Type of evidence"),
        [_blank(_l("Choose a type…")), *_labelled(EVIDENCE_TYPE_LABELS)],
        # tracker/static/js/evidence.js opens a request's details when its type is chosen
        render_kw={"data-evidence-type": ""},
    )
    title = StringField(
        _l("Title"),
        validators=[Optional(), Length(max=MAX_TITLE_LENGTH, message=TOO_LONG)],
    )
    evidence_date = _date_field(_l("Date of the evidence"))
    url = _link_field(_l("Link (http:// or https://)"))
    file = UploadField(_l("Or upload a file (PDF, PNG, JPG, DOCX, XLSX or ODT, up to 10 MB)"))
    is_private = BooleanField(_l("Private: show it to reviewers only"))
    request_sent_on = _date_field(_l("Request sent on"))
    request_agency_id = _select(_l("Agency the request went to"), [_blank(_l("Choose an agency…"))])
    request_answered_on = _date_field(_l("Answered on (leave empty if no reply)"))
    request_outcome = _select(
        _l("Outcome of the request"),
        [_blank(_l("Choose an outcome…")), *_labelled(REQUEST_OUTCOME_LABELS)],
    )

    def is_blank(self) -> bool:
        return not any(
            (
                self.evidence_type.data,
                _text(self.title.data),
                self.evidence_date.data,
                _text(self.url.data),
                self.file.data,
                self.kept_file(),
                self.request_sent_on.data,
                self.request_agency_id.data,
                self.request_answered_on.data,
                self.request_outcome.data,
            )
        )

    def to_input(self) -> EvidenceInput:
        """The slot as service input; a choice or date that did not pass the field's own
        check is None."""
        return EvidenceInput(
            evidence_type=_member(EvidenceType, self.evidence_type),
            title=_text(self.title.data),
            evidence_date=self.evidence_date.data,
            url=_text(self.url.data) or None,
            pending_file=self.kept_file(),
            is_private=bool(self.is_private.data),
            request_sent_on=self.request_sent_on.data,
            request_agency_id=chosen_id(self.request_agency_id),
            request_answered_on=self.request_answered_on.data,
            request_outcome=_member(RequestOutcome, self.request_outcome),
        )

    def source_in_doubt(self) -> bool:
        """Whether the field checks left it unknown if this item needs a link or a file."""
        return any(field.errors for field in (self.file, self.evidence_type, self.request_outcome))


class _SentOnce:
    """A random key given to the form when it is shown: the same form sent twice (a
    double click, a retry, a resubmit) saves once (the services' saved_by_form)."""

    form_key = HiddenField()

    def give_form_key(self) -> None:
        self.form_key.data = secrets.token_urlsafe(32)

    def sent_form_key(self) -> str:
        """The key sent with the form; "" when missing or not one this app could give."""
        key = (self.form_key.data or "").strip()
        return key if len(key) <= 64 else ""


class UpdateForm(_SentOnce, _KeepsFiles, TrackerForm):
    completion = _completion_field(_l("Completion"), _l("Choose the level of completion."))
    progress_percent = BoundedNumberField(
        _l("Progress in percent (optional)"),
        minimum=0,
        maximum=100,
        range_message=_l("Enter a percentage from 0 to 100."),
        validators=[Optional()],
        invalid_value_message=_l("Enter the percentage as a whole number from 0 to 100."),
    )
    as_of_date = _date_field(
        _l("As of"), InputRequired(message=_l("Enter the date your assessment describes."))
    )
    narrative_az = TextAreaField(
        _l("Narrative in Azerbaijani"),
        validators=[Length(max=MAX_NARRATIVE_LENGTH, message=TOO_LONG)],
    )
    narrative_en = TextAreaField(
        _l("Narrative in English"),
        validators=[Length(max=MAX_NARRATIVE_LENGTH, message=TOO_LONG)],
    )
    delay_reasons = MultiCheckboxField(
        _l("Reasons for delay"), choices=_labelled(DELAY_REASON_LABELS)
    )
    evidence = FieldList(
        FormField(EvidenceForm),
        _l("Evidence item"),
        min_entries=EVIDENCE_SLOTS,
        max_entries=EVIDENCE_SLOTS,
    )
    keep_evidence = MultiCheckboxField(_l("Evidence to keep"), coerce=int, choices=[])
    save_draft = SubmitField(_l("Save as draft"))
    submit_for_review = SubmitField(_l("Submit for review"))

    def set_agencies(self, agencies, locale: str) -> None:
        choices = [_blank(_l("Choose an agency…"))] + [
            SelectChoice(str(agency.id), agency.name(locale)) for agency in agencies
        ]
        for entry in self.evidence:
            entry.form.request_agency_id.choices = choices

    def set_kept_evidence(self, evidence_items) -> None:
        self.keep_evidence.choices = [SelectChoice(item.id, item.title) for item in evidence_items]

    def fill_from(self, update) -> None:
        """Prefill from an existing update (editing a draft, revising, correcting)."""
        self.completion.data = update.completion
        self.progress_percent.data = update.progress_percent
        self.as_of_date.data = update.as_of_date
        self.narrative_az.data = update.narrative_az
        self.narrative_en.data = update.narrative_en
        self.delay_reasons.data = list(update.delay_reasons or [])

    def file_slots(self) -> list[EvidenceForm]:
        return [entry.form for entry in self.evidence]

    def _filled_slots(self) -> list:
        return [entry for entry in self.evidence if not entry.form.is_blank()]

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, and a type for every evidence slot that is filled in."""
        valid = super().validate(extra_validators)
        for entry in self._filled_slots():
            field = entry.form.evidence_type
            if not field.data:
                field.errors = [*field.errors, _l("Choose the type of this evidence item.")]
                valid = False
        return valid

    def to_input(self) -> UpdateInput:
        """The form as service input; blank evidence slots are left out. After failed field
        checks, a value that failed is None (or left out), so the service can still name
        the other problems."""
        reasons = passed(self.delay_reasons) or ()
        return UpdateInput(
            completion=_member(Completion, self.completion),
            as_of_date=self.as_of_date.data,
            narrative_az=_text(self.narrative_az.data),
            narrative_en=_text(self.narrative_en.data),
            progress_percent=passed(self.progress_percent),
            delay_reasons=tuple(DelayReason(reason) for reason in reasons),
            evidence=tuple(entry.form.to_input() for entry in self._filled_slots()),
            keep_evidence_ids=tuple(self.keep_evidence.data or ()),
            form_key=self.sent_form_key(),
        )

    def show_other_problems(self, problems) -> None:
        """The service's problems with what the fields' own checks let through. A slot's
        "link or file" problem waits while its file was refused or its type or outcome is
        unreadable, since it may follow from that."""
        waiting = {
            entry.form.url.name for entry in self._filled_slots() if entry.form.source_in_doubt()
        }
        super().show_other_problems(problems, self.problem_names(), waiting)

    def problem_names(self) -> dict[str, str]:
        """The service's input names mapped to this form's fields. The service numbers the
        filled slots 0, 1, …; the form's slots may have blank ones in between."""
        names = {"keep_evidence_ids": self.keep_evidence.name}
        for index, entry in enumerate(self._filled_slots()):
            for field in entry.form:
                input_name = _EVIDENCE_INPUT_NAMES.get(field.short_name, field.short_name)
                names[evidence_name(index, input_name)] = field.name
        return names


# The reviewers' buttons, defined once: the one-action forms and the review page's form
# carry the same buttons, and the review views tell the actions apart by their names.


class _ApproveButton:
    approve = SubmitField(_l("Approve"))


class _ReturnButton:
    return_update = SubmitField(_l("Return to the monitor"))


class _CommentButton:
    send_comment = SubmitField(_l("Add comment"))


class ApproveForm(_ApproveButton, TrackerForm):
    comment = _text_area(_l("Comment for the monitor (optional)"))


class ReturnForm(_ReturnButton, TrackerForm):
    reason = _text_area(
        _l("Reason for returning it (the monitor sees this)"),
        _l("Say why you return the update, so the monitor can fix it."),
    )


class ReturnProposalForm(ReturnForm):
    """Returning a government-claim proposal: the same form, saying what is returned."""

    reason = _text_area(
        _l("Reason for returning it (the monitor sees this)"),
        _l("Say why you return the proposal, so the monitor can fix it."),
    )


class CommentForm(_CommentButton, TrackerForm):
    comment = _text_area(_l("Comment"), _l("Write a comment before sending it."))


class ReviewForm(_ApproveButton, _ReturnButton, _CommentButton, TrackerForm):
    """The review page's one form: one text, and the button says what it is for."""

    comment = _text_area(
        _l("Comment for the monitor (needed to return the update or to add a comment)")
    )


class ClaimForm(_SentOnce, _KeptFile, _KeepsFiles, TrackerForm):
    claimed_completion = _completion_field(
        _l("Completion the government claims"),
        _l("Choose the level of completion the government claims."),
    )
    claim_date = _date_field(
        _l("Date of the claim"),
        InputRequired(message=_l("Enter the date of the government's report or statement.")),
    )
    source_title = StringField(
        _l("Source (report, statement or page)"),
        validators=[Length(max=MAX_TITLE_LENGTH, message=TOO_LONG)],
    )
    source_url = _link_field(_l("Link to the source (http:// or https://)"))
    file = UploadField(_l("Or upload the source (PDF, PNG, JPG, DOCX, XLSX or ODT, up to 10 MB)"))
    note = _text_area(_l("Note (optional)"))
    #: on a revision's form only: cite the returned proposal's file again
    keep_revised_file = BooleanField(_l("Keep the source file of the returned proposal"))
    record = SubmitField(_l("Record the claim"))

    def fill_from(self, claim) -> None:
        self.claimed_completion.data = claim.claimed_completion
        self.claim_date.data = claim.claim_date
        self.source_title.data = claim.source_title
        self.source_url.data = claim.source_url or ""
        self.note.data = claim.note
        self.keep_revised_file.data = claim.file_id is not None

    def to_input(self) -> ClaimInput:
        """The form as service input; a level or date that failed its check is None. The
        chosen file is the kept one: the view keeps every chosen file first."""
        return ClaimInput(
            claimed_completion=_member(Completion, self.claimed_completion),
            claim_date=self.claim_date.data,
            source_title=_text(self.source_title.data),
            source_url=_text(self.source_url.data) or None,
            pending_file=self.kept_file(),
            note=_text(self.note.data),
            form_key=self.sent_form_key(),
            keep_revised_file=bool(self.keep_revised_file.data),
        )

    def problem_names(self) -> dict[str, str]:
        return {"upload": self.file.name}

    def show_other_problems(self, problems) -> None:
        """The service's problems with what the fields' own checks let through. The "link
        or file" problem waits while the file says what is wrong with it (it was refused)."""
        waiting = {self.source_url.name} if self.file.errors else set()
        super().show_other_problems(problems, self.problem_names(), waiting)
