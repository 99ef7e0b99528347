"""What the registry's pages show beside the records: the survey's answer labels and
question texts in the page's language, and safe links to the websites the survey gave.
Both the public and the admin pages of the registry take these into their templates."""

from __future__ import annotations

import re

from tracker.services.registry.labels import MULTI_FIELDS, STAFF_FIELDS, catalogue


def web_link(text: str) -> str | None:
    """An href for a website the survey gave, only for web addresses (never javascript:)."""
    text = (text or "").strip()
    if re.match(r"^https?://[^\s<>\"']+$", text, re.IGNORECASE):
        return text
    if re.match(r"^(www\.)?[\w-]+(\.[\w-]+)+(/[^\s<>\"']*)?$", text):
        return f"https://{text}"
    return None


def template_helpers(locale: str) -> dict:
    """The names the registry's templates use, for a page in `locale`."""
    labels = catalogue()
    return {
        "survey_label": lambda list_name, key: labels.label(list_name, key, locale),
        "survey_question": lambda name: labels.questions[name].short_text(locale),
        "web_link": web_link,
        "REGISTRY_MULTI_FIELDS": MULTI_FIELDS,
        "STAFF_FIELDS": STAFF_FIELDS,
    }
