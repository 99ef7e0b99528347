"""The `tracker` commands, one module per feature; create_app registers them on app.cli,
so `flask --app wsgi <command>` works too. The `tracker` entry point is tracker.cli."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

#: the language of every command's messages: its own words and help are English, and the
#: services' messages it prints must not come in the default (Azerbaijani) beside them
CLI_LOCALE = "en"


class CommandLine(AppGroup):
    """`app.cli`: runs each command, and its options' checks, with English messages.

    Flask pushes the app context on the same click context just before it looks up the
    command, so the language is set there too and ends before the app context does.
    Emails and reports choose their own language inside, with force_locale."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None and current_app:
            ctx.with_resource(force_locale(CLI_LOCALE))
        return command


def register_commands(app: Flask) -> None:
    english = CommandLine(app.cli.name)
    for command in app.cli.commands.values():
        english.add_command(command)
    app.cli = english
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
