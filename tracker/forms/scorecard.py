"""The scorecard's filter form (GET: no CSRF, nothing changes), and the admins' milestone
form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker import clock
from tracker.forms.filters import GetForm, filter_field, search_field
from tracker.services.plans import MeasureFilter, MilestoneInput
from tracker.vocabulary import COMPLETION_LABELS, MILESTONE_STATE_LABELS, Completion
from tracker.web.forms import IsoDateField, TrackerForm

OVERDUE_CHOICES = {"yes": True, "no": False}
#: the yes/no filters' values: disputed, monitored
YES_NO = OVERDUE_CHOICES


class MeasureFilterForm(GetForm):
    q = search_field(_l("Search"))
    section = filter_field(_l("Section"))
    agency = filter_field(_l("Agency"))
    completion = filter_field(_l("Completion"))
    overdue = filter_field(_l("Deadline"))
    disputed = filter_field(_l("Government claim"))
    monitored = filter_field(_l("Monitoring"))
    organisation = filter_field(_l("Monitoring organisation"))

    def set_choices(
        self, sections, agencies, locale: str, organisations=(), *, plan_ended: bool = False
    ) -> None:
        """The choices of the select fields; `organisations` are the registry's Monitor
        records of the organisations monitoring the plan's measures. Once the plan has
        ended, the deadline's choices speak of the end: nothing is "overdue" any more."""
        everything = SelectChoice("", _l("All"))
        self.section.choices = [everything] + [
            SelectChoice(str(s.number), f"{s.number}. {s.title(locale)}") for s in sections
        ]
        self.agency.choices = [everything] + [SelectChoice(a.key, a.name(locale)) for a in agencies]
        self.completion.choices = [everything] + [
            SelectChoice(str(key), label) for key, label in COMPLETION_LABELS.items()
        ]
        late, on_time = (
            (_l("Not complete when the plan ended"), _l("Complete when the plan ended"))
            if plan_ended
            else (_l("Overdue"), _l("Not overdue"))
        )
        self.overdue.choices = [everything, SelectChoice("yes", late), SelectChoice("no", on_time)]
        self.disputed.choices = [
            everything,
            SelectChoice("yes", _l("Disputed: the claim differs")),
            SelectChoice("no", _l("Not disputed")),
        ]
        self.monitored.choices = [
            everything,
            SelectChoice("yes", _l("Monitored")),
            SelectChoice("no", _l("Not monitored")),
        ]
        self.organisation.choices = [everything] + [
            SelectChoice(str(o.organisation_id), o.name(locale)) for o in organisations
        ]

    def measure_filter(self) -> MeasureFilter:
        """The filter the validated form asks for."""
        return MeasureFilter(
            section=int(self.section.data) if self.section.data else None,
            agency=self.agency.data or None,
            completion=Completion(self.completion.data) if self.completion.data else None,
            late=OVERDUE_CHOICES.get(self.overdue.data or ""),
            query=(self.q.data or "").strip(),
            disputed=YES_NO.get(self.disputed.data or ""),
            monitored=YES_NO.get(self.monitored.data or ""),
            organisation=int(self.organisation.data) if self.organisation.data else None,
        )


class ChangesForm(GetForm):
    """The dates of the "what changed" list (GET: no CSRF, nothing changes)."""

    since = IsoDateField(
        _l("Since"),
        validators=[Optional()],
        format="%Y-%m-%d",
        description=_l("A date as YYYY-MM-DD"),
    )
    until = IsoDateField(
        _l("Until"),
        validators=[Optional()],
        format="%Y-%m-%d",
        description=_l("A date as YYYY-MM-DD"),
    )

    def validate_since(self, field) -> None:
        # a later day lists nothing yet: say so rather than show an empty list
        if field.data and field.data > clock.today():
            raise ValidationError(_l("The “since” date cannot be in the future."))

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must not be before the start date."))


class MilestoneForm(TrackerForm):
    """An admin's milestone of a measure (services.plans.milestones checks the values)."""

    title_az = StringField(_l("Title in Azerbaijani"), validators=[Optional()])
    title_en = StringField(_l("Title in English (optional)"), validators=[Optional()])
    due_date = IsoDateField(
        _l("Due date"),
        validators=[Optional()],
        invalid_value_message=_l("Enter the date as YYYY-MM-DD, for example 2021-06-30."),
    )
    state = SelectField(
        _l("State"),
        choices=[SelectChoice(str(key), label) for key, label in MILESTONE_STATE_LABELS.items()],
        validate_choice=False,
    )
    is_final = BooleanField(_l("Its date is the measure's due date"))

    def to_input(self) -> MilestoneInput:
        return MilestoneInput(
            title_az=self.title_az.data or "",
            title_en=self.title_en.data or "",
            due_date=self.due_date.data,
            state=self.state.data or "",
            is_final=bool(self.is_final.data),
        )
