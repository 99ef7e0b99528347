"""Blueprints: one package per feature (views/<feature>/), and views/api/ for the JSON API."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Every feature's blueprints, and the error pages."""
    # The JSON API is one blueprint, api.bp; importing its route modules adds their routes.
    import tracker.views.api.monitoring
    import tracker.views.api.opendata
    import tracker.views.api.plans
    import tracker.views.api.registry  # noqa: F401
    from tracker.views import api
    from tracker.views.accounts import admin, auth, two_step
    from tracker.views.monitoring import claim_review, claims, files, monitor, review
    from tracker.views.plans import admin as plans_admin
    from tracker.views.plans import public
    from tracker.views.registry import admin as registry_admin
    from tracker.views.registry import public as registry
    from tracker.views.reminders import admin as reminders_admin
    from tracker.views.reminders import calendar, notifications
    from tracker.views.reports import downloads, opendata
    from tracker.web import errors

    for blueprint in (
        public.bp,
        plans_admin.bp,
        api.bp,
        auth.bp,
        two_step.bp,
        admin.bp,
        monitor.bp,
        review.bp,
        claims.bp,
        claim_review.bp,
        files.bp,
        notifications.bp,
        calendar.bp,
        reminders_admin.bp,
        downloads.bp,
        opendata.bp,
        registry.bp,
        registry_admin.bp,
    ):
        app.register_blueprint(blueprint)
    errors.init_app(app)
