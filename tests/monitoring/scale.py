"""Monitoring data at a chosen scale, and a query counter per page. Shared by the
query-count tests and benchmarks/monitoring_bench.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import event, select

from tracker import clock
from tracker.extensions import db
from tracker.models import (
    Evidence,
    GovernmentClaim,
    Measure,
    ReviewDecision,
    StatusUpdate,
    StoredFile,
)


class QueryCounter:
    """Counts the SQL statements sent to the engine while it is active."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, _conn, _cursor, statement, _params, _context, _many):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)


def queries_for(client, url: str) -> int:
    """Statements for one GET of a page, after a first GET has warmed the caches."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    with QueryCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counter.count


@dataclass
class ScaleData:
    #: an update with a version history, for the review page
    review_update_id: int
    measure_codes: list[str]


def add_updates(
    measures: list[Measure],
    authors: dict[int, object],
    reviewer,
    per_measure: int,
    start: int = 0,
) -> ScaleData:
    """Per measure, `per_measure` updates of its monitoring organisation: mostly approved
    (each with a link, a file and a private item, and a review decision), every tenth one
    returned and every fifth one waiting in the queue; plus a government claim. Updates of
    one measure form a chain of corrections, so the review page has a long history."""
    now = clock.now_utc()
    review_update_id = 0
    for measure in measures:
        author = authors[measure.id]
        previous_id = None
        for n in range(start, start + per_measure):
            if n % 5 == 4:
                state = "submitted"
            elif n % 10 == 9:
                state = "returned"
            else:
                state = "approved"
            stored = StoredFile(
                stored_name=secrets.token_hex(20),
                original_filename=f"report-{measure.code}-{n}.pdf",
                content_type="application/pdf",
                size_bytes=1000 + n,
                sha256="0" * 64,
                uploaded_by_id=author.id,
            )
            update = StatusUpdate(
                measure_id=measure.id,
                organisation_id=author.organisation_id,
                author_id=author.id,
                replaces_id=previous_id,
                completion=("limited", "substantial", "not_started")[n % 3],
                progress_percent=n % 100,
                as_of_date=date(2021, 1, 1) + timedelta(days=n % 150),
                narrative_az=f"Qiymətləndirmə {n}",
                narrative_en=f"Assessment {n}",
                delay_reasons=["agency_inactive"],
                review_state=state,
                return_reason="Add a source." if state == "returned" else "",
                submitted_dt=now - timedelta(hours=n + 1),
                decided_dt=None if state == "submitted" else now,
                decided_by_id=None if state == "submitted" else reviewer.id,
                evidence=[
                    Evidence(
                        evidence_type="official_website",
                        title=f"Page {n}",
                        evidence_date=date(2021, 1, 1),
                        url=f"https://example.org/{measure.code}/{n}",
                    ),
                    Evidence(
                        evidence_type="official_document",
                        title=f"Report {n}",
                        evidence_date=date(2021, 1, 2),
                        file=stored,
                    ),
                    Evidence(
                        evidence_type="field_observation",
                        title=f"Private note {n}",
                        evidence_date=date(2021, 1, 3),
                        url=f"https://example.org/private/{n}",
                        is_private=True,
                    ),
                ],
            )
            db.session.add(update)
            db.session.flush()
            if state != "submitted":
                db.session.add(
                    ReviewDecision(
                        update_id=update.id, reviewer_id=reviewer.id, decision=state, comment="ok"
                    )
                )
            previous_id = update.id
            review_update_id = update.id
        db.session.add(
            GovernmentClaim(
                measure_id=measure.id,
                claimed_completion="complete",
                claim_date=date(2021, 3, 1),
                source_title="Government report",
                source_url="https://example.gov.az/report",
                recorded_by_id=reviewer.id,
            )
        )
    db.session.commit()
    return ScaleData(review_update_id=review_update_id, measure_codes=[m.code for m in measures])


def latest_update_id(measure_id: int) -> int:
    return db.session.scalar(
        select(StatusUpdate.id)
        .where(StatusUpdate.measure_id == measure_id)
        .order_by(StatusUpdate.id.desc())
        .limit(1)
    )
