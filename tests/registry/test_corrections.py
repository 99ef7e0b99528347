"""Issue 14's registry corrections where users see them: a lower bound shown as "80+", two
founding years as "1999 or 2000", a curator's alias marked as such (organisation page,
list, API record, statistics), and the withdrawn "Milli Dialoq Prosesi"."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import csrf_token_from, login
from tests.registry.conftest import csv_bytes
from tests.registry.test_importing import HEADINGS, row
from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.organisations import OrganisationData, create_organisation
from tracker.services.registry.seed import seed_registry
from tracker.services.registry.stats import registry_stats

EITI = "Mədən Sənayesində Şəffaflığın Artırılması üzrə QHT Koalisiyası"
NAYORA = "Azərbaycan Respublikası Gənclər Təşkilatları Milli Assambleyası"
CURATOR_MARK = "added by the registry's curator; no source gives it"


def by_name(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name_az == name))


def test_the_seed_stores_the_corrections(app, registry):
    eiti = by_name(EITI)
    assert (eiti.declared_member_count, eiti.declared_member_count_is_minimum) == (80, True)
    assert eiti.declared_members == "80+" and "EITI" not in eiti.aliases
    forum = by_name("Milli QHT Forumu")
    assert (forum.founded_year, forum.founded_year_alternative) == (1999, 2000)
    assert forum.founded_years == [1999, 2000] and forum.declared_members == "533"
    nayora = by_name(NAYORA)
    assert nayora.curator_aliases == ["Gənclər Təşkilatları Milli Şurası"]
    assert nayora.report_aliases == ["NAYORA"]
    assert by_name("Milli Dialoq Prosesi") is None
    disabled = by_name("Azərbaycan Əlil Təşkilatları İttifaqı")
    assert disabled.aliases == ["Əlil Təşkilatları İttifaqı"]


def test_pages_show_the_lower_bound_the_two_years_and_the_curator_s_alias(app, client, registry):
    eiti, forum, nayora = by_name(EITI), by_name("Milli QHT Forumu"), by_name(NAYORA)
    html = client.get(f"/registry/{eiti.id}?lang=en").get_data(as_text=True)
    assert "<dd>80+</dd>" in html
    html = client.get(f"/registry/{forum.id}?lang=en").get_data(as_text=True)
    assert "<dd>1999 or 2000</dd>" in html
    assert "MQF; QHT Forumu</dd>" in html and CURATOR_MARK not in html
    html = client.get(f"/registry/{nayora.id}?lang=en").get_data(as_text=True)
    assert f'NAYORA; Gənclər Təşkilatları Milli Şurası <span class="muted">({CURATOR_MARK})' in (
        html
    )
    listing = client.get("/registry/?kind=coalition&lang=en").get_data(as_text=True)
    assert "80+ members (declared)" in listing and "Founded 1999 or 2000" in listing
    # Azerbaijani: both years, never one of them alone as if certain.
    html = client.get(f"/registry/{forum.id}?lang=az").get_data(as_text=True)
    assert "1999" in html and "2000" in html and "<dd>1999</dd>" not in html


def test_the_api_record_carries_the_corrections(app, client, registry):
    eiti, forum, nayora = by_name(EITI), by_name("Milli QHT Forumu"), by_name(NAYORA)
    record = client.get(f"/api/v1/organisations/{eiti.id}").get_json()
    assert (record["declared_member_count"], record["declared_member_count_is_minimum"]) == (
        80,
        True,
    )
    record = client.get(f"/api/v1/organisations/{forum.id}").get_json()
    assert record["founded"] == {"year": 1999, "month": None, "alternative_year": 2000}
    assert record["declared_member_count_is_minimum"] is False
    record = client.get(f"/api/v1/organisations/{nayora.id}").get_json()
    assert record["aliases"] == ["NAYORA", "Gənclər Təşkilatları Milli Şurası"]
    assert record["curator_aliases"] == ["Gənclər Təşkilatları Milli Şurası"]


def test_statistics_put_an_uncertain_founding_year_in_no_group(app):
    create_organisation(db.session, OrganisationData(name_az="A", founded_year=1999))
    create_organisation(
        db.session, OrganisationData(name_az="B", founded_year=1999, founded_year_alternative=2000)
    )
    create_organisation(
        db.session, OrganisationData(name_az="C", founded_year=2001, founded_year_alternative=2003)
    )
    stats = registry_stats(db.session)
    assert stats.founding_year_groups["1995_1999"] == 1
    assert stats.founding_year_groups["2000_2004"] == 1
    assert stats.answered["founding_year_groups"] == 2


def test_seed_update_archives_a_withdrawn_entry_and_keeps_it(app):
    # A database seeded from the earlier file, which had "Milli Dialoq Prosesi".
    withdrawn = create_organisation(
        db.session,
        OrganisationData(name_az="Milli Dialoq Prosesi", kind="coalition", source="Admin"),
    )
    assert seed_registry(db.session, update=True).archived == 0  # not the seeded record
    withdrawn.source = "section 7.6"
    assert seed_registry(db.session).archived == 0
    assert not by_name("Milli Dialoq Prosesi").is_archived
    result = seed_registry(db.session, update=True)
    assert result.archived == 1 and "withdrawn entries archived 1" in result.describe()
    assert by_name("Milli Dialoq Prosesi").is_archived
    assert seed_registry(db.session, update=True).archived == 0


def test_an_admin_edit_keeps_and_can_change_the_corrections(app, client, admin, registry):
    login(client, admin)
    eiti = by_name(EITI)
    url = f"/admin/organisations/{eiti.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert '<input checked id="declared_member_count_is_minimum"' in page
    data = {
        "csrf_token": csrf_token_from(client, url),
        "version": eiti.updated_dt.isoformat(),
        "kind": "coalition",
        "name_az": EITI,
        "name_en": eiti.name_en,
        "aliases": "MSŞA\nÖdədiyini açıqla\nEITI",
        "curator_aliases": "EITI",
        "founded_year": "2004",
        "founded_year_alternative": "2005",
        "declared_member_count": "85",
        "declared_member_count_is_minimum": "y",
        "member_of_networks": "",
        "source": eiti.source,
    }
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    eiti = by_name(EITI)
    assert eiti.declared_members == "85+" and eiti.founded_years == [2004, 2005]
    assert eiti.curator_aliases == ["EITI"] and eiti.report_aliases == ["MSŞA", "Ödədiyini açıqla"]
    del data["declared_member_count_is_minimum"]
    data["founded_year_alternative"] = ""
    data["csrf_token"] = csrf_token_from(client, url)
    data["version"] = eiti.updated_dt.isoformat()
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    eiti = by_name(EITI)
    assert eiti.declared_members == "85" and eiti.founded_years == [2004]


def test_a_survey_answer_settles_the_founding_year(app, english):
    create_organisation(
        db.session,
        OrganisationData(
            name_az="Milli QHT Forumu", founded_year=1999, founded_year_alternative=2000
        ),
    )
    db.session.commit()
    data = csv_bytes([HEADINGS, row("Milli QHT Forumu", founded="2000")])
    report = import_organisations(db.session, data, "survey.csv")
    assert report.ok and report.updated == 1
    db.session.commit()
    db.session.expire_all()
    assert by_name("Milli QHT Forumu").founded_years == [2000]
