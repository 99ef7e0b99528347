"""Downloads of uploaded files: always as an attachment, never rendered by the browser,
and only to those who may see them (private evidence: reviewers and admins)."""

from __future__ import annotations

from flask import Blueprint, send_file
from flask_login import current_user

from tracker.extensions import db
from tracker.models import StoredFile
from tracker.services.accounts import can_see_private_evidence, is_monitor
from tracker.services.monitoring import uploads
from tracker.services.monitoring.history import is_organisation_file, is_public_file
from tracker.web.errors_map import http_error
from tracker.web.permissions import get_or_404, refuse

bp = Blueprint("files", __name__, url_prefix="/files")

#: a downloaded file can run nothing and load nothing, even if a browser opened it
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _may_download(stored: StoredFile) -> tuple[bool, bool]:
    """(allowed, public)"""
    if is_public_file(db.session, stored.id):
        return True, True
    if can_see_private_evidence(current_user):
        return True, False
    if is_monitor(current_user) and (
        stored.uploaded_by_id == current_user.id
        or is_organisation_file(db.session, current_user.organisation_id, stored.id)
    ):
        return True, False
    return False, False


@bp.get("/<int:file_id>")
def download(file_id: int):
    stored = get_or_404(StoredFile, file_id)
    allowed, public = _may_download(stored)
    if not allowed:
        if not current_user.is_authenticated:
            # Visitors cannot tell an unpublished file from a missing one.
            raise http_error(404)
        refuse(403)
    path = uploads.stored_path(stored)
    if path is None:
        raise http_error(404)
    response = send_file(
        path,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.original_filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    return response
