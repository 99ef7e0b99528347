"""The JSON API is one blueprint, and its absolute links are built on PUBLIC_BASE_URL,
never on the Host header the request came with."""

from __future__ import annotations

from tracker.models import Evidence, StoredFile
from tracker.views.api.serializers import evidence_json

PLAN = "az-nap-2020-2022"
BASE = "https://tracker.example.org"
FOREIGN_HOST = {"Host": "attacker.example"}


def test_every_api_route_is_on_the_one_api_blueprint(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert len(rules) == 13
    assert all(rule.rule.startswith("/api/v1/") for rule in rules)
    assert {rule.endpoint.split(".")[0] for rule in rules} == {"api"}


def test_links_use_the_public_base_url_not_the_host_header(app, monitoring, client):
    app.config["PUBLIC_BASE_URL"] = BASE
    listed = client.get("/api/v1/measures?per_page=1", headers=FOREIGN_HOST).get_json()
    measure = listed["measures"][0]
    assert measure["url"] == f"{BASE}/plans/{PLAN}/measures/1.1"
    assert measure["api_url"] == f"{BASE}/api/v1/measures/{PLAN}/1.1"
    detail = client.get(f"/api/v1/measures/{PLAN}/1.1", headers=FOREIGN_HOST).get_json()
    assert detail["updates_url"] == f"{BASE}/api/v1/updates?plan={PLAN}&measure=1.1"
    card = client.get(f"/api/v1/scorecard/{PLAN}", headers=FOREIGN_HOST).get_json()
    assert card["report_url"] == f"{BASE}/reports/plan/{PLAN}.pdf?as_of=2021-06-30"
    with app.test_request_context("/api/v1/updates", headers=FOREIGN_HOST):
        stored = StoredFile(public_id="k3Qm9xZ0aB7cD1eF2gH3iJ4kL5mN6oP7")
        item = evidence_json(Evidence(evidence_type="other", title="A file", file=stored))
    assert item["file_url"] == f"{BASE}/files/k3Qm9xZ0aB7cD1eF2gH3iJ4kL5mN6oP7"


def test_errors_are_the_apps_json_errors(monitoring, client):
    unknown_plan = client.get("/api/v1/measures?plan=nope")
    assert unknown_plan.status_code == 404
    assert unknown_plan.get_json() == {
        "error": {"status": 404, "message": "There is no plan nope."}
    }
    plain = client.get("/api/v1/plans/nope").get_json()["error"]
    assert plain == {"status": 404, "message": "The page you asked for does not exist."}
    bad_page = client.get("/api/v1/updates?page=0", headers={"Accept": "text/html"})
    assert bad_page.status_code == 400 and bad_page.is_json
    assert bad_page.get_json()["error"]["message"] == (
        "The page number must be between 1 and 1,000,000."
    )
    bad_filter = client.get("/api/v1/organisations?region=atlantis").get_json()["error"]
    assert bad_filter["status"] == 400 and set(bad_filter["fields"]) == {"region"}
