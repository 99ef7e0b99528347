"""The registry statistics in Chromium on the served app: unknown is shown apart and never
counted as an answer, and the notes on the 2022 figures follow the interface language."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Organisation
from tracker.services.registry.organisations import OrganisationData, create_organisation

pytestmark = [pytest.mark.browser, pytest.mark.served]


def _web_row(page, heading: str) -> list[str]:
    row = page.locator("#heading-web ~ .table-wrap tr", has=page.get_by_role("rowheader"))
    return row.filter(has_text=heading).first.locator("td").all_inner_texts()


def test_unknown_web_presence_is_apart_and_shares_are_of_those_who_answered(served, page):
    seeded = db.session.scalar(select(func.count()).select_from(Organisation))
    assert seeded > 0  # `serve` seeded the registry: nothing is known of their websites
    create_organisation(
        db.session, OrganisationData(name_az="Sorğuda Birlik", completed_on=date(2022, 3, 1))
    )
    create_organisation(
        db.session,
        OrganisationData(name_az="Saytlı Birlik", completed_on=date(2022, 3, 2), website="s.az"),
    )
    db.session.commit()

    page.goto(served.url + "/registry/stats?lang=en")
    assert _web_row(page, "Neither (surveyed, gave neither)")[:2] == ["1", "50%"]
    assert _web_row(page, "Website or social media")[:2] == ["1", "50%"]
    assert _web_row(page, "Not known")[:2] == [str(seeded), "–"]
    assert _web_row(page, "Organisations that answered")[0] == "2"
    # every other table shows its unknown apart too
    legal = page.locator("#heading-legal_status ~ .stats-grid tfoot tr.unknown-row td").first
    assert legal.inner_text().strip().isdigit()
    data = served.client().get("/api/v1/registry/stats").json()
    assert data["web_presence"]["unknown"] == seeded
    assert data["unknown"]["web_presence"] == seeded
    assert data["answered"]["web_presence"] == 2


@pytest.mark.parametrize(
    ("lang", "first_word", "foreign_word"), [("az", "Cədvəl", "Table"), ("en", "Table", "Cədvəl")]
)
def test_notes_on_the_2022_figures_follow_the_language(
    served, page, lang, first_word, foreign_word
):
    page.goto(served.url + f"/registry/stats?lang={lang}")
    page.locator("details summary").last.click()
    notes = page.locator(".baseline-notes li")
    assert notes.count() == 18
    texts = notes.all_inner_texts()
    assert texts[0].startswith(first_word)
    assert not any(foreign_word in text for text in texts)
    assert not any("_" in text for text in texts)  # no vocabulary key
    label = "İctimai birlik" if lang == "az" else "Public union"
    assert label in texts[0]
