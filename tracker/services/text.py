"""Azerbaijani-aware text matching for searches and imports."""

from __future__ import annotations

import re
import unicodedata

# Azerbaijani (like Turkish) pairs I/ı and İ/i; Python's lower() gets both wrong.
_AZ_UPPER_TO_LOWER = str.maketrans({"I": "ı", "İ": "i"})
# Folding lets a query typed on a keyboard without Azerbaijani letters still match.
_AZ_FOLD = str.maketrans({"ə": "e", "ı": "i", "ö": "o", "ü": "u", "ş": "s", "ç": "c", "ğ": "g"})
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def az_lower(text: str) -> str:
    """Lower-case with Azerbaijani rules: "İ" → "i", "I" → "ı"."""
    return unicodedata.normalize("NFC", text).translate(_AZ_UPPER_TO_LOWER).lower()


def fold(text: str) -> str:
    """A search key: Azerbaijani lower case, letters folded to ASCII, spaces collapsed.
    "İqtisadiyyat", "Iqtisadiyyat" and "iqtisadiyyat" fold alike, and "hokumet" matches
    "hökumət"."""
    lowered = az_lower(text).translate(_AZ_FOLD)
    # Remove any other combining marks left after decomposition.
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped).strip()


def label_key(text: str) -> str:
    """A comparison key that also ignores punctuation: for matching labels and names."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def matches_all_words(query: str, *texts: str) -> bool:
    """True when every word of the query occurs in the folded texts."""
    haystack = " ".join(fold(t) for t in texts if t)
    return all(word in haystack for word in fold(query).split())
