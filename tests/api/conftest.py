"""Fixtures of the JSON API tests: the reports tests' seeded plan with monitoring records
that must and must not reach the public, and their fresh-context client."""

from __future__ import annotations

from tests.reports.conftest import client, monitoring, today  # noqa: F401
