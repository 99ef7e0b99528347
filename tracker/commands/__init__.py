"""The `tracker` commands, one module per feature; create_app registers them on app.cli,
so `flask --app wsgi <command>` works too. The `tracker` entry point is tracker.cli."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from tracker.commands import (
        accounts,
        backup,
        monitoring,
        plans,
        registry,
        reminders,
        reports,
        serve,
        translations,
    )

    app.cli.add_command(plans.seed_command)
    app.cli.add_command(serve.serve_command)
    app.cli.add_command(serve.init_db_command)
    app.cli.add_command(translations.translations_command)
    accounts.register(app)
    backup.register(app)
    reminders.register(app)
    monitoring.register(app)
    app.cli.add_command(reports.report_command)
    app.cli.add_command(reports.archive_report_command)
    app.cli.add_command(registry.import_organisations_command)
    app.cli.add_command(registry.organisations_template_command)
    app.cli.add_command(registry.link_measures_command)
