"""The audit log shows words where rows store keys: a refused request's page (stored as
its Flask endpoint), a summary's status key ("1.1 limited"), and an organisation edit's
changed fields. Rows stay as stored; old rows read as well as new ones."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import tracker
from tests.accounts.conftest import login_with_form
from tests.accounts.route_expectations import EXPECTATIONS, cases
from tracker.extensions import db
from tracker.models import AuditEntry, Measure
from tracker.services import audit
from tracker.services.accounts.audit_display import STATUS_SUMMARIES, WORDED_SUMMARIES
from tracker.services.accounts.page_names import PAGE_NAMES, placeholder

#: the calls that refuse a request (and log it as permission.refused)
REFUSING_CALLS = {
    "refuse",
    "record_refusal",
    "require",
    "require_monitor_of",
    "require_roles",
    "roles_required",
}
#: actions whose summary is an f-string of names and numbers only, shown as stored
PLAIN_SUMMARIES = {"link.created", "report.archived"}


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login_with_form(client, admin.email).status_code == 302
    return client


def _body(client, lang: str) -> str:
    page = client.get(f"/admin/audit?lang={lang}").get_data(as_text=True)
    return " ".join(page.split("<tbody>")[1].split())


def _calls_a_refusal(module_name: str) -> bool:
    tree = ast.parse(Path(sys.modules[module_name].__file__).read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) in REFUSING_CALLS
        for node in ast.walk(tree)
    )


def _refusing_endpoints(app) -> set[str]:
    """The endpoints of view modules that refuse, and those the route matrix sees refuse."""
    found = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if _calls_a_refusal(inspect.unwrap(view).__module__)
    }
    for key in EXPECTATIONS:
        for route in cases(key):
            statuses = (route.monitor_a, route.monitor_b, route.reviewer, route.admin)
            if 403 in (route.anonymous, *statuses):
                found.add(key[0])
    return found


def test_every_endpoint_that_can_refuse_has_a_name(app):
    """A new page that can refuse someone needs a name in page_names.PAGE_NAMES, or the
    log would show it only by its path."""
    refusing = _refusing_endpoints(app)
    assert {"claims.new_claim", "admin.users", "registry_admin.edit"} <= refusing
    assert sorted(refusing - set(PAGE_NAMES)) == []


def test_every_page_name_is_filled_by_its_urls_values(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert sorted(set(PAGE_NAMES) - set(rules)) == []  # no name of a page that is gone
    for endpoint, label in PAGE_NAMES.items():
        wanted = set(re.findall(r"%\((\w+)\)s", str(label)))
        given = {placeholder(argument) for argument in rules[endpoint].arguments}
        assert wanted <= given, endpoint


@pytest.mark.parametrize(
    ("lang", "claim_form", "account_page"),
    [
        ("en", "The form to record a government claim on measure {code}", "The account page of"),
        ("az", "Tədbir {code} üzrə hökumət iddiasının qeydə alınması forması", "Hesab səhifəsi:"),
    ],
)
def test_a_refused_request_names_the_page_in_words(
    app, admin, admin_client, monitor, seeded, lang, claim_form, account_page
):
    """The target was the endpoint: "Page claims.new_claim"."""
    measure = db.session.scalars(select(Measure).order_by(Measure.position)).first()
    client = app.test_client()
    login_with_form(client, monitor.email)
    assert client.get(f"/claims/measures/{measure.id}/new").status_code == 403
    assert client.get(f"/admin/users/{admin.id}").status_code == 403
    body = _body(admin_client, lang)
    assert f"> {claim_form.format(code=measure.code)} <" in body
    assert f"> {account_page} {admin.email} <" in body
    assert "claims.new_claim" not in body and "admin.user " not in body
    # the path stays beside it, among the details
    assert f"/claims/measures/{measure.id}/new" in body


def test_a_refused_page_without_a_name_shows_its_path(app, admin_client):
    """An old row of a page this version does not have, and a page with no name."""
    for endpoint, path in (("gone.page", "/gone/5"), ("auth.account", "/account")):
        audit.record(
            db.session,
            "permission.refused",
            "route",
            endpoint,
            actor=None,
            details={"status": 403, "method": "GET", "path": path},
        )
    db.session.commit()
    for lang, page in (("en", "Page"), ("az", "Səhifə")):
        body = _body(admin_client, lang)
        assert f"> {page} /gone/5 <" in body and f"> {page} /account <" in body
        assert "gone.page" not in body and "auth.account" not in body


@pytest.mark.parametrize(
    ("lang", "limited", "complete"),
    [
        ("en", "1.1: Limited", "az-nap-2020-2022: Complete"),
        ("az", "1.1: Məhdud", "az-nap-2020-2022: Tamamlanıb"),
    ],
)
def test_a_status_in_a_summary_is_shown_by_its_label(app, admin_client, lang, limited, complete):
    """The summary kept the status key ("1.1 limited"); old rows are stored so too."""
    audit.record(
        db.session, "update.created", "status_update", 1, actor=None, summary="1.1 limited"
    )
    audit.record(
        db.session,
        "claim.recorded",
        "government_claim",
        2,
        actor=None,
        summary="az-nap-2020-2022 complete",
    )
    # another action's summary that merely ends in a status word is left as it is
    audit.record(db.session, "user.created", "user", 3, actor=None, summary="odd complete")
    db.session.commit()
    body = _body(admin_client, lang)
    assert f'<span class="muted">{limited}</span>' in body
    assert f'<span class="muted">{complete}</span>' in body
    assert "1.1 limited" not in body and '<span class="muted">odd complete</span>' in body
    stored = db.session.scalar(
        select(AuditEntry.summary).where(AuditEntry.action == "update.created")
    )
    assert stored == "1.1 limited"  # shown in words, never rewritten


def test_summaries_written_in_english_are_shown_in_the_readers_language(app, admin_client):
    audit.record(
        db.session,
        "storage.cleaned",
        "upload_folder",
        None,
        actor=None,
        summary="3 orphans, 1 expired pending",
        details={"orphans": ["a"], "expired_pending": [], "missing_files": []},
    )
    audit.record(
        db.session,
        "organisation.imported",
        "organisation",
        None,
        actor=None,
        summary="survey.xlsx: 2 created, 5 updated",
    )
    db.session.commit()
    body = _body(admin_client, "az")
    assert "Silinmiş qeydsiz fayllar: 3; silinmiş yarımçıq yükləmələr: 1" in body
    assert "survey.xlsx: 2 yaradılıb, 5 yenilənib" in body
    assert "orphans" not in body and "expired_pending" not in body and " created" not in body
    body = _body(admin_client, "en")
    assert "Files without a record removed: 3; unfinished uploads removed: 1" in body
    assert "survey.xlsx: created 2, updated 5" in body


def _summaries_of_audit_calls() -> dict[str, str]:
    """Each audit call whose summary is an f-string: the action it writes (or the start of
    an expression making it) → the summary's source."""
    found = {}
    for path in Path(tracker.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "attr", None) or getattr(
                getattr(node, "func", None), "id", ""
            )
            if not isinstance(node, ast.Call) or name not in ("record", "record_event"):
                continue
            summary = next((k.value for k in node.keywords if k.arg == "summary"), None)
            if isinstance(summary, ast.JoinedStr):
                actions = [
                    c.value
                    for c in ast.walk(node.args[1])
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                for action in actions:
                    found[action] = ast.unparse(summary)
    return found


def test_every_summary_made_of_keys_or_english_is_put_into_words():
    """A new summary built from values (a status key, English words) must be read back in
    audit_display, or be listed as names and numbers only."""
    written = _summaries_of_audit_calls()
    assert {"update.created", "claim.proposed", "storage.cleaned"} <= set(written)
    shown = STATUS_SUMMARIES | set(WORDED_SUMMARIES) | PLAIN_SUMMARIES
    assert sorted(set(written) - shown) == [], written


def test_every_field_an_organisation_edit_names_has_the_forms_label():
    from tracker.forms.registry import organisation_field_labels
    from tracker.services.registry.labels import MULTI_FIELDS
    from tracker.services.registry.organisations import SCALAR_FIELDS

    changed = {"name_az", "aliases", "curator_aliases", "coalitions", *SCALAR_FIELDS}
    assert sorted((changed | set(MULTI_FIELDS)) - set(organisation_field_labels())) == []


@pytest.mark.parametrize(
    ("lang", "fields"),
    [
        ("en", "Legal status; Website; Psychologists, social workers, community mobilisers"),
        ("az", "Hüquqi status; Veb-sayt; Psixoloqlar, sosial işçilər, icma mobilizatorları"),
    ],
)
def test_an_organisation_edit_names_its_fields_as_the_form_does(
    app, admin_client, organisation, lang, fields
):
    """ "Fields changed" listed the keys: "legal_status, website"."""
    audit.record(
        db.session,
        "organisation.updated",
        "organisation",
        organisation.id,
        actor=None,
        details={"fields": ["legal_status", "website", "staff_social_workers"]},
    )
    db.session.commit()
    body = _body(admin_client, lang)
    assert f"<dd><span>{fields}</span></dd>" in body
    assert "legal_status" not in body and "staff_social_workers" not in body
