"""Milestones inside a measure: admins add, change and archive them; the one state
function reads them (final date, overdue milestone → at risk); reminders, the public page,
the API and the PDF report show them."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import make_organisation
from tests.helpers import csrf_token_from, login
from tests.reminders.conftest import baku
from tracker import clock
from tracker.extensions import db
from tracker.models import AuditEntry, Measure, Milestone, MonitoringLink, ReminderItem, User
from tracker.services import plans
from tracker.services.errors import InvalidInput, NotAllowed, StateConflict
from tracker.services.plans import MilestoneInput, measure_state, measure_states, summarize
from tracker.services.plans.milestones import YEARS_AFTER_PLAN
from tracker.services.reminders import item_detail, plan_reminders
from tracker.services.reminders.jobs import run_reminders
from tracker.services.reports.model import ReportSpec
from tracker.services.reports.pdf import render_report
from tracker.vocabulary import Completion, MilestoneState, ReminderKind

PLAN = "az-nap-2020-2022"


def _measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


@pytest.fixture
def admin(seeded) -> User:
    user = User(email="admin@example.org", role="admin", password_hash="x", locale="en")
    db.session.add(user)
    db.session.commit()
    return user


def milestone(code: str, due: date, state="planned", **fields) -> Milestone:
    row = Milestone(
        measure_id=_measure(code).id, title_az="Mərhələ", due_date=due, state=state, **fields
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- the state function --------------------------------------------------------------------


def test_an_overdue_milestone_puts_the_measure_at_risk(seeded):
    m = _measure("1.2")  # due 2022-12-31
    milestone("1.2", date(2021, 3, 1))
    milestone("1.2", date(2021, 9, 1))
    state = measure_state(db.session, m, date(2021, 6, 30))
    assert not state.is_overdue and state.is_at_risk
    assert [x.is_overdue for x in state.milestones] == [True, False]
    assert state.milestones[0].days_overdue == 121
    assert state.milestones[1].days_remaining == 63
    summary = summarize(measure_states(db.session, [m], date(2021, 6, 30)).values())
    assert (summary.overdue, summary.at_risk) == (0, 1)


def test_a_done_or_archived_milestone_is_not_overdue(seeded):
    m = _measure("1.2")
    milestone("1.2", date(2021, 3, 1), state="done")
    milestone("1.2", date(2021, 4, 1), is_archived=True, is_final=True)
    state = measure_state(db.session, m, date(2021, 6, 30))
    assert not state.is_at_risk
    # the archived one is left out, and its "final" date no longer counts
    assert [x.state for x in state.milestones] == [MilestoneState.DONE]
    assert state.due_date == date(2022, 12, 31)


def test_once_the_measure_is_overdue_it_is_no_longer_merely_at_risk(seeded):
    milestone("1.1", date(2020, 6, 1))  # 1.1 is due 2020-12-31
    state = measure_state(db.session, _measure("1.1"), date(2021, 6, 30))
    assert state.is_overdue and not state.is_at_risk
    assert state.overdue_milestones


# --- the admins' service -------------------------------------------------------------------


def test_admins_add_change_and_archive_with_an_audit_trail(admin):
    m = _measure("1.2")
    data = MilestoneInput(" Metodika ", "Methodology", date(2021, 5, 1), "planned")
    added = plans.add_milestone(db.session, admin, m, data)
    changed = plans.edit_milestone(
        db.session,
        admin,
        added,
        MilestoneInput("Metodika", "Methodology", date(2021, 5, 1), "done"),
    )
    assert changed and added.state == MilestoneState.DONE and added.title_az == "Metodika"
    same = plans.milestone_input(added)
    assert plans.edit_milestone(db.session, admin, added, same) is False
    plans.archive_milestone(db.session, admin, added)
    with pytest.raises(StateConflict):
        plans.edit_milestone(db.session, admin, added, same)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == str(added.id))
    ).all()
    assert actions == ["milestone.added", "milestone.changed", "milestone.archived"]
    assert db.session.get(Milestone, added.id) is not None  # kept


def test_bad_input_names_each_field_and_writes_nothing(admin):
    m = _measure("1.2")
    with pytest.raises(InvalidInput) as error:
        plans.add_milestone(db.session, admin, m, MilestoneInput("  ", "x" * 501, None, "soon"))
    assert set(error.value.problems) == {"title_az", "title_en", "due_date", "state"}
    with pytest.raises(InvalidInput) as error:
        plans.add_milestone(db.session, admin, m, MilestoneInput("a", "", date(1999, 1, 1), "done"))
    assert set(error.value.problems) == {"due_date"}
    assert db.session.scalar(select(Milestone.id)) is None


def test_only_admins_edit_milestones(seeded):
    reviewer = User(email="r@example.org", role="reviewer", password_hash="x")
    db.session.add(reviewer)
    db.session.flush()
    with pytest.raises(NotAllowed):
        plans.add_milestone(
            db.session, reviewer, _measure("1.2"), MilestoneInput("a", "", date(2021, 1, 1), "done")
        )


# --- reminders -----------------------------------------------------------------------------


@pytest.fixture
def monitored(seeded):
    organisation = make_organisation("Şəffaflıq")
    db.session.add(
        MonitoringLink(
            organisation_id=organisation.id,
            measure_id=_measure("1.2").id,
            start_date=date(2020, 1, 1),
        )
    )
    monitor = User(
        email="m@example.org",
        role="monitor",
        organisation_id=organisation.id,
        password_hash="x",
        locale="en",
    )
    db.session.add(monitor)
    db.session.flush()
    return monitor


def test_a_milestone_due_soon_and_one_overdue_are_reminded(app, monitored):
    soon = milestone("1.2", date(2021, 7, 20), title_en="Draft law")
    late = milestone("1.2", date(2021, 5, 1), title_en="Methodology")
    done = milestone("1.2", date(2021, 5, 2), state="done")
    planned = plan_reminders(db.session, date(2021, 6, 30), clock.now_utc())
    by_milestone = {(p.milestone_id, p.kind): p for p in planned if p.milestone_id}
    assert set(by_milestone) == {
        (soon.id, ReminderKind.DEADLINE_APPROACHING),
        (late.id, ReminderKind.OVERDUE),
    }
    assert by_milestone[(late.id, ReminderKind.OVERDUE)].day_count == 60
    assert done.id not in {p.milestone_id for p in planned}


def test_the_overdue_milestone_reads_well_in_the_list(app, monitored):
    app.config["TRACKER_TODAY"] = "2021-06-30"
    milestone("1.2", date(2021, 5, 1), title_en="Methodology")
    db.session.commit()
    run_reminders(db.session, baku("2021-06-30T09:00"))
    item = db.session.scalar(
        select(ReminderItem).where(
            ReminderItem.kind == ReminderKind.OVERDUE, ReminderItem.milestone_id.is_not(None)
        )
    )
    with app.test_request_context("/?lang=en"):
        assert item_detail(item, "en") == (
            "Milestone “Methodology” was due on May 1, 2021: 60 days overdue."
        )


# --- pages, API, PDF -----------------------------------------------------------------------


def test_the_public_page_and_the_api_show_the_milestones(app, client, seeded):
    app.config["TRACKER_TODAY"] = "2021-06-30"
    milestone("1.2", date(2021, 5, 1), title_en="Methodology <b>adopted</b>")
    milestone("1.2", date(2021, 4, 1), title_en="Archived one", is_archived=True)
    db.session.commit()
    html = client.get(f"/plans/{PLAN}/measures/1.2?lang=en").get_data(as_text=True)
    assert "Methodology &lt;b&gt;adopted&lt;/b&gt;" in html
    assert "Milestone overdue by 60 days" in html and "At risk" in html
    assert "Archived one" not in html
    data = client.get(f"/api/v1/measures/{PLAN}/1.2").get_json()
    [item] = data["milestones"]
    assert item["title"]["en"] == "Methodology <b>adopted</b>"
    assert (item["due_date"], item["state"], item["is_overdue"]) == ("2021-05-01", "planned", True)
    assert data["state"]["is_at_risk"] is True


def test_the_pdf_report_lists_the_milestones(app, seeded):
    milestone("1.2", date(2021, 5, 1), title_en="Methodology adopted")
    milestone("1.2", date(2021, 9, 1), title_en="Training held", state="in_progress")
    db.session.commit()
    pdf = render_report(db.session, ReportSpec(PLAN, date(2021, 6, 30), "en"))
    text = re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    )
    assert "Milestones" in text
    assert "Methodology adopted · Planned overdue by 60 days" in text
    assert "Training held · In progress" in text


# --- the admin page ------------------------------------------------------------------------


def test_the_admin_page_adds_a_milestone_and_refuses_bad_input(client, admin):
    login(client, admin)
    m = _measure("1.2")
    url = f"/admin/measures/{m.id}"
    token = csrf_token_from(client, url)
    form = {"csrf_token": token, "title_az": "", "title_en": "", "due_date": "2021-13-01"}
    bad = client.post(url, data={**form, "state": "planned"})
    assert bad.status_code == 400
    assert "Enter the date as YYYY-MM-DD" in bad.get_data(as_text=True)
    form.update(title_az="Metodika", due_date="2021-05-01", state="planned")
    assert client.post(url, data=form).status_code == 302
    assert db.session.scalar(select(Milestone.title_az)) == "Metodika"
    assert measure_state(db.session, m, date(2021, 6, 30)).completion == Completion.NO_EVIDENCE


@pytest.mark.parametrize(
    ("lang", "dates", "too_long"),
    [
        ("en", "from January 1, 2020 to December 31, 2027.", "Use at most 500 characters."),
        ("az", "1 yanvar 2020 ilə 31 dekabr 2027 arasında", "Ən çoxu 500 simvol istifadə edin."),
    ],
)
def test_the_bad_input_messages_read_as_people_write(app, admin, lang, dates, too_long):
    """The due date's bounds as the other messages write dates (the plan's start, and the
    end of its last year plus YEARS_AFTER_PLAN for late measures), not ISO 8601; a title
    of exactly 500 characters is allowed, so the message says "at most"."""
    assert YEARS_AFTER_PLAN == 5  # 2022 + 5: the 2027 below
    m = _measure("1.2")
    with force_locale(lang), pytest.raises(InvalidInput) as error:
        plans.add_milestone(
            db.session, admin, m, MilestoneInput("a", "x" * 501, date(2028, 1, 1), "planned")
        )
    problems = {name: [str(text) for text in texts] for name, texts in error.value.problems.items()}
    assert dates in problems["due_date"][0] and "2027-12-31" not in problems["due_date"][0]
    assert problems["title_en"] == [too_long]
    exactly = MilestoneInput("a", "x" * 500, date(2027, 12, 31), "planned")
    assert plans.add_milestone(db.session, admin, m, exactly).title_en == "x" * 500
