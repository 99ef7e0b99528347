"""The public JSON API, version 1: one blueprint, "api" under /api/v1, for every feature's
public material. Each route module adds its routes to `bp`:

- plans.py: action plans and the agencies they name, with their figures;
- opendata.py: measures (filtered and paged), one measure, approved updates, a plan's
  scorecard and the OpenAPI document;
- monitoring.py: the approved updates of one measure;
- registry.py: the NGO registry's public fields and live statistics.

arguments.py reads the query string, serializers.py writes the JSON objects, and
openapi.py with openapi_schemas.py describes every route. Errors are the app's error
answers (tracker.web.errors_map), which are JSON under /api/.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
