"""The admin's pages: users, roles, access, and the read-only audit log."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from tests.accounts.conftest import (
    fresh,
    login_with_form,
    make_organisation,
    make_user,
    post_with_csrf,
)
from tests.helpers import QueryCounter, field_errors
from tracker.extensions import db
from tracker.models import AuditEntry, Measure, Organisation, User
from tracker.services import audit
from tracker.web.forms import INVALID_CHOICE

XSS = "<svg onload=alert(1)>"


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    return client


def _user(email: str) -> User | None:
    fresh()
    return db.session.scalar(select(User).where(User.email == email))


def _entries(action: str) -> list[AuditEntry]:
    fresh()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# -- inviting --------------------------------------------------------------------------


def test_inviting_a_monitor_needs_an_organisation(app, admin_client, organisation):
    db.session.commit()
    data = {"email": "m@example.org", "role": "monitor", "organisation_id": "0", "locale": "az"}
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    assert "A monitor must belong to an organisation." in response.get_data(as_text=True)
    assert _user("m@example.org") is None
    data["organisation_id"] = str(organisation.id)
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 200  # mail is off: the page shows the link
    user = _user("m@example.org")
    assert user.organisation_id == organisation.id and user.role == "monitor"
    [created] = _entries("user.created")
    assert created.actor_label == "admin@example.org"
    assert created.details == {"role": "monitor", "organisation_id": organisation.id}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "superuser"),
        ("organisation_id", "99999"),
        ("organisation_id", "x"),
        ("locale", "fr"),
    ],
)
def test_tampered_choices_are_refused_and_never_written(app, admin_client, field, value):
    data = {"email": "t@example.org", "role": "reviewer", "organisation_id": "0", "locale": "az"}
    data[field] = value
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    assert _user("t@example.org") is None


def test_an_organisation_sent_with_a_reviewer_is_not_stored(app, admin_client, organisation):
    db.session.commit()
    data = {
        "email": "r@example.org",
        "role": "reviewer",
        "organisation_id": str(organisation.id),
        "locale": "en",
    }
    post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert _user("r@example.org").organisation_id is None


def test_an_archived_organisation_cannot_be_chosen(app, admin_client):
    archived = make_organisation("Bağlanmış QHT")
    archived.is_archived = True
    db.session.commit()
    data = {
        "email": "m@example.org",
        "role": "monitor",
        "organisation_id": str(archived.id),
        "locale": "az",
    }
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    assert _user("m@example.org") is None


def test_a_refusal_of_the_service_stands_beside_its_field(app, admin_client, organisation):
    db.session.commit()
    data = {"email": "m@example.org", "role": "monitor", "organisation_id": "0", "locale": "az"}
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    html = response.get_data(as_text=True)
    errors = html.split('id="organisation_id-errors"')[1].split("</ul>")[0]
    assert "A monitor must belong to an organisation." in errors
    assert 'aria-describedby="organisation_id-hint organisation_id-errors"' in html


def test_the_invite_form_starts_with_no_role_chosen(app, admin_client):
    html = admin_client.get("/admin/users/invite").get_data(as_text=True)
    options = html.split('<select id="role"')[1].split("</select>")[0]
    first = options.split("<option")[1]
    assert 'value=""' in first and "selected" in first and "Choose a role" in first
    assert options.count("selected") == 1
    data = {"email": "someone@example.org", "organisation_id": "0", "locale": "az"}
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose a role." in html.split('id="role-errors"')[1].split("</ul>")[0]
    response = post_with_csrf(
        admin_client, "/admin/users/invite", "/admin/users/invite", {**data, "role": ""}
    )
    assert response.status_code == 400
    assert _user("someone@example.org") is None


def test_a_monitor_without_an_organisation_is_told_so_beside_the_organisation(
    app, admin_client, organisation
):
    db.session.commit()
    data = {"email": "m@example.org", "role": "monitor", "organisation_id": "0", "locale": "az"}
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-errors"' not in html and 'class="errors"' not in html
    errors = html.split('id="organisation_id-errors"')[1].split("</ul>")[0]
    assert "A monitor must belong to an organisation." in errors
    # The form keeps what was typed and chosen.
    assert 'value="m@example.org"' in html
    role = html.split('<select id="role"')[1].split("</select>")[0]
    assert '<option selected value="monitor">' in role


def test_the_invite_form_names_every_mistake_at_once(app, admin_client, admin):
    """No role (the form's check) and an address that has an account (the service's):
    both from one submission, each beside its field."""
    data = {"email": "admin@example.org", "role": "", "organisation_id": "0", "locale": "az"}
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)) == {
        "role": ["Choose a role."],
        "email": ["An account with this email address already exists."],
    }


def test_a_duplicate_email_is_refused(app, admin_client, admin):
    data = {
        "email": "ADMIN@example.org",
        "role": "reviewer",
        "organisation_id": "0",
        "locale": "az",
    }
    response = post_with_csrf(admin_client, "/admin/users/invite", "/admin/users/invite", data)
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


# -- roles and access ------------------------------------------------------------------


def test_changing_a_role_is_audited_with_before_and_after(app, admin_client, monitor):
    response = post_with_csrf(
        admin_client,
        f"/admin/users/{monitor.id}",
        f"/admin/users/{monitor.id}/role",
        {"role": "reviewer", "organisation_id": "0"},
    )
    assert response.status_code == 302
    user = _user("monitor@example.org")
    assert user.role == "reviewer" and user.organisation_id is None
    [entry] = _entries("user.role_changed")
    assert entry.details["before"]["role"] == "monitor"
    assert entry.details["after"] == {"role": "reviewer", "organisation_id": None}
    assert entry.ip == "127.0.0.1" and entry.target_id == str(monitor.id)
    # the log reads as sentences: the before and after name the role and the organisation
    page = admin_client.get("/admin/audit?action=user.role_changed&lang=en")
    html = page.get_data(as_text=True)
    organisation = db.session.get(Organisation, entry.details["before"]["organisation_id"])
    assert f"Organisation: {organisation.name('en')}; Role: Monitor" in html
    assert "Organisation: —; Role: Reviewer" in html
    assert "{&#39;role&#39;" not in html and "organisation_id" not in html


def test_every_action_the_code_audits_has_a_name_in_the_log():
    """The log names each action in the reader's language; an action without a label
    would show its key (claim.proposed, milestone.added once did)."""
    import ast
    from pathlib import Path

    import tracker
    from tracker.services.accounts.audit_display import ACTION_LABELS

    written = set()
    for path in Path(tracker.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name not in ("record", "record_event", "_audit"):
                continue
            written |= {
                argument.value
                for top in node.args[:3]
                for argument in ast.walk(top)  # "claim.recorded" if direct else "claim.proposed"
                if isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and "." in argument.value
                and " " not in argument.value
                and not argument.value.endswith(".")  # an f-string's start
            }
    assert {"claim.proposed", "claim.revised", "milestone.added", "update.created"} <= written
    # the decisions are written as f"update.{decision}" and f"claim.{decision}"
    written |= {
        f"{kind}.{decision}"
        for kind in ("update", "claim")
        for decision in ("approved", "returned")
    }
    assert sorted(written - set(ACTION_LABELS)) == []


def _written_detail_keys() -> set[str]:
    """The details' keys the code writes: the keywords of the audit calls, the fields a
    record_event names, and the keys of a details={...} literal."""
    import ast
    from pathlib import Path

    import tracker

    written = set()
    for path in Path(tracker.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "attr", None) or getattr(
                getattr(node, "func", None), "id", ""
            )
            if not isinstance(node, ast.Call) or name not in ("record", "record_event", "_record"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "details" and isinstance(keyword.value, ast.Dict):
                    written |= {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
                elif keyword.arg not in (None, "details", "summary", "actor"):
                    written.add(keyword.arg)
            if name == "record_event":
                written |= {a.value for a in node.args[4:] if isinstance(a, ast.Constant)}
    return written


def test_every_detail_the_code_audits_has_a_name_in_the_log():
    """A detail without a label shows its key ("links_ended", "content_type" once did)."""
    from tracker.services.accounts.audit_display import DETAIL_LABELS

    written = _written_detail_keys()
    assert {"links_ended", "content_type", "evidence_items", "revises_id"} <= written
    assert sorted(written - set(DETAIL_LABELS)) == []


def test_a_detail_that_is_a_day_is_shown_as_a_date(app, admin_client, admin):
    audit.record(
        db.session,
        "link.ended",
        "monitoring_link",
        1,
        actor=admin,
        details={"end_date": "2021-03-05", "links_ended": 2},
    )
    db.session.commit()
    page = admin_client.get("/admin/audit?lang=az").get_data(as_text=True)
    assert "5 mart 2021" in page and "2021-03-05" not in page  # not today: the row's time
    assert "Başa çatdırılan monitorinq əlaqələri" in page and "links_ended" not in page


def test_the_last_admin_cannot_be_demoted_or_disabled(app, admin_client, admin):
    response = post_with_csrf(
        admin_client,
        f"/admin/users/{admin.id}",
        f"/admin/users/{admin.id}/role",
        {"role": "reviewer", "organisation_id": "0"},
    )
    assert response.status_code == 400
    assert "At least one administrator must remain" in response.get_data(as_text=True)
    assert _user("admin@example.org").role == "admin"
    response = post_with_csrf(
        admin_client, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/disable"
    )
    assert response.status_code == 400
    assert _user("admin@example.org").is_enabled


def test_another_admin_can_be_disabled_and_enabled_again(app, admin_client):
    other = make_user("second.admin@example.org", role="admin")
    db.session.commit()
    page = f"/admin/users/{other.id}"
    assert post_with_csrf(admin_client, page, f"{page}/disable").status_code == 302
    user = _user("second.admin@example.org")
    assert not user.is_enabled and user.session_version == 2
    assert post_with_csrf(admin_client, page, f"{page}/disable").status_code == 400
    assert post_with_csrf(admin_client, page, f"{page}/enable").status_code == 302
    assert _user("second.admin@example.org").is_enabled
    assert [e.action for e in _entries("user.disabled") + _entries("user.enabled")] == [
        "user.disabled",
        "user.enabled",
    ]


def test_a_new_invitation_is_only_for_accounts_without_a_password(app, admin_client, monitor):
    page = f"/admin/users/{monitor.id}"
    response = post_with_csrf(admin_client, page, f"{page}/invitation")
    assert response.status_code == 400
    assert "already accepted" in response.get_data(as_text=True)


def test_unknown_users_are_404(app, admin_client):
    assert admin_client.get("/admin/users/99999").status_code == 404


def test_the_users_list_filters_and_stays_at_constant_queries(app, admin_client, organisation):
    for number in range(3):
        make_user(f"m{number}@example.org", organisation=organisation)
    make_user("invited@example.org", role="reviewer", password=None)
    db.session.commit()
    html = admin_client.get("/admin/users?role=monitor").get_data(as_text=True)
    assert "m0@example.org" in html and "invited@example.org" not in html
    html = admin_client.get("/admin/users?status=invited").get_data(as_text=True)
    assert "invited@example.org" in html and "m0@example.org" not in html
    html = admin_client.get("/admin/users?q=M1@").get_data(as_text=True)
    assert "m1@example.org" in html and "m2@example.org" not in html
    assert admin_client.get("/admin/users?role=king").status_code == 400

    with QueryCounter() as few:
        assert admin_client.get("/admin/users").status_code == 200
    for number in range(3, 40):
        make_user(f"m{number}@example.org", organisation=make_organisation(f"Org {number}"))
    db.session.commit()
    with QueryCounter() as many:
        assert admin_client.get("/admin/users").status_code == 200
    assert many.count == few.count


@pytest.mark.parametrize("lang", ["az", "en"])
def test_an_unknown_role_in_the_users_filter_is_shown_beside_it(app, admin_client, lang):
    """It was a whole-page 400 ("Check the form"); the audit log's filters show the page
    with the problem beside the field, and so does this list now."""
    response = admin_client.get(f"/admin/users?role=bogus&status=enabled&lang={lang}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    with force_locale(lang):
        assert f"<h1>{gettext('Users')}</h1>" in html
        assert field_errors(html) == {"role": [str(INVALID_CHOICE)]}
        assert (
            gettext("The request could not be understood. Check the form and try again.")
            not in html
        )
    assert 'id="status"' in html
    assert "admin@example.org</a></td>" not in html  # no list for a filter it cannot read


# -- the audit log ---------------------------------------------------------------------


def test_the_audit_log_escapes_everything(app, admin_client):
    user = make_user("xss@example.org", role="reviewer", display_name=XSS)
    audit.record(
        db.session,
        "update.created",
        "status_update",
        7,
        actor=None,
        summary=XSS,
        details={"title": XSS},
    )
    db.session.commit()
    for url in ("/admin/audit", f"/admin/users/{user.id}", "/admin/users", "/admin/"):
        html = admin_client.get(url).get_data(as_text=True)
        assert XSS not in html, url
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "&lt;svg onload=alert(1)&gt;" in html


def test_the_audit_log_filters(app, admin_client):
    audit.record(
        db.session, "link.created", "monitoring_link", 3, actor=None, summary="first entry"
    )
    audit.record(
        db.session, "update.approved", "status_update", 9, actor=None, summary="second entry"
    )
    db.session.commit()
    html = admin_client.get("/admin/audit?action=link.created").get_data(as_text=True)
    assert "first entry" in html and "second entry" not in html
    html = admin_client.get("/admin/audit?target_type=status_update&target_id=9").get_data(
        as_text=True
    )
    assert "second entry" in html and "first entry" not in html
    html = admin_client.get("/admin/audit?actor=ADMIN@").get_data(as_text=True)
    assert "login.success" in html
    html = admin_client.get("/admin/audit?date_from=2000-01-01&date_to=2000-01-02").get_data(
        as_text=True
    )
    assert "first entry" not in html and "0 entries" in html
    for bad in (
        "action=made.up",
        "date_from=yesterday",
        "date_from=2022-02-02&date_to=2022-01-01",
        "page=0",
    ):
        response = admin_client.get(f"/admin/audit?{bad}")
        assert response.status_code == 400, bad


def test_the_audit_log_pages_at_constant_queries(app, admin_client):
    for number in range(60):
        audit.record(
            db.session,
            "update.created",
            "status_update",
            number,
            actor=None,
            summary=f"entry {number}",
        )
    db.session.commit()
    first = admin_client.get("/admin/audit?action=update.created")
    assert "page 1 of 2" in first.get_data(as_text=True)
    second = admin_client.get("/admin/audit?action=update.created&page=2").get_data(as_text=True)
    assert "entry 0" in second and "entry 59" not in second
    # past the end: a 404 that says how many pages, as every other list (it showed page 2)
    past = admin_client.get("/admin/audit?action=update.created&page=3&lang=en")
    assert past.status_code == 404
    assert "This list has 2 pages; there is no page 3." in past.get_data(as_text=True)
    with QueryCounter() as counted:
        admin_client.get("/admin/audit")
    for number in range(200):
        audit.record(db.session, "update.created", "status_update", number, actor=None)
    db.session.commit()
    with QueryCounter() as counted_more:
        admin_client.get("/admin/audit")
    assert counted.count == counted_more.count


def _lead_set_entries(count: int, prefix: str = "Təşkilat") -> None:
    measures = db.session.scalars(select(Measure).order_by(Measure.position).limit(count)).all()
    for number, measure in enumerate(measures):
        organisation = make_organisation(f"{prefix} {number}")
        audit.record(
            db.session,
            "link.lead_set",
            "monitoring_link",
            number,
            actor=None,
            details={
                "measure_id": measure.id,
                "organisation_id": organisation.id,
                "start_date": "2026-12-01",
                "email": "someone-with-a-long-name@example.org",
            },
        )
    db.session.commit()


def test_the_audit_log_names_actions_measures_and_organisations(app, admin_client, seeded):
    _lead_set_entries(1)
    measure = db.session.scalars(select(Measure).order_by(Measure.position)).first()
    for lang, organisation in (("en", "Təşkilat 0 (en)"), ("az", "Təşkilat 0")):
        with force_locale(lang):
            action = gettext("Lead organisation set")
        html = admin_client.get(f"/admin/audit?action=link.lead_set&lang={lang}").get_data(
            as_text=True
        )
        row = html.split("<tbody>")[1]
        assert f">{action}<" in row
        assert ">link.lead_set<" not in row  # the key stays only in a title attribute
        assert f">{measure.code}</a>" in row and ">measure_id<" not in row
        assert f">{organisation}<" in row
        # the filter's choices read the same
        assert f'<option selected value="link.lead_set">{action}</option>' in html


def test_the_audit_log_names_the_kind_of_each_record_in_the_pages_language(app, admin_client):
    """The target column showed the stored key ("user 7", "stored_file 3") on both pages."""
    audit.record(db.session, "user.updated", "user", 7, actor=None)
    audit.record(db.session, "file.uploaded", "stored_file", 3, actor=None)
    audit.record(db.session, "odd.thing", "kind_we_never_wrote", 1, actor=None)
    db.session.commit()
    names = (("az", "İstifadəçi 7", "Fayl 3", "sistem"), ("en", "User 7", "File 3", "the system"))
    for lang, user, stored_file, system in names:
        page = admin_client.get(f"/admin/audit?lang={lang}").get_data(as_text=True)
        body = " ".join(page.split("<tbody>")[1].split())
        assert f">{user}</a>" in body and f"> {stored_file} <" in body, lang
        assert f'<td class="audit-actor">{system}</td>' in body, lang
        assert "user 7" not in body and "stored_file 3" not in body
        assert ">system<" not in body
        assert "> kind_we_never_wrote 1 <" in body


def test_a_users_page_names_their_language(app, admin_client, monitor):
    """It showed the stored code ("Dil en")."""
    monitor.locale = "en"
    db.session.commit()
    page = admin_client.get(f"/admin/users/{monitor.id}?lang=az").get_data(as_text=True)
    assert '<dd lang="en">English</dd>' in page


def test_the_audit_log_names_records_at_constant_queries(app, admin_client, seeded):
    _lead_set_entries(2, "Birinci")
    with QueryCounter() as counted:
        admin_client.get("/admin/audit?action=link.lead_set")
    _lead_set_entries(30)
    with QueryCounter() as counted_more:
        html = admin_client.get("/admin/audit?action=link.lead_set").get_data(as_text=True)
    assert html.count("Təşkilat 29") == 1
    assert counted.count == counted_more.count


def test_the_users_list_pages(app, admin_client):
    for number in range(55):
        make_user(f"person{number:02d}@example.org", role="reviewer")
    db.session.commit()
    first = admin_client.get("/admin/users?role=reviewer").get_data(as_text=True)
    assert "55 accounts" in first and "page 1 of 2" in first
    assert "person00@example.org" in first and "person54@example.org" not in first
    assert 'href="/admin/users?page=2&amp;role=reviewer"' in first
    second = admin_client.get("/admin/users?role=reviewer&page=2").get_data(as_text=True)
    assert "person54@example.org" in second and "person00@example.org" not in second
    past_the_end = admin_client.get("/admin/users?role=reviewer&page=9").get_data(as_text=True)
    assert "person54@example.org" in past_the_end
    for bad in ("page=0", "page=abc", "page=-1"):
        assert admin_client.get(f"/admin/users?{bad}").status_code == 400, bad


def test_nobody_can_change_the_audit_log_from_the_interface(app, admin_client):
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert audit_rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_rules)
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    for method in ("post", "put", "patch", "delete"):
        response = getattr(admin_client, method)("/admin/audit")
        assert response.status_code in (400, 405), method
    fresh()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before


def test_refusals_are_audited(app, monitor):
    client = app.test_client()
    login_with_form(client, monitor.email)
    assert client.get("/admin/users").status_code == 403
    [entry] = _entries("permission.refused")
    assert entry.actor_id == monitor.id
    assert entry.details["path"] == "/admin/users"
    assert entry.ip == "127.0.0.1"


def test_pages_with_several_forms_repeat_no_id(app, admin_client, organisation, seeded):
    """Each form's CSRF input was id="csrf_token", so a page with several forms repeated
    that id (seen on the account page and the organisation's edit and links pages)."""
    db.session.commit()
    for url in (
        "/account",
        f"/admin/organisations/{organisation.id}/edit",
        f"/admin/organisations/{organisation.id}/links",
    ):
        html = admin_client.get(url).get_data(as_text=True)
        assert html.count('name="csrf_token"') >= 2, url
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert [i for i in set(ids) if ids.count(i) > 1] == [], url
