"""The OpenAPI 3.1 document of the public JSON API (/api/v1/openapi.json): its paths, one
function per resource group, around the components of openapi_schemas.py.

Written by hand and checked by tests/api/test_openapi.py: every /api/v1 route must be
described here, and every response must validate against its schema.
"""

from __future__ import annotations

from tracker.views.api.openapi_schemas import (
    DATE,
    INTEGER,
    STRING,
    Schema,
    agency_figures_properties,
    array,
    closed,
    components,
    enum_of,
    json_response,
    paged,
    parameter,
    ref,
)
from tracker.vocabulary import AgencyRole

#: the groups the paths are tagged with, in the order the document lists them
TAGS = ("plans", "agencies", "measures", "updates", "scorecard", "registry", "meta")


def _operation(
    operation_id: str,
    summary: str,
    schema: Schema,
    tag: str,
    parameters: list | None = None,
    errors: tuple[int, ...] = (404,),
) -> Schema:
    """A GET path answering `schema` with 200, and the shared error responses `errors`."""
    responses = {"200": json_response(schema, "OK")}
    for status in errors:
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "parameters": parameters or [],
            "responses": responses,
        }
    }


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def _plan_paths() -> dict[str, Schema]:
    """Plans and the agencies they name (views/api/plans.py)."""
    key_path = parameter("key", "path", STRING, "The natural key")
    return {
        "/api/v1/plans": _operation(
            "listPlans",
            "The action plans, newest first, a page at a time",
            paged({"plans": array(ref("Plan"))}),
            "plans",
            [_param("Page"), _param("PerPage")],
            (400,),
        ),
        "/api/v1/plans/{key}": _operation(
            "getPlan",
            "A plan with its sections, measures, their state and the summary figures",
            ref("PlanDetail"),
            "plans",
            [key_path],
        ),
        "/api/v1/agencies": _operation(
            "listAgencies",
            "Agencies named by a plan, with their measures and figures, a page at a time",
            paged({"plan": STRING, "as_of": DATE, "agencies": array(ref("AgencyFigures"))}),
            "agencies",
            [_param("PlanQuery"), _param("Page"), _param("PerPage")],
            (400, 404),
        ),
        "/api/v1/agencies/{key}": _operation(
            "getAgency",
            "One agency's measures and figures in a plan",
            closed({"plan": STRING, "as_of": DATE, **agency_figures_properties()}),
            "agencies",
            [key_path, _param("PlanQuery")],
        ),
    }


def _measure_filters() -> list[Schema]:
    """The plan and the filters of /api/v1/measures (the scorecard page's, in its words)."""
    return [
        _param("PlanQuery"),
        parameter(
            "section",
            "query",
            {"type": "integer", "minimum": 1},
            "Section number (a section the plan does not have is a 400)",
        ),
        parameter(
            "agency",
            "query",
            STRING,
            "An agency's key (either role; an agency of no measure of the plan is a 400)",
        ),
        parameter("completion", "query", ref("Completion"), "CSO-assessed completion"),
        parameter(
            "overdue",
            "query",
            enum_of(["true", "false"]),
            "Past its deadline and not complete, or not, as the scorecard's Deadline "
            "filter: while the plan runs, is_overdue; once it has ended, "
            "ended_incomplete",
        ),
        parameter(
            "disputed",
            "query",
            enum_of(["true", "false"]),
            "The government's claim differs from a CSO assessment, or not",
        ),
        parameter(
            "monitored",
            "query",
            enum_of(["true", "false"]),
            "Some organisation monitors the measure on as_of, or none does",
        ),
        parameter(
            "organisation",
            "query",
            {"type": "integer", "minimum": 1},
            "Only measures this organisation (id) monitors on as_of (an unknown id is a 404)",
        ),
    ]


def _measure_paths() -> dict[str, Schema]:
    """Measures with their state, one measure and a plan's scorecard (views/api/opendata.py)."""
    return {
        "/api/v1/measures": _operation(
            "listMeasures",
            "Measures with their state, filtered and paged",
            ref("MeasureList"),
            "measures",
            [
                *_measure_filters(),
                _param("AsOf"),
                _param("Page"),
                _param("PerPage"),
            ],
            (400, 404),
        ),
        "/api/v1/measures/{plan_key}/{code}": _operation(
            "getMeasure",
            "One measure with its state and latest approved update",
            ref("MeasureDetail"),
            "measures",
            [
                _param("PlanKey"),
                parameter("code", "path", STRING, 'The measure\'s code, e.g. "1.1"'),
                _param("AsOf"),
            ],
            (400, 404),
        ),
        "/api/v1/scorecard/{plan_key}": _operation(
            "getScorecard",
            "A plan's figures: score, completion counts, overdue, disputed, monitor coverage",
            ref("Scorecard"),
            "scorecard",
            [_param("PlanKey"), _param("AsOf")],
            (400, 404),
        ),
    }


def _update_paths() -> dict[str, Schema]:
    """Approved updates: a measure's (views/api/monitoring.py) and all (opendata.py)."""
    return {
        "/api/v1/measures/{measure_id}/updates": _operation(
            "listMeasureUpdates",
            "A measure's approved updates, newest first, a page at a time",
            closed(
                {
                    "page": INTEGER,
                    "per_page": INTEGER,
                    "total": INTEGER,
                    "measure": closed({"id": INTEGER, "plan": STRING, "code": STRING}),
                    "updates": array(ref("MeasureUpdate")),
                }
            ),
            "updates",
            [
                parameter("measure_id", "path", INTEGER, "The measure's id"),
                _param("Page"),
                _param("PerPage"),
            ],
            (400, 404),
        ),
        "/api/v1/updates": _described(
            _operation(
                "listUpdates",
                "Approved updates, most recently approved first",
                ref("UpdateList"),
                "updates",
                [
                    _param("PlanQuery"),
                    parameter("measure", "query", STRING, "A measure's code (needs plan)"),
                    parameter("organisation", "query", INTEGER, "An organisation's id"),
                    parameter(
                        "since",
                        "query",
                        DATE,
                        "Updates describing this date or later (not in the future)",
                    ),
                    _param("Page"),
                    _param("PerPage"),
                    parameter(
                        "after",
                        "query",
                        INTEGER,
                        "The id of an update: the page after it (as `next` gives), instead of page",
                    ),
                ],
                (400, 404),
            ),
            "Follow `next` to read a long list: it pages after the last update shown, which "
            "is as quick at the millionth update as at the first (a deep `page` is not). "
            "`total` is every update the filters match. It is counted once per version of "
            "the public data and filter, then kept until the data changes (any approval, "
            "archiving or edit), so the pages of a list never count a million rows again.",
        ),
    }


def _described(operation: Schema, description: str) -> Schema:
    """An operation with a longer description beside its summary."""
    operation["get"]["description"] = description
    return operation


def _registry_paths() -> dict[str, Schema]:
    """The NGO registry's public fields and statistics (views/api/registry.py)."""
    return {
        "/api/v1/organisations": _operation(
            "listOrganisations",
            "The NGO registry's public fields, filtered and paged",
            ref("OrganisationList"),
            "registry",
            [
                parameter("q", "query", STRING, "Words of the name or place"),
                parameter("legal_status", "query", STRING, "A legal status key"),
                parameter("service", "query", STRING, "A service key"),
                parameter("beneficiary", "query", STRING, "A beneficiaries key"),
                parameter("region", "query", STRING, "A region key"),
                parameter("membership", "query", STRING, "Membership of networks"),
                parameter("kind", "query", enum_of(["organisation", "coalition"]), "Kind"),
                parameter("coalition", "query", STRING, "Members of this coalition (its id)"),
                _param("Page"),
                _param("PerPage"),
            ],
            (400,),
        ),
        "/api/v1/organisations/{organisation_id}": _operation(
            "getOrganisation",
            "One organisation's public fields and the measures it monitors",
            ref("OrganisationDetail"),
            "registry",
            [parameter("organisation_id", "path", INTEGER, "The organisation's id")],
        ),
        "/api/v1/registry/stats": _operation(
            "getRegistryStats",
            "Live statistics of the registry, as in the mapping report's tables",
            ref("RegistryStats"),
            "registry",
            [],
            (),
        ),
    }


def _paths() -> dict[str, Schema]:
    return {
        **_plan_paths(),
        **_measure_paths(),
        **_update_paths(),
        **_registry_paths(),
        "/api/v1/openapi.json": _operation(
            "getOpenApi",
            "This document",
            {"type": "object", "required": ["openapi", "paths"]},
            "meta",
            [],
            (),
        ),
    }


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Open Government Tracker API",
            "version": "1",
            "description": (
                "Civil society monitoring of Open Government Partnership national action "
                "plans: plans, measures and their state, agencies, approved monitoring "
                "updates and scorecards. Public material only: approved updates, public "
                "evidence, organisations named and people never. States, scores and overdue "
                "are computed for `as_of` (today by default). Completion keys follow the OGP "
                "Independent Reporting Mechanism scale; agency roles are "
                + ", ".join(f"`{r.value}`" for r in AgencyRole)
                + "."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in TAGS],
        "paths": _paths(),
        "components": components(),
    }
