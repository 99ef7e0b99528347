"""The monitoring feature: status updates with evidence, their review, government claims
and uploads.

Other features use only the names below; nothing else reaches inside."""

from tracker.services.monitoring.claims import current_claims
from tracker.services.monitoring.conflicts import reviewers_allowed, written_updates
from tracker.services.monitoring.history import PUBLIC_HISTORY_LIMIT, public_history

__all__ = [
    "PUBLIC_HISTORY_LIMIT",
    "current_claims",
    "public_history",
    "reviewers_allowed",
    "written_updates",
]
