"""The public scorecard: no login, server-rendered, works without JavaScript."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
