"""Report downloads from the web and the `tracker report` command."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from tests.factories import make_organisation
from tests.reports.conftest import SECRET_MARKERS, fetch_report, tr
from tracker.dates import DATE_FORMATS, show_date
from tracker.extensions import db

PLAN = "az-nap-2020-2022"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_plan_report_downloads_as_an_attachment(monitoring, client):
    response = fetch_report(client, f"/reports/plan/{PLAN}.pdf?as_of=2021-06-30&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{PLAN}-2021-06-30-en.pdf"'
    )
    content = _pdf_text(response.data)
    assert "Plan progress report" in content and "As of June 30, 2021" in content
    for marker in SECRET_MARKERS:
        assert marker not in content


def test_each_kind_downloads(monitoring, client):
    urls = {
        f"/reports/plan/{PLAN}/section/1.pdf?lang=en": "Section report",
        "/reports/agency/prosecutor-generals-office.pdf?lang=en": "Agency report",
        f"/reports/agency/prosecutor-generals-office.pdf?plan={PLAN}&lang=en": "Agency report",
        f"/reports/organisation/{monitoring.watchdog.id}.pdf?plan={PLAN}&lang=en": (
            "Organisation's monitoring report"
        ),
        f"/reports/download?plan={PLAN}&as_of=2021-06-30&lang=az": "1.1",
    }
    for url, expected in urls.items():
        response = fetch_report(client, url)
        assert response.status_code == 200, url
        assert expected in _pdf_text(response.data), url


def test_defaults_are_today_and_the_interface_language(app, monitoring, client):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    response = fetch_report(client, f"/reports/plan/{PLAN}.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f'{PLAN}-2021-06-30-az.pdf"')


@pytest.mark.parametrize("lang", ["az", "en"])
def test_the_being_prepared_page_shows_its_date_as_every_page_does(
    monitoring, client, monkeypatch, lang
):
    """It formatted the date itself (Babel's "long" format), apart from the project's one
    date filter; a change of the site's format (here a marker) must reach it too."""
    url = f"/reports/plan/{PLAN}.pdf?as_of=2021-06-30&lang={lang}"
    with force_locale(lang):
        expected = gettext("Situation as of %(date)s.", date=show_date(date(2021, 6, 30)))
    preparing = client.get(url)
    assert preparing.status_code == 202
    assert expected in html.unescape(preparing.get_data(as_text=True))
    monkeypatch.setitem(DATE_FORMATS, lang, "'day' d 'of' MMMM y")
    marked = html.unescape(client.get(url).get_data(as_text=True))
    assert re.search(r"day 30 of \w+ 2021", marked)


DATE_FORMAT = "Give the date as YYYY-MM-DD, for example 2021-06-30."


@pytest.mark.parametrize(
    ("query", "message", "interface"),
    [
        ("as_of=30.06.2021&lang=en", DATE_FORMAT, "en"),
        ("as_of=2021-02-30&lang=en", DATE_FORMAT, "en"),
        ("as_of=2031-01-01&lang=en", "A report cannot describe a date in the future.", "en"),
        ("lang=fr", "The language must be az or en.", "az"),
    ],
)
def test_bad_options_get_a_clear_400(app, monitoring, client, query, message, interface):
    app.config["BABEL_DEFAULT_LOCALE"] = "az"  # the product's default (tests run in English)
    response = client.get(f"/reports/plan/{PLAN}.pdf?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert tr(interface, message) in response.get_data(as_text=True)


def test_unknown_subjects_are_404_with_a_message(monitoring, client):
    cases = {
        "/reports/plan/no-such-plan.pdf?lang=en": "There is no plan no-such-plan.",
        f"/reports/plan/{PLAN}/section/42.pdf?lang=en": "The plan has no section 42.",
        "/reports/agency/no-such-agency.pdf?lang=en": "There is no agency no-such-agency.",
        "/reports/organisation/999999.pdf?lang=en": "There is no such organisation.",
        f"/reports/organisation/{monitoring.archived_org.id}.pdf?lang=en": (
            "There is no such organisation."
        ),
        "/reports/agency/prosecutor-generals-office.pdf?plan=nope&lang=en": "There is no plan",
    }
    for url, message in cases.items():
        response = client.get(url)
        assert response.status_code == 404, url
        assert message in response.get_data(as_text=True), url


def test_archive_page_offers_a_download_form_with_labels(monitoring, client):
    page = client.get("/reports/archive?lang=en").get_data(as_text=True)
    assert 'action="/reports/download"' in page
    for field in ("plan", "as_of", "lang"):
        assert f'<label for="{field}"' in page
    assert 'value="2021-06-30"' in page
    assert "Reports archive" in page and "Open data" in page  # the nav links


def test_cli_writes_each_kind_of_report(monitoring, runner, tmp_path):
    for extra, name in (
        ([], "plan.pdf"),
        (["--section", "2"], "section.pdf"),
        (["--agency", "ministry-of-justice"], "agency.pdf"),
        (["--organisation", str(monitoring.watchdog.id)], "organisation.pdf"),
    ):
        out = tmp_path / name
        result = runner.invoke(
            args=[
                "report",
                "--plan",
                PLAN,
                *extra,
                "--as-of",
                "2021-06-30",
                "--lang",
                "en",
                "--out",
                str(out),
            ]
        )
        assert result.exit_code == 0, result.output
        assert f"Wrote {out}" in result.output
        assert len(PdfReader(out).pages) > 3


def test_cli_refuses_bad_arguments(monitoring, runner, tmp_path):
    out = tmp_path / "x.pdf"
    both = runner.invoke(
        args=["report", "--plan", PLAN, "--section", "1", "--agency", "x", "--out", str(out)]
    )
    assert both.exit_code == 2 and "at most one" in both.output
    # the messages are in the command line's language (English), whatever the report's
    for lang in ("az", "en"):
        unknown = runner.invoke(
            args=["report", "--plan", "nope", "--out", str(out), "--lang", lang]
        )
        assert unknown.exit_code == 1 and "There is no plan nope." in unknown.output
    bad_date = runner.invoke(
        args=["report", "--plan", PLAN, "--as-of", "2021-13-01", "--out", str(out)]
    )
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    # the web's dates: from the plan's start to the earlier of today and its end
    for as_of, message in (
        ("2019-12-31", "The plan starts on"),
        ("2021-07-01", "A report cannot describe a date in the future."),
    ):
        refused = runner.invoke(
            args=["report", "--plan", PLAN, "--as-of", as_of, "--lang", "az", "--out", str(out)]
        )
        assert refused.exit_code == 2 and message in refused.output, refused.output
    nowhere = tmp_path / "missing" / "x.pdf"
    lost = runner.invoke(args=["report", "--plan", PLAN, "--out", str(nowhere)])
    assert lost.exit_code == 2 and "does not exist" in lost.output
    assert "Traceback" not in lost.output
    assert not out.exists()


def test_public_pages_link_to_their_reports(monitoring, client):
    pages = {
        f"/plans/{PLAN}/": (f"/reports/plan/{PLAN}.pdf", {}),
        f"/plans/{PLAN}/sections/3": (f"/reports/plan/{PLAN}/section/3.pdf", {}),
        f"/agencies/ministry-of-justice?plan={PLAN}": (
            "/reports/agency/ministry-of-justice.pdf",
            {"plan": PLAN},
        ),
        f"/registry/{monitoring.watchdog.id}": (
            f"/reports/organisation/{monitoring.watchdog.id}.pdf",
            {"plan": PLAN},
        ),
    }
    for page, (path, query) in pages.items():
        response = client.get(page)
        assert response.status_code == 200, page
        links = [
            urlsplit(html.unescape(href))
            for href in re.findall(r'href="(/reports/[^"]+)"', response.get_data(as_text=True))
        ]
        found = {
            parse_qs(link.query)["lang"][0]: link
            for link in links
            if link.path == path
            and {k: v[0] for k, v in parse_qs(link.query).items() if k != "lang"} == query
        }
        assert set(found) == {"az", "en"}, (page, links)
        pdf = fetch_report(client, urlunsplit(found["en"]))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", page
    # an organisation that monitors nothing gets no report link
    idle = make_organisation("Heç nəyi izləməyən birlik")
    db.session.commit()
    response = client.get(f"/registry/{idle.id}")
    assert response.status_code == 200
    assert "/reports/organisation/" not in response.get_data(as_text=True)


def test_downloading_an_english_pdf_keeps_the_interface_language(monitoring, client):
    client.get(f"/plans/{PLAN}/?lang=az")
    assert fetch_report(client, f"/reports/plan/{PLAN}.pdf?lang=en").status_code == 200
    page = client.get(f"/plans/{PLAN}/").get_data(as_text=True)
    assert '<html lang="az">' in page
