"""Blueprints. Each area is one module; register it here."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from tracker.views import api, errors, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    errors.init_app(app)
