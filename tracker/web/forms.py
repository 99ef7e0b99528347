"""The base forms: a POST-only button carries its CSRF token in a ConfirmForm, and every
other form is a TrackerForm, which also refuses fields the page does not have and shows
a service's problems beside the fields they name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, Field, FieldList, FormField
from wtforms.widgets import TextInput

from tracker.extensions import db
from tracker.services import audit
from tracker.services.errors import ServiceError
from tracker.web.errors_map import http_error


class IsoDateField(DateField):
    """A date typed as YYYY-MM-DD, the format that the hints, the error messages and the
    API name. A text input: a browser's date picker shows and takes dates in the
    browser's own format, which is not the one the page names."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {
            "inputmode": "numeric",
            "placeholder": "YYYY-MM-DD",
            "pattern": r"\d{4}-\d{2}-\d{2}",
            "autocomplete": "off",
            **(kwargs.pop("render_kw", None) or {}),
        }
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(label, validators, render_kw=render_kw, **kwargs)


def walk_fields(fields) -> Iterator[Field]:
    """Every leaf field of a form, nested lists and sub-forms included."""
    for field in fields:
        if isinstance(field, FieldList):
            yield from walk_fields(field.entries)
        elif isinstance(field, FormField):
            yield from walk_fields(field.form)
        else:
            yield field


class TrackerForm(FlaskForm):
    """A form that knows every field name a POST may carry."""

    def field_names(self) -> set[str]:
        return {field.name for field in walk_fields(self)} | {"csrf_token"}

    def unexpected_fields(self) -> list[str]:
        sent = set(request.form.keys()) | set(request.files.keys())
        return sorted(sent - self.field_names())

    def show_problems(
        self, problems: Mapping[str, list] | ServiceError, names: Mapping[str, str] | None = None
    ) -> None:
        """Put each problem beside the field it names (through `names`, which maps the
        service's input names to this form's field names); the rest go on top."""
        if isinstance(problems, ServiceError):
            problems = problems.problems or {"": [problems.message]}
        by_name = {field.name: field for field in walk_fields(self)}
        for name, messages in problems.items():
            field = by_name.get((names or {}).get(name, name))
            if field is None:
                self.form_errors.extend(str(message) for message in messages)
            else:
                field.errors = [*field.errors, *(str(message) for message in messages)]


class ConfirmForm(TrackerForm):
    """A button that changes something: a POST with nothing but its CSRF token."""


def reject_unexpected_fields(form: TrackerForm) -> None:
    """400 for a POST carrying fields the page does not have (a tampered hidden field);
    the attempt is logged in its own transaction and nothing else is written."""
    unexpected = form.unexpected_fields()
    if not unexpected:
        return
    db.session.rollback()
    audit.record(
        db.session,
        "form.rejected",
        "route",
        request.endpoint,
        details={"unexpected_fields": unexpected[:20], "path": request.path},
        actor=current_user if current_user.is_authenticated else None,
    )
    db.session.commit()
    raise http_error(
        400,
        _(
            "The form contained fields this page does not have (%(names)s). Reload the page "
            "and fill the form in again.",
            names=", ".join(unexpected[:5]),
        ),
    )
