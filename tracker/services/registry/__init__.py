"""The registry feature: organisations and coalitions, the survey import, labels,
statistics, the seed, coverage and monitoring links.

Other features use only the names below; nothing else reaches inside."""

from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS
from tracker.services.registry.links import (
    Monitor,
    active_link_condition,
    links_of_organisation,
    monitors_by_measure,
    monitors_of_measure,
)
from tracker.services.registry.search import (
    active_organisations,
    coalitions_of,
    get_public_organisation,
    list_coalitions,
    members_of,
    public_record,
    search_organisations,
)
from tracker.services.registry.seed import seed_registry
from tracker.services.registry.stats import registry_stats

__all__ = [
    "MULTI_FIELDS",
    "STAFF_FIELDS",
    "Monitor",
    "active_link_condition",
    "active_organisations",
    "coalitions_of",
    "get_public_organisation",
    "links_of_organisation",
    "list_coalitions",
    "members_of",
    "monitors_by_measure",
    "monitors_of_measure",
    "public_record",
    "registry_stats",
    "search_organisations",
    "seed_registry",
]
