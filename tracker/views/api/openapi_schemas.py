"""The components of the API's OpenAPI 3.1 document: the JSON schemas of every object the
API returns, the shared query and path parameters and the error responses, and the small
builders (closed objects, arrays, nullable values) that openapi.py also uses for its paths.

Objects are closed (additionalProperties: false), so a field that is not documented, such
as a person's name, fails tests/api/test_openapi.py instead of reaching the public.
"""

from __future__ import annotations

from typing import Any

from tracker.services.registry import MULTI_FIELDS, STAFF_FIELDS
from tracker.vocabulary import (
    Completion,
    DelayReason,
    EvidenceType,
    MilestoneState,
    RequestOutcome,
)

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


def paged(items: dict[str, Schema]) -> Schema:
    """A page of a list: where it stands (serializers.page_json), then its items."""
    return closed(
        {
            "page": {"type": "integer", "minimum": 1},
            "per_page": INTEGER,
            "total": INTEGER,
            "pages": INTEGER,
            **items,
        }
    )


def enum_of(values) -> Schema:
    """A string that is one of these values."""
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
        "milestones": array(ref("Milestone")),
    }


def agency_figures_properties() -> dict[str, Schema]:
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
    answer = closed({"key": STRING, "detail": STRING})
    return {
        "id": INTEGER,
        "kind": enum_of(["organisation", "coalition"]),
        "name": ref("Bilingual"),
        "aliases": array(STRING),
        "curator_aliases": {
            **array(STRING),
            "description": "Those of the aliases that the registry's curator added; no source "
            "gives them",
        },
        "completed_on": nullable(DATE),
        "founded": closed(
            {
                "year": nullable(INTEGER),
                "month": nullable(INTEGER),
                "alternative_year": {
                    **nullable(INTEGER),
                    "description": "Another founding year a source gives: founded in year or "
                    "in alternative_year",
                },
            }
        ),
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
        "declared_member_count_is_minimum": {
            **BOOLEAN,
            "description": "The declared count is a lower bound (more than the number), "
            "shown as 80+",
        },
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
            "web_presence": {
                **counts,
                "description": "website, social_media, website_or_social_media, neither "
                "(surveyed, gave neither) and unknown (nothing known)",
            },
            "services": counts,
            "beneficiaries": counts,
            "regions": counts,
            "staff": {"type": "object", "additionalProperties": staff_figures},
            "donors": counts,
            "training_needs": counts,
            "membership": counts,
            "answered": counts,
            "unknown": {
                **counts,
                "description": "Per table, the organisations of which the answer is not "
                "known: not counted as an answer, and not in the shares",
            },
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
            "type": enum_of(EvidenceType),
            "title": STRING,
            "date": nullable(DATE),
            "url": nullable(STRING),
            "file_url": nullable(URL),
            "information_request": closed(
                {
                    "sent_on": nullable(DATE),
                    "agency": nullable({"type": "string", "description": "Agency key"}),
                    "answered_on": nullable(DATE),
                    "outcome": nullable(enum_of(RequestOutcome)),
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
        "delay_reasons": array(enum_of(DelayReason)),
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
    plan_properties = {
        "key": STRING,
        "country": STRING,
        "title": ref("Bilingual"),
        "period": STRING,
        "start_year": INTEGER,
        "end_year": INTEGER,
        "source": STRING,
    }
    return {
        "Bilingual": closed(
            {"az": STRING, "en": STRING}, description="Azerbaijani original and English text"
        ),
        "Completion": {
            **enum_of(Completion),
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
                        "next": {
                            **STRING,
                            "description": "Where to go instead, e.g. a newer version",
                        },
                    },
                    ("message", "fields", "next"),
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
                "scored": {
                    **INTEGER,
                    "description": "The basis of the score: measures with an approved "
                    "assessment (the score is over `scored` of `total` measures)",
                },
                "ended_incomplete": {
                    **INTEGER,
                    "description": "Measures not complete when their plan ended",
                },
                "is_closed": {
                    **BOOLEAN,
                    "description": "Every measure's plan has ended: the figures are final",
                },
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
                "is_closed": {
                    **BOOLEAN,
                    "description": "The plan has ended: the state is final, no day counts",
                },
                "ended_incomplete": {
                    **BOOLEAN,
                    "description": "The plan has ended and the measure was not complete",
                },
                "closes_on": nullable(
                    {**DATE, "description": "The measure's last day: its plan's end"}
                ),
                "last_updated": nullable(
                    {
                        **DATE,
                        "description": "Newest approved assessment or government claim "
                        "about the measure itself (not a plan-wide claim)",
                    }
                ),
                "is_at_risk": {
                    **BOOLEAN,
                    "description": "Not overdue yet, but one of its milestones is",
                },
                "has_evidence": BOOLEAN,
                "is_disputed": BOOLEAN,
                "government_claim": nullable(
                    closed(
                        {
                            "completion": ref("Completion"),
                            "claim_date": DATE,
                            "scope": {"type": "string", "enum": ["measure", "plan"]},
                            "source_title": STRING,
                            "source_url": nullable(URL),
                            "file_url": nullable(URL),
                        }
                    )
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
        "Milestone": closed(
            {
                "id": INTEGER,
                "title": ref("Bilingual"),
                "due_date": DATE,
                "state": enum_of(MilestoneState),
                "is_final": {**BOOLEAN, "description": "Its date is the measure's due date"},
                "is_overdue": BOOLEAN,
                "days_overdue": INTEGER,
            },
            description="A step of a measure with its own date (archived ones are left out)",
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
        "Plan": closed(plan_properties),
        "PlanDetail": closed(
            {
                **plan_properties,
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
        "AgencyFigures": closed(agency_figures_properties()),
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
                "report_url": {
                    **URL,
                    "description": "The plan report PDF for the same date, or the nearest "
                    "date within the plan a report may describe",
                },
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
        "UpdateList": closed(
            {
                **page,
                "page": {
                    **nullable(page["page"]),
                    "description": "The page number; null for a page asked for with after",
                },
                "next": {
                    **nullable(URL),
                    "description": "The next page (after this page's last update); null at the end",
                },
                "updates": array(ref("Update")),
            }
        ),
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
        "OrganisationList": paged({"organisations": array(ref("Organisation"))}),
        "RegistryStats": _registry_stats(),
    }


def parameter(name: str, where: str, schema: Schema, description: str, required=False) -> Schema:
    """A query or path parameter (path parameters are always required)."""
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


def _parameters() -> dict[str, Schema]:
    return {
        "PlanQuery": parameter(
            "plan", "query", STRING, "A plan's key; the most recent plan when left out"
        ),
        "AsOf": parameter(
            "as_of",
            "query",
            DATE,
            "The date the state describes (from the plan's start, not in the future); today",
        ),
        "Page": parameter("page", "query", {"type": "integer", "minimum": 1}, "Page number"),
        "PerPage": parameter(
            "per_page", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"
        ),
        "PlanKey": parameter("plan_key", "path", STRING, "The plan's key"),
    }


def json_response(schema: Schema, description: str) -> Schema:
    """A response whose JSON body follows `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def components() -> dict[str, Schema]:
    """The document's `components`: schemas, shared parameters and error responses."""
    return {
        "schemas": _schemas(),
        "parameters": _parameters(),
        "responses": {
            f"Error{status}": json_response(ref("Error"), description)
            for status, description in (
                (400, "The request's arguments are invalid"),
                (404, "Not found"),
            )
        },
    }
