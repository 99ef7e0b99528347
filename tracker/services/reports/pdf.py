"""PDF rendering, the second of two stages: a `tracker.services.reports.model.Report` becomes
PDF bytes. The `pdf*` modules are the only ones that import ReportLab:

- `pdf_style`: fonts, colours, paragraph styles and the text escaping every string passes;
- `pdf_document`: the page furniture (cover band, running header, page numbers, outline)
  and the `Story` the pages are added to;
- `pdf_charts`: the completion strip and the bar charts;
- this module: the summary pages (cover, summary, charts, note on method) and the order
  of the parts;
- `pdf_measures`: the table of all measures and each section's measures in detail.

`render_report` runs both stages: the data (`content.build_report`), then the PDF.
"""

from __future__ import annotations

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, NextPageTemplate, PageBreak, Spacer, Table
from sqlalchemy.orm import Session

from tracker.numbers import percent, show_percent
from tracker.services.reports.content import build_report
from tracker.services.reports.model import Report, ReportSpec
from tracker.services.reports.pdf_charts import completion_strip, overdue_chart, section_chart
from tracker.services.reports.pdf_document import Story, kind_title
from tracker.services.reports.pdf_measures import measures_table, section_details
from tracker.services.reports.pdf_style import (
    COMPLETION_COLOURS,
    FRAME_WIDTH,
    LINE,
    WASH,
    date_text,
    link,
    register_fonts,
    score_text,
    table_style,
    text,
    weight_text,
)
from tracker.vocabulary import ReportKind

#: the thin-ruled table of the summary and method pages
_RULED = [
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


# --- the cover --------------------------------------------------------------------------------


def cover(story: Story) -> None:
    r = story.report
    story.add(story.para(text(kind_title(r.kind)), "cover_kicker"), Spacer(1, 4 * mm))
    story.add(story.para(text(r.subject), "cover_title"))
    if r.subject_original:
        story.add(story.para(text(r.subject_original), "original"), Spacer(1, 3 * mm))
    if r.kind != ReportKind.PLAN:
        story.add(story.para(text(r.plan_title), "cover_subtitle"))
    if r.plan_title_original and r.kind == ReportKind.PLAN:
        story.add(story.para(text(r.plan_title_original), "original"))
    story.add(Spacer(1, 10 * mm))
    rows = [
        (_("Situation as of"), date_text(r.as_of)),
        (_("Plan period"), r.plan_period),
        (_("Measures covered"), str(r.summary.total)),
        (_("Language"), _("Azerbaijani") if r.locale == "az" else _("English")),
        (_("Generated on"), date_text(r.generated_on)),
    ]
    story.add(story.facts(rows, label_width=45 * mm, style="body"))
    story.add(Spacer(1, 8 * mm), completion_strip(r), Spacer(1, 10 * mm))
    about = _(
        "Independent civil society monitoring of the Open Government "
        "Partnership national action plan. This report sets what the "
        "government claims beside what civil society organisations assess. "
        "It contains approved, public material only: assessments reviewed "
        "by the Open Government Platform, public evidence, and the names of "
        "organisations, never of individual people."
    )
    story.add(story.para(text(about), "muted"))
    if r.url:
        story.add(Spacer(1, 3 * mm), story.para(link(r.url, r.url), "muted"))
    story.add(NextPageTemplate("body"), PageBreak())


# --- the summary ------------------------------------------------------------------------------


def _figures(r: Report) -> list[tuple[str, str]]:
    """(value, label) pairs for the summary's grid of key figures."""
    summary = r.summary
    coverage = _(
        "of measures covered by monitors (%(count)s of %(total)s)",
        count=r.coverage.monitored,
        total=r.coverage.total,
    )
    if summary.is_closed:
        late = (str(summary.ended_incomplete), _("not complete when the plan ended"))
    else:
        late = (str(summary.overdue), _("overdue"))
    return [
        (
            score_text(summary.score),
            _(
                "score out of 100, over %(scored)s of %(total)s measures assessed",
                scored=summary.scored,
                total=summary.total,
            ),
        ),
        (str(summary.total), ngettext("measure", "measures", summary.total)),
        late,
        (str(summary.disputed), _("disputed: the government's claim differs")),
        (show_percent(r.coverage.share), coverage),
        (
            show_percent(summary.evidence_share),
            _("of measures with an approved assessment"),
        ),
    ]


def _figures_table(story: Story) -> Table:
    cells = [
        [story.para(text(value), "figure_value"), story.para(text(label), "figure_label")]
        for value, label in _figures(story.report)
    ]
    grid = [[cells[i], cells[i + 1], cells[i + 2]] for i in range(0, len(cells), 3)]
    table = Table(grid, colWidths=[FRAME_WIDTH / 3] * 3)
    table.setStyle(
        table_style(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, LINE),
                ("INNERGRID", (0, 0), (-1, -1), 0.6, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), WASH),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _completion_table(story: Story, counts: dict) -> Table:
    total = sum(counts.values())
    head = [_("Completion"), _("Measures"), _("Share")]
    rows = [["", *(story.para(text(h), "cell_head") for h in head)]]
    for level in story.report.scale:
        count = counts.get(level.level, 0)
        rows.append(
            [
                "",
                story.para(text(level.label), "cell"),
                story.para(str(count), "cell"),
                story.para(show_percent(percent(count, total)), "cell"),
            ]
        )
    table = Table(rows, colWidths=[6 * mm, 60 * mm, 25 * mm, 25 * mm], hAlign="LEFT")
    style = list(_RULED)
    for index, level in enumerate(story.report.scale, start=1):
        style.append(("BACKGROUND", (0, index), (0, index), COMPLETION_COLOURS[level.level]))
    table.setStyle(table_style(style))
    return table


def _role_table(story: Story) -> Table:
    late = _("Not complete when the plan ended") if story.report.summary.is_closed else _("Overdue")
    head = (_("Role"), _("Measures"), late, _("Score"))
    rows = [[story.para(text(h), "cell_head") for h in head]]
    for role in story.report.role_summaries:
        s = role.summary
        values = (role.label, str(s.total), str(s.late), score_text(s.score))
        rows.append([story.para(text(value), "cell") for value in values])
    table = Table(rows, colWidths=[60 * mm, 25 * mm, 40 * mm, 25 * mm], hAlign="LEFT")
    table.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, 0), WASH),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
            ]
        )
    )
    return table


def summary(story: Story) -> None:
    r = story.report
    story.add(story.heading(_("Summary"), "summary"))
    story.add(_figures_table(story), Spacer(1, 5 * mm))
    story.add(story.para(text(_("Measures by completion (CSO assessment)")), "h2"))
    story.add(_completion_table(story, r.summary.counts), Spacer(1, 3 * mm))
    story.add(completion_strip(r))
    if r.own_counts is not None:
        # the figures above are the Platform's position, which any organisation's latest
        # approved assessment sets; a reader of this report also wants this one's own
        own = _("Measures by completion (this organisation's own latest assessments)")
        story.add(story.para(text(own), "h2"))
        story.add(_completion_table(story, r.own_counts), Spacer(1, 3 * mm))
    if r.role_summaries:
        story.add(story.para(text(_("By the agency's role")), "h2"))
        story.add(_role_table(story))
    story.add(Spacer(1, 4 * mm))
    monitors = ngettext(
        "%(num)s organisation monitors these measures on this date.",
        "%(num)s organisations monitor these measures on this date.",
        r.coverage.organisations,
    )
    method = _(
        "The score weighs each measure's completion (not started 0, limited "
        "1/3, substantial 2/3, complete 1) over the measures with an "
        "approved assessment; see the note on method at the end."
    )
    note = f"{monitors} {method}"
    story.add(story.para(text(note), "muted"))
    story.add(PageBreak())


def charts(story: Story) -> None:
    r = story.report
    if len(r.sections) < 2 and not r.overdue_agencies:
        return
    story.add(story.heading(_("Charts"), "charts"))
    if len(r.sections) > 1:
        story.add(story.para(text(_("Completion by section")), "h2"))
        story.add(section_chart(r))
    if r.overdue_agencies:
        story.add(CondPageBreak(80 * mm))
        if r.summary.is_closed:
            title = _("Agencies with the most measures not complete when the plan ended")
            explanation = _(
                "Measures not complete when the plan ended that name the agency as executing "
                "agency or as recommended agency; each measure counts once per agency."
            )
        else:
            title = _("Agencies with the most overdue measures")
            explanation = _(
                "Overdue measures that name the agency as executing agency or "
                "as recommended agency; each measure counts once per agency."
            )
        story.add(story.para(text(title), "h2"))
        story.add(story.para(text(explanation), "muted"))
        story.add(overdue_chart(r))
    story.add(PageBreak())


# --- the note on method -----------------------------------------------------------------------


def _scale_table(story: Story) -> Table:
    rows = [[story.para(text(_("Level")), "cell_head"), story.para(text(_("Weight")), "cell_head")]]
    for level in story.report.scale:
        weight = _("not scored") if level.weight is None else weight_text(level.weight)
        rows.append([story.para(text(level.label), "cell"), story.para(text(weight), "cell")])
    table = Table(rows, colWidths=[70 * mm, 50 * mm], hAlign="LEFT")
    table.setStyle(table_style([("BACKGROUND", (0, 0), (-1, 0), WASH), *_RULED]))
    return table


def _method_paragraphs() -> list[str]:
    return [
        _(
            "The score is the mean weight of the measures that have an approved "
            'assessment, times 100. Measures without one ("no evidence available") '
            "are counted but not scored."
        ),
        _(
            "A measure is overdue once its due date has passed and it is not complete. "
            "The due date is 31 December of the last year of the measure's implementation "
            "period, unless a milestone sets another date."
        ),
        _(
            "A measure is disputed when the completion the government claims differs "
            "from the assessment of any monitoring organisation."
        ),
        _(
            "Every figure is computed for the date on the cover from the records as they "
            "stood then: later assessments and claims are left out."
        ),
    ]


def _sources(r: Report) -> list[str]:
    sources = [
        _("The plan: %(source)s.", source=r.plan_source or r.plan_title),
        _(
            "Civil society assessments: status updates by monitoring organisations, "
            "with their evidence, approved by reviewers of the Open Government Platform. "
            "Drafts, updates awaiting review, returned and withdrawn updates are left out."
        ),
        _(
            "Government claims: the government's reports and statements, as recorded "
            "with their source."
        ),
        _(
            "Private evidence (such as correspondence that names people) is counted but "
            "not shown. Organisations are named; the people who wrote the assessments "
            "are not."
        ),
    ]
    if r.locale != "az":
        sources.append(
            _(
                "The plan's text is quoted in the project's English translation; where it "
                "matters, the Azerbaijani original is printed beside it in italics."
            )
        )
    return sources


def method(story: Story) -> None:
    story.add(story.heading(_("Note on method"), "method"))
    story.add(story.para(text(_("The scale")), "h2"))
    scale = _(
        "Completion follows the scale of the OGP Independent Reporting "
        "Mechanism. Each level has a weight in the score:"
    )
    story.add(story.para(text(scale)))
    story.add(Spacer(1, 2 * mm), _scale_table(story), Spacer(1, 3 * mm))
    for paragraph in _method_paragraphs():
        story.add(story.para(text(paragraph)), Spacer(1, 2 * mm))
    story.add(story.para(text(_("Sources")), "h2"))
    for source in _sources(story.report):
        story.add(story.para(f"• {text(source)}"), Spacer(1, 1.5 * mm))


# --- the whole report -------------------------------------------------------------------------


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes, in the report's language."""
    register_fonts()
    with force_locale(report.locale):
        story = Story(report)
        cover(story)
        summary(story)
        charts(story)
        measures_table(story)
        for block in report.sections:
            section_details(story, block)
        method(story)
        return story.build()


def render_report(session: Session, spec: ReportSpec) -> bytes:
    """Both stages: collect the report's data, then render it. Raises
    ReportSubjectNotFound."""
    return render_pdf(build_report(session, spec))
