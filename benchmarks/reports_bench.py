"""Time and peak memory of the plan report PDF, at seed scale and for a generated plan of
2,000 measures with 50 approved updates per measure.

    .venv/bin/python benchmarks/reports_bench.py [--database-url URL]
        [--measures 2000] [--updates-per-measure 50] [--lang az]

Without --database-url it uses a new SQLite file; with a PostgreSQL URL it works in a new
schema and drops it afterwards. Each report is generated in a fresh child process, so its
peak memory (VmHWM) is its own and not the data generator's: "RSS before" is the child
with the app loaded, "peak RSS" its high-water mark while collecting and rendering.
"CPU s" is the child's own CPU time (collecting and rendering), the figure to compare on a
machine busy with other work. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from tracker import create_app
from tracker.extensions import db
from tracker.models import (
    ActionPlan,
    Agency,
    Evidence,
    Measure,
    MeasureAgency,
    MonitoringLink,
    Organisation,
    Section,
    StatusUpdate,
)
from tracker.services.plans.seeding import seed_plan_file

SEED_PLAN = "az-nap-2020-2022"
BIG_PLAN = "bench-plan-2000"
AS_OF = date(2022, 6, 30)
COMPLETIONS = ("not_started", "limited", "substantial", "complete")
NARRATIVE_AZ = (
    "Tədbirin icrası ilə bağlı məlumat sorğusu göndərilib, cavab qismən alınıb. "
    "Nazirliyin saytında dərc olunan hesabatda görülən işlər sadalanır, lakin "
    "ictimaiyyətə açıq məlumat bazası hələ yaradılmayıb. Şəffaflıq baxımından irəliləyiş "
    "məhduddur; vətəndaş cəmiyyəti təşkilatlarının təklifləri nəzərə alınmayıb. "
)
NARRATIVE_EN = (
    "A request for information was sent and partly answered. The ministry's report lists "
    "work done, but no public database exists yet. Progress on transparency is limited; "
    "the proposals of civil society organisations were not taken into account. "
)


def make_app(url: str | None, workdir: Path, schema: str | None):
    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{workdir / 'bench.db'}",
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "bench",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "REPORT_ARCHIVE_FOLDER": str(workdir / "reports"),
            "TRACKER_TODAY": AS_OF.isoformat(),
        }
    )


def _bulk(model, rows: list[dict], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start : start + chunk])


def add_updates(measure_ids: list[int], organisation_ids: list[int], per_measure: int) -> int:
    """per_measure approved updates on each measure (spread over the organisations and
    dates), each with two public evidence items and one private one."""
    decided = datetime(2022, 1, 1, tzinfo=UTC)
    next_id = (db.session.scalar(select(db.func.max(StatusUpdate.id))) or 0) + 1
    updates, evidence, links = [], [], []
    for index, measure_id in enumerate(measure_ids):
        organisations = [organisation_ids[(index + k) % len(organisation_ids)] for k in range(5)]
        for organisation_id in organisations:
            links.append(
                {
                    "organisation_id": organisation_id,
                    "measure_id": measure_id,
                    "start_date": date(2020, 3, 1),
                    "is_lead": organisation_id == organisations[0],
                }
            )
        for n in range(per_measure):
            update_id = next_id
            next_id += 1
            updates.append(
                {
                    "id": update_id,
                    "measure_id": measure_id,
                    "organisation_id": organisations[n % len(organisations)],
                    "completion": COMPLETIONS[(index + n) % len(COMPLETIONS)],
                    "progress_percent": (index * 7 + n * 3) % 101,
                    "as_of_date": date(2020, 6, 1) + timedelta(days=12 * n),
                    "narrative_az": NARRATIVE_AZ * 2,
                    "narrative_en": NARRATIVE_EN * 2,
                    "delay_reasons": ["no_funding", "information_withheld"] if n % 3 == 0 else [],
                    "review_state": "approved",
                    "is_archived": False,
                    "decided_dt": decided + timedelta(days=n),
                    "submitted_dt": decided + timedelta(days=n),
                    "created_dt": decided + timedelta(days=n),
                }
            )
            for k, private in ((0, False), (1, False), (2, True)):
                evidence.append(
                    {
                        "update_id": update_id,
                        "evidence_type": "official_website" if k == 0 else "media_report",
                        "title": f"Mənbə {k + 1}: rəsmi açıqlama və mətbuat xəbəri",
                        "url": f"https://example.gov.az/xeber/{update_id}/{k}?lang=az&ref=bench",
                        "is_private": private,
                    }
                )
    _bulk(MonitoringLink, links)
    _bulk(StatusUpdate, updates)
    _bulk(Evidence, evidence)
    return len(updates)


def generate_big_plan(measure_count: int) -> list[int]:
    plan = ActionPlan(
        key=BIG_PLAN,
        country="AZ",
        title_az="Sınaq üçün böyük Milli Fəaliyyət Planı",
        title_en="A large national action plan for benchmarking",
        period="2020–2022",
        start_year=2020,
        end_year=2022,
        source="Generated by benchmarks/reports_bench.py",
    )
    db.session.add(plan)
    db.session.flush()
    sections_count = 20
    sections = [
        Section(
            plan_id=plan.id,
            number=n + 1,
            title_az=f"Şəffaflığın gücləndirilməsi sahəsində tədbirlər, bölmə {n + 1}",
            title_en=f"Measures to strengthen transparency, section {n + 1}",
        )
        for n in range(sections_count)
    ]
    db.session.add_all(sections)
    agencies = [
        Agency(
            key=f"bench-agency-{n}", name_az=f"Sınaq Nazirliyi {n}", name_en=f"Bench Ministry {n}"
        )
        for n in range(60)
    ]
    db.session.add_all(agencies)
    db.session.flush()
    per_section = measure_count // sections_count
    measures = []
    for n in range(measure_count):
        section = sections[min(n // per_section, sections_count - 1)]
        end_year = 2020 + n % 3
        measures.append(
            {
                "plan_id": plan.id,
                "section_id": section.id,
                "code": f"{section.number}.{n % per_section + 1}",
                "position": n + 1,
                "title_az": (
                    "Dövlət orqanlarının fəaliyyətində şəffaflığın artırılması məqsədilə "
                    f"açıq məlumatların dərc edilməsi və ictimai iştirakçılığın təmini ({n + 1})"
                ),
                "title_en": (
                    "Publishing open data and ensuring public participation to increase the "
                    f"transparency of state bodies ({n + 1})"
                ),
                "indicator_az": "Məlumatlar dərc edilib",
                "indicator_en": "Data published",
                "deadline": f"2020–{end_year}" if end_year > 2020 else "2020",
                "start_year": 2020,
                "end_year": end_year,
                "due_date": date(end_year, 12, 31),
            }
        )
    _bulk(Measure, measures)
    ids = list(
        db.session.scalars(
            select(Measure.id).where(Measure.plan_id == plan.id).order_by(Measure.position)
        )
    )
    links = []
    for index, measure_id in enumerate(ids):
        for position, (role, agency) in enumerate(
            (("executor", agencies[index % 60]), ("executor", agencies[(index + 7) % 60]))
        ):
            links.append(
                {
                    "measure_id": measure_id,
                    "agency_id": agency.id,
                    "role": role,
                    "position": position,
                    "name_as_written": agency.name_az,
                }
            )
        links.append(
            {
                "measure_id": measure_id,
                "agency_id": agencies[(index + 13) % 60].id,
                "role": "recommended",
                "position": 0,
                "name_as_written": agencies[(index + 13) % 60].name_az,
            }
        )
    _bulk(MeasureAgency, links)
    return ids


def prepare(app, measures: int, per_measure: int) -> dict:
    with app.app_context():
        db.create_all()
        seed_plan_file(db.session)
        organisations = [
            Organisation(
                name_az=f"Monitorinq Təşkilatı {n}", name_en=f"Monitoring Organisation {n}"
            )
            for n in range(40)
        ]
        db.session.add_all(organisations)
        db.session.flush()
        organisation_ids = [o.id for o in organisations]
        db.session.commit()
        started = time.perf_counter()
        big_ids = generate_big_plan(measures)
        big_updates = add_updates(big_ids, organisation_ids, per_measure)
        db.session.commit()
        return {"big_plan_updates": big_updates, "generate_seconds": time.perf_counter() - started}


def add_seed_updates(app, per_measure: int) -> int:
    with app.app_context():
        plan = db.session.scalar(select(ActionPlan).where(ActionPlan.key == SEED_PLAN))
        ids = list(db.session.scalars(select(Measure.id).where(Measure.plan_id == plan.id)))
        organisation_ids = list(db.session.scalars(select(Organisation.id)))
        count = add_updates(ids, organisation_ids, per_measure)
        db.session.commit()
        return count


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process from /proc, in MB. Not ru_maxrss: Linux
    keeps that across exec, so a child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_one(args) -> None:
    """In the child process: generate one report and print its figures as JSON."""
    from tracker.services.reports.content import build_report
    from tracker.services.reports.model import ReportSpec
    from tracker.services.reports.pdf import render_pdf

    app = make_app(args.database_url, Path(args.workdir), args.schema)
    with app.app_context():
        baseline = memory_mb("VmRSS")
        spec = ReportSpec(plan_key=args.run_one, as_of=AS_OF, locale=args.lang)
        cpu_started = time.process_time()
        started = time.perf_counter()
        report = build_report(db.session, spec)
        collected = time.perf_counter()
        data = render_pdf(report)
        finished = time.perf_counter()
        cpu_seconds = time.process_time() - cpu_started
        out = Path(args.workdir) / f"{args.run_one}-{args.lang}.pdf"
        out.write_bytes(data)
        from pypdf import PdfReader

        pages = len(PdfReader(out).pages)
    print(
        json.dumps(
            {
                "measures": len(report.measures),
                "collect_seconds": round(collected - started, 2),
                "render_seconds": round(finished - collected, 2),
                "total_seconds": round(finished - started, 2),
                # the process's own CPU time: the wall time on a busy machine also counts
                # the time other processes had the CPU
                "cpu_seconds": round(cpu_seconds, 2),
                "pages": pages,
                "pdf_kb": len(data) // 1024,
                "rss_before_mb": baseline,
                "peak_rss_mb": memory_mb("VmHWM"),
            }
        )
    )


def measure(args, workdir: Path, schema: str | None, plan_key: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--run-one",
        plan_key,
        "--workdir",
        str(workdir),
        "--lang",
        args.lang,
    ]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if schema:
        command += ["--schema", schema]
    result = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--measures", type=int, default=2000)
    parser.add_argument("--updates-per-measure", type=int, default=50)
    parser.add_argument("--lang", choices=("az", "en"), default="az")
    parser.add_argument(
        "--json", action="store_true", help="end with the figures as one JSON line (run.py)"
    )
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args)
        return

    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        workdir = Path(tmp)
        schema = None
        admin = None
        if args.database_url and args.database_url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            app = make_app(args.database_url, workdir, schema)
            print(f"Database: {'PostgreSQL' if schema else 'SQLite'}; language: {args.lang}")
            prepared = prepare(app, args.measures, args.updates_per_measure)
            print(
                f"Generated {args.measures} measures with {prepared['big_plan_updates']} "
                f"approved updates in {prepared['generate_seconds']:.1f} s."
            )
            rows = [
                ("seed plan, as seeded (no updates)", measure(args, workdir, schema, SEED_PLAN))
            ]
            seed_updates = add_seed_updates(app, args.updates_per_measure)
            rows.append(
                (
                    f"seed plan + {seed_updates} approved updates",
                    measure(args, workdir, schema, SEED_PLAN),
                )
            )
            rows.append(
                (
                    f"{args.measures} measures + {prepared['big_plan_updates']} approved updates",
                    measure(args, workdir, schema, BIG_PLAN),
                )
            )
            print()
            header = (
                "scenario",
                "measures",
                "pages",
                "KB",
                "collect s",
                "render s",
                "total s",
                "CPU s",
                "RSS before MB",
                "peak RSS MB",
            )
            print(" | ".join(header))
            for label, figures in rows:
                print(
                    " | ".join(
                        str(v)
                        for v in (
                            label,
                            figures["measures"],
                            figures["pages"],
                            figures["pdf_kb"],
                            figures["collect_seconds"],
                            figures["render_seconds"],
                            figures["total_seconds"],
                            figures["cpu_seconds"],
                            figures["rss_before_mb"],
                            figures["peak_rss_mb"],
                        )
                    )
                )
            if args.json:
                kinds = ("seed", "seed_with_updates", "large")
                print(
                    json.dumps(
                        {
                            kind: {"scenario": label, **figures}
                            for kind, (label, figures) in zip(kinds, rows, strict=True)
                        }
                    )
                )
        finally:
            if admin is not None:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
