"""Migration 0300_files gives the files uploaded before it a random public id."""

from __future__ import annotations

import re
from datetime import datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.conftest import make_test_config
from tests.test_migrations import empty_database  # noqa: F401 - a fixture
from tracker import create_app
from tracker.extensions import db


def test_files_uploaded_before_get_a_public_id(empty_database, tmp_path):  # noqa: F811
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="0100_data_fidelity")
        with db.engine.begin() as connection:
            for number in range(3):
                connection.execute(
                    text(
                        "INSERT INTO stored_file (stored_name, original_filename, content_type,"
                        " size_bytes, sha256, uploaded_dt) VALUES (:name, 'a.pdf',"
                        " 'application/pdf', 8, :sha, :moment)"
                    ),
                    {"name": f"{number:040x}", "sha": "0" * 64, "moment": datetime(2021, 6, 1)},
                )
        upgrade(revision="0300_files")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT public_id, active_content, pending_until FROM stored_file")
            ).all()
        public_ids = [row.public_id for row in rows]
        assert len(set(public_ids)) == 3
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", p) for p in public_ids)
        assert all(row.pending_until is None for row in rows)
        downgrade(revision="0100_data_fidelity")
        upgrade()
        db.engine.dispose()
