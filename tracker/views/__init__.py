"""Blueprints: one package per feature (views/<feature>/), and views/api/ for the JSON API."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Every feature's blueprints, and the error pages."""
    from tracker.views.accounts import admin, auth
    from tracker.views.api import monitoring as monitoring_api
    from tracker.views.api import opendata as opendata_api
    from tracker.views.api import plans as plans_api
    from tracker.views.api import registry as registry_api
    from tracker.views.monitoring import claims, files, monitor, review
    from tracker.views.plans import public
    from tracker.views.registry import admin as registry_admin
    from tracker.views.registry import public as registry
    from tracker.views.reminders import admin as reminders_admin
    from tracker.views.reminders import calendar, notifications
    from tracker.views.reports import downloads, opendata
    from tracker.web import errors

    for blueprint in (
        public.bp,
        plans_api.bp,
        auth.bp,
        admin.bp,
        monitor.bp,
        review.bp,
        claims.bp,
        files.bp,
        monitoring_api.bp,
        notifications.bp,
        calendar.bp,
        reminders_admin.bp,
        downloads.bp,
        opendata.bp,
        opendata_api.bp,
        registry.bp,
        registry_admin.bp,
        registry_api.bp,
    ):
        app.register_blueprint(blueprint)
    errors.init_app(app)
