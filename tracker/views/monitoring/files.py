"""Downloads of uploaded files: always as an attachment, never rendered by the browser,
found by their random public id, and only for those who may read a record that cites them
(services.monitoring.file_access); named after that record, never by the uploader's own
file name (services.monitoring.file_names), as on the pages (the `public_file_name`
template global)."""

from __future__ import annotations

from flask import Blueprint, send_file
from flask_babel import gettext as _
from flask_login import current_user

from tracker.extensions import db
from tracker.services.monitoring import uploads
from tracker.services.monitoring.file_access import file_access, find_file
from tracker.services.monitoring.file_names import public_file_name
from tracker.web.errors_map import http_error
from tracker.web.permissions import refuse

bp = Blueprint("files", __name__, url_prefix="/files")

#: a downloaded file can run nothing and load nothing, even if a browser opened it
DOWNLOAD_CSP = "default-src 'none'; sandbox"

bp.add_app_template_global(public_file_name, "public_file_name")


@bp.get("/<public_id>")
def download(public_id: str):
    stored = find_file(db.session, public_id)
    if stored is None:
        raise http_error(404)
    access = file_access(db.session, current_user, stored)
    if not access.allowed:
        if not current_user.is_authenticated:
            # Visitors cannot tell an unpublished file from a missing one.
            raise http_error(404)
        refuse(403, _("This file belongs to a record that you may not read."))
    path = uploads.stored_path(stored)
    if path is None:
        raise http_error(404)
    response = send_file(
        path,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=access.download_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = (
        "public, max-age=300" if access.public else "private, no-store"
    )
    return response
