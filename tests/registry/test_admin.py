"""Registry administration: admins only, CSRF on every form, audit of every change."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_token_from, field_errors, login
from tests.registry.conftest import csv_bytes, make_user
from tracker.extensions import db
from tracker.models import AuditEntry, CoalitionMembership, Measure, MonitoringLink, Organisation
from tracker.services.registry.labels import catalogue

NEW = "/admin/organisations/new"


def form_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "kind": "organisation",
        "name_az": "Yeni Ümid İctimai Birliyi",
        "name_en": "New Hope Public Union",
        "founded_year": "2012",
        "founded_month": "5",
        "legal_status": "public_union",
        "email": "office@example.az",
        "contact_person": "Aysel Məmmədova",
        "services": ["legal", "education"],
        "services_other": "Kitabxana",
        "regions": ["baku"],
        "training_needs": ["financial_management"],
        "donors_international": "USAID",
        "staff_total": "8",
        "member_of_networks": "no",
    }
    data.update(overrides)
    return data


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/organisations/",
        NEW,
        "/admin/organisations/import",
        "/admin/organisations/template.csv",
    ],
)
def test_anonymous_visitors_are_sent_to_log_in_and_monitors_refused(app, client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    monitor_client = app.test_client()
    organisation = Organisation(name_az="Monitor Org")
    db.session.add(organisation)
    db.session.commit()
    login(monitor_client, make_user("monitor", "m@example.org", organisation))
    assert monitor_client.get(url).status_code == 403


def test_posts_without_csrf_are_refused(app, client, admin, registry):
    login(client, admin)
    organisation = db.session.scalar(select(Organisation))
    for url in (NEW, f"/admin/organisations/{organisation.id}/archive"):
        response = client.post(url, data={"name_az": "X"})
        assert response.status_code == 400
    assert not db.session.get(Organisation, organisation.id).is_archived


def test_admin_creates_edits_archives_and_restores(app, client, admin, registry):
    login(client, admin)
    response = client.post(NEW, data=form_data(csrf_token_from(client, NEW)))
    assert response.status_code == 302
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Yeni Ümid İctimai Birliyi")
    )
    assert organisation.contact_person == "Aysel Məmmədova"
    answers = {(c.field, c.key): c.detail for c in organisation.choices}
    assert answers[("services", "other")] == "Kitabxana"
    assert answers[("donors", "international")] == "USAID"

    edit = f"/admin/organisations/{organisation.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="Yeni Ümid İctimai Birliyi"' in page and "Aysel Məmmədova" in page
    forum = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    token = csrf_token_from(client, edit)
    version = organisation.updated_dt.isoformat()
    response = client.post(
        edit, data=form_data(token, version=version, staff_total="9", coalitions=[str(forum.id)])
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert organisation.staff_total == 9
    membership = db.session.scalar(select(CoalitionMembership))
    assert (membership.coalition_id, membership.member_id) == (forum.id, organisation.id)

    response = client.post(
        f"/admin/organisations/{organisation.id}/archive", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get(f"/registry/{organisation.id}").status_code == 404
    response = client.post(
        f"/admin/organisations/{organisation.id}/restore", data={"csrf_token": token}
    )
    # the admin is told that restoring does not reopen the links archiving ended
    restored = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "restored to the public registry" in restored and "stay ended" in restored
    assert client.get(f"/registry/{organisation.id}").status_code == 200
    assert actions()[-5:] == [
        "organisation.created",
        "coalition.member_added",
        "organisation.updated",
        "organisation.archived",
        "organisation.restored",
    ]
    updated = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "organisation.updated")
    )
    assert updated.actor_id == admin.id
    assert set(updated.details["fields"]) == {"staff_total", "coalitions"}
    assert "Aysel" not in str(updated.details)


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(app, client, admin, registry):
    login(client, admin)
    token = csrf_token_from(client, NEW)
    before = db.session.scalar(select(Organisation.id).order_by(Organisation.id.desc()))
    for overrides in (
        {"name_az": "milli qht forumu"},
        {
            "training_needs": [
                "financial_management",
                "team_building",
                "advocacy_lobbying",
                "public_relations",
            ]
        },
        {"staff_total": "-1"},
        {"email": "not an email"},
        {"legal_status": "nonsense"},
        {"founded_year": "1700"},
    ):
        response = client.post(NEW, data=form_data(token, **overrides))
        assert response.status_code == 400, overrides
        assert 'class="field-error"' in response.get_data(as_text=True)
    # values that cannot be true: a survey answered in the future, more men and women
    # than staff, a founding month without its year (kept, but never shown)
    for overrides, field, message in (
        (
            {"completed_on": "9999-01-01"},
            "completed_on",
            "The survey date cannot be in the future.",
        ),
        (
            {"staff_total": "5", "staff_male": "10", "staff_female": "10"},
            "staff_total",
            "The total staff (5) is fewer than the men and women counted (20).",
        ),
        (
            {"founded_year": "", "founded_month": "5"},
            "founded_month",
            "Enter the founding year first.",
        ),
    ):
        response = client.post(NEW, data=form_data(token, **overrides))
        assert response.status_code == 400, overrides
        assert field_errors(response.get_data(as_text=True)) == {field: [message]}, overrides
    assert db.session.scalar(select(Organisation.id).order_by(Organisation.id.desc())) == before
    # The service's problem is shown beside the field it names.
    response = client.post(NEW, data=form_data(token, name_az="milli qht forumu"))
    html = response.get_data(as_text=True)
    assert 'id="name_az-errors"' in html and 'aria-describedby="name_az-errors"' in html


def test_one_attempt_names_every_problem_of_an_organisation(app, client, admin, registry):
    """An address the form refuses does not hide the service's problems (a name already in
    the registry, a second founding year without the first), on a new organisation and on
    an edit, and a tampered month is refused, never a crash."""
    login(client, admin)
    organisation = db.session.scalar(select(Organisation).order_by(Organisation.id.desc()))
    edit = f"/admin/organisations/{organisation.id}/edit"
    mistakes = {
        "name_az": "milli qht forumu",
        "email": "not an email",
        "founded_year": "",
        "founded_year_alternative": "2010",
        "founded_month": "thirteen",
    }
    for url in (NEW, edit):
        token = csrf_token_from(client, url)
        response = client.post(url, data=form_data(token, **mistakes))
        assert response.status_code == 400, url
        errors = field_errors(response.get_data(as_text=True))
        assert sorted(errors) == [
            "email",
            "founded_month",
            "founded_year_alternative",
            "name_az",
        ], (url, errors)
        assert all(len(messages) == 1 for messages in errors.values()), errors
    assert db.session.get(Organisation, organisation.id).founded_year_alternative is None


def test_a_blank_founding_month_is_no_month(app, client, admin, registry):
    """A space passes the month's Optional() unchecked: it is saved as no month, never
    int(" ") and a 500."""
    login(client, admin)
    token = csrf_token_from(client, NEW)
    response = client.post(NEW, data=form_data(token, founded_month=" "))
    assert response.status_code == 302
    # an id beyond the database's integers is a wrong choice, not an OverflowError
    huge = client.post(
        NEW, data=form_data(token, name_az="Başqa Birlik", email="x", coalitions="9" * 30)
    )
    assert huge.status_code == 400
    assert sorted(field_errors(huge.get_data(as_text=True))) == ["coalitions", "email"]
    saved = db.session.scalar(
        select(Organisation).where(Organisation.name_az == form_data("")["name_az"])
    )
    assert saved.founded_year == 2012 and saved.founded_month is None


def test_an_edit_over_someone_elses_change_is_refused(app, client, admin, registry):
    login(client, admin)
    organisation = db.session.scalar(select(Organisation))
    edit = f"/admin/organisations/{organisation.id}/edit"
    token = csrf_token_from(client, edit)
    response = client.post(
        edit,
        data=form_data(token, name_az=organisation.name_az, version="2000-01-01T00:00:00+00:00"),
    )
    assert response.status_code == 409
    assert db.session.get(Organisation, organisation.id).staff_total is None


def test_upload_import_reports_bad_rows_and_imports_good_files(app, client, admin, english):
    login(client, admin)
    labels = catalogue().questions
    headings = [labels["name"].az, labels["services"].az, labels["staff_total"].az]
    url = "/admin/organisations/import"
    # English, remembered in the session for the posts that follow.
    token = csrf_token_from(client, url + "?lang=en")
    bad = csv_bytes([headings, ["Bir", "Hüquq xidmətləri", "3"], ["İki", "", "çox"]])
    response = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(bad), "survey.csv")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html and "çox" in html
    assert db.session.scalar(select(Organisation.id)) is None

    good = csv_bytes([headings, ["Bir", "Hüquq xidmətləri", "3"], ["İki", "", "4"]])
    response = client.post(
        url, data={"csrf_token": token, "dry_run": "y", "file": (io.BytesIO(good), "survey.csv")}
    )
    assert response.status_code == 200 and "New organisations: 2" in response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation.id)) is None
    response = client.post(
        url, data={"csrf_token": token, "file": (io.BytesIO(good), "survey.csv")}
    )
    assert response.status_code == 302
    assert len(list(db.session.scalars(select(Organisation)))) == 2
    response = client.post(
        url, data={"csrf_token": token, "file": (io.BytesIO(b"x"), "survey.pdf")}
    )
    assert response.status_code == 400


def test_templates_download(app, client, admin):
    login(client, admin)
    response = client.get("/admin/organisations/template.xlsx?lang=en")
    assert response.status_code == 200 and response.data.startswith(b"PK")
    assert "attachment" in response.headers["Content-Disposition"]
    response = client.get("/admin/organisations/template.csv?lang=az")
    assert "Təşkilatın adı" in response.data.decode("utf-8-sig")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    assert client.get("/admin/organisations/template.pdf").status_code == 404
    assert client.get("/admin/organisations/template.csv?lang=fr").status_code == 400


def test_admin_manages_monitoring_links(app, client, admin, seeded, registry):
    login(client, admin)
    forum = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    platform = db.session.scalar(
        select(Organisation).where(Organisation.kind == "coalition", Organisation.id != forum.id)
    )
    url = f"/admin/organisations/{forum.id}/links"
    token = csrf_token_from(client, url)
    response = client.post(
        url, data={"csrf_token": token, "plan": seeded.key, "codes": "1.1, 2.3 1.1", "is_lead": "y"}
    )
    assert response.status_code == 302
    links = list(db.session.scalars(select(MonitoringLink).order_by(MonitoringLink.id)))
    assert [link.is_lead for link in links] == [True, True]
    assert "Linked 2 measures.</" in client.get(url).get_data(as_text=True)  # none already
    again = {"csrf_token": token, "plan": seeded.key, "codes": "2.3, 3.1"}
    assert client.post(url, data=again).status_code == 302
    assert "Linked 1 measure. Already linked: 2.3." in client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": token, "plan": seeded.key, "codes": "1.1, 77.7"}
    )
    assert response.status_code == 400 and "77.7" in response.get_data(as_text=True)
    # a start before the plan began, or more than a year ahead (9999: a typo), is refused
    for start, message in (
        ("1900-01-01", "A link cannot start before its plan began (January 1, 2020)."),
        ("9999-12-31", "A link can start a year from today at the latest."),
    ):
        data = {"csrf_token": token, "plan": seeded.key, "codes": "4.1", "start_date": start}
        refused = client.post(url, data=data)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MonitoringLink.id))) == 3

    # Another organisation takes the lead on 1.1; the forum's link stays, no longer lead.
    other_url = f"/admin/organisations/{platform.id}/links"
    client.post(
        other_url, data={"csrf_token": token, "plan": seeded.key, "codes": "1.1", "is_lead": "y"}
    )
    db.session.expire_all()
    measure = db.session.scalar(select(Measure).where(Measure.code == "1.1"))
    leads = db.session.scalars(
        select(MonitoringLink.organisation_id).where(
            MonitoringLink.measure_id == measure.id, MonitoringLink.is_lead.is_(True)
        )
    ).all()
    assert leads == [platform.id]

    link = links[1]
    response = client.post(
        f"/admin/organisations/links/{link.id}/end",
        data={"csrf_token": token, "end_date": "1999-01-01"},
    )
    assert response.status_code == 400
    response = client.post(f"/admin/organisations/links/{link.id}/end", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MonitoringLink, link.id).end_date is not None
    assert {"link.created", "link.lead_set", "link.lead_removed", "link.ended"} <= set(actions())


def test_linking_again_after_a_restore_continues_the_ended_links(app, seeded, registry):
    """Archiving ends an organisation's links today; restored the same day, linking it again
    used to answer "already linked" and leave it monitoring nothing from tomorrow."""
    from datetime import timedelta

    from tracker import clock
    from tracker.services.registry.links import link_measures, monitors_of_measure
    from tracker.services.registry.organisations import (
        archive_organisation,
        restore_organisation,
    )

    forum = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    today = clock.today()
    link_measures(db.session, forum, [measure], start_date=today - timedelta(days=30))
    assert archive_organisation(db.session, forum) == 1
    restore_organisation(db.session, forum)
    again = link_measures(db.session, forum, [measure], is_lead=True)
    assert (len(again.created), again.unchanged, again.made_lead) == (1, [], ["2.3"])
    links = db.session.scalars(select(MonitoringLink).order_by(MonitoringLink.start_date)).all()
    tomorrow = today + timedelta(days=1)
    assert [(link.start_date, link.end_date) for link in links] == [
        (today - timedelta(days=30), today),  # the ended link stays as it was
        (tomorrow, None),
    ]
    # linking once more changes nothing; tomorrow the organisation still monitors 2.3
    assert link_measures(db.session, forum, [measure]).unchanged == ["2.3"]
    # a link the admin set to end later is left to end then
    other = db.session.scalar(select(Measure).where(Measure.code == "3.1"))
    [planned_end] = link_measures(db.session, forum, [other]).created
    planned_end.end_date = today + timedelta(days=60)
    assert link_measures(db.session, forum, [other]).unchanged == ["3.1"]
    db.session.commit()
    app.config["TRACKER_TODAY"] = tomorrow.isoformat()
    assert [m.organisation_id for m in monitors_of_measure(db.session, measure.id)] == [forum.id]


@pytest.mark.parametrize("lang", ["en", "az"])
def test_the_link_form_names_the_plan_by_its_title(app, client, admin, seeded, registry, lang):
    """The plan select and the unknown-codes message show the plan's title in the page's
    language, as the public pages do, not its key ("az-nap-2020-2022")."""
    login(client, admin)
    forum = db.session.scalar(
        select(Organisation).where(Organisation.name_az == "Milli QHT Forumu")
    )
    url = f"/admin/organisations/{forum.id}/links?lang={lang}"
    title = seeded.title(lang)
    page = client.get(url).get_data(as_text=True)
    assert f'<option selected value="{seeded.key}">{title}</option>' in page
    token = csrf_token_from(client, url)
    data = {"csrf_token": token, "plan": seeded.key, "codes": "9.9, 99.1"}
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    expected = {
        "en": f"The plan “{title}” has no measures 9.9, 99.1.",
        "az": f"“{title}” sənədində 9.9, 99.1 kodlu tədbirlər yoxdur.",
    }[lang]
    assert field_errors(refused.get_data(as_text=True))["codes"] == [expected]
    assert f"{seeded.key} (" not in refused.get_data(as_text=True)
