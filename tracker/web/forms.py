"""The base forms: a POST-only button carries its CSRF token in a ConfirmForm, and every
other form is a TrackerForm, which also refuses fields the page does not have and shows
a service's problems beside the fields they name. Every number a form takes is a
BoundedNumberField, checked as text before it is converted; every file input a
FileChoiceField, whose button speaks the page's language."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, Field, FieldList, FormField, IntegerField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from tracker.dates import parse_given_day
from tracker.extensions import db
from tracker.i18n import LANGUAGE_NAMES
from tracker.services import audit
from tracker.services.errors import ServiceError
from tracker.web.errors_map import http_error
from tracker.web.request_origin import loggable_path

INVALID_DATE = _l("Enter the date as YYYY-MM-DD, for example 2021-06-30.")
INVALID_CHOICE = _l("Choose one of the options in the list.")
TOO_LONG = _l("This is too long: use at most %(max)d characters.")
_AT_LEAST = _l("Use at least %(min)d characters.")


def language_choices() -> list[SelectChoice]:
    """The languages, each named in itself and marked with its lang."""
    return [SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGE_NAMES.items()]


#: WTForms' own messages in the app's words and catalogs. WTForms has no Azerbaijani
#: catalog: without these the Azerbaijani pages showed "Not a valid choice.".
_WTFORMS_MESSAGES = {
    "This field is required.": _l("Fill in this field."),
    "Invalid email address.": _l("Enter a valid email address."),
    "Not a valid choice.": INVALID_CHOICE,
    "Invalid Choice: could not coerce.": INVALID_CHOICE,
    "Invalid choice(s): one or more data inputs could not be coerced.": INVALID_CHOICE,
    "'%(value)s' is not a valid choice for this field.": INVALID_CHOICE,
    "'%(value)s' are not valid choices for this field.": INVALID_CHOICE,
    "Not a valid date value.": INVALID_DATE,
    "Not a valid integer value.": _l("Enter a whole number."),
    "Field cannot be longer than %(max)d character.": TOO_LONG,
    "Field cannot be longer than %(max)d characters.": TOO_LONG,
    "Field must be at least %(min)d character long.": _AT_LEAST,
    "Field must be at least %(min)d characters long.": _AT_LEAST,
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Use from %(min)d to %(max)d characters."
    ),
}


class _AppWords:
    """WTForms' translations object: its messages in the app's words, in the page's
    language. A message not listed stays as WTForms wrote it."""

    def gettext(self, string):
        return str(_WTFORMS_MESSAGES.get(string, string))

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


_APP_WORDS = _AppWords()


class AppWordsMeta:
    """The form option that gives WTForms' messages in the app's words (a form's Meta)."""

    def get_translations(self, form):
        return _APP_WORDS


class IsoDateField(DateField):
    """A date typed as YYYY-MM-DD, the format that the hints, the error messages and the
    API name. A text input: a browser's date picker shows and takes dates in the
    browser's own format, which is not the one the page names."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {
            "inputmode": "numeric",
            "placeholder": _l("YYYY-MM-DD"),
            "pattern": r"\d{4}-\d{2}-\d{2}",
            "autocomplete": "off",
            **(kwargs.pop("render_kw", None) or {}),
        }
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        """YYYY-MM-DD exactly, as the API reads it (strptime also took 2022-1-1). Spaces
        around it are no part of it, and the same date given twice (a link built by
        hand) is that date; two different dates are refused."""
        if not valuelist:
            return
        try:
            self.data = parse_given_day(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(self.invalid_value_message or INVALID_DATE) from None


def passed(field, missing=None):
    """The field's value if it passed its own checks, else `missing`: after failed checks a
    form hands the service only what it could read, so the service names the rest."""
    return missing if field.errors or field.data is None else field.data


def chosen_id(field) -> int | None:
    """A select's chosen id as a number, or None: none chosen, or a value that is not one
    (whitespace passes an Optional() select unchecked, and int(" ") raises)."""
    text = (field.data or "").strip() if isinstance(field.data, str) else ""
    if field.errors or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def walk_fields(fields) -> Iterator[Field]:
    """Every leaf field of a form, nested lists and sub-forms included."""
    for field in fields:
        if isinstance(field, FieldList):
            yield from walk_fields(field.entries)
        elif isinstance(field, FormField):
            yield from walk_fields(field.form)
        else:
            yield field


def _gather_list_errors(fields) -> None:
    """A FieldList gathers its entries' errors only while it validates, so a problem put
    beside an entry's field afterwards was missing from form.errors, and the error
    summary (which reads form.errors) was not shown: gather them again."""
    for field in fields:
        if isinstance(field, FormField):
            _gather_list_errors(field.form)
        elif isinstance(field, FieldList):
            _gather_list_errors(field.entries)
            gathered = [entry.errors for entry in field.entries]
            field.errors = gathered if any(gathered) else []


class TrackerForm(FlaskForm):
    """A form that knows every field name a POST may carry, and speaks the app's words."""

    class Meta(AppWordsMeta):
        def render_field(self, field, render_kw):
            # a page may hold several forms, and every CSRF input would be id="csrf_token"
            if isinstance(field, CSRFTokenField):
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

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
        _gather_list_errors(self)

    def show_other_problems(
        self,
        problems: Mapping[str, list],
        names: Mapping[str, str] | None = None,
        waiting: Collection[str] = (),
    ) -> None:
        """After the fields' own checks failed, show the service's problems with the rest,
        so that one attempt names every mistake. A field that already says what is wrong
        keeps its own message; `waiting` names fields whose problems may follow from
        another field's error, and wait for the next attempt."""
        by_name = {field.name: field for field in walk_fields(self)}
        others = {}
        for name, messages in problems.items():
            field_name = (names or {}).get(name, name)
            field = by_name.get(field_name)
            if field_name in waiting or (field is not None and field.errors):
                continue
            others[name] = messages
        self.show_problems(others, names=names)


class FileChoiceField(FileField):
    """A file input whose button and "no file" words the page's script (static/js/uploads.js)
    writes in the page's language: the browser draws its own in the browser's language
    ("Choose File" on an Azerbaijani page). Without the script the browser's own stay."""

    def __call__(self, **kwargs):
        kwargs.setdefault("data-choose", _("Choose a file"))
        kwargs.setdefault("data-no-file", _("No file chosen"))
        return super().__call__(**kwargs)


class BoundedNumberField(IntegerField):
    """A number from `minimum` to `maximum`: whole (places=0, the value is an int) or with
    up to `places` decimals (a Decimal; "," or "." before them). The text is checked
    before it is converted: ASCII digits only, and no more of them than the bounds have,
    so 309 nines is "out of range", never an OverflowError in a validator's float
    comparison or a number a database column cannot hold. No NumberRange is needed."""

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        minimum: int,
        maximum: int,
        places: int = 0,
        range_message=None,
        invalid_value_message=None,
        **kwargs,
    ):
        if places:
            kwargs.setdefault("render_kw", {"step": "any"})
        super().__init__(
            label,
            validators,
            invalid_value_message=invalid_value_message or _default_invalid(places),
            **kwargs,
        )
        self.minimum, self.maximum, self.places = minimum, maximum, places
        self.range_message = range_message or _l(
            "Enter a number from %(minimum)s to %(maximum)s.", minimum=minimum, maximum=maximum
        )
        decimals = rf"(?:[.,](\d{{1,{places}}}))?" if places else "()"
        self._pattern = re.compile(rf"([+-]?)(\d+){decimals}")

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        text = valuelist[0].strip() if isinstance(valuelist[0], str) else ""
        if not text:
            return
        match = self._pattern.fullmatch(text) if text.isascii() else None
        if match is None:
            raise ValueError(self.gettext(self.invalid_value_message))
        sign, whole, fraction = match.group(1), match.group(2).lstrip("0"), match.group(3)
        widest = max(len(str(abs(self.minimum))), len(str(abs(self.maximum))))
        if len(whole) > widest:
            raise ValueError(str(self.range_message))
        value = (
            Decimal(f"{sign}{whole or 0}.{fraction or 0}")
            if self.places
            else int(sign + (whole or "0"))
        )
        if not self.minimum <= value <= self.maximum:
            raise ValueError(str(self.range_message))
        self.data = value


def _default_invalid(places: int):
    if places:
        return _l("Enter a number, with at most %(places)s decimal places.", places=places)
    return _l("Enter a whole number.")


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
        details={"unexpected_fields": unexpected[:20], "path": loggable_path()},
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
