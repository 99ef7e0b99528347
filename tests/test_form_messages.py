"""Every form's error messages come from our catalogs, so the Azerbaijani interface never
shows WTForms' English defaults ("Not a valid choice.", "Invalid email address."):
WTForms ships no Azerbaijani catalog. Each form of the app is filled with nonsense and
then left empty, in Azerbaijani: no message it gives may be one of WTForms' own, and
each must be a translation in our Azerbaijani catalog."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form, SubmitField
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path

import tracker
from tests.accounts.conftest import PASSWORD, make_user
from tests.helpers import field_errors
from tracker.config import PROJECT_ROOT
from tracker.web.forms import walk_fields

PLACEHOLDER = re.compile(r"%\\\(\w+\\\)[sd]")


def _wtforms_messages() -> set[str]:
    with open(Path(messages_path()) / "wtforms.pot", "rb") as pot:
        catalog = read_po(pot)
    found = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        found.update(text for text in ids if text)
    return found


@functools.cache
def _azerbaijani_messages() -> list[re.Pattern]:
    """Each translation of the Azerbaijani catalog, its placeholders matching any value."""
    with open(PROJECT_ROOT / "tracker/translations/az/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    texts = []
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts.extend(text for text in strings if text)
    return [re.compile(PLACEHOLDER.sub(".+", re.escape(text))) for text in texts]


def _app_forms() -> list[type[Form]]:
    for module in pkgutil.walk_packages(tracker.__path__, "tracker."):
        if ".forms" in module.name or ".views." in module.name or module.name == "tracker.web":
            importlib.import_module(module.name)
    seen, pending = [], [Form]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("tracker.") and _has_inputs(subclass):
                seen.append(subclass)
    return sorted(set(seen), key=lambda form: (form.__module__, form.__name__))


def _has_inputs(form_class) -> bool:
    """Whether the form has a field to type or choose in (not only buttons)."""
    fields = [getattr(form_class, name, None) for name in dir(form_class)]
    return any(
        isinstance(field, UnboundField) and not issubclass(field.field_class, SubmitField)
        for field in fields
    )


def _messages(form_class, values: MultiDict) -> list[str]:
    form = form_class(formdata=values, meta={"csrf": False})
    for field in walk_fields(form):
        if getattr(field, "choices", ()) is None:  # set by the view, from the database
            field.choices = []
    form.validate()
    messages = [str(error) for error in getattr(form, "form_errors", [])]
    for field in walk_fields(form):
        messages.extend(str(error) for error in field.errors)
    return messages


@pytest.mark.parametrize("form_class", _app_forms(), ids=lambda form: form.__name__)
def test_no_form_speaks_wtforms_english(app, form_class):
    defaults = _wtforms_messages()
    with app.test_request_context("/", method="POST"), force_locale("az"):
        names = [field.name for field in walk_fields(form_class(meta={"csrf": False}))]
        nonsense = MultiDict([(name, "zz\u0259-9") for name in names])
        given = _messages(form_class, nonsense) + _messages(form_class, MultiDict([("x", "")]))
    assert not [message for message in given if message in defaults], form_class
    translations = _azerbaijani_messages()
    untranslated = [
        message
        for message in given
        if not any(pattern.fullmatch(message) for pattern in translations)
    ]
    assert not untranslated, form_class


@pytest.mark.served
def test_the_served_app_answers_bad_input_in_azerbaijani(served):
    """Through the served app: a public page's filter and an admin's form, in Azerbaijani."""
    make_user("forms.admin@example.org", role="admin", locale="az")
    visitor, admin = served.client(), served.client()
    changes = visitor.get("/plans/az-nap-2020-2022/changes?lang=az&since=2021-02-30")
    assert changes.status_code == 400
    assert "Tarixi İİİİ-AA-GG formatında daxil edin" in changes.text
    assert "Not a valid date value." not in changes.text
    admin.login("forms.admin@example.org", PASSWORD)
    new = "/admin/organisations/new?lang=az"
    response = admin.post_form(
        new,
        {
            "kind": "organisation",
            "name_az": "Sınaq Birliyi",
            "member_of_networks": "",
            "email": "not an email",
        },
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {"email": ["Düzgün e-poçt ünvanı daxil edin."]}
