"""Fill a database with public data at the scale of every OGP plan.

    .venv/bin/python benchmarks/ogp_data.py --database-url URL \
        [--plans 300] [--measures 5000] [--organisations 10000] [--updates 1000000]

Creates or upgrades the schema and seeds the plan and registry (`tracker init-db`), then
adds plans, measures, agencies, organisations, monitoring links and approved updates up to
the totals (tests/ogp_scale.py: COPY on PostgreSQL), with a progress bar. benchmarks/run.py
--scale ogp does the same in a database of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import TRACKER, progress_bar  # noqa: E402
from tests import ogp_scale  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--plans", type=int, default=ogp_scale.OGP.plans)
    parser.add_argument("--measures", type=int, default=ogp_scale.OGP.measures)
    parser.add_argument("--organisations", type=int, default=ogp_scale.OGP.organisations)
    parser.add_argument("--updates", type=int, default=ogp_scale.OGP.updates)
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url}
    subprocess.run([TRACKER, "init-db"], env=env, check=True)  # noqa: S603
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    scale = ogp_scale.Scale(args.plans, args.measures, args.organisations, args.updates)
    started = time.perf_counter()
    with app.app_context():
        ogp_scale.build(db.session, scale, progress_bar)
        print(ogp_scale.counts(db.session), f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
