"""A date in a query string or a form is one YYYY-MM-DD everywhere (pages, PDFs, API,
data files): spaces around it and the same date given twice are that date; a date written
otherwise (2021-6-30) or two different dates get a 400 that says how to write it."""

from __future__ import annotations

import pytest

PLAN = "az-nap-2020-2022"
ADDRESSES = [
    f"/api/v1/scorecard/{PLAN}",
    "/data/measures.csv",
    f"/reports/plan/{PLAN}.pdf",
]
SAME_DAY = ["as_of=%202021-06-30%20", "as_of=2021-06-30&as_of=2021-06-30", "as_of=2021-06-30"]
REFUSED = ["as_of=2021-6-30", "as_of=2021-06-30&as_of=2021-07-01", "as_of=20210630"]


@pytest.fixture
def today(app):
    app.config["TRACKER_TODAY"] = "2021-12-31"


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_date_is_read_alike_everywhere(client, seeded, today, address):
    for query in SAME_DAY:
        response = client.get(f"{address}?{query}&lang=en")
        assert response.status_code in (200, 202), (address, query)
    for query in REFUSED:
        response = client.get(f"{address}?{query}&lang=en")
        assert response.status_code == 400, (address, query)
        assert "YYYY-MM-DD" in response.get_data(as_text=True), (address, query)


@pytest.mark.parametrize(
    ("lang", "on_the_page", "in_the_api"),
    [
        ("en", "The “since” date cannot be in the future.", "since cannot be in the future."),
        ("az", "“Başlama tarixi” gələcəkdə ola bilməz.", "since gələcək tarix ola bilməz."),
    ],
)
def test_a_since_after_today_is_refused_on_the_page_and_in_the_api(
    client, seeded, today, lang, on_the_page, in_the_api
):
    """The changes list took a day in the future and showed nothing; it and the API's
    updates list now refuse it, as `as_of` is refused, and still take today."""
    page = f"/plans/{PLAN}/changes?lang={lang}&since="
    api = f"/api/v1/updates?plan={PLAN}&lang={lang}&since="
    assert client.get(f"{page}2021-12-31").status_code == 200
    assert client.get(f"{api}2021-12-31").status_code == 200
    for later in ("2022-01-01", "2099-01-01"):
        refused = client.get(f"{page}{later}")
        assert refused.status_code == 400
        assert on_the_page in refused.get_data(as_text=True)
        answer = client.get(f"{api}{later}")
        assert answer.status_code == 400
        assert answer.get_json()["error"]["message"] == in_the_api
    # as_of, refused the same way before, says it in the same words
    as_of = client.get(f"/api/v1/scorecard/{PLAN}?as_of=2022-01-01&lang={lang}").get_json()
    assert as_of["error"]["message"] == in_the_api.replace("since", "as_of")
