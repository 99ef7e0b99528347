"""The OpenAPI document describes every /api/v1 route, and every response of every
endpoint, called with real data, validates against it."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from tests.factories import make_organisation
from tests.reports.conftest import SECRET_MARKERS
from tracker.extensions import db
from tracker.models import CoalitionMembership
from tracker.services.plans import scorecard
from tracker.services.plans.status import summarize
from tracker.views.api.openapi import openapi_document

PLAN = "az-nap-2020-2022"


def documented_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: <int:measure_id> → {measure_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def api_rules(app) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            methods = {m.lower() for m in rule.methods} - {"head", "options"}
            rules.setdefault(documented_path(rule.rule), set()).update(methods)
    return rules


def test_every_api_route_is_documented_and_nothing_else(app):
    document = openapi_document()
    rules = api_rules(app)
    assert set(rules) == set(document["paths"]), (
        f"undocumented: {sorted(set(rules) - set(document['paths']))}; "
        f"documented but absent: {sorted(set(document['paths']) - set(rules))}"
    )
    for path, methods in rules.items():
        assert methods == set(document["paths"][path]), path
        for operation in document["paths"][path].values():
            in_path = {p.get("name") for p in _parameters(document, operation) if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path)), path


def _parameters(document: dict, operation: dict) -> list[dict]:
    return [_resolve(document, p) for p in operation.get("parameters", [])]


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_is_well_formed(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document == openapi_document()
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    refs = re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', str(document).replace("'", '"'))
    for section, name in refs:
        assert name in document["components"][section], (section, name)


@pytest.fixture
def api_world(monitoring):
    coalition = make_organisation("Açıq Hökumət Koalisiyası", kind="coalition")
    db.session.add(CoalitionMembership(coalition_id=coalition.id, member_id=monitoring.watchdog.id))
    db.session.commit()
    monitoring.coalition = coalition
    return monitoring


def _calls(world) -> dict[str, list[tuple[str, int]]]:
    """Example requests for every documented path, with the status each must answer."""
    watchdog, m11 = world.watchdog.id, world.measures["1.1"].id
    return {
        "/api/v1/plans": [("/api/v1/plans", 200)],
        "/api/v1/plans/{key}": [(f"/api/v1/plans/{PLAN}", 200), ("/api/v1/plans/nope", 404)],
        "/api/v1/agencies": [
            ("/api/v1/agencies", 200),
            (f"/api/v1/agencies?plan={PLAN}", 200),
            ("/api/v1/agencies?plan=nope", 404),
        ],
        "/api/v1/agencies/{key}": [
            ("/api/v1/agencies/prosecutor-generals-office", 200),
            ("/api/v1/agencies/nope", 404),
        ],
        "/api/v1/measures": [
            ("/api/v1/measures", 200),
            (f"/api/v1/measures?plan={PLAN}&section=1", 200),
            ("/api/v1/measures?agency=prosecutor-generals-office", 200),
            ("/api/v1/measures?completion=limited", 200),
            ("/api/v1/measures?overdue=true", 200),
            ("/api/v1/measures?as_of=2021-01-01", 200),
            ("/api/v1/measures?page=2&per_page=10", 200),
            ("/api/v1/measures?completion=finished", 400),
            ("/api/v1/measures?overdue=maybe", 400),
            ("/api/v1/measures?disputed=true&monitored=false", 200),
            (f"/api/v1/measures?organisation={watchdog}", 200),
            ("/api/v1/measures?disputed=maybe", 400),
            ("/api/v1/measures?organisation=x", 400),
            ("/api/v1/measures?page=0", 400),
            ("/api/v1/measures?per_page=501", 400),
            ("/api/v1/measures?section=one", 400),
            ("/api/v1/measures?section=99", 400),
            ("/api/v1/measures?as_of=2019-12-31", 400),
            ("/api/v1/measures?as_of=2031-01-01", 400),
            # the documented YYYY-MM-DD only, not the other forms fromisoformat reads
            ("/api/v1/measures?as_of=2022-W01-1", 400),
            ("/api/v1/measures?as_of=20220101", 400),
            ("/api/v1/measures?plan=nope", 404),
        ],
        "/api/v1/measures/{plan_key}/{code}": [
            (f"/api/v1/measures/{PLAN}/1.1", 200),
            (f"/api/v1/measures/{PLAN}/9.4", 200),
            (f"/api/v1/measures/{PLAN}/1.1?as_of=2021-01-01", 200),
            (f"/api/v1/measures/{PLAN}/1.1?as_of=soon", 400),
            (f"/api/v1/measures/{PLAN}/1.1?as_of=2019-12-31", 400),
            (f"/api/v1/measures/{PLAN}/99.9", 404),
            ("/api/v1/measures/nope/1.1", 404),
        ],
        "/api/v1/measures/{measure_id}/updates": [
            (f"/api/v1/measures/{m11}/updates", 200),
            ("/api/v1/measures/999999/updates", 404),
        ],
        "/api/v1/updates": [
            ("/api/v1/updates", 200),
            (f"/api/v1/updates?plan={PLAN}&measure=1.1", 200),
            (f"/api/v1/updates?organisation={watchdog}", 200),
            ("/api/v1/updates?since=2021-04-15&page=1&per_page=1", 200),
            ("/api/v1/updates?measure=1.1", 400),
            ("/api/v1/updates?since=April", 400),
            ("/api/v1/updates?since=20210415", 400),
            ("/api/v1/updates?organisation=999999", 404),
            ("/api/v1/updates?plan=nope", 404),
            (f"/api/v1/updates?plan={PLAN}&measure=99.9", 404),
        ],
        "/api/v1/scorecard/{plan_key}": [
            (f"/api/v1/scorecard/{PLAN}", 200),
            (f"/api/v1/scorecard/{PLAN}?as_of=2021-01-01", 200),
            (f"/api/v1/scorecard/{PLAN}?as_of=2021-13-01", 400),
            (f"/api/v1/scorecard/{PLAN}?as_of=2021-W01-1", 400),
            (f"/api/v1/scorecard/{PLAN}?as_of=2019-12-31", 400),
            ("/api/v1/scorecard/nope", 404),
        ],
        "/api/v1/organisations": [
            ("/api/v1/organisations", 200),
            ("/api/v1/organisations?kind=coalition", 200),
            ("/api/v1/organisations?per_page=0", 400),
        ],
        "/api/v1/organisations/{organisation_id}": [
            (f"/api/v1/organisations/{watchdog}", 200),
            (f"/api/v1/organisations/{world.coalition.id}", 200),
            (f"/api/v1/organisations/{world.archived_org.id}", 404),
        ],
        "/api/v1/registry/stats": [("/api/v1/registry/stats", 200)],
        "/api/v1/openapi.json": [("/api/v1/openapi.json", 200)],
    }


def _validator(document: dict, schema: dict) -> Draft202012Validator:
    root = {"$schema": document["jsonSchemaDialect"], "components": document["components"]}
    return Draft202012Validator(
        {**root, **schema}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def test_every_response_matches_the_document(api_world, client):
    document = openapi_document()
    calls = _calls(api_world)
    assert set(calls) == set(document["paths"]), "every documented path is called"
    for path, examples in calls.items():
        operation = document["paths"][path]["get"]
        for url, status in examples:
            response = client.get(url)
            assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
            assert response.mimetype == "application/json", url
            declared = operation["responses"].get(str(status))
            assert declared is not None, f"{url}: status {status} is not documented"
            schema = _resolve(document, declared)["content"]["application/json"]["schema"]
            errors = sorted(
                _validator(document, schema).iter_errors(response.get_json()),
                key=lambda e: list(e.absolute_path),
            )
            assert not errors, f"{url}: {errors[0].message} at {list(errors[0].absolute_path)}"
            body = response.get_data(as_text=True)
            for marker in SECRET_MARKERS:
                assert marker not in body, (url, marker)


def test_api_figures_match_the_scorecard(monitoring, client):
    card = scorecard.build_scorecard(db.session, monitoring.plan)
    data = client.get(f"/api/v1/scorecard/{PLAN}").get_json()
    assert data["as_of"] == "2021-06-30"
    assert data["summary"]["total"] == card.summary.total == 64
    assert data["summary"]["score"] == card.summary.score
    assert data["summary"]["overdue"] == card.summary.overdue
    assert data["summary"]["disputed"] == card.summary.disputed == 1
    assert data["summary"]["counts"] == {str(k): v for k, v in card.summary.counts.items()}
    assert [s["summary"]["total"] for s in data["sections"]] == [10, 12, 9, 12, 6, 4, 4, 3, 4]
    assert data["coverage"] == {
        "measures": 64,
        "monitored_measures": 4,
        "monitored_share": 6.3,  # 4 of 64 is 6.25%: halves round up, as people round
        "monitoring_organisations": 2,
    }
    assert data["report_url"].endswith(f"/reports/plan/{PLAN}.pdf?as_of=2021-06-30")


def test_measure_filters_and_paging(monitoring, client):
    limited = client.get("/api/v1/measures?completion=limited").get_json()
    assert [m["code"] for m in limited["measures"]] == ["1.1"]
    assert limited["summary"]["total"] == 1
    overdue = client.get("/api/v1/measures?overdue=true").get_json()
    card = scorecard.build_scorecard(db.session, monitoring.plan)
    assert overdue["total"] == card.summary.overdue
    assert all(m["state"]["is_overdue"] for m in overdue["measures"])
    page = client.get("/api/v1/measures?page=7&per_page=10").get_json()
    assert [m["code"] for m in page["measures"]] == ["9.1", "9.2", "9.3", "9.4"]
    assert page["total"] == 64
    section = client.get(f"/api/v1/measures?plan={PLAN}&section=2").get_json()
    assert {m["section"] for m in section["measures"]} == {2} and section["total"] == 12
    assert (
        section["summary"]
        == client.get(f"/api/v1/scorecard/{PLAN}").get_json()["sections"][1]["summary"]
    )
    assert summarize([]).total == 0


def test_updates_endpoint_shows_public_material_by_organisation(monitoring, client):
    data = client.get(f"/api/v1/updates?plan={PLAN}&measure=1.1").get_json()
    assert [u["id"] for u in data["updates"]] == [monitoring.hostile.id, monitoring.approved[1].id]
    hostile = data["updates"][0]
    assert hostile["organisation"]["name"]["az"] == "Şəffaflıq Assosiasiyası"
    assert [e["title"] for e in hostile["evidence"]] == [
        "Nazirliyin xəbəri",
        "javascript link",
        "Məlumat sorğusu",
    ]
    assert hostile["private_evidence_count"] == 1
    assert hostile["evidence"][2]["information_request"]["outcome"] == "no_reply"
    detail = client.get(f"/api/v1/measures/{PLAN}/1.1").get_json()
    assert detail["latest_update"]["id"] == monitoring.hostile.id
    assert detail["state"]["is_disputed"] is True
