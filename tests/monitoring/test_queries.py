"""Queries per page stay constant as updates grow: at 5 and at 100 updates per measure."""

from __future__ import annotations

from tests.monitoring.conftest import as_user
from tests.monitoring.scale import add_updates, latest_update_id, queries_for

PLAN = "az-nap-2020-2022"


def page_counts(client, world) -> dict[str, int]:
    m = world.measure("1.1")
    latest = latest_update_id(m.id)
    counts = {
        "measure page (visitor)": queries_for(client, f"/plans/{PLAN}/measures/1.1"),
        "measure updates API": queries_for(client, f"/api/v1/measures/{m.id}/updates"),
    }
    as_user(client, world.monitor_a)
    counts["measure page (monitor)"] = queries_for(client, f"/plans/{PLAN}/measures/1.1")
    counts["monitor home"] = queries_for(client, "/monitor/")
    counts["our updates"] = queries_for(client, "/monitor/updates")
    counts["monitor update page"] = queries_for(client, f"/monitor/updates/{latest}")
    as_user(client, world.reviewer)
    counts["review queue"] = queries_for(client, "/review/")
    counts["review item"] = queries_for(client, f"/review/updates/{latest}")
    with client.session_transaction() as session:
        session.clear()
    return counts


def test_queries_per_page_do_not_grow_with_updates(client, world):
    measures = [world.measure(code) for code in ("1.1", "1.2", "1.3", "2.1")]
    authors = {m.id: world.monitor_a for m in measures[:3]} | {measures[3].id: world.monitor_b}
    add_updates(measures, authors, world.reviewer, per_measure=5)
    small = page_counts(client, world)
    add_updates(measures, authors, world.reviewer, per_measure=95, start=5)
    large = page_counts(client, world)
    assert large == small
    # and every page stays small in absolute terms (the footer's plan-wide claims and the
    # navigation's unread count are one query each)
    assert max(small.values()) <= 22, small
