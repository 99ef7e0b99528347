"""The audit log in words, on the served app: a refused request, an update's status and an
organisation edit's fields, made over HTTP and read back in Azerbaijani and English."""

from __future__ import annotations

import html
import re

import pytest

from tests.monitoring.conftest import served_signed_in as signed_in
from tests.monitoring.conftest import update_form

pytestmark = pytest.mark.served

VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="([^"]*)"')
FIELDS = {"az": "Dəyişən sahələr", "en": "Fields changed"}


def _fields_changed(log: str, lang: str) -> str:
    match = re.search(rf"<dt>{FIELDS[lang]}</dt><dd><span[^>]*>([^<]*)</span>", log)
    assert match, "no fields changed in the log"
    return html.unescape(match.group(1))


def test_the_audit_log_reads_in_words(served, served_world):
    world = served_world
    measure = world.measure_a
    refused = signed_in(served, world, "monitor_b").get(f"/claims/measures/{measure.id}/new")
    assert refused.status_code == 403

    monitor = signed_in(served, world, "monitor_a")
    new_update = f"/monitor/measures/{measure.id}/updates/new"
    assert monitor.post_form(new_update, update_form(completion="limited")).status_code == 302

    admin = signed_in(served, world, "admin")
    edit = f"/admin/organisations/{world.organisation_a.id}/edit"
    version = VERSION.search(admin.get(edit).text).group(1)
    edited = admin.post_form(
        edit,
        {
            "kind": "organisation",
            "name_az": "Təşkilat A",
            "name_en": "Organisation A",
            "website": "https://a.example.az",
            "legal_status": "public_union",
            "member_of_networks": "",
            "version": version,
        },
    )
    assert edited.status_code == 302

    words = {
        "az": (f"Tədbir {measure.code} üzrə hökumət iddiasının qeydə alınması forması", "Məhdud"),
        "en": (f"The form to record a government claim on measure {measure.code}", "Limited"),
    }
    labels = {"az": ("Hüquqi status", "Veb-sayt"), "en": ("Legal status", "Website")}
    for lang, (page, status) in words.items():
        answer = admin.get(f"/admin/audit?lang={lang}").text
        log = " ".join(answer.split("<tbody>")[1].split())
        assert f"> {page} <" in log, lang
        assert f'<span class="muted">{measure.code}: {status}</span>' in log, lang
        fields = _fields_changed(log, lang).split("; ")
        assert set(labels[lang]) <= set(fields), fields
        for key in ("claims.new_claim", f"{measure.code} limited", "legal_status", "website"):
            assert key not in log, (lang, key)
