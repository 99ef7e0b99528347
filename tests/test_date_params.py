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
