"""The monitoring feature: status updates with evidence, their review, government claims
and uploads.

Other features use only the names below; nothing else reaches inside."""

from tracker.services.monitoring.conflicts import (
    Written,
    reviewers_allowed,
    written_claim,
    written_updates,
)
from tracker.services.monitoring.history import PUBLIC_HISTORY_LIMIT, public_history
from tracker.services.monitoring.public_claims import current_claims

__all__ = [
    "PUBLIC_HISTORY_LIMIT",
    "Written",
    "current_claims",
    "public_history",
    "reviewers_allowed",
    "written_claim",
    "written_updates",
]
