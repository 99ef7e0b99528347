"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet, MultiFernet
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import POSTGRES_URL, make_test_config
from tracker import create_app
from tracker.extensions import db
from tracker.models import Organisation
from tracker.vocabulary import collation_sort_key


@pytest.fixture
def empty_database(tmp_path):
    """A database with no tables: a new SQLite file, or a new PostgreSQL schema."""
    if not POSTGRES_URL:
        yield (f"sqlite:///{tmp_path / 'migrated.db'}", {})
        return
    schema = f"mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (POSTGRES_URL, {"connect_args": {"options": f"-csearch_path={schema}"}})
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# SQLite's reflection cannot read an expression index (PostgreSQL's can, and compares it):
# on SQLite the test checks that the index exists by name instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_matches_the_models_and_downgrade_undoes_it(empty_database, tmp_path):
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == [], differences
        with db.engine.connect() as connection:
            indexes = {i["name"] for i in inspect(connection).get_indexes("status_update")}
            if connection.dialect.name == "sqlite":
                indexes |= set(
                    connection.scalars(
                        text("SELECT name FROM sqlite_master WHERE tbl_name = 'status_update'")
                    )
                )
        assert "ix_status_update_published_order" in indexes
        downgrade(revision="base")
        with db.engine.connect() as connection:
            remaining = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade()
        db.engine.dispose()


def test_the_sort_keys_migration_fills_the_keys_of_existing_organisations(empty_database, tmp_path):
    """Organisations that exist before 0750 get their keys from the migration itself."""
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade()
        db.session.add(Organisation(name_az="İnam Mərkəzi", name_en="Trust Centre"))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0700_feed_order")
        upgrade()
        with db.engine.connect() as connection:
            keys = connection.execute(
                text("SELECT sort_key_az, sort_key_en FROM organisation")
            ).one()
        assert tuple(keys) == (
            collation_sort_key("İnam Mərkəzi", "az"),
            collation_sort_key("Trust Centre", "en"),
        )
        db.engine.dispose()


def test_the_organisation_kind_migration_indexes_the_coalitions_only(empty_database, tmp_path):
    """0850 adds a partial index of the coalitions by name, and its downgrade drops it."""
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            definition = _index_definition(connection, "ix_organisation_coalition_name")
        assert definition is not None
        assert "name_key" in definition and "WHERE" in definition.upper()
        assert "coalition" in definition
        downgrade(revision="0800_outbox_indexes")
        with db.engine.connect() as connection:
            assert _index_definition(connection, "ix_organisation_coalition_name") is None
            assert "sort_key_az" in {
                c["name"] for c in inspect(connection).get_columns("organisation")
            }
        upgrade()
        db.engine.dispose()


def _reminder_item_indexes(connection) -> dict[str, str]:
    """The outbox's indexes (not the unique key's), by name, with their definitions."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'reminder_item' AND sql IS NOT NULL"
            )
        )
    else:
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reminder_item'"
                " AND schemaname = current_schema() AND indexname LIKE 'ix_%'"
            )
        )
    return {name: " ".join(definition.split()) for name, definition in rows}


def test_the_outbox_indexes_migration_makes_the_live_state_indexes_partial(
    empty_database, tmp_path
):
    """0800 drops the recipient and measure indexes and makes the others partial; its
    downgrade gives back the six full indexes of 0750. (1100 drops the claim-token one.)"""
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="1000_outbox_without_fks")
        with db.engine.connect() as connection:
            indexes = _reminder_item_indexes(connection)
        assert set(indexes) == {
            "ix_reminder_item_sendable",
            "ix_reminder_item_claim_token",
            "ix_reminder_item_queued",
            "ix_reminder_item_failed_digest",
        }
        # PostgreSQL writes the condition back in its own words
        conditions = {
            "ix_reminder_item_sendable": ("'pending'", "'retry'"),
            "ix_reminder_item_claim_token": ("'sending'", "'retry'"),
            "ix_reminder_item_queued": ("'queued'",),
            "ix_reminder_item_failed_digest": ("'failed'",),
        }
        for name, values in conditions.items():
            where = indexes[name].partition(" WHERE ")[2]
            assert "status" in where and all(value in where for value in values), indexes[name]
        db.session.remove()
        downgrade(revision="0750_sort_keys")
        with db.engine.connect() as connection:
            indexes = _reminder_item_indexes(connection)
        assert set(indexes) == {
            f"ix_reminder_item_{column}"
            for column in (
                "claim_token",
                "digest_id",
                "measure_id",
                "next_attempt_dt",
                "recipient_id",
                "status",
            )
        }
        assert not any(" WHERE " in definition for definition in indexes.values())
        upgrade(revision="1000_outbox_without_fks")
        with db.engine.connect() as connection:
            assert len(_reminder_item_indexes(connection)) == 4
        db.engine.dispose()


def test_the_claims_migration_moves_claims_from_the_items_to_the_recipients(
    empty_database, tmp_path
):
    """1100 adds reminder_claim, drops the items' claim columns and claim-token index, and
    sends again what a stopped run had claimed; its downgrade gives the columns and the
    index back. The rows are kept both ways."""
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="1000_outbox_without_fks")
        claimed = datetime(2022, 10, 2, 5, 0)
        # the outbox has no foreign keys since 1000: its rows need no user or measure here
        with db.engine.begin() as connection:
            for n, status in enumerate(("sending", "sent", "pending"), start=1):
                connection.execute(
                    text(
                        "INSERT INTO reminder_item (id, recipient_id, measure_id, kind,"
                        " occurrence, reference_date, day_count, status, planned_dt,"
                        " next_attempt_dt, attempts, last_error, claim_token, claimed_dt)"
                        " VALUES (:id, 1, :id, 'overdue', 'o', '2022-01-01', 0, :status,"
                        " :at, :next, 0, '', 'token', :at)"
                    ),
                    {"id": n, "status": status, "at": claimed, "next": datetime(2022, 10, 3)},
                )
        # up to 1100 itself: later revisions add indexes of their own
        upgrade(revision="1100_reminder_claims")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("reminder_item")}
            rows = connection.execute(
                text("SELECT id, status, next_attempt_dt FROM reminder_item ORDER BY id")
            ).all()
            assert "reminder_claim" in inspect(connection).get_table_names()
            indexes = _reminder_item_indexes(connection)
        assert not {"claim_token", "claimed_dt"} & columns
        assert "ix_reminder_item_claim_token" not in indexes and len(indexes) == 3
        # the claimed one is due again from its claim's time; the others are as they were
        assert [(id_, str(status)) for id_, status, _next in rows] == [
            (1, "retry"),
            (2, "sent"),
            (3, "pending"),
        ]
        assert [str(next_)[:16] for _id, _status, next_ in rows] == [
            "2022-10-02 05:00",
            "2022-10-03 00:00",
            "2022-10-03 00:00",
        ]
        db.session.remove()
        downgrade(revision="1000_outbox_without_fks")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("reminder_item")}
            assert "reminder_claim" not in inspect(connection).get_table_names()
            assert "ix_reminder_item_claim_token" in _reminder_item_indexes(connection)
            count = connection.execute(text("SELECT count(*) FROM reminder_item")).scalar()
        assert {"claim_token", "claimed_dt"} <= columns
        assert count == 3
        upgrade()
        db.engine.dispose()


def _index_definition(connection, name: str) -> str | None:
    """An index's definition, or None when there is none."""
    if connection.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        sql = (
            "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
            " AND schemaname = current_schema()"
        )
    return connection.execute(text(sql), {"name": name}).scalar()


def _rows_after_dropping(index: str, table: str, column: str) -> int:
    """After a downgrade that drops an index and a column: that both are gone, and how many
    rows the table kept."""
    with db.engine.connect() as connection:
        assert _index_definition(connection, index) is None
        columns = {c["name"] for c in inspect(connection).get_columns(table)}
        count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    assert column not in columns
    return count


def test_the_awaiting_review_migration_indexes_the_submitted_updates_only(empty_database, tmp_path):
    """0950 adds a partial index of the updates waiting for review, by organisation and
    measure; its downgrade drops it."""
    app = create_app(make_test_config(empty_database, tmp_path))
    name = "ix_status_update_awaiting_review"
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            definition = _index_definition(connection, name)
        assert definition is not None
        columns, _, where = definition.partition(" WHERE ")
        assert "organisation_id, measure_id" in columns
        assert "'submitted'" in where and "is_archived" in where
        downgrade(revision="0900_reminder_planning")
        with db.engine.connect() as connection:
            assert _index_definition(connection, name) is None
        upgrade()
        db.engine.dispose()


def test_the_claim_notices_migration_adds_the_claim_and_its_partial_index(empty_database, tmp_path):
    """1700 gives the outbox a claim_id (empty on the rows already there) and an index of
    the rows that name a claim only; its downgrade drops both and keeps the rows."""
    app = create_app(make_test_config(empty_database, tmp_path))
    name = "ix_reminder_item_claim"
    with app.app_context():
        upgrade(revision="1600_claim_form_key")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO reminder_item (id, recipient_id, measure_id, kind, occurrence,"
                    " reference_date, day_count, status, planned_dt, next_attempt_dt,"
                    " attempts, last_error)"
                    " VALUES (1, 1, 1, 'overdue', 'o', '2022-01-01', 0, 'sent', :at, :at, 0, '')"
                ),
                {"at": datetime(2022, 10, 2, 5, 0)},
            )
        upgrade()
        with db.engine.connect() as connection:
            definition = _index_definition(connection, name)
            kept = connection.execute(text("SELECT id, claim_id FROM reminder_item")).all()
        assert [tuple(row) for row in kept] == [(1, None)]
        columns, _, where = definition.partition(" WHERE ")
        assert "claim_id" in columns and "claim_id IS NOT NULL" in where
        downgrade(revision="1600_claim_form_key")
        assert _rows_after_dropping(name, "reminder_item", "claim_id") == 1
        upgrade()
        db.engine.dispose()


def test_the_update_index_migration_indexes_the_rows_that_name_an_update(empty_database, tmp_path):
    """1800 adds an index of the outbox rows that name a status update only, over the rows
    already there; its downgrade drops it and keeps the rows."""
    app = create_app(make_test_config(empty_database, tmp_path))
    name = "ix_reminder_item_update"
    previous = "1700_reminder_claim_notices"
    with app.app_context():
        upgrade(revision=previous)
        with db.engine.begin() as connection:
            for n, update_id in ((1, None), (2, 7)):
                connection.execute(
                    text(
                        "INSERT INTO reminder_item (id, recipient_id, measure_id, kind,"
                        " occurrence, reference_date, day_count, status, planned_dt,"
                        " next_attempt_dt, attempts, last_error, update_id) VALUES (:id, 1,"
                        " 1, 'review_waiting', :id, '2022-01-01', 0, 'sent', :at, :at, 0, '',"
                        " :update_id)"
                    ),
                    {"id": n, "update_id": update_id, "at": datetime(2022, 10, 2, 5, 0)},
                )
        upgrade(revision="1800_reminder_update_index")
        with db.engine.connect() as connection:
            definition = _index_definition(connection, name)
            kept = connection.execute(text("SELECT id, update_id FROM reminder_item ORDER BY id"))
            kept = [tuple(row) for row in kept]
        assert kept == [(1, None), (2, 7)]
        columns, _, where = definition.partition(" WHERE ")
        assert "update_id" in columns and "update_id IS NOT NULL" in where
        downgrade(revision=previous)
        with db.engine.connect() as connection:
            assert _index_definition(connection, name) is None
            assert _index_definition(connection, "ix_reminder_item_claim") is not None
            count = connection.execute(text("SELECT count(*) FROM reminder_item")).scalar()
        assert count == 2
        upgrade()
        db.engine.dispose()


def _insert_claim(connection, claim_id: int, state: str, **extra) -> None:
    """A government claim row, written with SQL (the model may be ahead of the schema)."""
    values = {
        "id": claim_id,
        "claimed_completion": "limited",
        "claim_date": datetime(2022, 1, 1).date(),
        "source_title": "Report",
        "note": "",
        "review_state": state,
        "return_reason": "",
        "is_archived": False,
        "created_dt": datetime(2022, 10, 2, 5, 0),
        **extra,
    }
    names, params = ", ".join(values), ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO government_claim ({names}) VALUES ({params})"), values)


def test_the_claim_revisions_migration_adds_revises_and_its_unique_index(empty_database, tmp_path):
    """1900 gives government claims a `revises_id` (empty on the claims already there) and
    a unique index over the claims that revise one, so a returned proposal is revised once;
    its downgrade drops both and keeps the claims."""
    app = create_app(make_test_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="1800_reminder_update_index")
        with db.engine.begin() as connection:
            _insert_claim(connection, 1, "returned", return_reason="Why")
        upgrade(revision="1900_claim_revisions")
        with db.engine.begin() as connection:
            definition = _index_definition(connection, "ix_government_claim_revises")
            kept = connection.scalars(text("SELECT revises_id FROM government_claim")).all()
            _insert_claim(connection, 2, "submitted", revises_id=1)
            # a second revision of the same returned proposal is refused by the index
            with pytest.raises(IntegrityError), connection.begin_nested():
                _insert_claim(connection, 3, "submitted", revises_id=1)
        assert kept == [None]
        columns, _, where = definition.partition(" WHERE ")
        assert "UNIQUE" in columns.upper() and "revises_id" in columns
        assert "revises_id IS NOT NULL" in where
        downgrade(revision="1800_reminder_update_index")
        assert (
            _rows_after_dropping("ix_government_claim_revises", "government_claim", "revises_id")
            == 2
        )
        upgrade()
        db.engine.dispose()


def test_the_sealed_keys_migration_seals_the_keys_already_there(empty_database, tmp_path):
    """1400 widens the column and seals the plain authenticator keys 1300 stored; its
    downgrade opens them again."""
    app = create_app(make_test_config(empty_database, tmp_path))
    plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with app.app_context():
        upgrade(revision="1300_two_step")
        with db.engine.begin() as connection:
            for user_id, secret in ((1, plain), (2, None)):
                connection.execute(
                    text(
                        "INSERT INTO user_account (id, email, display_name, role, locale,"
                        " is_enabled, session_version, created_dt, two_step_secret)"
                        " VALUES (:id, :email, '', 'reviewer', 'az', :yes, 1, :at, :secret)"
                    ),
                    {
                        "id": user_id,
                        "email": f"user{user_id}@example.org",
                        "yes": True,
                        "at": datetime(2022, 1, 1),
                        "secret": secret,
                    },
                )
        upgrade()
        box = MultiFernet([Fernet(key) for key in app.config["TWO_STEP_KEYS"]])
        with db.engine.connect() as connection:
            sealed, empty = connection.scalars(
                text("SELECT two_step_secret FROM user_account ORDER BY id")
            ).all()
        assert plain not in sealed and empty is None
        assert box.decrypt(sealed.encode()).decode() == plain
        downgrade(revision="1300_two_step")
        with db.engine.connect() as connection:
            assert connection.scalars(
                text("SELECT two_step_secret FROM user_account ORDER BY id")
            ).all() == [plain, None]
        upgrade()
        db.engine.dispose()
