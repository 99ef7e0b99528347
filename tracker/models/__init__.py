"""All models, imported here so that Alembic and the app see one metadata."""

from tracker.models.accounts import (
    AuditEntry,
    LoginAttempt,
    OrganisationMembership,
    RecoveryCode,
    UsedToken,
    User,
)
from tracker.models.agencies import Agency, AgencyAlias, MeasureAgency
from tracker.models.data_version import DataVersion
from tracker.models.mail import MailRequest
from tracker.models.monitoring import (
    APPROVED_CURRENT,
    AWAITING_REVIEW,
    Evidence,
    GovernmentClaim,
    ReviewDecision,
    StatusUpdate,
    StoredFile,
)
from tracker.models.plans import ActionPlan, Measure, Milestone, Section
from tracker.models.registry import (
    PERSONAL_FIELDS,
    CoalitionMembership,
    MonitoringLink,
    Organisation,
    OrganisationChoice,
)
from tracker.models.reminders import (
    ReminderClaim,
    ReminderDigest,
    ReminderItem,
    ReminderOptOut,
    ReminderPlanning,
    ReminderSetting,
)
from tracker.models.reports import ReportRequest, ReportSnapshot

__all__ = [
    "APPROVED_CURRENT",
    "AWAITING_REVIEW",
    "PERSONAL_FIELDS",
    "ActionPlan",
    "Agency",
    "AgencyAlias",
    "AuditEntry",
    "CoalitionMembership",
    "DataVersion",
    "Evidence",
    "GovernmentClaim",
    "LoginAttempt",
    "MailRequest",
    "Measure",
    "MeasureAgency",
    "Milestone",
    "MonitoringLink",
    "Organisation",
    "OrganisationChoice",
    "OrganisationMembership",
    "RecoveryCode",
    "ReminderClaim",
    "ReminderDigest",
    "ReminderItem",
    "ReminderOptOut",
    "ReminderPlanning",
    "ReminderSetting",
    "ReportRequest",
    "ReportSnapshot",
    "ReviewDecision",
    "Section",
    "StatusUpdate",
    "StoredFile",
    "UsedToken",
    "User",
]
