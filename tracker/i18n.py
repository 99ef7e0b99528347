"""Languages: Azerbaijani (default) and English, chosen by ?lang=, remembered in the session."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException

from tracker import dates, numbers
from tracker.catalogs import compiled_translations
from tracker.extensions import babel
from tracker.web.links import language_arg

LANGUAGES = ("az", "en")
#: each language's name in that language, as a language switch or chooser offers it; a
#: page marks it with its lang (the name is read in its own language, WCAG 3.1.2)
LANGUAGE_NAMES = {"az": "Azərbaycanca", "en": "English"}


def select_locale() -> str:
    """?lang=, then the language remembered in this visitor's session, then the account's,
    then Accept-Language for the JSON API, then the default (Azerbaijani)."""
    if not has_request_context():
        # CLI commands and jobs choose their language with flask_babel.force_locale.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        session["lang"] = requested
        return requested
    return interface_locale()


def interface_locale() -> str:
    """The visitor's language without ?lang=, for a page whose ?lang= means something else
    (a report's language): the session's, the account's, the header's (API), the default."""
    chosen = chosen_locale()
    if chosen is not None:
        return chosen
    # Pages speak Azerbaijani unless asked; API clients say what they read in the header.
    if request.path.startswith("/api/"):
        accepted = request.accept_languages.best_match(LANGUAGES)
        if accepted:
            return accepted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def chosen_locale() -> str | None:
    """The language this visitor chose: remembered in the session, or their account's;
    None for a visitor who never chose one."""
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    return None


def locale_of_link_for(person_locale: str | None) -> str:
    """The language of a page reached by a link made for one person (an email's): ?lang=
    or the visitor's own choice, else that person's language, not the default."""
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        return requested
    chosen = chosen_locale()
    if chosen is not None:
        return chosen
    return person_locale if person_locale in LANGUAGES else current_locale()


def current_locale() -> str:
    return str(get_locale() or "az")


def page_language_arg() -> dict[str, str]:
    """The ?lang= that keeps this page's language in a link opened without the visitor's
    session, such as a feed's address given to a feed reader; none for the default."""
    return language_arg(current_locale())


def localized(obj, attr: str) -> str:
    """obj.<attr>_en in English when it is filled, else obj.<attr>_az."""
    if current_locale() == "en":
        value = getattr(obj, f"{attr}_en", "")
        if value:
            return value
    return getattr(obj, f"{attr}_az")


def init_app(app: Flask) -> None:
    # The .po files compiled into the instance folder (tracker/catalogs.py says why).
    translations = compiled_translations(Path(app.instance_path) / "translations")
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(translations),
    )
    from tracker import vocabulary

    app.jinja_env.globals.update(
        current_locale=current_locale,
        localized=localized,
        url_with_lang=url_with_lang,
        page_language_arg=page_language_arg,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
    )
    # Dates and times as people read them (tracker.dates): {{ day|date }} (a moment's day in
    # Baku), {{ day|month }}, {{ moment|datetime }}
    # in Baku time, {{ moment|datetime_utc }} where the page says UTC; numbers with the
    # language's signs (tracker.numbers): {{ share|percent }}, {{ mean|number }}.
    app.jinja_env.filters.update(
        date=dates.show_date,
        month=dates.show_month,
        percent=numbers.show_percent,
        number=numbers.show_number,
        datetime=dates.show_datetime,
        datetime_utc=lambda value: dates.show_datetime(value, utc=True),
    )
    # Label tables of the fixed vocabulary, for templates and macros alike.
    app.jinja_env.globals.update(
        {name: getattr(vocabulary, name) for name in dir(vocabulary) if name.endswith("_LABELS")}
    )


def url_with_lang(lang: str) -> str:
    """The current page's URL with ?lang= set, keeping its other arguments. A page that
    answers a form at a URL that takes no GET switches on the page the form was on (the
    same-site referrer; the home page without one): a GET of the form's URL would be a
    405. A form's URL that a GET opens (the review form's) is switched in place."""
    path, args = request.path, request.args.to_dict(flat=False)
    rule = request.url_rule
    if rule is not None and "GET" not in (rule.methods or ()) and not _answers_get(path):
        path, args = _form_page()
    args["lang"] = [lang]
    return f"{path}?{urlencode(args, doseq=True)}"


def _answers_get(path: str) -> bool:
    """Whether a GET of `path` is answered (a form's address that opens its page again)."""
    try:
        current_app.create_url_adapter(request).match(path, method="GET")
    except HTTPException:
        return False
    return True


def _form_page() -> tuple[str, dict[str, list[str]]]:
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path, parse_qs(referrer.query, keep_blank_values=True)
    return "/", {}
