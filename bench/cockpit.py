"""Benchmark the 驾驶舱 (cockpit) on N appeals: the page and each of its figures, for a zone and the city.

Fills a fresh database with bench/appeals.py's fill (default 1,000,000 appeals, 4 zones × 15
departments, assignments and escalations in realistic states, then the KPI rollups rebuilt as
`guanjia kpi rebuild` would), adds a city leader, and times, 50 runs each (p50, p95, max in ms), for
the largest zone and for the whole city, over three periods (this month, last month, this quarter):

- the cockpit page: guanjia.cockpit.views.cockpit called with a request from Django's RequestFactory
  and the city leader as its user (the figures, the links and the rendered template; no middleware);
- the figures the view computes for its context (guanjia.cockpit.figures, as the view calls them);
- each part on its own: KPIs this period + previous period (figures.kpi_cards), volume by day, by
  week, by category and by channel (figures.volume_by), open appeals by age (figures.open_by_age),
  red cards (figures.red_cards), zone comparison (figures.zone_rows: kpi.by_zone), department
  ranking (kpi.by_department + ranking.rank on every KPI + ranking.rank_composite), visits overdue
  by zone and running campaigns (their own tables, nearly empty here), and the rankings page.

It captures every statement each of them sends: exit status 2 if any mentions appeals_appeal or
appeals_assignment (the cockpit reads the daily rollups, never the appeals), 1 if a p95 is over the
300 ms target. It prints the EXPLAIN (SQLite: EXPLAIN QUERY PLAN) of every distinct statement.

SQLite: a fresh file under var/bench/cockpit-sqlite/. PostgreSQL: set DATABASE_URL (or
--database-url); the database named there (its name must contain "bench") is dropped and created
afresh, and dropped again at the end unless --keep; --reuse then measures it again without a fill.
The timing takes a lock (var/bench/cockpit.lock), so a SQLite run and a PostgreSQL run may be
started side by side: they fill at the same time but never measure at the same time.

    .venv/bin/python bench/cockpit.py                          # 1,000,000 appeals, SQLite
    .venv/bin/python bench/cockpit.py --appeals 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_cockpit .venv/bin/python bench/cockpit.py

Target: p95 < 300 ms for each.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
TARGET_MS = 300.0
PERIODS = ("this_month", "last_month", "this_quarter")
FORBIDDEN = re.compile(r'\b(appeals_appeal|appeals_assignment)\b"?', re.IGNORECASE)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import appeals as appeals_bench  # noqa: E402 - bench/appeals.py, the fill shared with it


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95, ordered[-1]


def explain(connection: Any, sql: str) -> str:
    """The plan of one captured statement (its parameters are inlined in the captured text)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _unused, detail in cursor.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)


def shape(sql: str) -> str:
    """A statement with its dates and numbers blanked: the same query for another period or zone."""
    return re.sub(r"'\d{4}-\d\d-\d\d[^']*'|\b\d+\b", "?", re.sub(r"\s+", " ", sql))


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to fill (default 1000000)")
    parser.add_argument("--zones", type=int, default=4)
    parser.add_argument("--departments", type=int, default=15, help="departments per zone (default 15)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per item (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a database kept (--keep) by an earlier run: skip the fill"
    )
    args = parser.parse_args()

    # Settings read the environment once, at django.setup(): set everything first.
    data_dir = BENCH_DIR / ("cockpit-postgresql" if args.database_url else "cockpit-sqlite")
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        if not args.reuse or not appeals_bench.postgres_exists(args.database_url):
            appeals_bench.drop_and_create_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from guanjia.appeals import kpi
    from guanjia.appeals.models import Appeal, DailyRollup
    from guanjia.cockpit import figures, ranking, views
    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role

    failures: list[str] = []
    touched: list[str] = []
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {args.appeals:,} appeals")
        print(f"migrated in {time.perf_counter() - started:.1f} s")
        if args.reuse and Appeal.objects.count() >= args.appeals:
            print(f"reused {Appeal.objects.count():,} appeals (not filled again)")
        else:
            # Prints the fill's and the KPI rollups' rebuild times (neither is counted below), and
            # on PostgreSQL runs VACUUM ANALYZE after the load.
            appeals_bench.fill(args.appeals, args.zones, args.departments, random.Random(20261127))
        print(f"daily rollup rows: {DailyRollup.objects.count():,}")

        city = OrgUnit.objects.get(code="bench-city")
        leader, created = User.objects.get_or_create(
            username="leader-city", defaults={"full_name": "市领导", "unit": city}
        )
        if created:
            leader.set_unusable_password()
            leader.save(update_fields=["password"])
            RoleGrant.objects.create(user=leader, role=Role.LEADER)
        leader = User.objects.get(pk=leader.pk)
        largest = OrgUnit.objects.get(code="bench-z0")  # zones weigh 4:3:2:1: the first is the largest
        day = figures.current_day()
        factory = RequestFactory()

        def page(view: Callable[..., Any], url_name: str, query: dict[str, Any]) -> Callable[[], int]:
            def call() -> int:
                request = factory.get(reverse(url_name), query)
                request.user = leader
                request.session = {}  # type: ignore[assignment]
                response = view(request)
                assert response.status_code == 200, response.status_code
                return len(response.content)

            return call

        def context_figures(scope: figures.CockpitScope, period: kpi.Period) -> int:
            """What views.cockpit computes before it renders (the links aside)."""
            found: list[Sized] = [
                figures.volume_by(scope, period, figures.time_axis(period)),
                figures.volume_by(scope, period, "category"),
                figures.volume_by(scope, period, "channel"),
                figures.open_by_age(scope, day),
                figures.kpi_cards(scope, period),
                figures.zone_rows(scope, period),
                figures.visit_rows(scope, day),
                figures.running_campaigns(scope, day),
                [figures.red_cards(scope, period)],
                figures.zones_of(scope) if scope.many_zones else [],
            ]
            return sum(len(part) for part in found)

        def department_ranking(scope: figures.CockpitScope, period: kpi.Period) -> int:
            units = kpi.by_department(scope.kpi_scope, period)
            for code in kpi.KPIS:
                ranking.rank(units, code)
            return len(ranking.rank_composite(units))

        def items(
            scope: figures.CockpitScope, name: str, period: kpi.Period
        ) -> list[tuple[str, Callable[[], Any]]]:
            query: dict[str, Any] = {"period": name}
            if scope.zone is not None:
                query["zone"] = scope.zone.pk
            return [
                ("page (view, rendered)", page(views.cockpit, "cockpit:index", query)),
                ("figures of the page", lambda: context_figures(scope, period)),
                ("KPIs + previous period", lambda: len(figures.kpi_cards(scope, period))),
                ("volume by day", lambda: len(figures.volume_by(scope, period, "day"))),
                ("volume by week", lambda: len(figures.volume_by(scope, period, "week"))),
                ("volume by category", lambda: len(figures.volume_by(scope, period, "category"))),
                ("volume by channel", lambda: len(figures.volume_by(scope, period, "channel"))),
                ("open by age", lambda: sum(bar.value for bar in figures.open_by_age(scope, day))),
                ("red cards", lambda: figures.red_cards(scope, period)),
                ("zone comparison (by_zone)", lambda: len(figures.zone_rows(scope, period))),
                ("department ranking", lambda: department_ranking(scope, period)),
                ("visits overdue by zone", lambda: len(figures.visit_rows(scope, day))),
                ("running campaigns", lambda: len(figures.running_campaigns(scope, day))),
                ("rankings page (view, rendered)", page(views.rankings, "cockpit:rankings", query)),
            ]

        scopes = [
            (f"zone {largest.name}", figures.resolve_scope(leader, largest.pk)),
            (f"city ({len(leader.zone_ids())} zones)", figures.resolve_scope(leader, None)),
        ]
        plans: dict[str, tuple[str, str]] = {}  # shape -> (first label, sql)

        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        with open(BENCH_DIR / "cockpit.lock", "w") as lock:
            waited = time.perf_counter()
            fcntl.flock(lock, fcntl.LOCK_EX)  # one benchmark measures at a time
            if time.perf_counter() - waited > 1:
                print(f"waited {time.perf_counter() - waited:.0f} s for the other run's timing to end")
            load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
            print(f"\ntoday {day}; {args.runs} runs each; ms; load average {load}")
            for scope_label, scope in scopes:
                for name in PERIODS:
                    period = figures.preset_period(name, day)
                    print(f"\n== {scope_label}, {name} {period.start} – {period.end} (end excluded)")
                    print(f"{'':<32} {'p50':>7} {'p95':>7} {'max':>7}  queries  result")
                    for label, call in items(scope, name, period):
                        for _ in range(3):
                            call()  # warm the connection, the caches and the page cache
                        with CaptureQueriesContext(connection) as captured:
                            call()
                        statements = [q["sql"] for q in captured.captured_queries]
                        for sql in statements:
                            if FORBIDDEN.search(sql):
                                touched.append(f"{scope_label}, {name}, {label}: {sql[:300]}")
                            if sql.lstrip().upper().startswith("SELECT"):
                                plans.setdefault(shape(sql), (f"{scope_label}, {name}, {label}", sql))
                        samples = []
                        for _ in range(args.runs):
                            started = time.perf_counter()
                            result = call()
                            samples.append((time.perf_counter() - started) * 1000)
                        p50, p95, worst = percentiles(samples)
                        verdict = ""
                        if p95 >= TARGET_MS:
                            verdict = f"  OVER the {TARGET_MS:g} ms target"
                            failures.append(f"{scope_label}, {name}, {label}: p95 {p95:.1f} ms")
                        print(
                            f"{label:<32} {p50:7.1f} {p95:7.1f} {worst:7.1f}  {len(statements):>7}  "
                            f"{result}{verdict}",
                            flush=True,
                        )

        print(f"\nplans ({len(plans)} distinct SELECTs; dates and ids aside):")
        for number, (where, sql) in enumerate(plans.values(), start=1):
            short = re.sub(r"\s+", " ", sql)
            print(f"--- {number}. ({where}) {short[:400]}{'…' if len(short) > 400 else ''}")
            print(explain(connection, sql))
    finally:
        connection.close()
        if args.database_url and not args.keep:
            appeals_bench.drop_and_create_postgres(args.database_url, create=False)
        if args.keep:
            print(f"kept: {args.database_url or data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if touched:
        print("\nFAILED: the cockpit read the appeals or assignments tables:\n  " + "\n  ".join(touched))
        return 2
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nno statement read appeals_appeal or appeals_assignment; every p95 under the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
