from __future__ import annotations

from datetime import date

from sqlalchemy import event, select

from tests.factories import make_claim, make_organisation, make_update
from tracker.extensions import db
from tracker.models import GovernmentClaim, Measure, Milestone
from tracker.services.plans.status import measure_state, measure_states, summarize
from tracker.vocabulary import Completion, ReviewState


def _measure(code: str) -> Measure:
    return db.session.scalar(select(Measure).where(Measure.code == code))


def _all_measures():
    return list(db.session.scalars(select(Measure).order_by(Measure.position)))


def test_after_the_plan_every_state_is_final_and_no_day_counts(seeded):
    states = measure_states(db.session, _all_measures(), date(2026, 11, 22))
    assert len(states) == 64
    assert all(s.is_closed and s.ended_incomplete for s in states.values())
    assert all(s.closes_on == date(2022, 12, 31) for s in states.values())
    assert not any(s.is_overdue for s in states.values())
    assert all(s.days_overdue == 0 and s.days_remaining == 0 for s in states.values())
    assert all(s.completion == Completion.NO_EVIDENCE for s in states.values())
    summary = summarize(states.values())
    assert summary.is_closed
    assert summary.overdue == 0
    assert summary.ended_incomplete == 64
    assert summary.score is None
    assert summary.scored == 0
    assert summary.evidence_share == 0.0


def test_the_plans_last_day_still_counts_and_the_next_day_is_final(app, seeded):
    app.config["TRACKER_TODAY"] = "2022-12-31"
    m1_1 = _measure("1.1")  # due 2020-12-31
    last_day = measure_state(db.session, m1_1, date(2022, 12, 31))
    assert not last_day.is_closed
    assert last_day.is_overdue
    assert last_day.days_overdue == (date(2022, 12, 31) - date(2020, 12, 31)).days
    app.config["TRACKER_TODAY"] = "2023-01-01"
    after = measure_state(db.session, m1_1, date(2023, 1, 1))
    assert after.is_closed and after.ended_incomplete
    assert not after.is_overdue and after.days_overdue == 0


def test_the_last_day_seen_once_it_is_over_is_the_final_state(app, seeded):
    """A report of an ended plan describes its last day: every measure not complete then
    counts as not complete when the plan ended, as on today's scorecard, including those
    due that very day (which on the day itself were merely due)."""
    app.config["TRACKER_TODAY"] = "2026-12-01"
    org = make_organisation("A")
    make_update(_measure("1.2"), org, Completion.COMPLETE, date(2022, 6, 1))
    measures = _all_measures()
    last_day = measure_states(db.session, measures, date(2022, 12, 31))
    today = measure_states(db.session, measures)
    assert all(s.is_closed and not s.is_overdue for s in last_day.values())
    due_last_day = [m for m in measures if m.due_date == date(2022, 12, 31) and m.code != "1.2"]
    assert due_last_day and all(last_day[m.id].ended_incomplete for m in due_last_day)
    assert not last_day[_measure("1.2").id].ended_incomplete
    assert summarize(last_day.values()).ended_incomplete == 63
    assert summarize(last_day.values()) == summarize(today.values())
    day_before = measure_states(db.session, measures, date(2022, 12, 30))
    assert not any(s.is_closed for s in day_before.values())


def test_a_measure_complete_at_the_end_is_not_ended_incomplete(seeded):
    org = make_organisation("A")
    m1 = _measure("1.1")
    make_update(m1, org, Completion.COMPLETE, date(2022, 6, 1))
    state = measure_state(db.session, m1, date(2024, 1, 1))
    assert state.is_closed and not state.ended_incomplete
    assert state.last_updated == date(2022, 6, 1)


def test_a_plan_wide_claim_is_not_a_measures_last_update(seeded):
    """The plan-wide claim stands for every measure without a claim of its own, but a
    measure nobody assessed was not "last updated" on its date."""
    m1, m2 = _measure("1.1"), _measure("1.2")
    db.session.add(
        GovernmentClaim(
            plan_id=m1.plan_id,
            claimed_completion=str(Completion.COMPLETE),
            claim_date=date(2023, 1, 10),
            source_title="Final report",
        )
    )
    make_claim(m2, Completion.LIMITED, date(2022, 12, 1))
    db.session.flush()
    states = measure_states(db.session, [m1, m2], date(2024, 1, 1))
    assert states[m1.id].government_claim.is_plan_wide
    assert states[m1.id].last_updated is None
    assert states[m2.id].last_updated == date(2022, 12, 1)


def test_a_final_milestone_after_the_plan_keeps_the_measure_running(seeded):
    m1 = _measure("1.1")
    db.session.add(
        Milestone(measure_id=m1.id, title_az="Son", due_date=date(2023, 3, 31), is_final=True)
    )
    db.session.flush()
    running = measure_state(db.session, m1, date(2023, 2, 1))
    assert not running.is_closed and running.days_remaining == 58
    assert measure_state(db.session, m1, date(2023, 4, 1)).ended_incomplete


def test_mid_plan_only_measures_due_in_2020_are_overdue(seeded):
    measures = _all_measures()
    states = measure_states(db.session, measures, date(2021, 6, 30))
    overdue = {m.code for m in measures if states[m.id].is_overdue}
    due_2020 = {m.code for m in measures if m.end_year == 2020}
    assert overdue == due_2020
    assert len(due_2020) > 0
    state_1_1 = states[_measure("1.1").id]
    assert state_1_1.due_date == date(2020, 12, 31)
    assert state_1_1.days_overdue == (date(2021, 6, 30) - date(2020, 12, 31)).days
    state_1_2 = states[_measure("1.2").id]
    assert state_1_2.days_remaining == (date(2022, 12, 31) - date(2021, 6, 30)).days
    assert state_1_2.days_overdue == 0


def test_due_day_itself_is_not_overdue(seeded):
    state = measure_state(db.session, _measure("1.1"), date(2020, 12, 31))
    assert not state.is_overdue
    assert state.days_remaining == 0


def test_approved_updates_set_completion_and_score(seeded):
    org_a = make_organisation("A")
    org_b = make_organisation("B")
    m1, m2, m3 = _measure("1.1"), _measure("1.2"), _measure("1.3")
    make_update(m1, org_a, Completion.COMPLETE, date(2021, 1, 1))
    make_update(m2, org_a, Completion.LIMITED, date(2021, 1, 1))
    make_update(m2, org_b, Completion.SUBSTANTIAL, date(2021, 3, 1))
    # Drafts, submitted, returned and archived updates do not count.
    make_update(m3, org_a, Completion.COMPLETE, date(2021, 5, 1), ReviewState.SUBMITTED)
    make_update(m3, org_b, Completion.COMPLETE, date(2021, 5, 1), ReviewState.DRAFT)
    make_update(m3, org_b, Completion.COMPLETE, date(2021, 5, 1), is_archived=True)
    states = measure_states(db.session, _all_measures(), date(2021, 6, 30))
    assert states[m1.id].completion == Completion.COMPLETE
    assert not states[m1.id].is_overdue  # complete is never overdue
    # The Platform's position is the latest approved assessment; both organisations show.
    assert states[m2.id].completion == Completion.SUBSTANTIAL
    assert [a.organisation_name_az for a in states[m2.id].assessments] == ["A", "B"]
    assert states[m3.id].completion == Completion.NO_EVIDENCE
    summary = summarize(states.values())
    assert summary.counts[Completion.COMPLETE] == 1
    assert summary.counts[Completion.SUBSTANTIAL] == 1
    assert summary.with_evidence == 2
    assert summary.score == round(100 * (1 + 2 / 3) / 2, 1)
    assert summary.evidence_share == round(100 * 2 / 64, 1)


def test_updates_after_the_as_of_date_are_not_used(seeded):
    org = make_organisation("A")
    m1 = _measure("1.1")
    make_update(m1, org, Completion.LIMITED, date(2020, 6, 1))
    make_update(m1, org, Completion.COMPLETE, date(2022, 6, 1))
    assert measure_state(db.session, m1, date(2021, 1, 1)).completion == Completion.LIMITED
    assert measure_state(db.session, m1, date(2022, 7, 1)).completion == Completion.COMPLETE


def test_government_claim_and_dispute(seeded):
    org = make_organisation("A")
    m1, m2 = _measure("1.1"), _measure("1.2")
    make_claim(m1, Completion.COMPLETE, date(2022, 12, 1))
    make_update(m1, org, Completion.LIMITED, date(2022, 11, 1))
    make_claim(m2, Completion.COMPLETE, date(2022, 12, 1))
    make_update(m2, org, Completion.COMPLETE, date(2022, 11, 1))
    states = measure_states(db.session, _all_measures(), date(2023, 1, 1))
    assert states[m1.id].government_claim.completion == Completion.COMPLETE
    assert states[m1.id].is_disputed
    assert not states[m2.id].is_disputed
    assert summarize(states.values()).disputed == 1


def test_final_milestone_sets_the_due_date(seeded):
    m1 = _measure("1.1")
    db.session.add(
        Milestone(measure_id=m1.id, title_az="Mərhələ", due_date=date(2020, 6, 30), is_final=True)
    )
    db.session.add(Milestone(measure_id=m1.id, title_az="Aralıq", due_date=date(2020, 3, 1)))
    db.session.flush()
    state = measure_state(db.session, m1, date(2020, 7, 1))
    assert state.due_date == date(2020, 6, 30)
    assert state.is_overdue and state.days_overdue == 1


def test_today_comes_from_the_clock(app, seeded):
    app.config["TRACKER_TODAY"] = "2021-06-30"
    assert measure_state(db.session, _measure("1.2")).as_of == date(2021, 6, 30)


def _status_update_reads(connection, statement, parameters) -> list[str]:
    """The indexes (or scans) by which the database's plan of `statement` reads
    status_update."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[3] for row in rows if "status_update" in row[3]]
    # a test's table is small enough for a scan and a sort to be cheapest: without them,
    # the planner shows which index answers the statement in the window's order
    switches = ("enable_seqscan", "enable_bitmapscan", "enable_sort")
    for switch in switches:
        connection.exec_driver_sql(f"SET LOCAL {switch} = off")
    [(plan,)] = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    for switch in switches:
        connection.exec_driver_sql(f"SET LOCAL {switch} = on")
    reads, nodes = [], [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if node.get("Relation Name") == "status_update":
            reads.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
    return reads


def test_latest_assessments_are_read_from_their_index_alone(seeded):
    """The latest approved assessment of each measure and organisation (every public page
    asks for it) is read in the window's order from ix_status_update_latest_approved, which
    holds every column it needs (on PostgreSQL: no read of the table): no sort of a plan's
    whole history."""
    org = make_organisation("A")
    m1, m2 = _measure("1.1"), _measure("1.2")
    make_update(m1, org, Completion.LIMITED, date(2021, 1, 1))
    make_update(m1, org, Completion.COMPLETE, date(2021, 6, 1))
    make_update(m2, org, Completion.SUBSTANTIAL, date(2021, 3, 1), is_archived=True)
    reads = []

    def explain(connection, _cursor, statement, parameters, _context, _many):
        ranked = "row_number()" in statement and "FROM status_update" in statement
        if statement.startswith("SELECT") and ranked:
            reads.append(_status_update_reads(connection, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        states = measure_states(db.session, [m1, m2], date(2021, 12, 31))
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    assert states[m1.id].completion == Completion.COMPLETE
    assert states[m2.id].completion == Completion.NO_EVIDENCE  # archived: not counted
    assert reads, "the latest assessments were not read"
    for read in reads:
        if db.engine.dialect.name == "sqlite":
            # SQLite reads review_state and is_archived from the row even where the partial
            # index's WHERE already holds them
            assert read == [
                "SEARCH status_update USING INDEX ix_status_update_latest_approved (measure_id=?)"
            ], read
        else:
            assert read == ["Index Only Scan ix_status_update_latest_approved"], read
