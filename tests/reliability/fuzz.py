"""Random form and filter input for the fuzz tests: the fields of a form as the page shows
them, and values that are random text in many scripts, huge and odd numbers, empty, long,
or one of the page's own valid values. No control characters: those are the input edge's
tests (tests/reliability/test_input_edge.py). Seeded, so a failure can be replayed."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

SCRIPTS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_/'\"()[]{}<>&%+=*#@$",
    "əğıöüçşƏĞİÖÜÇŞ",
    "абвгдежзийклмнопрстуфхцчшщъыьэюяЁ",
    "中文字符測試日本語カタカナ한국어",
    "العربيةעברית",
    "😀🎉🧪👩‍💻🇦🇿",
    "\u0301\u0308\u200d\u200b\u00a0\u2028\u202e\ufeff",
)
ODD_NUMBERS = (
    "9" * 309,
    "-" + "9" * 60,
    "1e999",
    "-1e308",
    "1e-400",
    "NaN",
    "inf",
    "-0",
    "0x1F",
    "1_000",
    "١٢٣",
    "²",
    "007",
    "3.14159265358979323846264338327950288",
    "2147483648",
    "-9223372036854775809",
)
ODD_TEXT = (
    "",
    " ",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "%00%0a",
    "{{ 7*7 }}",
    "a@b",
    "@",
    "x" * 300 + "@example.org",
    "2021-02-30",
    "0000-00-00",
    "9999-12-31",
    "2021-13-01",
    "true",
    "null",
)


def _no_control(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cc")


def random_text(rng: random.Random, length: int) -> str:
    pool = rng.choice(SCRIPTS) + rng.choice(SCRIPTS)
    return _no_control("".join(rng.choice(pool) for _ in range(length)))


def random_value(rng: random.Random, valid: list[str], longest: int) -> str:
    kind = rng.random()
    if valid and kind < 0.3:
        return rng.choice(valid)
    if kind < 0.45:
        return rng.choice(ODD_NUMBERS)
    if kind < 0.6:
        return rng.choice(ODD_TEXT)
    if kind < 0.7:
        return random_text(rng, rng.randint(longest // 2, longest))
    return random_text(rng, rng.randint(1, 40))


@dataclass
class FormFields:
    action: str
    method: str
    #: field name -> the values the page offers (input values, select options)
    fields: dict[str, list[str]] = field(default_factory=dict)
    submits: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[FormFields] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                FormFields(
                    attributes.get("action") or "", (attributes.get("method") or "get").lower()
                )
            )
            return
        if not self.forms:
            return
        form, name = self.forms[-1], attributes.get("name")
        if tag == "select":
            self._select = name
            if name:
                form.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            form.fields[self._select].append(attributes.get("value") or "")
        elif tag in ("input", "textarea", "button") and name and name != "csrf_token":
            kind = attributes.get("type", "text")
            if kind == "file":
                return
            if kind == "submit" or tag == "button":
                form.submits[name] = attributes.get("value") or ""
                return
            values = form.fields.setdefault(name, [])
            if attributes.get("value"):
                values.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_on(html: str, path: str) -> FormFields:
    """The form of the page whose action is `path` (its own address when it has none)."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if (urlsplit(form.action).path or path) == path and form.fields:
            return form
    raise AssertionError(f"no form posting to {path}: {[f.action for f in parser.forms]}")


def random_case(rng: random.Random, form: FormFields, longest: int) -> list[tuple[str, str]]:
    """One submission: each field once (now and then twice, or left out), and a submit."""
    data = []
    for name, valid in form.fields.items():
        roll = rng.random()
        if roll < 0.08:
            continue
        data.append((name, random_value(rng, valid, longest)))
        if roll > 0.95:
            data.append((name, random_value(rng, valid, longest)))
    if form.submits:
        data.append(rng.choice(sorted(form.submits.items())))
    return data
