"""The reports feature: report content (dataclasses), the PDF, the monthly archive and the exports.

Other features use only the names below; nothing else reaches inside."""

from tracker.services.reports.content import (
    has_monitoring_record,
    monitoring_coverage,
    overdue_agencies,
)
from tracker.services.reports.exports import approved_updates_statement, public_evidence

__all__ = [
    "approved_updates_statement",
    "has_monitoring_record",
    "monitoring_coverage",
    "overdue_agencies",
    "public_evidence",
]
