"""The OpenAPI 3.1 document of the public JSON API (/api/v1/openapi.json).

Written by hand and checked by tests/reports/test_openapi.py: every /api/v1 route must be
described here, and every response must validate against its schema. Objects are closed
(additionalProperties: false), so a field that is not documented, such as a person's
name, fails the test instead of reaching the public.
"""

from __future__ import annotations

from typing import Any

from tracker.vocabulary import AgencyRole, Completion, DelayReason, EvidenceType, RequestOutcome

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: dict[str, Schema], optional: tuple[str, ...] = (), **extra) -> Schema:
    """An object with exactly these properties, all required unless named optional."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
        **extra,
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
URL: Schema = {"type": "string", "format": "uri"}


def _enum(values) -> Schema:
    return {"type": "string", "enum": [str(v) for v in values]}


def _measure_properties() -> dict[str, Schema]:
    return {
        "code": {"type": "string", "examples": ["1.1"]},
        "section": INTEGER,
        "title": ref("Bilingual"),
        "indicator": ref("Bilingual"),
        "executors": {**array(STRING), "description": "Executing agencies as the plan writes them"},
        "recommended": {
            **array(STRING),
            "description": "Bodies the plan recommends the measure to",
        },
        "executor_agency_keys": array(STRING),
        "recommended_agency_keys": array(STRING),
        "deadline": {"type": "string", "description": 'The period as written, e.g. "2020–2022"'},
        "start_year": INTEGER,
        "end_year": INTEGER,
        "due_date": DATE,
        "state": ref("MeasureState"),
    }


def _agency_figures_properties() -> dict[str, Schema]:
    return {
        "key": STRING,
        "name": ref("Bilingual"),
        "spellings": {**array(STRING), "description": "The spellings the plan uses"},
        "executor_measures": {**array(STRING), "description": "Codes, as executing agency"},
        "recommended_measures": {**array(STRING), "description": "Codes, as recommended agency"},
        "overdue": INTEGER,
        "summary": ref("Summary"),
    }


def _organisation_properties() -> dict[str, Schema]:
    """registry.public_record: the registry's public fields, never contact details."""
    from tracker.services.registry import MULTI_FIELDS, STAFF_FIELDS

    answer = closed({"key": STRING, "detail": STRING})
    return {
        "id": INTEGER,
        "kind": _enum(["organisation", "coalition"]),
        "name": ref("Bilingual"),
        "aliases": array(STRING),
        "completed_on": nullable(DATE),
        "founded": closed({"year": nullable(INTEGER), "month": nullable(INTEGER)}),
        "legal_status": nullable(STRING),
        "legal_status_other": STRING,
        "legal_address": STRING,
        "website": STRING,
        "social_media": STRING,
        "mission": STRING,
        **{name: array(answer) for name in MULTI_FIELDS},
        "staff": closed({name: nullable(INTEGER) for name in STAFF_FIELDS}),
        "member_of_networks": nullable(BOOLEAN),
        "network_names": STRING,
        "recommendations": STRING,
        "field_group": ref("Bilingual"),
        "is_interviewed": BOOLEAN,
        "declared_member_count": nullable(INTEGER),
        "coalitions": array(closed({"id": INTEGER, "name": ref("Bilingual")})),
        "source": STRING,
        "updated": nullable(DATETIME),
    }


def _registry_stats() -> Schema:
    counts = {"type": "object", "additionalProperties": INTEGER}
    staff_figures = closed(
        {
            "valid": INTEGER,
            "missing": INTEGER,
            "mean": nullable(NUMBER),
            "median": nullable(NUMBER),
            "min": nullable(INTEGER),
            "max": nullable(INTEGER),
            "sum": INTEGER,
        }
    )
    return closed(
        {
            "total": INTEGER,
            "legal_status": counts,
            "founding_year_groups": counts,
            "web_presence": counts,
            "services": counts,
            "beneficiaries": counts,
            "regions": counts,
            "staff": {"type": "object", "additionalProperties": staff_figures},
            "donors": counts,
            "training_needs": counts,
            "membership": counts,
            "answered": counts,
            "share_of_organisations": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": nullable(NUMBER),
                },
                "description": "Per cent of the organisations that answered each question",
            },
            "answers_total": counts,
        },
        description="Registry statistics; the keys of each count are vocabulary keys",
    )


def _schemas() -> dict[str, Schema]:
    summary_counts = closed({level.value: INTEGER for level in Completion})
    evidence = closed(
        {
            "type": _enum(EvidenceType),
            "title": STRING,
            "date": nullable(DATE),
            "url": nullable(STRING),
            "file_url": nullable(URL),
            "information_request": closed(
                {
                    "sent_on": nullable(DATE),
                    "agency": nullable({"type": "string", "description": "Agency key"}),
                    "answered_on": nullable(DATE),
                    "outcome": nullable(_enum(RequestOutcome)),
                }
            ),
        },
        optional=("information_request",),
        description="Public evidence; private items are only counted.",
    )
    organisation_ref = closed({"id": INTEGER, "name": ref("Bilingual")})
    update_properties = {
        "id": INTEGER,
        "organisation": {
            **organisation_ref,
            "description": "Organisations are named, people never",
        },
        "completion": ref("Completion"),
        "progress_percent": nullable({"type": "integer", "minimum": 0, "maximum": 100}),
        "as_of_date": DATE,
        "narrative": ref("Bilingual"),
        "delay_reasons": array(_enum(DelayReason)),
        "replaces_id": nullable(INTEGER),
        "approved_at": nullable(DATETIME),
        "evidence": array(ref("Evidence")),
        "private_evidence_count": {"type": "integer", "minimum": 0},
    }
    measure_ref = closed({"id": INTEGER, "plan": STRING, "code": STRING})
    page = {"page": {"type": "integer", "minimum": 1}, "per_page": INTEGER, "total": INTEGER}
    listed_measure = {
        "plan": STRING,
        **_measure_properties(),
        "url": {**URL, "description": "The measure's public page"},
        "api_url": URL,
    }
    return {
        "Bilingual": closed(
            {"az": STRING, "en": STRING}, description="Azerbaijani original and English text"
        ),
        "Completion": {
            **_enum(Completion),
            "description": "The OGP Independent Reporting Mechanism scale",
        },
        "Error": closed(
            {
                "error": closed(
                    {
                        "status": INTEGER,
                        "message": STRING,
                        "fields": {
                            "type": "object",
                            "additionalProperties": array(STRING),
                            "description": "What is wrong with each argument",
                        },
                    },
                    ("message", "fields"),
                )
            }
        ),
        "Summary": closed(
            {
                "total": INTEGER,
                "counts": summary_counts,
                "overdue": INTEGER,
                "disputed": INTEGER,
                "with_evidence": INTEGER,
                "evidence_share": {**NUMBER, "description": "Per cent with an approved assessment"},
                "score": nullable(
                    {**NUMBER, "description": "0–100: the weighted mean of scored measures"}
                ),
            }
        ),
        "MeasureState": closed(
            {
                "as_of": DATE,
                "completion": ref("Completion"),
                "progress_percent": nullable(INTEGER),
                "is_overdue": BOOLEAN,
                "days_overdue": INTEGER,
                "days_remaining": INTEGER,
                "has_evidence": BOOLEAN,
                "is_disputed": BOOLEAN,
                "government_claim": nullable(
                    closed({"completion": ref("Completion"), "claim_date": DATE})
                ),
                "assessments": array(
                    closed(
                        {
                            "organisation_id": INTEGER,
                            "organisation": ref("Bilingual"),
                            "completion": ref("Completion"),
                            "progress_percent": nullable(INTEGER),
                            "as_of_date": DATE,
                        }
                    )
                ),
            }
        ),
        "Measure": closed(_measure_properties()),
        "ListedMeasure": closed(listed_measure),
        "MeasureDetail": closed(
            {
                **listed_measure,
                "section_title": ref("Bilingual"),
                "latest_update": nullable(ref("Update")),
                "updates_url": URL,
            }
        ),
        "Plan": closed(
            {
                "key": STRING,
                "country": STRING,
                "title": ref("Bilingual"),
                "period": STRING,
                "start_year": INTEGER,
                "end_year": INTEGER,
                "source": STRING,
            }
        ),
        "PlanDetail": closed(
            {
                "key": STRING,
                "country": STRING,
                "title": ref("Bilingual"),
                "period": STRING,
                "start_year": INTEGER,
                "end_year": INTEGER,
                "source": STRING,
                "as_of": DATE,
                "summary": ref("Summary"),
                "sections": array(
                    closed(
                        {
                            "number": INTEGER,
                            "title": ref("Bilingual"),
                            "summary": ref("Summary"),
                            "measures": array(ref("Measure")),
                        }
                    )
                ),
            }
        ),
        "AgencyFigures": closed(_agency_figures_properties()),
        "Evidence": evidence,
        "Update": closed(
            {
                "id": INTEGER,
                "measure": measure_ref,
                **{k: v for k, v in update_properties.items() if k != "id"},
            }
        ),
        "MeasureUpdate": closed(update_properties),
        "Scorecard": closed(
            {
                "plan": STRING,
                "title": ref("Bilingual"),
                "as_of": DATE,
                "summary": ref("Summary"),
                "coverage": closed(
                    {
                        "measures": INTEGER,
                        "monitored_measures": INTEGER,
                        "monitored_share": NUMBER,
                        "monitoring_organisations": INTEGER,
                    },
                    description="Measures an organisation monitors on the date",
                ),
                "sections": array(
                    closed(
                        {"number": INTEGER, "title": ref("Bilingual"), "summary": ref("Summary")}
                    )
                ),
                "agencies_with_overdue": array(
                    closed(
                        {
                            "key": STRING,
                            "name": ref("Bilingual"),
                            "overdue": INTEGER,
                            "measures": {
                                **INTEGER,
                                "description": "Measures naming the agency in either role",
                            },
                        }
                    )
                ),
                "report_url": {**URL, "description": "The plan report PDF for the same date"},
            }
        ),
        "MeasureList": closed(
            {
                "plan": STRING,
                "as_of": DATE,
                **page,
                "summary": {**ref("Summary"), "description": "Figures of the filtered measures"},
                "measures": array(ref("ListedMeasure")),
            }
        ),
        "UpdateList": closed({**page, "updates": array(ref("Update"))}),
        "Organisation": closed({**_organisation_properties(), "monitored_measures_count": INTEGER}),
        "OrganisationDetail": closed(
            {
                **_organisation_properties(),
                "monitored_measures": array(
                    closed(
                        {
                            "plan": STRING,
                            "code": STRING,
                            "is_lead": BOOLEAN,
                            "since": DATE,
                            "until": nullable(DATE),
                        }
                    )
                ),
                "measure_codes": array(STRING),
                "members_in_registry": INTEGER,
                "members": array(closed({"id": INTEGER, "name": ref("Bilingual")})),
            },
            optional=("members_in_registry", "members"),
            description="Coalitions also list their members in the registry",
        ),
        "OrganisationList": closed(
            {**page, "pages": INTEGER, "organisations": array(ref("Organisation"))}
        ),
        "RegistryStats": _registry_stats(),
    }


def _parameter(name: str, where: str, schema: Schema, description: str, required=False) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


def _parameters() -> dict[str, Schema]:
    return {
        "PlanQuery": _parameter(
            "plan", "query", STRING, "A plan's key; the most recent plan when left out"
        ),
        "AsOf": _parameter(
            "as_of", "query", DATE, "The date the state describes (not in the future); today"
        ),
        "Page": _parameter("page", "query", {"type": "integer", "minimum": 1}, "Page number"),
        "PerPage": _parameter(
            "per_page", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"
        ),
        "PlanKey": _parameter("plan_key", "path", STRING, "The plan's key"),
    }


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str,
    summary: str,
    schema: Schema,
    tag: str,
    parameters: list | None = None,
    errors: tuple[int, ...] = (404,),
) -> Schema:
    responses = {"200": _json(schema, "OK")}
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


def _paths() -> dict[str, Schema]:
    key_path = _parameter("key", "path", STRING, "The natural key")
    return {
        "/api/v1/plans": _operation(
            "listPlans", "Every action plan", closed({"plans": array(ref("Plan"))}), "plans", [], ()
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
            "Agencies named by a plan, with their measures and figures",
            closed({"plan": STRING, "as_of": DATE, "agencies": array(ref("AgencyFigures"))}),
            "agencies",
            [_param("PlanQuery")],
        ),
        "/api/v1/agencies/{key}": _operation(
            "getAgency",
            "One agency's measures and figures in a plan",
            closed({"plan": STRING, "as_of": DATE, **_agency_figures_properties()}),
            "agencies",
            [key_path, _param("PlanQuery")],
        ),
        "/api/v1/measures": _operation(
            "listMeasures",
            "Measures with their state, filtered and paged",
            ref("MeasureList"),
            "measures",
            [
                _param("PlanQuery"),
                _parameter("section", "query", {"type": "integer", "minimum": 1}, "Section number"),
                _parameter("agency", "query", STRING, "An agency's key (either role)"),
                _parameter("completion", "query", ref("Completion"), "CSO-assessed completion"),
                _parameter("overdue", "query", _enum(["true", "false"]), "Overdue or not"),
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
                _parameter("code", "path", STRING, 'The measure\'s code, e.g. "1.1"'),
                _param("AsOf"),
            ],
            (400, 404),
        ),
        "/api/v1/measures/{measure_id}/updates": _operation(
            "listMeasureUpdates",
            "A measure's approved updates, newest first",
            closed(
                {
                    "measure": closed({"id": INTEGER, "plan": STRING, "code": STRING}),
                    "updates": array(ref("MeasureUpdate")),
                }
            ),
            "updates",
            [_parameter("measure_id", "path", INTEGER, "The measure's id")],
        ),
        "/api/v1/updates": _operation(
            "listUpdates",
            "Approved updates, most recently approved first",
            ref("UpdateList"),
            "updates",
            [
                _param("PlanQuery"),
                _parameter("measure", "query", STRING, "A measure's code (needs plan)"),
                _parameter("organisation", "query", INTEGER, "An organisation's id"),
                _parameter("since", "query", DATE, "Updates describing this date or later"),
                _param("Page"),
                _param("PerPage"),
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
        "/api/v1/organisations": _operation(
            "listOrganisations",
            "The NGO registry's public fields, filtered and paged",
            ref("OrganisationList"),
            "registry",
            [
                _parameter("q", "query", STRING, "Words of the name or place"),
                _parameter("legal_status", "query", STRING, "A legal status key"),
                _parameter("service", "query", STRING, "A service key"),
                _parameter("beneficiary", "query", STRING, "A beneficiaries key"),
                _parameter("region", "query", STRING, "A region key"),
                _parameter("membership", "query", STRING, "Membership of networks"),
                _parameter("kind", "query", _enum(["organisation", "coalition"]), "Kind"),
                _parameter("coalition", "query", STRING, "Members of this coalition (its id)"),
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
            [_parameter("organisation_id", "path", INTEGER, "The organisation's id")],
        ),
        "/api/v1/registry/stats": _operation(
            "getRegistryStats",
            "Live statistics of the registry, as in the mapping report's tables",
            ref("RegistryStats"),
            "registry",
            [],
            (),
        ),
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
        "tags": [
            {"name": name}
            for name in (
                "plans",
                "agencies",
                "measures",
                "updates",
                "scorecard",
                "registry",
                "meta",
            )
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": {
                f"Error{status}": _json(ref("Error"), description)
                for status, description in (
                    (400, "The request's arguments are invalid"),
                    (404, "Not found"),
                )
            },
        },
    }
