"""The plans feature: seeding a plan, the one state function (status), the scorecard and
its charts, and what changed (approved updates and claims between dates).

Other features use only the names below; nothing else reaches inside."""

from tracker.services.plans.changes import Change, ChangeQuery, approved_changes, within_query
from tracker.services.plans.listing import PLANS_PER_PAGE, plans_page
from tracker.services.plans.milestones import (
    MilestoneInput,
    add_milestone,
    archive_milestone,
    edit_milestone,
    milestone_input,
)
from tracker.services.plans.scorecard import (
    AgencyFigures,
    MeasureFilter,
    agency_figures,
    build_scorecard,
    check_agency,
    check_section,
    default_plan,
    get_measure,
    get_plan,
    has_several_plans,
    list_agencies,
    list_plans,
    load_measures,
    load_sections,
    measure_id,
    plan_choices,
    plan_or_default,
)
from tracker.services.plans.seeding import (
    SeedError,
    load_in_one_transaction,
    read_yaml_document,
    seed_plan_file,
    seed_yaml_file,
)
from tracker.services.plans.status import (
    MeasureState,
    MilestoneStatus,
    PlanSummary,
    measure_state,
    measure_states,
    summarize,
)

__all__ = [
    "PLANS_PER_PAGE",
    "AgencyFigures",
    "Change",
    "ChangeQuery",
    "MeasureFilter",
    "MeasureState",
    "MilestoneInput",
    "MilestoneStatus",
    "PlanSummary",
    "SeedError",
    "add_milestone",
    "agency_figures",
    "approved_changes",
    "archive_milestone",
    "build_scorecard",
    "check_agency",
    "check_section",
    "default_plan",
    "edit_milestone",
    "get_measure",
    "get_plan",
    "has_several_plans",
    "list_agencies",
    "list_plans",
    "load_in_one_transaction",
    "load_measures",
    "load_sections",
    "measure_id",
    "measure_state",
    "measure_states",
    "milestone_input",
    "plan_choices",
    "plan_or_default",
    "plans_page",
    "read_yaml_document",
    "seed_plan_file",
    "seed_yaml_file",
    "summarize",
    "within_query",
]
