"""The reports feature: PDF reports in two stages (`content` collects a report's data into the
dataclasses of `model`; the `pdf*` modules render them), the monthly archive, and the open
data exports (CSV, XLSX, Atom).

Other features use only the names below; nothing else reaches inside."""

from tracker.services.reports.content import monitoring_coverage, overdue_agencies
from tracker.services.reports.exports import approved_updates_statement, public_evidence
from tracker.services.reports.feeds import measure_atom, organisation_atom, updates_atom
from tracker.services.reports.model import (
    LANGUAGES,
    ReportSpec,
    ReportSubjectNotFound,
    as_of_range,
)
from tracker.services.reports.pdf import render_report
from tracker.services.reports.queue import (
    RequestedReport,
    build_requested,
    checked_as_of,
    data_version,
    refuse_before_start,
    request_report,
    scheduled_report_job,
)
from tracker.services.reports.selection import has_monitoring_record
from tracker.services.reports.updates_feed import (
    approved_update,
    approved_updates_page,
)

__all__ = [
    "LANGUAGES",
    "ReportSpec",
    "ReportSubjectNotFound",
    "RequestedReport",
    "approved_update",
    "approved_updates_page",
    "approved_updates_statement",
    "as_of_range",
    "build_requested",
    "checked_as_of",
    "data_version",
    "has_monitoring_record",
    "measure_atom",
    "monitoring_coverage",
    "organisation_atom",
    "overdue_agencies",
    "public_evidence",
    "refuse_before_start",
    "render_report",
    "request_report",
    "scheduled_report_job",
    "updates_atom",
]
