"""The mapping survey's questions and answer lists (seed/survey_labels.yaml), and matching
of answers written in Azerbaijani, English or as keys.

The survey ran as an online form: a several-answers cell holds the chosen labels joined
with ", ", and labels contain commas themselves ("Təhsil xidmətləri (təlimlər,
dərsdənkənar fəaliyyətlər)"). So a cell is never split on commas. `LabelMatcher` scans
its words and takes, at the start of each answer, the longest known label that ends
where an answer ends; whatever is left is the "Digər" (other) free text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from tracker.config import PROJECT_ROOT
from tracker.vocabulary import label_key

SURVEY_LABELS_FILE = PROJECT_ROOT / "seed" / "survey_labels.yaml"

#: questions with several answers, stored as OrganisationChoice rows
MULTI_FIELDS = ("services", "beneficiaries", "regions", "donors", "training_needs")
#: questions answered from a list
CHOICE_FIELDS = ("legal_status", *MULTI_FIELDS)
STAFF_FIELDS = (
    "staff_total",
    "staff_male",
    "staff_female",
    "staff_management",
    "staff_experts",
    "staff_social_workers",
    "staff_support",
)
#: the key of the free-text answer of every list
OTHER = "other"
#: the region answer whose detail names the communities or districts
SPECIFIC_COMMUNITIES = "specific_communities"

_INSTRUCTION = re.compile(r"\s*\((?:zəhmət olmasa|mümkünsə|please)[^)]*\)\s*", re.IGNORECASE)
_QUESTION_INSTRUCTION = re.compile(
    r"\s*\((?:zəhmət olmasa|bütün|please|tick)[^)]*\)\s*", re.IGNORECASE
)
_PARENTHESES = re.compile(r"\s*\([^)]*\)?\s*")
#: a word, with any combining marks ("i̇" is what Python's lower() makes of "İ")
_WORD = re.compile(r"(?:\w|[\u0300-\u036f])+")
#: what separates the answers of one cell: the form joins them with ", "
_SEPARATORS = frozenset(",;\n")


@dataclass(frozen=True)
class Option:
    field: str
    key: str
    number: int | None
    labels_az: tuple[str, ...]
    label_en: str
    #: the questionnaire asks for free text with this answer
    specify: bool

    @property
    def short_az(self) -> str:
        """The Azerbaijani label without the form's "(zəhmət olmasa qeyd edin)": the
        questionnaire's wording, or the table's where the print lost a parenthesis."""
        labels = [_INSTRUCTION.sub(" ", text).strip() for text in self.labels_az]
        balanced = [text for text in labels if text.count("(") == text.count(")")]
        return (balanced or labels)[0]

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.short_az

    def phrases(self) -> set[str]:
        """Every way of writing this answer: az spellings, en label, key."""
        found = {*self.labels_az, self.label_en, self.key, self.key.replace("_", " ")}
        found |= {_INSTRUCTION.sub(" ", text).strip() for text in self.labels_az}
        return {text for text in found if label_key(text)}


@dataclass(frozen=True)
class Question:
    field: str
    number: int
    sub: str | None
    az: str
    en: str
    section_az: str | None
    section_en: str | None
    is_personal: bool

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.az

    def short_text(self, locale: str) -> str:
        """The question without its instruction ("(please tick all that apply)")."""
        return _QUESTION_INSTRUCTION.sub(" ", self.text(locale)).strip()

    def headers(self) -> set[str]:
        """Column headings that name this question."""
        found = {self.az, self.en, self.field}
        found |= {_PARENTHESES.sub(" ", text).strip() for text in (self.az, self.en)}
        return {text for text in found if label_key(text)}


@dataclass(frozen=True)
class FoundingGroup:
    key: str
    from_year: int | None
    to_year: int | None
    label_az: str
    label_en: str

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_az


@dataclass
class Match:
    """The answers found in one cell: key → free text that goes with it."""

    details: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return list(self.details)

    @property
    def has_free_text(self) -> bool:
        return bool(self.details.get(OTHER))


class _Token(NamedTuple):
    text: str
    start: int
    end: int


@lru_cache(maxsize=65_536)
def _folded_word(word: str) -> tuple[str, ...]:
    # Answers repeat the same few hundred words: folding each once keeps imports fast.
    return tuple(label_key(word).split())


def _tokens(cell: str) -> list[_Token]:
    tokens = []
    for found in _WORD.finditer(cell):
        for part in _folded_word(found.group()):
            tokens.append(_Token(part, found.start(), found.end()))
    return tokens


def _clean_free_text(text: str) -> str:
    # A leading ")" is the end of the label before it ("... (qeyd edin): names").
    return text.strip().lstrip(")]").strip().strip(",;:").strip()


class LabelMatcher:
    """Finds the known answers of one list in a cell (see the module docstring)."""

    def __init__(self, options: dict[str, Option]):
        self.options = options
        self._phrases: dict[tuple[str, ...], str] = {}
        for option in options.values():
            for phrase in option.phrases():
                words = tuple(label_key(phrase).split())
                known = self._phrases.get(words)
                if known is not None and known != option.key:
                    raise ValueError(f"{phrase!r} is a label of both {known!r} and {option.key!r}")
                self._phrases[words] = option.key
        self._longest = max((len(words) for words in self._phrases), default=0)
        other = options.get(OTHER)
        self._other_prefixes = (
            sorted((tuple(label_key(p).split()) for p in other.phrases()), key=len, reverse=True)
            if other
            else []
        )

    def match(self, cell: str) -> Match:
        text = unicodedata.normalize("NFC", cell or "")
        tokens = _tokens(text)
        n = len(tokens)

        words = [t.text for t in tokens]
        # The text between token b-1 and token b, for every boundary b, read once.
        gaps = [
            text[(tokens[b - 1].end if b > 0 else 0) : (tokens[b].start if b < n else len(text))]
            for b in range(n + 1)
        ]
        starts_answer = [b == 0 or not _SEPARATORS.isdisjoint(gaps[b]) for b in range(n + 1)]
        ends_answer = [
            b == n or not _SEPARATORS.isdisjoint(gaps[b]) or ":" in gaps[b] for b in range(n + 1)
        ]

        result = Match()
        #: free text runs, each with the answer it belongs to (None: the "other" answer)
        free_runs: list[tuple[str | None, int, int]] = []
        owner: str | None = None
        run_start: int | None = None
        i = 0
        while i < n:
            found = None
            if starts_answer[i]:
                for length in range(min(self._longest, n - i), 0, -1):
                    if not ends_answer[i + length]:
                        continue
                    key = self._phrases.get(tuple(words[i : i + length]))
                    if key is not None:
                        found = (key, length)
                        break
            if found is None:
                if run_start is None:
                    run_start = i
                i += 1
                continue
            if run_start is not None:
                free_runs.append((owner, run_start, i))
                run_start = None
            key, length = found
            result.details.setdefault(key, "")
            # "Label: names" gives the names to that answer (donors, communities).
            owner = key if ":" in gaps[i + length] and i + length < n else None
            i += length
        if run_start is not None:
            free_runs.append((owner, run_start, n))

        for run_owner, first, stop in free_runs:
            start = tokens[first - 1].end if first > 0 else 0
            end = tokens[stop].start if stop < n else len(text)
            piece = _clean_free_text(text[start:end])
            if run_owner is None:
                piece = self._without_other_prefix(piece)
            if not piece:
                continue
            target = run_owner or OTHER
            existing = result.details.get(target, "")
            result.details[target] = f"{existing}; {piece}" if existing else piece
        return result

    def _without_other_prefix(self, piece: str) -> str:
        """ "Digər: ekologiya" → "ekologiya": the label adds nothing to the free text."""
        tokens = _tokens(piece)
        words = tuple(t.text for t in tokens)
        for prefix in self._other_prefixes:
            if len(words) > len(prefix) and words[: len(prefix)] == prefix:
                rest = piece[tokens[len(prefix) - 1].end :]
                rest = rest.strip().strip(":-–—,;").strip()
                if rest.startswith("(") and rest.endswith(")"):
                    rest = rest[1:-1].strip()
                return rest
        return piece


@dataclass(eq=False)
class SurveyCatalogue:
    questions: dict[str, Question]
    options: dict[str, dict[str, Option]]
    founding_groups: tuple[FoundingGroup, ...]
    membership: dict[str, Option]
    _matchers: dict[str, LabelMatcher] = field(default_factory=dict, repr=False)

    def keys(self, list_name: str) -> list[str]:
        return list(self.options[list_name])

    def label(self, list_name: str, key: str, locale: str) -> str:
        option = self.options.get(list_name, {}).get(key) or self._other_answer(key)
        return option.label(locale) if option else key

    def _other_answer(self, key: str) -> Option | None:
        """The survey's "Other" answer, for an "other" stored on a list without one (older
        imports made such answers from free text): shown as "Digər", not as its key."""
        if key != OTHER:
            return None
        return next((options[OTHER] for options in self.options.values() if OTHER in options), None)

    def labels(self, list_name: str, locale: str) -> dict[str, str]:
        return {key: option.label(locale) for key, option in self.options[list_name].items()}

    def founding_group_of(self, year: int | None) -> str | None:
        if year is None:
            return None
        for group in self.founding_groups:
            if (group.from_year is None or year >= group.from_year) and (
                group.to_year is None or year <= group.to_year
            ):
                return group.key
        return None

    def matcher(self, list_name: str) -> LabelMatcher:
        if list_name not in self._matchers:
            source = self.membership if list_name == "membership" else self.options[list_name]
            self._matchers[list_name] = LabelMatcher(source)
        return self._matchers[list_name]


def _option(list_name: str, key: str, entry: dict) -> Option:
    labels = entry.get("az") or []
    if isinstance(labels, str):
        labels = [labels]
    return Option(
        field=list_name,
        key=str(key),
        number=entry.get("number"),
        labels_az=tuple(labels),
        label_en=entry.get("en", str(key)),
        specify=bool(entry.get("specify")),
    )


def load_catalogue(path: Path = SURVEY_LABELS_FILE) -> SurveyCatalogue:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    questions = {
        name: Question(
            field=name,
            number=entry["number"],
            sub=str(entry["sub"]) if "sub" in entry else None,
            az=entry["az"],
            en=entry["en"],
            section_az=entry.get("section_az"),
            section_en=entry.get("section_en"),
            is_personal=bool(entry.get("personal")),
        )
        for name, entry in document["questions"].items()
    }
    lists = document["lists"]
    options = {
        list_name: {
            str(key): _option(list_name, key, entry) for key, entry in lists[list_name].items()
        }
        for list_name in CHOICE_FIELDS
    }
    groups = tuple(
        FoundingGroup(
            key=str(key),
            from_year=entry.get("from_year"),
            to_year=entry.get("to_year"),
            label_az=entry["az"][0],
            label_en=entry["en"],
        )
        for key, entry in lists["founding_year_groups"].items()
    )
    membership = {
        str(key): _option("membership", key, entry) for key, entry in lists["membership"].items()
    }
    return SurveyCatalogue(questions, options, groups, membership)


@cache
def catalogue() -> SurveyCatalogue:
    """The survey's vocabulary, read once."""
    return load_catalogue()
