"""Public registry pages and API: the seeded registry, search and filters, public fields
only, who monitors what, and queries that do not grow with the registry."""

from __future__ import annotations

from datetime import date

from tests.factories import seed_plan_copy
from tests.helpers import QueryCounter
from tests.registry.conftest import csv_bytes
from tests.registry.survey_export import generate
from tracker import clock
from tracker.extensions import db
from tracker.models import PERSONAL_FIELDS, Measure, Organisation, OrganisationChoice
from tracker.services.registry.importing import import_organisations
from tracker.services.registry.links import link_measures, monitors_of_measure
from tracker.services.registry.organisations import (
    OrganisationData,
    archive_organisation,
    create_organisation,
)

PERSONAL_VALUES = ("Leyla Şəxsiyyət", "+994 55 123 45 67", "leyla@private.example", "Anar Donorov")


def private_organisation() -> Organisation:
    organisation = create_organisation(
        db.session,
        OrganisationData(
            name_az="Şəxsi Məlumat Testi İctimai Birliyi",
            contact_person=PERSONAL_VALUES[0],
            phone_fax=PERSONAL_VALUES[1],
            email=PERSONAL_VALUES[2],
            legal_address="Bakı, Nizami küç. 1",
            mission="Açıq hökumət",
            choices={"donors": {"individual": PERSONAL_VALUES[3], "international": "USAID"}},
        ),
    )
    db.session.commit()
    return organisation


def by_name(name: str) -> Organisation:
    return db.session.scalar(db.select(Organisation).where(Organisation.name_az == name))


def test_a_new_visitor_finds_the_seeded_organisations_and_coalitions(app, client, registry):
    html = client.get("/registry/?lang=az").get_data(as_text=True)
    assert "26 " in html
    assert "Milli QHT Forumu" in html
    assert "Şərq Tərəfdaşlığı Vətəndaş Cəmiyyəti Forumu Milli Platforması" in html
    assert "533" in html and "71" in html
    coalitions = client.get("/registry/?kind=coalition&lang=az").get_data(as_text=True)
    assert "Milli QHT Forumu" in coalitions and "Qadın və İnnovasiyalar" not in coalitions


def test_search_is_azerbaijani_aware(app, client, registry):
    create_organisation(db.session, OrganisationData(name_az="İsmayıllı Gənclər Birliyi"))
    db.session.commit()
    for query in ("ISMAYILLI", "ismayıllı", "Ismayilli", "ismayilli genclər"):
        html = client.get("/registry/", query_string={"q": query}).get_data(as_text=True)
        assert "İsmayıllı Gənclər Birliyi" in html, query
    # Aliases are searched too: "MQF" is the National NGO Forum.
    assert "Milli QHT Forumu" in client.get("/registry/?q=mqf&lang=az").get_data(as_text=True)
    assert "No organisation matches" in client.get("/registry/?q=zzzz&lang=en").get_data(
        as_text=True
    )
    # punctuation pasted with a name separates words: quotes, a curly apostrophe, a dash
    create_organisation(db.session, OrganisationData(name_az="Vətəndaşların Hüquq-Maarif Mərkəzi"))
    db.session.commit()
    for query in ("“Hüquq–Maarif”", '"huquq maarif"', "Vətəndaşların’ hüquq‑maarif"):
        html = client.get("/registry/", query_string={"q": query}).get_data(as_text=True)
        assert "Vətəndaşların Hüquq-Maarif Mərkəzi" in html, query


def test_an_other_answer_stored_on_a_list_without_one_reads_as_other(app, client):
    # older imports stored free text on the regions list, which has no "Other" answer
    organisation = create_organisation(db.session, OrganisationData(name_az="Köhnə İdxal"))
    db.session.add(
        OrganisationChoice(organisation=organisation, field="regions", key="other", detail="Bakı")
    )
    db.session.commit()
    for lang, other in (("az", "Digər"), ("en", "Other")):
        listed = client.get(f"/registry/?q=Köhnə&lang={lang}").get_data(as_text=True)
        assert f"<span>{other}</span>" in listed and ">other<" not in listed
        page = client.get(f"/registry/{organisation.id}?lang={lang}").get_data(as_text=True)
        assert f'<li>{other}: <span class="muted">Bakı</span>' in page
    regions = client.get(f"/api/v1/organisations/{organisation.id}").get_json()["regions"]
    assert regions == [{"key": "other", "detail": "Bakı"}]


def test_filters(app, client):
    create_organisation(
        db.session,
        OrganisationData(
            name_az="Filtr Bir",
            legal_status="foundation",
            member_of_networks=True,
            choices={
                "services": {"legal": ""},
                "beneficiaries": {"women": ""},
                "regions": {"baku": ""},
            },
        ),
    )
    create_organisation(
        db.session,
        OrganisationData(
            name_az="Filtr İki",
            legal_status="public_union",
            member_of_networks=False,
            choices={"services": {"health": ""}, "regions": {"nakhchivan": ""}},
        ),
    )
    db.session.commit()

    def names(**args) -> set[str]:
        html = client.get("/registry/", query_string=args).get_data(as_text=True)
        return {n for n in ("Filtr Bir", "Filtr İki") if n in html}

    assert names() == {"Filtr Bir", "Filtr İki"}
    assert names(legal_status="foundation") == {"Filtr Bir"}
    assert names(service="health") == {"Filtr İki"}
    assert names(beneficiary="women") == {"Filtr Bir"}
    assert names(region="nakhchivan") == {"Filtr İki"}
    assert names(membership="yes") == {"Filtr Bir"}
    assert names(membership="no", service="legal") == set()
    response = client.get("/registry/?legal_status=nonsense&page=0&lang=en")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_page_numbers_are_checked(app, client, registry):
    assert client.get("/registry/?page=0").status_code == 400
    assert client.get("/registry/?page=two").status_code == 400
    # a whole number out of range says the range, however long or negative it is
    for query, message in (
        ("/registry/?page=two", "The page number must be a whole number."),
        ("/registry/?page=99999999", "The page number must be between 1 and 1,000,000."),
        ("/registry/?page=-1", "The page number must be between 1 and 1,000,000."),
        ("/api/v1/organisations?per_page=1000", "per_page must be between 1 and"),
        ("/api/v1/organisations?per_page=" + "9" * 400, "per_page must be between 1 and"),
    ):
        response = client.get(f"{query}&lang=en")
        assert response.status_code == 400 and message in response.get_data(as_text=True), query
    # in Azerbaijani too, and never with the address's own word for it
    text = client.get("/registry/?page=-1&lang=az").get_data(as_text=True)
    assert "Səhifə nömrəsi 1 ilə 1.000.000 arasında olmalıdır." in text
    assert "page 1" not in text
    # past the end: not an empty page under "26 organisations", but a 404 that says so
    response = client.get("/registry/?page=2&lang=en")
    assert response.status_code == 404 and "This list has 1 page; there is no page 2." in (
        response.get_data(as_text=True)
    )
    # a search that finds nothing still answers 200 on its first page
    nothing = client.get("/registry/?q=zzzz-nothing&lang=en")
    assert nothing.status_code == 200
    assert "No organisation matches this search." in nothing.get_data(as_text=True)


def test_pages_hold_fifty_and_queries_do_not_grow_with_the_registry(app, client, english):
    def import_rows(count: int, seed: int, prefix: str) -> None:
        export = generate(count, seed=seed)
        for row in export.rows:
            row[1] = f"{prefix} {row[1]}"
        assert import_organisations(db.session, csv_bytes(export.table), "x.csv").ok
        db.session.commit()

    def measured(url: str) -> tuple[int, str]:
        # The first request after a write counts the matches (kept per data version, one
        # query more); the measured one is the page's own rendering, as in
        # tests/test_public_queries.py.
        assert client.get(url).status_code == 200
        with QueryCounter() as counter:
            response = client.get(url)
        assert response.status_code == 200
        return counter.count, response.get_data(as_text=True)

    import_rows(50, 1, "A")
    at_50, html = measured("/registry/?lang=en")
    assert html.count('class="org-name"') == 50
    filtered_50, _ = measured("/registry/?service=legal&region=baku&q=a")
    api_50, _ = measured("/api/v1/organisations?per_page=50")
    import_rows(450, 2, "B")
    at_500, html = measured("/registry/?lang=en")
    assert html.count('class="org-name"') == 50
    assert "Page 1 of 10" in html
    last, html = measured("/registry/?page=10")
    assert html.count('class="org-name"') == 50
    assert at_500 == at_50 == last
    assert measured("/registry/?service=legal&region=baku&q=a")[0] == filtered_50
    assert measured("/api/v1/organisations?per_page=50")[0] == api_50
    # 6, the public data's version (page cache and ETag), and the footer's plan-wide claims
    assert at_50 <= 8


def test_organisation_page_shows_public_fields_only(app, client, registry):
    organisation = private_organisation()
    html = client.get(f"/registry/{organisation.id}").get_data(as_text=True)
    assert "Şəxsi Məlumat Testi İctimai Birliyi" in html
    assert "Bakı, Nizami küç. 1" in html and "USAID" in html
    for value in PERSONAL_VALUES:
        assert value not in html
    listing = client.get("/registry/?q=şəxsi").get_data(as_text=True)
    for value in PERSONAL_VALUES:
        assert value not in listing


def test_staff_numbers_show_in_the_pages_language_or_say_there_are_none(app, client, registry):
    # a table of seven dashes said nothing: with no staff numbers, the page says so
    organisation = private_organisation()
    html = client.get(f"/registry/{organisation.id}?lang=en").get_data(as_text=True)
    staff = html.split(">Staff</h2>")[1].split("<h2")[0]
    assert "No staff numbers are recorded for this organisation." in staff
    assert "<table" not in staff
    organisation.staff_total, organisation.staff_female = 1250, 700
    db.session.commit()
    for lang, total in (("az", "1.250"), ("en", "1,250")):
        html = client.get(f"/registry/{organisation.id}?lang={lang}").get_data(as_text=True)
        staff = html.split('<caption class="visually-hidden">')[1].split("</table>")[0]
        assert f'<td class="num">{total}</td>' in staff
        assert '<td class="num">700</td>' in staff
        assert staff.count('<td class="num">–</td>') == 5


def test_api_never_returns_personal_data(app, client, registry):
    organisation = private_organisation()
    detail = client.get(f"/api/v1/organisations/{organisation.id}")
    assert detail.status_code == 200
    listing = client.get("/api/v1/organisations", query_string={"q": "şəxsi"})
    assert listing.get_json()["total"] == 1
    for body in (detail.get_data(as_text=True), listing.get_data(as_text=True)):
        for value in PERSONAL_VALUES:
            assert value not in body
    record = detail.get_json()
    for name in PERSONAL_FIELDS:
        assert name not in record
    assert {"key": "international", "detail": "USAID"} in record["donors"]
    assert {"key": "individual", "detail": ""} in record["donors"]


def test_archived_organisations_are_hidden_but_kept(app, client, registry):
    organisation = by_name("Milli QHT Forumu")
    archive_organisation(db.session, organisation)
    db.session.commit()
    assert "Milli QHT Forumu" not in client.get("/registry/").get_data(as_text=True)
    assert client.get(f"/registry/{organisation.id}").status_code == 404
    response = client.get(f"/api/v1/organisations/{organisation.id}")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
    assert db.session.get(Organisation, organisation.id).is_archived


def test_the_list_is_in_the_order_of_the_names_shown(app, client):
    for name_az, name_en in (
        ("Əkinçilər Birliyi", "Farmers Union"),
        ("Bələdçi", "Zeta Guides"),
        ("Ziya Mərkəzi", "Alpha Centre"),
    ):
        create_organisation(db.session, OrganisationData(name_az=name_az, name_en=name_en))
    db.session.commit()
    html = client.get("/registry/?lang=az").get_data(as_text=True)
    assert html.index("Bələdçi") < html.index("Əkinçilər Birliyi") < html.index("Ziya Mərkəzi")
    html = client.get("/registry/?lang=en").get_data(as_text=True)
    assert html.index("Alpha Centre") < html.index("Farmers Union") < html.index("Zeta Guides")


def test_unknown_ids_give_404(app, client):
    assert client.get("/registry/999999").status_code == 404
    response = client.get("/api/v1/organisations/999999")
    assert response.status_code == 404 and response.is_json


def test_api_filters_and_pages(app, client, registry):
    response = client.get("/api/v1/organisations?kind=coalition&per_page=5")
    data = response.get_json()
    assert data["total"] == 9 and len(data["organisations"]) == 5 and data["pages"] == 2
    forum = next(
        o
        for o in client.get("/api/v1/organisations?q=forumu").get_json()["organisations"]
        if o["name"]["az"] == "Milli QHT Forumu"
    )
    assert forum["declared_member_count"] == 533 and forum["founded"]["year"] == 1999
    assert client.get("/api/v1/organisations?per_page=5000").status_code == 400
    assert client.get("/api/v1/organisations?per_page=many").status_code == 400
    bad = client.get("/api/v1/organisations?region=atlantis")
    assert bad.status_code == 400 and "region" in bad.get_json()["error"]["fields"]


def test_monitoring_shows_on_measure_and_organisation_pages_and_api(app, client, seeded, registry):
    organisation = by_name("Milli QHT Forumu")
    measures = list(db.session.scalars(db.select(Measure).where(Measure.code.in_(["1.1", "2.3"]))))
    link_measures(db.session, organisation, measures, is_lead=True)
    db.session.commit()

    measure_html = client.get("/plans/az-nap-2020-2022/measures/1.1?lang=en").get_data(as_text=True)
    assert "National NGO Forum of Azerbaijan" in measure_html and "Lead monitor" in measure_html
    other = client.get("/plans/az-nap-2020-2022/measures/9.4?lang=en").get_data(as_text=True)
    assert "No organisation monitors this measure" in other

    measure = measures[0]
    measure_id = measure.id
    with QueryCounter() as counter:
        monitors = monitors_of_measure(db.session, measure.id)
    assert counter.count == 1, counter.statements
    assert measure.id == measure_id
    assert [(m.name_az, m.is_lead) for m in monitors] == [("Milli QHT Forumu", True)]

    page = client.get(f"/registry/{organisation.id}").get_data(as_text=True)
    assert "/plans/az-nap-2020-2022/measures/1.1" in page and "2.3" in page
    record = client.get(f"/api/v1/organisations/{organisation.id}").get_json()
    assert sorted(record["measure_codes"]) == ["1.1", "2.3"]
    assert all(m["is_lead"] for m in record["monitored_measures"])


def test_an_organisation_page_offers_its_report_only_when_the_report_has_a_subject(
    app, client, seeded, registry
):
    """An ended plan's reports describe its last day: an organisation linked since then
    has no report on it, and its page offers none (the link answered 404)."""
    assert clock.today() > date(2022, 12, 31)
    late, early = by_name("Milli QHT Forumu"), by_name("Qadın Böhran Qrupu")
    measure = db.session.scalar(db.select(Measure).where(Measure.code == "2.3"))
    link_measures(db.session, late, [measure])
    link_measures(db.session, early, [measure], start_date=date(2021, 3, 1))
    db.session.commit()
    report = f"/reports/organisation/{late.id}.pdf?lang=en&plan=az-nap-2020-2022"
    assert client.get(report).status_code == 404
    page = client.get(f"/registry/{late.id}?lang=en").get_data(as_text=True)
    assert "/plans/az-nap-2020-2022/measures/2.3" in page and "/reports/organisation/" not in page
    page = client.get(f"/registry/{early.id}?lang=en").get_data(as_text=True)
    offered = f"/reports/organisation/{early.id}.pdf?lang=en&amp;plan=az-nap-2020-2022"
    assert offered in page
    assert client.get(offered.replace("&amp;", "&")).status_code in (200, 202)


def test_coverage_lists_unmonitored_measures_and_least_covered_sections(
    app, client, seeded, registry
):
    organisation = by_name("Milli QHT Forumu")
    section_one = list(
        db.session.scalars(
            db.select(Measure).where(Measure.plan_id == seeded.id, Measure.code.like("1.%"))
        )
    )
    link_measures(db.session, organisation, section_one)
    db.session.commit()
    with QueryCounter() as counter:
        response = client.get("/registry/coverage?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ">54<" in html and ">10<" in html
    unmonitored = html.split("Measures that no organisation monitors")[1].split("Agencies, least")[
        0
    ]
    assert "/plans/az-nap-2020-2022/measures/9.4" in unmonitored
    assert '/plans/az-nap-2020-2022/measures/1.1"' not in unmonitored
    sections = html.split("Sections, least covered first")[1].split("Measures that no")[0]
    assert sections.index(">100%<") > sections.index(">0%<")
    assert counter.count <= 12
    assert client.get("/registry/coverage?plan=nope").status_code == 404


def test_measure_page_lists_nobody_for_archived_monitors(app, client, seeded, registry):
    organisation = by_name("Milli QHT Forumu")
    measure = db.session.scalar(db.select(Measure).where(Measure.code == "1.1"))
    link_measures(db.session, organisation, [measure])
    archive_organisation(db.session, organisation)
    db.session.commit()
    html = client.get("/plans/az-nap-2020-2022/measures/1.1").get_data(as_text=True)
    assert "Milli QHT Forumu" not in html


def test_pages_are_in_azerbaijani_by_default(app, client, registry):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"
    for url, heading in (
        ("/registry/", "QHT reyestri"),
        ("/registry/stats", "Reyestr statistikası"),
        ("/registry/coverage", "Kim nəyi monitorinq edir"),
    ):
        html = client.get(url).get_data(as_text=True)
        assert '<html lang="az">' in html and heading in html, url
    # Survey answers are labelled in the questionnaire's own Azerbaijani wording.
    assert "İctimai birlik" in client.get("/registry/stats").get_data(as_text=True)


def test_the_source_names_the_reports_parts_in_the_readers_language(app, client, registry):
    forum = by_name("Milli QHT Forumu")
    assert forum.source == "section 5; section 6.11; section 7.6"  # the seed's citation
    az = client.get(f"/registry/{forum.id}?lang=az").get_data(as_text=True)
    assert "<dd>Bölmə 5; Bölmə 6.11; Bölmə 7.6</dd>" in az and "section 5" not in az
    en = client.get(f"/registry/{forum.id}?lang=en").get_data(as_text=True)
    assert "<dd>Section 5; Section 6.11; Section 7.6</dd>" in en
    annexed = db.session.scalar(db.select(Organisation).where(Organisation.source == "Annex 5"))
    assert "<dd>Əlavə 5</dd>" in client.get(f"/registry/{annexed.id}?lang=az").get_data(
        as_text=True
    )
    # what an administrator wrote in other words is shown as written, escaped
    forum.source = "Interview, 2023; section 4; <b>notes</b>"
    db.session.commit()
    html = client.get(f"/registry/{forum.id}?lang=az").get_data(as_text=True)
    assert "<dd>Interview, 2023; Bölmə 4; &lt;b&gt;notes&lt;/b&gt;</dd>" in html


def test_coverage_offers_every_plan_in_the_pages_language(client, seeded, registry, tmp_path):
    html = client.get("/registry/coverage?lang=en").get_data(as_text=True)
    assert 'id="plan"' not in html  # one plan: nothing to choose
    seed_plan_copy(tmp_path, "az-nap-copy", title_en="A copy of the plan")
    html = client.get("/registry/coverage?lang=en").get_data(as_text=True)
    chooser = html.split('<select id="plan" name="plan">')[1].split("</select>")[0]
    # newest first (both end in 2022: by key); the latest plan is the page's by default
    assert chooser == (
        '<option value="az-nap-2020-2022">National Action Plan on the Promotion of Open '
        'Government for 2020–2022</option><option value="az-nap-copy" selected>A copy of the '
        "plan</option>"
    )
    chosen = client.get("/registry/coverage?lang=en&plan=az-nap-2020-2022").get_data(as_text=True)
    assert '<option value="az-nap-2020-2022" selected>' in chosen
    assert '<option value="az-nap-copy">A copy of the plan</option>' in chosen
    html_az = client.get("/registry/coverage?lang=az").get_data(as_text=True)
    assert "Açıq hökumətin təşviqinə dair 2020–2022-ci illər üçün Milli Fəaliyyət Planı" in html_az
    assert "A copy of the plan" not in html_az  # Azerbaijani titles in Azerbaijani
