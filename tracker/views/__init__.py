"""Blueprints. Each area is one module; register it here."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from tracker.views import api, errors, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    # Areas add their blueprints below, one import and one line each.
    from tracker.views import admin, auth

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    from tracker.views import claims, files, monitor, monitoring_api, review

    app.register_blueprint(monitor.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(claims.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(monitoring_api.bp)
    from tracker.views import calendar, notifications, reminders_admin

    app.register_blueprint(notifications.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(reminders_admin.bp)
    from tracker.views import opendata, opendata_api, reports

    app.register_blueprint(reports.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(opendata_api.bp)
    from tracker.views import registry, registry_admin, registry_api

    registry.init_app(app)  # the public pages and the measure page's monitors
    app.register_blueprint(registry_admin.bp)
    app.register_blueprint(registry_api.bp)
    errors.init_app(app)


def register_page_provider(app: Flask, page: str, provider) -> None:
    """Let an area add data to a public page it does not own.

    `page` is "measure" (provider(measure, state) -> dict) or "organisation"
    (provider(organisation) -> dict); the page template includes the area's partial.
    """
    app.extensions.setdefault(f"tracker_{page}_page_providers", []).append(provider)
