"""Numbers in forms (issue 11, item 5): every numeric field is one BoundedNumberField,
checked as text before it is converted, so 309 nines is a translated "out of range" on
the form (400), never an OverflowError and a 500. The forms tested over HTTP are every
form with a number: the update (percentage), the organisation (years, staff, members)
and the reminder settings (days)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.accounts.conftest import make_user
from tests.helpers import csrf_token_from, login
from tracker.extensions import db
from tracker.models import Organisation
from tracker.views.reminders.admin import parse_offsets
from tracker.web.forms import BoundedNumberField

NINES = "9" * 309
LEADING_ZEROS = {"count": 42, "share": Decimal("-99.99")}
NUMBER_FIELDS = re.compile(r"\b(IntegerField|DecimalField|FloatField|\w*RangeField)\(")
TRACKER = Path(__file__).resolve().parents[1] / "tracker"


def test_no_form_takes_a_number_without_the_bounded_field():
    unbounded = {
        str(path.relative_to(TRACKER)): NUMBER_FIELDS.findall(path.read_text(encoding="utf-8"))
        for path in TRACKER.rglob("*.py")
        if path != TRACKER / "web" / "forms.py"
    }
    assert {path: uses for path, uses in unbounded.items() if uses} == {}


class Numbers(FlaskForm):
    class Meta:
        csrf = False

    count = BoundedNumberField("Count", minimum=0, maximum=1_000_000)
    share = BoundedNumberField("Share", minimum=-100, maximum=100, places=2)


def parsed(app, **values):
    with app.test_request_context("/?lang=en"):
        form = Numbers(formdata=MultiDict(values))
        form.validate()
        return {"count": form.count.data, "share": form.share.data}, {
            name: [str(error) for error in errors] for name, errors in form.errors.items()
        }


@pytest.mark.parametrize(
    ("values", "data"),
    [
        ({"count": " 007 ", "share": "12,5"}, {"count": 7, "share": Decimal("12.5")}),
        (
            {"count": "0" * 5000 + "42", "share": "-99.99"},
            {"count": 42, "share": Decimal("-99.99")},
        ),
        ({"count": "1000000", "share": "+100"}, {"count": 1_000_000, "share": Decimal("100")}),
        ({"count": "", "share": ""}, {"count": None, "share": None}),
    ],
)
def test_good_numbers_are_read(app, values, data):
    assert parsed(app, **values) == (data, {})


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"count": NINES}, {"count": ["Enter a number from 0 to 1000000."]}),
        ({"count": "-" + NINES}, {"count": ["Enter a number from 0 to 1000000."]}),
        ({"count": "1000001"}, {"count": ["Enter a number from 0 to 1000000."]}),
        ({"count": "9" * 5000}, {"count": ["Enter a number from 0 to 1000000."]}),
        ({"count": "1e3"}, {"count": ["Enter a whole number."]}),
        ({"count": "٣٠"}, {"count": ["Enter a whole number."]}),
        ({"count": "3.0"}, {"count": ["Enter a whole number."]}),
        ({"share": NINES + ".5"}, {"share": ["Enter a number from -100 to 100."]}),
        ({"share": "1.234"}, {"share": ["Enter a number, with at most 2 decimal places."]}),
        ({"share": "nan"}, {"share": ["Enter a number, with at most 2 decimal places."]}),
        ({"share": "inf"}, {"share": ["Enter a number, with at most 2 decimal places."]}),
    ],
)
def test_bad_numbers_get_a_message_not_an_exception(app, values, errors):
    assert parsed(app, **values)[1] == errors


def test_a_huge_number_of_days_in_the_offsets_is_a_message(app):
    with app.test_request_context("/?lang=en"):
        for text in (NINES, "9" * 5000, "30, " + NINES, "٣٠"):
            with pytest.raises(ValueError, match="whole number from 1 to 3650"):
                parse_offsets(text)
        assert parse_offsets("007, 30") == (30, 7)


@pytest.fixture
def admin_client(app, client):
    login(client, make_user("admin.numbers@example.org", role="admin"))
    db.session.commit()
    return client


ORGANISATION_FIELDS = ("founded_year", "founded_year_alternative", "staff_total")


@pytest.mark.parametrize("field", [*ORGANISATION_FIELDS, "declared_member_count"])
def test_the_organisation_form_refuses_309_nines_with_a_message(app, admin_client, field):
    url = "/admin/organisations/new?lang=en"
    data = {
        "csrf_token": csrf_token_from(admin_client, url),
        "kind": "coalition" if field == "declared_member_count" else "organisation",
        "name_az": "Rəqəm İctimai Birliyi",
        field: NINES,
    }
    response = admin_client.post(url, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and "Enter a number from" in html
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


@pytest.mark.parametrize(
    "field", ["overdue_interval", "update_stale_interval", "deadline_approaching_offsets"]
)
def test_the_reminder_settings_refuse_309_nines_with_a_message(app, admin_client, field):
    url = "/admin/reminders/?lang=en"
    data = {
        "csrf_token": csrf_token_from(admin_client, url),
        "deadline_approaching_offsets": "90, 30, 7",
        "overdue_interval": "30",
        "update_stale_interval": "90",
        "review_waiting_interval": "7",
        field: NINES,
    }
    response = admin_client.post(url, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html
    assert "from 1 to 3650" in html


@pytest.mark.served
def test_the_served_app_refuses_309_nines_in_every_number_form(served):
    from tests.served.server import FIRST_ADMIN_EMAIL

    admin = served.client()
    admin.login(FIRST_ADMIN_EMAIL, served.first_admin_password)
    admin.get("/?lang=en")
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    for field in ORGANISATION_FIELDS:
        response = admin.post_form(
            "/admin/organisations/new",
            {"kind": "organisation", "name_az": "Rəqəm İctimai Birliyi", field: NINES},
        )
        assert response.status_code == 400, field
        assert "Enter a number from" in response.text, field
    settings = {
        "deadline_approaching_offsets": "90, 30, 7",
        "overdue_interval": NINES,
        "update_stale_interval": "90",
        "review_waiting_interval": "7",
    }
    response = admin.post_form("/admin/reminders/", settings)
    assert response.status_code == 400 and "Enter a number from 1 to 3650." in response.text
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before
