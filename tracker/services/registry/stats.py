"""The mapping report's section 6 tables, computed live from the registry with SQL
aggregates: six queries whatever the number of organisations. The public page and
GET /api/v1/registry/stats both call `registry_stats`.

Every active (not archived) registry entry counts, coalitions included. Shares are of
the organisations that answered the question, and `answered` gives that base; those
about whom nothing is known are counted apart (`unknown`), never as an answer. An
organisation whose sources give two founding years in different groups ("1999 or 2000")
is in no founding-year group and not in that table's base.

Web presence: an organisation that gave a website or social media account answered; one
that completed the survey (question 5.4) and gave neither has neither; of any other
organisation nothing is known.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from tracker.config import PROJECT_ROOT
from tracker.models import Organisation, OrganisationChoice
from tracker.numbers import percent, round_half_up
from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue

BASELINE_FILE = PROJECT_ROOT / "seed" / "registry_baseline_2022.yaml"
#: the tables with several answers per organisation, each counted as answers and as a share
SHARED_FIELDS = ("services", "beneficiaries", "regions")
#: the web presence row of the organisations of which nothing is known
UNKNOWN = "unknown"


@dataclass(frozen=True)
class StaffFigures:
    valid: int
    missing: int
    mean: float | None
    median: float | None
    min: int | None
    max: int | None
    sum: int

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RegistryStats:
    total: int
    legal_status: dict[str, int]
    founding_year_groups: dict[str, int]
    #: "website", "social_media", "website_or_social_media", "neither", "unknown"
    web_presence: dict[str, int]
    #: list field → key → organisations that gave the answer (= number of answers)
    choices: dict[str, dict[str, int]]
    staff: dict[str, StaffFigures]
    membership: dict[str, int]
    #: table → organisations that answered it (the base of the shares)
    answered: dict[str, int] = field(default_factory=dict)

    def answers_total(self, table: str) -> int:
        return sum(self.counts(table).values())

    @property
    def unknown(self) -> dict[str, int]:
        """table → organisations of which the answer is not known (not in the shares)."""
        return {table: self.total - answered for table, answered in self.answered.items()}

    def counts(self, table: str) -> dict[str, int]:
        if table in self.choices:
            return self.choices[table]
        return getattr(self, table)

    def share(self, table: str, key: str) -> float | None:
        """Percentage of the organisations that answered, to one decimal."""
        base = self.answered.get(table) or 0
        if not base or key == UNKNOWN:
            return None
        return percent(self.counts(table).get(key, 0), base)

    def shares(self, table: str) -> dict[str, float | None]:
        return {key: self.share(table, key) for key in self.counts(table)}

    def as_json(self) -> dict:
        """The API's shape: vocabulary keys throughout, every key present."""
        return {
            "total": self.total,
            "legal_status": self.legal_status,
            "founding_year_groups": self.founding_year_groups,
            "web_presence": self.web_presence,
            "services": self.choices["services"],
            "beneficiaries": self.choices["beneficiaries"],
            "regions": self.choices["regions"],
            "staff": {name: figures.as_json() for name, figures in self.staff.items()},
            "donors": self.choices["donors"],
            "training_needs": self.choices["training_needs"],
            "membership": self.membership,
            "answered": self.answered,
            "unknown": self.unknown,
            "share_of_organisations": {table: self.shares(table) for table in SHARED_FIELDS},
            "answers_total": {table: self.answers_total(table) for table in MULTI_FIELDS},
        }


def _active():
    return Organisation.is_archived.is_(False)


def _founding_group_case():
    """The founding-year group, when the founding year (and the other year a source gives,
    if any) fall in one group."""
    other_year = func.coalesce(Organisation.founded_year_alternative, Organisation.founded_year)
    whens = []
    for group in catalogue().founding_groups:
        conditions = []
        for year in (Organisation.founded_year, other_year):
            if group.from_year is not None:
                conditions.append(year >= group.from_year)
            if group.to_year is not None:
                conditions.append(year <= group.to_year)
        whens.append((and_(*conditions), group.key))
    return case(*whens, else_=None)


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _median_statement():
    """Medians of the seven staff counts in one statement (field, median): the middle
    value(s) by row_number, which both SQLite and PostgreSQL have. It reads and sorts the
    registry once per count: PostgreSQL's medians use percentile_cont instead."""
    parts = []
    for name in STAFF_FIELDS:
        column = getattr(Organisation, name)
        ranked = (
            select(
                column.label("value"),
                func.row_number().over(order_by=column).label("position"),
                func.count().over().label("valid"),
            )
            .where(_active(), column.is_not(None))
            .subquery()
        )
        parts.append(
            select(literal(name).label("field"), func.avg(ranked.c.value).label("median")).where(
                or_(
                    ranked.c.position == (ranked.c.valid + 1) // 2,
                    ranked.c.position == (ranked.c.valid + 2) // 2,
                )
            )
        )
    return union_all(*parts)


def _medians(session: Session) -> dict:
    """staff count → its median over the active registry (None where no one answered).
    On PostgreSQL, percentile_cont(0.5): the same middle value, or the mean of the two
    middle values, in one pass over the registry instead of seven sorted reads (the
    slowest part of the statistics with ten thousand organisations)."""
    if session.get_bind().dialect.name != "postgresql":
        return dict(session.execute(_median_statement()).all())
    medians = (
        func.percentile_cont(0.5).within_group(getattr(Organisation, name)).label(name)
        for name in STAFF_FIELDS
    )
    return dict(session.execute(select(*medians).where(_active())).one()._mapping)


def _number(value) -> float | None:
    return None if value is None else round_half_up(float(value), 2)


def registry_stats(session: Session) -> RegistryStats:
    summary = _summary(session)
    total = summary["total"]
    legal_status = _legal_status_counts(session)
    groups = _founding_group_counts(session)
    choices, answered = _choice_counts(session)
    return RegistryStats(
        total=total,
        legal_status=legal_status,
        founding_year_groups=groups,
        web_presence={
            "website": int(summary["website"]),
            "social_media": int(summary["social_media"]),
            "website_or_social_media": int(summary["either"]),
            "neither": int(summary["neither"]),
            UNKNOWN: total - int(summary["web_answered"]),
        },
        choices=choices,
        staff=_staff_figures(session, summary),
        membership={"yes": int(summary["member_yes"]), "no": int(summary["member_no"])},
        answered={
            "legal_status": summary["legal_status_answered"],
            "founding_year_groups": sum(groups.values()),
            "web_presence": int(summary["web_answered"]),
            "membership": summary["membership_answered"],
            **{name: answered.get(name, 0) for name in MULTI_FIELDS},
        },
    )


def _summary(session: Session):
    """One row of counts over the active registry: answers, web presence, membership,
    and each staff count's number, mean, minimum, maximum and sum."""
    has_website = Organisation.website != ""
    has_social = Organisation.social_media != ""
    surveyed = Organisation.completed_on.is_not(None)
    summary_columns = [
        func.count().label("total"),
        func.count(Organisation.legal_status).label("legal_status_answered"),
        func.count(Organisation.member_of_networks).label("membership_answered"),
        _count_if(has_website).label("website"),
        _count_if(has_social).label("social_media"),
        _count_if(has_website | has_social).label("either"),
        _count_if(surveyed & ~(has_website | has_social)).label("neither"),
        _count_if(surveyed | has_website | has_social).label("web_answered"),
        _count_if(Organisation.member_of_networks.is_(True)).label("member_yes"),
        _count_if(Organisation.member_of_networks.is_(False)).label("member_no"),
    ]
    for name in STAFF_FIELDS:
        column = getattr(Organisation, name)
        summary_columns += [
            func.count(column).label(f"{name}_valid"),
            func.avg(column).label(f"{name}_mean"),
            func.min(column).label(f"{name}_min"),
            func.max(column).label(f"{name}_max"),
            func.coalesce(func.sum(column), 0).label(f"{name}_sum"),
        ]
    return session.execute(select(*summary_columns).where(_active())).one()._mapping


def _legal_status_counts(session: Session) -> dict[str, int]:
    legal_status = dict.fromkeys(catalogue().keys("legal_status"), 0)
    for key, count in session.execute(
        select(Organisation.legal_status, func.count())
        .where(_active(), Organisation.legal_status.is_not(None))
        .group_by(Organisation.legal_status)
    ):
        if key in legal_status:
            legal_status[key] = count
    return legal_status


def _founding_group_counts(session: Session) -> dict[str, int]:
    groups = dict.fromkeys((g.key for g in catalogue().founding_groups), 0)
    group_column = _founding_group_case().label("founding_group")
    grouped = (
        select(group_column).where(_active(), Organisation.founded_year.is_not(None)).subquery()
    )
    for key, count in session.execute(
        select(grouped.c.founding_group, func.count()).group_by(grouped.c.founding_group)
    ):
        if key in groups:
            groups[key] = count
    return groups


def _choice_counts(session: Session) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """list field → key → organisations that gave the answer; and list field →
    organisations that answered the question."""
    labels = catalogue()
    choices = {name: dict.fromkeys(labels.keys(name), 0) for name in MULTI_FIELDS}
    active_choice = (
        select(OrganisationChoice.field, OrganisationChoice.key, OrganisationChoice.organisation_id)
        .join(Organisation, Organisation.id == OrganisationChoice.organisation_id)
        .where(_active(), OrganisationChoice.field.in_(MULTI_FIELDS))
        .subquery()
    )
    for list_name, key, count in session.execute(
        select(active_choice.c.field, active_choice.c.key, func.count()).group_by(
            active_choice.c.field, active_choice.c.key
        )
    ):
        if key in choices.get(list_name, {}):
            choices[list_name][key] = count
    answered = dict(
        session.execute(
            select(
                active_choice.c.field, func.count(func.distinct(active_choice.c.organisation_id))
            ).group_by(active_choice.c.field)
        ).all()
    )
    return choices, answered


def _staff_figures(session: Session, summary) -> dict[str, StaffFigures]:
    medians = _medians(session)
    staff = {}
    for name in STAFF_FIELDS:
        valid = summary[f"{name}_valid"]
        staff[name] = StaffFigures(
            valid=valid,
            missing=summary["total"] - valid,
            mean=_number(summary[f"{name}_mean"]),
            median=_number(medians.get(name)) if valid else None,
            min=summary[f"{name}_min"],
            max=summary[f"{name}_max"],
            sum=int(summary[f"{name}_sum"]),
        )
    return staff


# --- the report's 2022 baseline -------------------------------------------------------------


@cache
def load_baseline(path: Path = BASELINE_FILE) -> dict:
    """The report's own figures for its 243 respondents (seed/registry_baseline_2022.yaml)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


#: a vocabulary answer ({legal_status.public_union}) or question ({question.staff_total})
#: named in a note of the baseline file
_LABEL_PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([a-z0-9_]+)\}")


@dataclass(frozen=True)
class BaselineAbout:
    """The 2022 report's title and the notes on its figures, in one language."""

    source_title: str
    notes: tuple[str, ...]


def _placeholder_label(locale: str):
    labels = catalogue()

    def label(match: re.Match) -> str:
        kind, key = match.groups()
        if kind == "question":
            return labels.questions[key].short_text(locale)
        if key not in labels.options.get(kind, {}):
            raise KeyError(f"{kind}.{key} is not in the vocabulary")
        return labels.label(kind, key, locale)

    return label


def baseline_about(locale: str, baseline: dict | None = None) -> BaselineAbout:
    """The notes on the 2022 figures in the reader's language (English for any language
    but Azerbaijani), with vocabulary labels in place of their keys."""
    baseline = baseline or load_baseline()
    language = "az" if locale == "az" else "en"
    label = _placeholder_label(locale)
    return BaselineAbout(
        source_title=baseline["source_title"][language],
        notes=tuple(_LABEL_PLACEHOLDER.sub(label, note[language]) for note in baseline["notes"]),
    )


#: where each table's percentage column is in the baseline file
BASELINE_PERCENT_KEYS = {
    "legal_status": "legal_status_percent",
    "founding_year_groups": "founding_year_groups_percent",
    "services": "services_percent_of_organisations",
    "beneficiaries": "beneficiaries_percent_of_organisations",
    "regions": "regions_percent_of_organisations",
    "donors": "donors_percent_of_organisations",
    "training_needs": "training_needs_percent_of_organisations",
    "membership": "membership_percent",
}


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    label: str
    count: int
    share: float | None
    baseline_count: int | None
    baseline_share: float | None


def comparison(stats: RegistryStats, table: str, locale: str) -> list[ComparisonRow]:
    """One table's live counts and shares beside the report's 2022 figures."""
    labels = catalogue()
    baseline = load_baseline()
    base_counts = baseline.get(table, {}) or {}
    base_shares = baseline.get(BASELINE_PERCENT_KEYS.get(table, ""), {}) or {}
    if table == "founding_year_groups":
        names = {g.key: g.label(locale) for g in labels.founding_groups}
    elif table == "membership":
        # The questionnaire's "Bəli, hansı peşəkar qrup/ birlik" is a prompt; the table's
        # last spelling ("Bəli", "Xeyir") is the answer.
        names = {
            key: option.label_en if locale == "en" else option.labels_az[-1]
            for key, option in labels.membership.items()
        }
    else:
        names = labels.labels(table, locale)
    return [
        ComparisonRow(
            key=key,
            label=names.get(key, key),
            count=count,
            share=stats.share(table, key),
            baseline_count=base_counts.get(key),
            baseline_share=base_shares.get(key),
        )
        for key, count in stats.counts(table).items()
    ]
