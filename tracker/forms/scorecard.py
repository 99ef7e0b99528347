"""The scorecard's filter form (GET: no CSRF, nothing changes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from tracker.vocabulary import COMPLETION_LABELS


class MeasureFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=200)])
    section = SelectField(_l("Section"), validators=[Optional()])
    agency = SelectField(_l("Agency"), validators=[Optional()])
    completion = SelectField(_l("Completion"), validators=[Optional()])
    overdue = SelectField(_l("Deadline"), validators=[Optional()])

    def set_choices(self, sections, agencies, locale: str) -> None:
        everything = SelectChoice("", _l("All"))
        self.section.choices = [everything] + [
            SelectChoice(str(s.number), f"{s.number}. {s.title(locale)}") for s in sections
        ]
        self.agency.choices = [everything] + [SelectChoice(a.key, a.name(locale)) for a in agencies]
        self.completion.choices = [everything] + [
            SelectChoice(str(key), label) for key, label in COMPLETION_LABELS.items()
        ]
        self.overdue.choices = [
            everything,
            SelectChoice("yes", _l("Overdue")),
            SelectChoice("no", _l("Not overdue")),
        ]
