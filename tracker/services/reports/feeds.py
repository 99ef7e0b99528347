"""Atom 1.0 feeds: the latest approved updates (of every plan or one), and the feeds that
follow one measure (its approved updates and the government's claims) or one organisation
(its approved updates). Authors are organisations, never persons; every link is on the
public site (PUBLIC_BASE_URL, web.links.public_url), whatever Host the request named, and
opens its page in the feed's language (web.links.language_arg)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker import clock
from tracker.dates import show_date
from tracker.models import ActionPlan, Measure, Organisation, StatusUpdate
from tracker.services.plans import ChangeQuery, approved_changes
from tracker.services.reports.exports import (
    approved_updates_statement,
    public_evidence,
    xml_safe,
)
from tracker.vocabulary import COMPLETION_LABELS, Completion
from tracker.web.links import language_arg, public_url

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: how many entries a feed carries
FEED_SIZE = 50


@dataclass(frozen=True)
class Entry:
    #: the page the entry is about (its endpoint and arguments), and a fragment naming the
    #: record there
    endpoint: str
    values: dict[str, str]
    fragment: str
    title: str
    author: str
    updated: datetime
    published: datetime | None
    completion: str
    content: str


def _atom_time(value: datetime | None) -> str:
    value = value or clock.now_utc()
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _urn(value: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, value)}"


def atom_document(
    *, title: str, self_url: str, page_url: str, locale: str, entries: list[Entry]
) -> bytes:
    """The feed's XML: ElementTree escapes every text and attribute."""
    ET.register_namespace("", ATOM_NS)

    def element(parent, tag: str, text: str | None = None, **attributes):
        attributes = {k: xml_safe(v) for k, v in attributes.items()}
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
        if text is not None:
            node.text = xml_safe(text)
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: locale})
    element(feed, "id", _urn(self_url))
    element(feed, "title", title)
    newest = max((e.updated for e in entries), default=None)
    element(feed, "updated", _atom_time(newest))
    element(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    element(feed, "link", rel="alternate", href=page_url, type="text/html")
    element(element(feed, "author"), "name", _("Open Government Tracker"))
    element(feed, "generator", "Open Government Tracker")
    for e in entries:
        entry = element(feed, "entry")
        # the id names the record whatever the feed's language, so it never changes
        element(entry, "id", _urn(f"{public_url(e.endpoint, **e.values)}#{e.fragment}"))
        element(entry, "title", e.title)
        element(entry, "updated", _atom_time(e.updated))
        if e.published:
            element(entry, "published", _atom_time(e.published))
        element(element(entry, "author"), "name", e.author)
        page_in_locale = public_url(e.endpoint, **e.values, **language_arg(locale))
        element(entry, "link", rel="alternate", href=page_in_locale, type="text/html")
        element(entry, "category", term=e.completion, label=_label(e.completion))
        element(entry, "content", e.content or _label(e.completion), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _label(completion: str) -> str:
    return str(COMPLETION_LABELS[Completion(completion)])


def updates_atom(
    session: Session, self_url: str, *, locale: str, plan: ActionPlan | None = None
) -> bytes:
    """The latest approved updates of every plan (or one), with their public evidence."""
    updates = list(session.scalars(approved_updates_statement(plan).limit(FEED_SIZE)))
    return atom_document(
        title=_("Open Government Tracker: approved monitoring updates"),
        self_url=self_url,
        page_url=public_url("public.index", **language_arg(locale)),
        locale=locale,
        entries=[_update_entry(u, locale) for u in updates],
    )


def _update_entry(u: StatusUpdate, locale: str) -> Entry:
    organisation = u.organisation.name(locale)
    narrative = u.narrative(locale)
    lines = [narrative] if narrative else []
    for e in public_evidence(u):
        lines.append(f"• {e.title}" + (f" <{e.url}>" if e.url else ""))
    return Entry(
        endpoint="public.measure",
        values={"key": u.measure.plan.key, "code": u.measure.code},
        fragment=f"update-{u.id}",
        title=f"{u.measure.code} · {organisation}: {_label(u.completion)}",
        author=organisation,
        updated=u.decided_dt or u.created_dt,
        published=u.submitted_dt,
        completion=str(u.completion),
        content="\n".join(lines),
    )


def _change_entries(session: Session, query: ChangeQuery, locale: str) -> list[Entry]:
    changes, _total = approved_changes(session, query, limit=FEED_SIZE)
    entries = []
    for c in changes:
        completion = _label(c.completion)
        if c.is_claim:
            author = _("The government")
            text = "\n".join(filter(None, (c.text(locale), c.source_title)))
            title = (
                _("The whole plan · Government claim: %(completion)s", completion=completion)
                if c.is_plan_wide
                else _(
                    "%(code)s · Government claim: %(completion)s",
                    code=c.measure_code,
                    completion=completion,
                )
            )
        else:
            author = c.organisation_name(locale)
            title = f"{c.measure_code} · {author}: {completion}"
            text = c.text(locale)
        endpoint, values = (
            ("public.plan", {"key": c.plan_key})
            if c.is_plan_wide
            else ("public.measure", {"key": c.plan_key, "code": c.measure_code})
        )
        day = _("As of %(date)s.", date=show_date(c.day))
        entries.append(
            Entry(
                endpoint=endpoint,
                values=values,
                fragment=f"{c.kind}-{c.record_id}",
                title=title,
                author=author,
                updated=c.moment,
                published=None,
                completion=str(c.completion),
                content=f"{day}\n{text}" if text else day,
            )
        )
    return entries


def measure_atom(session: Session, measure: Measure, self_url: str, *, locale: str) -> bytes:
    """A measure's approved updates and the government's claims on it."""
    page_url = public_url(
        "public.measure", key=measure.plan.key, code=measure.code, **language_arg(locale)
    )
    return atom_document(
        title=_("Measure %(code)s: updates and claims", code=measure.code),
        self_url=self_url,
        page_url=page_url,
        locale=locale,
        entries=_change_entries(session, ChangeQuery(measure_id=measure.id), locale),
    )


def organisation_atom(
    session: Session, organisation: Organisation, self_url: str, *, locale: str
) -> bytes:
    """An organisation's approved updates, on every measure it has reported on."""
    return atom_document(
        title=_("%(name)s: approved updates", name=organisation.name(locale)),
        self_url=self_url,
        page_url=public_url(
            "registry.organisation", organisation_id=organisation.id, **language_arg(locale)
        ),
        locale=locale,
        entries=_change_entries(session, ChangeQuery(organisation_id=organisation.id), locale),
    )
