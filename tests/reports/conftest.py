"""Fixtures of the reports and open data tests: the seeded plan with monitoring records
that must and must not reach the public."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from tests.factories import make_claim, make_organisation, make_update
from tracker.extensions import db
from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    Measure,
    MonitoringLink,
    Organisation,
    StatusUpdate,
    User,
)
from tracker.services.reports import build_requested
from tracker.vocabulary import Completion, ReviewState

#: "today" in these tests
TODAY = "2021-06-30"
AS_OF = date(2021, 6, 30)
#: text that only non-public records carry; no report or export may contain it
SECRET_MARKERS = (
    "DRAFT-NARRATIVE-MARKER",
    "SUBMITTED-NARRATIVE-MARKER",
    "ARCHIVED-NARRATIVE-MARKER",
    "PRIVATE-EVIDENCE-MARKER",
    "Aynur Məmmədova",
    "aynur@example.org",
    "+994 12 555 00 00",
    "Contact Person Rəşad",
)
#: an approved update describing a date after AS_OF: public, but not in a report as of AS_OF
FUTURE_MARKER = "FUTURE-NARRATIVE-MARKER"
HOSTILE_NARRATIVE = 'Hostile <b>bold</b> & <img src="/etc/passwd"> text'


def tr(locale: str, message: str, **values) -> str:
    """An interface string as the app shows it in that language."""
    with force_locale(locale):
        return gettext(message, **values)


def tr_plural(locale: str, singular: str, plural: str, num: int, **values) -> str:
    """An interface string with a count, as the app shows it in that language."""
    with force_locale(locale):
        return ngettext(singular, plural, num, **values)


class FreshContextClient(FlaskClient):
    """Each request in its own app context, as in a real worker: the locale Flask-Babel
    caches in `g` must not carry over from one request to the next."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fetch_report(client: FlaskClient, url: str):
    """A report download as a visitor gets it: asked for (the answer is the "being
    prepared" page), built by the scheduler's job (run here, in-process), then served.
    The test's own session commits first: on SQLite it would hold the write lock."""
    db.session.commit()
    first = client.get(url)
    if first.status_code != 202:
        return first
    with client.application.app_context():
        build_requested(db.session)
    return client.get(url)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def today(app):
    app.config["TRACKER_TODAY"] = TODAY
    return AS_OF


@dataclass
class MonitoringData:
    plan: ActionPlan
    measures: dict[str, Measure]
    watchdog: Organisation
    second: Organisation
    archived_org: Organisation
    author: User
    hostile: StatusUpdate
    approved: list[StatusUpdate]


def measure(plan: ActionPlan, code: str) -> Measure:
    return db.session.scalar(
        select(Measure).where(Measure.plan_id == plan.id, Measure.code == code)
    )


@pytest.fixture
def monitoring(seeded, today) -> MonitoringData:
    """Approved updates with public and private evidence on a few measures, and records that
    must stay out of everything public: drafts, submitted and archived updates, an update
    describing a later date, private evidence, an author with a name and email, an
    organisation's personal contact fields, and an archived organisation."""
    plan = seeded
    m = {code: measure(plan, code) for code in ("1.1", "1.2", "2.1", "4.3", "9.4")}
    watchdog = make_organisation(
        "Şəffaflıq Assosiasiyası",
        name_en="Transparency Association",
        email="aynur@example.org",
        phone_fax="+994 12 555 00 00",
        contact_person="Contact Person Rəşad",
        website="https://seffafliq.example.org",
        mission='=HYPERLINK("http://evil.example","click")',
    )
    second = make_organisation("Hüquqi Maarifləndirmə Cəmiyyəti", name_en="Legal Education Society")
    archived_org = make_organisation("Bağlanmış Birlik", is_archived=True)
    author = User(
        email="aynur@example.org",
        display_name="Aynur Məmmədova",
        role="monitor",
        organisation_id=watchdog.id,
    )
    db.session.add(author)
    db.session.flush()
    for code in ("1.1", "1.2", "2.1", "4.3"):
        db.session.add(
            MonitoringLink(
                organisation_id=watchdog.id, measure_id=m[code].id, start_date=date(2020, 3, 1)
            )
        )
    db.session.add(
        MonitoringLink(
            organisation_id=second.id, measure_id=m["1.1"].id, start_date=date(2020, 3, 1)
        )
    )
    decided = datetime(2021, 5, 10, 9, 0, tzinfo=UTC)
    hostile = make_update(
        m["1.1"],
        watchdog,
        Completion.LIMITED,
        date(2021, 5, 1),
        author_id=author.id,
        progress_percent=30,
        narrative_az=HOSTILE_NARRATIVE,
        narrative_en=HOSTILE_NARRATIVE,
        delay_reasons=["no_funding", "external_shock"],
        decided_dt=decided,
        submitted_dt=decided,
    )
    hostile.evidence.append(
        Evidence(
            evidence_type="official_website",
            title="Nazirliyin xəbəri",
            url="https://example.gov.az/xeber?id=1&lang=az",
        )
    )
    hostile.evidence.append(
        Evidence(evidence_type="other", title="javascript link", url="javascript:alert(1)")
    )
    hostile.evidence.append(
        Evidence(
            evidence_type="information_request",
            title="Məlumat sorğusu",
            request_sent_on=date(2021, 1, 10),
            request_outcome="no_reply",
            request_agency_id=db.session.scalar(select(Agency.id).limit(1)),
        )
    )
    hostile.evidence.append(
        Evidence(
            evidence_type="field_observation",
            title="PRIVATE-EVIDENCE-MARKER letter naming a person",
            url="https://private.example/PRIVATE-EVIDENCE-MARKER",
            is_private=True,
        )
    )
    second_view = make_update(
        m["1.1"],
        second,
        Completion.SUBSTANTIAL,
        date(2021, 4, 1),
        narrative_az="İkinci təşkilatın qiymətləndirməsi.",
        narrative_en="The second organisation's assessment.",
        decided_dt=datetime(2021, 4, 5, tzinfo=UTC),
    )
    complete = make_update(
        m["2.1"],
        watchdog,
        Completion.COMPLETE,
        date(2021, 3, 1),
        progress_percent=100,
        narrative_az="Büdcə layihəsi dərc olunub.",
        narrative_en="The draft budget was published.",
        decided_dt=datetime(2021, 3, 5, tzinfo=UTC),
    )
    make_update(
        m["1.2"],
        watchdog,
        Completion.COMPLETE,
        date(2021, 5, 1),
        state=ReviewState.DRAFT,
        narrative_az="DRAFT-NARRATIVE-MARKER",
    )
    make_update(
        m["1.2"],
        watchdog,
        Completion.COMPLETE,
        date(2021, 5, 1),
        state=ReviewState.SUBMITTED,
        narrative_az="SUBMITTED-NARRATIVE-MARKER",
    )
    make_update(
        m["4.3"],
        watchdog,
        Completion.COMPLETE,
        date(2021, 5, 1),
        is_archived=True,
        narrative_az="ARCHIVED-NARRATIVE-MARKER",
        narrative_en="ARCHIVED-NARRATIVE-MARKER",
    )
    make_update(
        m["4.3"],
        watchdog,
        Completion.COMPLETE,
        date(2021, 8, 1),
        narrative_az="FUTURE-NARRATIVE-MARKER",
        narrative_en="FUTURE-NARRATIVE-MARKER",
    )
    make_claim(m["1.1"], Completion.COMPLETE, date(2021, 2, 1))
    make_claim(m["2.1"], Completion.COMPLETE, date(2021, 2, 1))
    db.session.commit()
    return MonitoringData(
        plan=plan,
        measures=m,
        watchdog=watchdog,
        second=second,
        archived_org=archived_org,
        author=author,
        hostile=hostile,
        approved=[hostile, second_view, complete],
    )
