"""Fixtures of the registry tests: users, the seeded registry, and survey exports."""

from __future__ import annotations

import csv
import io

import pytest
from flask_babel import force_locale

from tracker.extensions import db
from tracker.models import User
from tracker.services.registry.seed import seed_registry


@pytest.fixture
def english(app):
    """Messages made outside a request (services, commands) in English."""
    with force_locale("en"):
        yield


def make_user(role: str, email: str | None = None, organisation=None) -> User:
    user = User(
        email=email or f"{role}@example.org",
        role=role,
        password_hash="not-used-by-these-tests",
        organisation_id=organisation.id if organisation else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def admin(app) -> User:
    return make_user("admin")


@pytest.fixture
def registry(app):
    """The seeded registry (seed/registry.yaml)."""
    return seed_registry(db.session)


def csv_bytes(rows: list[list], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
