"""The base forms: a POST-only button carries its CSRF token in a ConfirmForm, and every
other form is a TrackerForm, which also refuses fields the page does not have and shows
a service's problems beside the fields they name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField

from tracker.services.errors import ServiceError


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
