"""Blueprints. Each area is one module; register it here."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from tracker.views import api, errors, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    # Areas add their blueprints below, one import and one line each.
    errors.init_app(app)


def register_page_provider(app: Flask, page: str, provider) -> None:
    """Let an area add data to a public page it does not own.

    `page` is "measure" (provider(measure, state) -> dict) or "organisation"
    (provider(organisation) -> dict); the page template includes the area's partial.
    """
    app.extensions.setdefault(f"tracker_{page}_page_providers", []).append(provider)
