"""The PDF's measure pages: the table of all measures, then per section every measure
with its facts, the government's claim and the civil society assessments."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from tracker.services.reports.model import (
    Assessment,
    EvidenceItem,
    MeasureEntry,
    SectionBlock,
    short_title,
)
from tracker.services.reports.pdf_document import Heading, Story
from tracker.services.reports.pdf_style import (
    COMPLETION_COLOURS,
    COMPLETION_HEX,
    LINE,
    WASH,
    clean,
    date_text,
    link,
    multiline,
    score_text,
    table_style,
    text,
)
from tracker.vocabulary import ReportKind

_BLANK_LINES = re.compile(r"\n\s*\n")
#: the measures table's columns: code, measure, agencies, due date, government, CSOs
_TABLE_WIDTHS = [30, 170, 116, 54, 62, 62]
_TABLE_STYLE = [
    ("SPAN", (0, 1), (-1, 1)),
    ("BACKGROUND", (0, 0), (-1, 0), WASH),
    ("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#e8eef5")),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


def short_title_for_outline(title: str, limit: int = 60) -> str:
    title = " ".join(clean(title).split())
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + "…"


# --- the table of all measures ----------------------------------------------------------------


def measures_table(story: Story) -> None:
    """One table per section: code, title, agencies, due date, claim and CSO completion."""
    r = story.report
    story.add(story.heading(_("All measures"), "measures"))
    intro = _(
        "Government: the completion the government claims, from its latest "
        "report or statement by the date. CSOs: the latest approved "
        "assessment of a monitoring organisation."
    )
    story.add(story.para(text(intro), "muted"), Spacer(1, 2 * mm))
    is_agency = r.kind == ReportKind.AGENCY
    head = [
        _("Code"),
        _("Measure"),
        _("Agency's role") if is_agency else _("Agencies"),
        _("Due date"),
        _("Government"),
        _("CSOs"),
    ]
    for block in r.sections:
        rows: list[list] = [[story.para(text(h), "cell_head") for h in head]]
        rows.append(
            [story.para(text(f"{block.number}. {block.title}"), "cell_head"), "", "", "", "", ""]
        )
        style = list(_TABLE_STYLE)
        for index, m in enumerate(block.measures, start=2):
            rows.append(_measure_row(story, m, is_agency))
            style.append(("BACKGROUND", (5, index), (5, index), COMPLETION_COLOURS[m.completion]))
            if m.claim:
                colour = COMPLETION_COLOURS[m.claim.completion]
                style.append(("BACKGROUND", (4, index), (4, index), colour))
        table = Table(rows, colWidths=_TABLE_WIDTHS, repeatRows=2)
        table.setStyle(table_style(style))
        story.add(table, Spacer(1, 4 * mm))
    story.add(PageBreak())


def _measure_row(story: Story, m: MeasureEntry, is_agency: bool) -> list:
    if is_agency:
        who = "<br/>".join(text(role) for role in m.roles)
    else:
        lines = []
        if m.executors:
            lines.append("; ".join(text(a) for a in m.executors))
        if m.recommended:
            recommended = "; ".join(text(a) for a in m.recommended)
            label = _("Recommended to")
            lines.append(f"<i>{text(label)}: {recommended}</i>")
        who = "<br/>".join(lines)
    due = text(date_text(m.due_date))
    if m.ended_incomplete:
        ended = _("not complete at the end")
        due += f'<br/><font color="#b42318"><b>{text(ended)}</b></font>'
    elif m.is_overdue:
        overdue = _("overdue")
        due += f'<br/><font color="#b42318"><b>{text(overdue)}</b></font>'
    government = story.para(text(m.claim.completion_label), "cell_badge") if m.claim else "—"
    cso = text(m.completion_label)
    if m.progress_percent is not None:
        cso += f" ({m.progress_percent}%)"
    if m.is_disputed:
        disputed = _("disputed")
        cso += f"<br/>{text(disputed)}"
    return [
        story.para(f"<b>{text(m.code)}</b>", "cell"),
        story.para(text(m.short_title), "cell"),
        story.para(who, "cell"),
        story.para(due, "cell"),
        government if isinstance(government, Paragraph) else story.para(government, "cell"),
        story.para(cso, "cell_badge"),
    ]


# --- a section's measures in detail -----------------------------------------------------------


def section_details(story: Story, block: SectionBlock) -> None:
    title = _("Section %(number)s. %(title)s", number=block.number, title=block.title)
    story.add(story.heading(title, f"section-{block.number}"))
    if block.title_original:
        story.add(story.para(text(block.title_original), "original"), Spacer(1, 2 * mm))
    s = block.summary
    late = (
        _("%(count)s not complete when the plan ended", count=s.ended_incomplete)
        if s.is_closed
        else _("%(count)s overdue", count=s.overdue)
    )
    figures = " · ".join(
        (
            ngettext("%(num)s measure", "%(num)s measures", s.total),
            _(
                "score %(score)s (%(scored)s of %(total)s assessed)",
                score=score_text(s.score),
                scored=s.scored,
                total=s.total,
            ),
            late,
            _("%(count)s disputed", count=s.disputed),
        )
    )
    story.add(story.para(text(figures), "muted"))
    is_organisation = story.report.kind == ReportKind.ORGANISATION
    for m in block.measures:
        _measure_head(story, m, block.number)
        _measure_assessments(story, m, is_organisation)
        story.add(Spacer(1, 3 * mm))
    story.add(PageBreak())


def _measure_head(story: Story, m: MeasureEntry, section: int) -> None:
    """The measure's heading and facts, kept together, and the government's note."""
    heading = Heading(
        f"{text(m.code)} · {text(m.title)}",
        story.styles["h3"],
        f"{m.code} {short_title_for_outline(m.title)}",
        f"measure-{section}-{m.code}",
        level=1,
    )
    head: list[Flowable] = [heading]
    if m.title_original:
        head.append(story.para(text(m.title_original), "original"))
    head.append(story.facts(_measure_facts(m), markup=True))
    story.add(CondPageBreak(45 * mm), KeepTogether(head))
    if m.claim and m.claim.note.strip():
        label = _("The government says")
        note = f"<b>{text(label)}:</b> {multiline(m.claim.note.strip())}"
        story.add(story.para(note, "a_small"))


def _measure_facts(m: MeasureEntry) -> list[tuple[str, str]]:
    """(label, markup) rows: indicator, agencies, period, claim, assessment, link."""
    facts = [(_("Evaluation indicator"), text(m.indicator))]
    if m.executors:
        facts.append((_("Executing agencies"), "; ".join(text(a) for a in m.executors)))
    if m.recommended:
        facts.append((_("Recommended to"), "; ".join(text(a) for a in m.recommended)))
    if m.roles:
        facts.append((_("Agency's role"), "; ".join(text(role) for role in m.roles)))
    due = _("%(period)s; due %(date)s", period=m.period, date=date_text(m.due_date))
    due_markup = text(due)
    if m.ended_incomplete and m.closes_on:
        ended = _("not complete when the plan ended (%(date)s)", date=date_text(m.closes_on))
        due_markup += f' <font color="#b42318"><b>{text(ended)}</b></font>'
    elif m.is_overdue:
        overdue = ngettext("overdue by %(num)s day", "overdue by %(num)s days", m.days_overdue)
        due_markup += f' <font color="#b42318"><b>{text(overdue)}</b></font>'

    facts.append((_("Implementation period"), due_markup))
    if m.milestones:
        facts.append((_("Milestones"), _milestones_markup(m)))
    facts.append((_("Government claim"), _claim_markup(m)))
    facts.append((_("CSO assessment"), _cso_markup(m)))
    if m.url:
        facts.append((_("Online"), link(m.url, m.url)))
    return facts


def _milestones_markup(m: MeasureEntry) -> str:
    """One line per milestone: its date, title and state, and how late when it is."""
    lines = []
    for milestone in m.milestones:
        line = text(
            f"{date_text(milestone.due_date)} · {milestone.title} · {milestone.state_label}"
        )
        if milestone.is_overdue:
            late = _("overdue by %(days)s days", days=milestone.days_overdue)
            line += f' <font color="#b42318"><b>{text(late)}</b></font>'
        lines.append(line)
    return "<br/>".join(lines)


def _cso_markup(m: MeasureEntry) -> str:
    cso = f'<font color="{COMPLETION_HEX[m.completion]}"><b>{text(m.completion_label)}</b></font>'
    if m.progress_percent is not None:
        cso += text(f" · {m.progress_percent}%")
    if m.latest:
        cso += text(
            " · "
            + _(
                "%(organisation)s, as of %(date)s",
                organisation=m.latest.organisation_name,
                date=date_text(m.latest.as_of_date),
            )
        )
    if m.is_disputed:
        disputed = _("disputed")
        cso += f' <font color="#6941c6"><b>{text(disputed)}</b></font>'
    return cso


def _claim_markup(m: MeasureEntry) -> str:
    if not m.claim:
        return text(_("No claim recorded"))
    c = m.claim
    markup = f"<b>{text(c.completion_label)}</b> · {text(date_text(c.claim_date))}"
    if c.is_plan_wide:
        plan_wide = _("for the whole plan")
        markup += f" ({text(plan_wide)})"
    # a table row cannot break across pages: long titles are cut here, and the
    # claim's note is printed below the table (see _measure_head)
    title = short_title(c.source_title, 160)
    if c.source_url:
        markup += f" · {link(c.source_url, title or short_title(c.source_url, 80))}"
    elif title:
        markup += f" · {text(title)}"
    if c.file_url:
        markup += " · " + link(c.file_url, _("source document"))
    return markup


def _measure_assessments(story: Story, m: MeasureEntry, is_organisation: bool) -> None:
    """The organisation's own updates (its report), or the latest assessment and a line
    for each other organisation's."""
    if is_organisation:
        if not m.organisation_updates:
            no_update = _("No approved update by this organisation yet.")
            story.add(story.para(text(no_update), "muted"))
        for update in m.organisation_updates:
            _assessment(story, update, show_organisation=False)
        return
    if m.latest:
        _assessment(story, m.latest, show_organisation=True)
    else:
        story.add(story.para(text(_("No approved assessment yet.")), "muted"))
    if m.other_assessments:
        lines = "<br/>".join(
            text(
                _(
                    "%(organisation)s: %(completion)s (as of %(date)s)",
                    organisation=a.organisation_name,
                    completion=a.completion_label,
                    date=date_text(a.as_of_date),
                )
            )
            for a in m.other_assessments
        )
        label = _("Other organisations")
        story.add(story.para(f"<b>{text(label)}</b><br/>{lines}", "small"))


def _assessment(story: Story, a: Assessment, show_organisation: bool) -> None:
    if show_organisation:
        title = _(
            "Latest approved assessment, by %(organisation)s, as of %(date)s",
            organisation=a.organisation_name,
            date=date_text(a.as_of_date),
        )
    else:
        title = _(
            "Update as of %(date)s: %(completion)s",
            date=date_text(a.as_of_date),
            completion=a.completion_label,
        )
    story.add(story.para(text(title), "a_head"))
    for paragraph in _BLANK_LINES.split(clean(a.narrative).strip()):
        if paragraph.strip():
            story.add(story.para(multiline(paragraph.strip()), "a_body"))
    if a.delay_reasons:
        reasons = "; ".join(text(reason) for reason in a.delay_reasons)
        label = _("Reasons for delay")
        story.add(story.para(f"<b>{text(label)}:</b> {reasons}", "a_small"))
    if a.evidence or a.private_evidence_count:
        label = _("Evidence")
        story.add(story.para(f"<b>{text(label)}</b>", "a_small"))
        item_style = story.styles["a_item"]
        for item in a.evidence:
            story.add(Paragraph(_evidence_markup(item), item_style, bulletText="•"))
        if a.private_evidence_count:
            note = ngettext(
                "%(num)s further item of evidence is private: reviewers have seen it.",
                "%(num)s further items of evidence are private: reviewers have seen them.",
                a.private_evidence_count,
            )
            story.add(Paragraph(text(note), item_style, bulletText="•"))


def _evidence_markup(item: EvidenceItem) -> str:
    title = link(item.url, item.title) if item.url else text(item.title)
    markup = f"{text(item.type_label)}: {title}"
    if item.evidence_date:
        markup += f" ({text(date_text(item.evidence_date))})"
    if item.request_agency or item.request_outcome:
        details = _(
            "sent to %(agency)s on %(sent)s; answered %(answered)s; outcome: %(outcome)s",
            agency=item.request_agency or "—",
            sent=date_text(item.request_sent_on),
            answered=date_text(item.request_answered_on),
            outcome=item.request_outcome or "—",
        )
        markup += f" — {text(details)}"
    if item.file_url:
        markup += " — " + link(item.file_url, _("download the attached file"))
    return markup
