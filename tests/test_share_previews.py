"""What a search engine or a shared link shows of a page, read from the served app's HTML:
a description and Open Graph tags in the reader's language; a measure's preview says the
CSO assessment beside the government's claim; an organisation's says its mission, escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import requests
from sqlalchemy import select

from tests.factories import make_claim, make_update
from tests.monitoring.conftest import link, make_organisation
from tracker.extensions import db
from tracker.models import Measure
from tracker.vocabulary import Completion

pytestmark = [pytest.mark.served]


class _MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        key = attributes.get("property") or attributes.get("name")
        if tag == "meta" and key:
            self.tags[key] = attributes.get("content", "")


def _meta(url: str) -> dict[str, str]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    parser = _MetaTags()
    parser.feed(response.text)
    return parser.tags


def test_a_measure_preview_puts_the_cso_assessment_beside_the_governments_claim(served):
    measure = db.session.scalar(select(Measure).where(Measure.code == "2.3"))
    organisation = make_organisation("Şəffaflıq və İnkişaf Assosiasiyası", "Transparency Union")
    link(organisation, measure)
    make_update(measure, organisation, Completion.LIMITED)
    make_claim(measure, Completion.COMPLETE)
    db.session.commit()
    page = f"{served.url}/plans/az-nap-2020-2022/measures/2.3"

    english = _meta(f"{page}?lang=en")
    assert english["og:title"].startswith("2.3 Disclosure of information on the execution")
    assert english["description"].startswith(
        "CSO assessment: Limited. Government claim: Complete. Independent civil society"
    )
    assert english["og:description"] == english["description"]
    assert (english["og:locale"], english["og:site_name"]) == ("en_GB", "Open Government Tracker")

    azerbaijani = _meta(f"{page}?lang=az")
    assert azerbaijani["og:title"].startswith("2.3 Dövlət büdcəsinin")
    assert azerbaijani["description"].startswith(
        "VCT qiymətləndirməsi: Məhdud. Hökumətin iddiası: Tamamlanıb."
    )
    assert azerbaijani["og:locale"] == "az_AZ"


def test_an_organisations_preview_is_its_mission_escaped_and_other_pages_have_the_default(
    served,
):
    organisation = make_organisation('Açıq "Söz" <b>Birliyi</b>', "Open Word Union")
    organisation.mission = 'Şəffaflıq "hər yerdə" <script>x</script> & hesabatlılıq'
    organisation_id = organisation.id
    db.session.commit()
    # the parser unescapes what the page escaped: an unescaped quote would cut the value
    tags = _meta(f"{served.url}/registry/{organisation_id}?lang=az")
    assert tags["description"] == 'Şəffaflıq "hər yerdə" <script>x</script> & hesabatlılıq'
    assert tags["og:title"] == 'Açıq "Söz" <b>Birliyi</b>'
    default = _meta(f"{served.url}/registry/?lang=en")
    assert default["description"].startswith("Independent civil society monitoring")
    assert default["og:title"] == "NGO registry"
