"""Open Government Tracker: CSO monitoring of OGP national action plans."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tracker.config import PROJECT_ROOT, build_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app. Wires extensions, blueprints and commands; starts nothing."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )

    app.config.from_mapping(build_config(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    # UTF-8 JSON: Azerbaijani letters as they are, not as \u escapes.
    app.json.ensure_ascii = False

    import tracker.models  # noqa: F401  (registers every table on the metadata)
    from tracker import data_version, database, i18n, request_isolation, security
    from tracker.extensions import csrf, db, migrate
    from tracker.web import converters, input_edge, request_origin

    request_isolation.init_app(app)
    input_edge.init_app(app)  # before anything reads the request's text
    db.init_app(app)
    request_origin.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    data_version.listen()
    from tracker.web import public_cache

    public_cache.init_app(app)

    from tracker.views import register_blueprints

    converters.init_app(app)
    register_blueprints(app)

    from tracker.commands import register_commands

    register_commands(app)
    _trust_proxy_headers(app)
    # how a worker process builds this same app from its configuration (the reminder
    # run's delivery processes): held here, so that services need not import the factory
    app.extensions["app_factory"] = create_app
    return app


def _trust_proxy_headers(app: Flask) -> None:
    """Behind TRACKER_PROXY_HOPS reverse proxies, take the client's address and scheme
    from their X-Forwarded-For and X-Forwarded-Proto headers, and from nothing else."""
    hops = int(app.config.get("TRACKER_PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0)
