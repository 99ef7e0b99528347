"""The `tracker` command line (also `python -m tracker`): a Flask group on create_app."""

from __future__ import annotations

from flask.cli import FlaskGroup

from tracker import create_app

cli = FlaskGroup(
    create_app=lambda: create_app(),
    add_version_option=False,
    help="Open Government Tracker: serve the app, seed plans, import the registry, "
    "send reminders and write reports.",
)
