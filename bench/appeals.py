"""Benchmark the appeal worklists, the dispatcher's queue, the 督办看板 and the escalation sweep on N appeals.

Fills a fresh database with N appeals (default 1,000,000) spread over several
zones and departments, with assignments and escalations in realistic states
(bulk insert), then measures, through the code the pages and the worker run:

- intake: appeals per second through guanjia.appeals.lifecycle.submit_appeal (--intake of them);
- p50/p95 of a department's worklist tabs (worklists.worklist_page: a page of 30 rows plus every
  tab's badge, which gives the page count), of the dispatcher's queue (a page plus its count) and
  of the supervisor's board (worklists.board_page: page, levels, counts per department);
- the time of one guanjia.appeals.escalation.sweep() with 1% of the appeals due;
- EXPLAIN (SQLite: EXPLAIN QUERY PLAN) of the worklist, queue, board and sweep queries. It fails
  (exit status 2) if a plan reads the appeal or assignment table in full.

SQLite: a fresh file under var/bench/sqlite/. PostgreSQL: set DATABASE_URL (or --database-url); the
database named there (its name must contain "bench") is dropped and created afresh, and dropped
again at the end unless --keep. With --keep and then --reuse, a later run measures the database
kept without filling it again (the earlier run's intake and sweep have changed it a little).

    .venv/bin/python bench/appeals.py                          # 1,000,000 appeals, SQLite
    .venv/bin/python bench/appeals.py --appeals 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_appeals .venv/bin/python bench/appeals.py

Targets: worklist tabs and queue p95 < 50 ms; one sweep over 1,000,000 appeals with 1% due < 1 s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
CHUNK = 10_000
PAGE = 30
TABS = ("sign", "doing", "soon", "overdue", "waiting")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TITLES = [
    "厂房消防验收咨询",
    "用地规划调整",
    "人才公寓申请",
    "水电增容",
    "环评审批进度",
    "政策兑现",
    "道路施工影响",
]

# Shares of N, by the state an appeal is in at the benchmark's "now". The in-hand shares marked
# "due" add up to 1%: the sweep has work to do for exactly those.
MIX = [
    ("closed", 0.9390),
    ("answered", 0.0100),
    ("declined", 0.0100),
    ("submitted", 0.0060),
    ("returned", 0.0010),
    ("dispatched", 0.0010),  # unsigned, sign deadline not yet passed
    ("signed", 0.0150),  # answer deadline ahead, past the warning horizon
    ("overdue_escalated", 0.0050),  # overdue for days, 预警/催办/红牌 all written already
    ("waiting", 0.0030),  # 待补充材料: half of them past answer_due, the clock stopped
    ("due_warning", 0.0015),  # due: 预警
    ("due_sign", 0.0015),  # due: 签收催办
    ("due_yellow", 0.0050),  # due: 催办 (answer deadline passed within 2 days)
    ("due_red", 0.0020),  # due: 红牌 (催办 written, 3+ working days overdue)
]


def drop_and_create_postgres(url: str, *, create: bool = True) -> None:
    """Drop the database named in url if it exists, then create it (connecting to 'postgres' to do so)."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        # It drops the database: never one that is not obviously a benchmark's own.
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def postgres_exists(url: str) -> bool:
    import psycopg

    parsed = urlparse(url)
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parsed.path.lstrip("/")])
        return found.fetchone() is not None


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


def pick_state(rng: random.Random, cumulative: list[tuple[float, str]]) -> str:
    x = rng.random()
    for bound, state in cumulative:
        if x < bound:
            return state
    return "closed"


@dataclass
class Filled:
    """What fill() made: the organisation, its people and enterprises, keyed by zone / department pk."""

    zones: list[Any]
    departments: dict[int, list[Any]]
    dispatchers: dict[int, Any]
    supervisors: dict[int, Any]
    handlers: dict[int, Any]
    enterprises: dict[int, list[int]]
    categories: list[Any]
    horizon: datetime


def fill(n_appeals: int, n_zones: int, n_departments: int, rng: random.Random) -> Filled:  # noqa: C901, PLR0915
    """Fill the (migrated, empty) database: organisation, people, enterprises, then n_appeals appeals
    with their assignments and escalations (bulk), and rebuild the KPI rollups. Django must be set up."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guanjia.appeals import escalation, rollups
    from guanjia.appeals.defaults import ensure_default_categories
    from guanjia.appeals.models import Appeal, Assignment, Channel, DailyRollup, Escalation, Status
    from guanjia.core import workcalendar
    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role
    from guanjia.enterprises.models import Enterprise
    from guanjia.enterprises.uscc import with_check_digit

    # --- organisation, people, enterprises -----------------------------------------
    city = OrgUnit.objects.create(name="基准市", code="bench-city", kind=OrgUnit.Kind.CITY)
    zones, departments, centres = [], {}, {}
    dispatchers, supervisors, handlers = {}, {}, {}
    user_rows, grants = [], []

    def person(username: str, unit: OrgUnit, role: str, email: str = "") -> User:
        user = User(username=username, full_name=username, unit=unit, email=email)
        user.set_unusable_password()
        user_rows.append(user)
        grants.append((user, role))
        return user

    for z in range(n_zones):
        zone = OrgUnit.objects.create(
            name=f"基准园区{z}", code=f"bench-z{z}", kind=OrgUnit.Kind.ZONE, parent=city
        )
        zones.append(zone)
        centres[zone.pk] = OrgUnit.objects.create(
            name=f"基准园区{z}企业服务中心",
            code=f"bench-z{z}-centre",
            kind=OrgUnit.Kind.DEPARTMENT,
            parent=zone,
            is_dispatch_desk=True,
        )
        departments[zone.pk] = [
            OrgUnit.objects.create(
                name=f"基准园区{z}部门{d}",
                code=f"bench-z{z}-d{d}",
                kind=OrgUnit.Kind.DEPARTMENT,
                parent=zone,
            )
            for d in range(n_departments)
        ]
        dispatchers[zone.pk] = person(f"dispatcher{z}", centres[zone.pk], Role.DISPATCHER)
        supervisors[zone.pk] = person(f"supervisor{z}", centres[zone.pk], Role.SUPERVISOR)
        person(f"leader{z}", zone, Role.LEADER, f"leader{z}@bench.invalid")
        for d, dept in enumerate(departments[zone.pk]):
            handlers[dept.pk] = person(f"handler{z}-{d}", dept, Role.HANDLER, f"h{z}-{d}@bench.invalid")
            person(f"head{z}-{d}", dept, Role.DEPARTMENT_HEAD, f"head{z}-{d}@bench.invalid")
    User.objects.bulk_create(user_rows)
    RoleGrant.objects.bulk_create([RoleGrant(user=u, role=r) for u, r in grants])

    n_enterprises = max(200, n_appeals // 50)
    enterprises: dict[int, list[int]] = {zone.pk: [] for zone in zones}
    batch = []
    for i in range(n_enterprises):
        zone = zones[i % len(zones)]
        serial = ""
        k = i
        for _ in range(8):
            k, digit = divmod(k, len(USCC_ALPHABET))
            serial = USCC_ALPHABET[digit] + serial
        batch.append(Enterprise(uscc=with_check_digit(f"91320599{serial}0"), name=f"基准企业{i}", zone=zone))
    for enterprise in Enterprise.objects.bulk_create(batch, batch_size=5000):
        enterprises[enterprise.zone_id].append(enterprise.pk)
    categories = list(ensure_default_categories().values())

    # --- appeals, assignments, escalations (bulk) -------------------------------------
    now = timezone.now()
    horizon = escalation.warning_horizon(now)  # answer deadlines up to here are due a 预警
    cumulative, total = [], 0.0
    for state, share in MIX:
        total += share
        cumulative.append((total, state))

    # Skewed as in life: zones weigh 4:3:2:1 (with four), and within a zone the departments
    # follow Zipf's law, the busiest taking about 30% of the zone's appeals (with 15).
    zone_weights = list(itertools.accumulate(range(len(zones), 0, -1)))
    dept_weights = list(itertools.accumulate(1 / (k + 1) for k in range(n_departments)))

    def department_of(zone: OrgUnit) -> OrgUnit:
        return rng.choices(departments[zone.pk], cum_weights=dept_weights)[0]

    def zone_of() -> OrgUnit:
        return rng.choices(zones, cum_weights=zone_weights)[0]

    def at_midnight(moment: datetime) -> datetime:
        day = moment.astimezone(workcalendar.BEIJING).date() + timedelta(days=1)
        return datetime.combine(day, datetime.min.time(), tzinfo=workcalendar.BEIJING)

    counts: dict[str, int] = {}
    fill_started = time.perf_counter()
    done = 0
    while done < n_appeals:
        size = min(CHUNK, n_appeals - done)
        appeals: list[Appeal] = []
        plans: list[tuple[str, Any, datetime]] = []
        for _ in range(size):
            state = pick_state(rng, cumulative)
            counts[state] = counts.get(state, 0) + 1
            zone = zone_of()
            dept = department_of(zone)
            recent = state not in ("closed", "declined")
            age = timedelta(days=rng.uniform(0, 20) if recent else rng.uniform(20, 3 * 365))
            submitted = now - age
            status = {
                "closed": Status.CLOSED,
                "answered": Status.ANSWERED,
                "declined": Status.DECLINED,
                "submitted": Status.SUBMITTED,
                "returned": Status.RETURNED,
                "dispatched": Status.DISPATCHED,
                "due_sign": Status.DISPATCHED,
                "waiting": Status.WAITING,
            }.get(state, Status.SIGNED)
            accept_due = at_midnight(submitted + timedelta(days=1))
            if state == "submitted":
                submitted = now - timedelta(hours=rng.uniform(0, 72))
                accept_due = at_midnight(submitted + timedelta(days=1))
            appeal = Appeal(
                zone=zone,
                enterprise_id=rng.choice(enterprises[zone.pk]),
                category=rng.choice(categories),
                title=f"{rng.choice(TITLES)}（{done + len(appeals)}）",
                body="基准测试生成的诉求内容，描述企业遇到的困难和期望的办理结果。",
                channel=rng.choice(Channel.values),
                urgent=rng.random() < 0.05,
                confidential=rng.random() < 0.05,
                status=status,
                submitted_by=dispatchers[zone.pk],
                submitted_at=submitted,
                accept_due=accept_due,
                accepted_at=None if status in (Status.SUBMITTED, Status.DECLINED) else submitted,
                decline_reason="不属于受理范围" if status == Status.DECLINED else "",
                decline_advice="建议向有关部门反映" if status == Status.DECLINED else "",
            )
            if status in (Status.CLOSED, Status.ANSWERED):
                appeal.answered_at = submitted + timedelta(days=rng.uniform(1, 10))
                appeal.rate_due = appeal.answered_at + timedelta(days=3)
                if status == Status.CLOSED:
                    appeal.closed_at = appeal.rate_due
            appeals.append(appeal)
            plans.append((state, dept, submitted))
        with transaction.atomic():
            Appeal.objects.bulk_create(appeals, batch_size=2000)
            assignments: list[Assignment] = []
            escalate: list[tuple[Assignment, str]] = []
            for appeal, (state, dept, submitted) in zip(appeals, plans, strict=True):
                if state in ("submitted", "declined"):
                    continue
                dispatched = submitted + timedelta(hours=rng.uniform(1, 20))
                sign_due = at_midnight(dispatched + timedelta(days=1))
                answer_due = at_midnight(dispatched + timedelta(days=7))
                lead = Assignment(
                    appeal=appeal,
                    department=dept,
                    is_lead=True,
                    dispatched_at=dispatched,
                    sign_due=sign_due,
                    signed_at=dispatched + timedelta(hours=2),
                    answer_due=answer_due,
                    original_answer_due=answer_due,
                    answer_days=5,
                )
                levels: tuple[str, ...] = ()
                if state in ("closed", "answered"):
                    lead.answered_at = appeal.answered_at
                    lead.outcome = "solved"
                    if appeal.answered_at and appeal.answered_at > answer_due:
                        levels = (Escalation.Level.WARNING, Escalation.Level.YELLOW)
                elif state == "returned":
                    lead.is_current = False
                    lead.returned_at = dispatched + timedelta(hours=3)
                    lead.return_reason = "不属于本部门职责"
                elif state in ("dispatched", "due_sign"):
                    lead.signed_at = None
                    lead.dispatched_at = now - timedelta(hours=rng.uniform(1, 20))
                    if state == "dispatched":
                        lead.sign_due = max(horizon, at_midnight(now)) + timedelta(days=1)
                    else:
                        lead.sign_due = now - timedelta(minutes=rng.uniform(1, 600))
                    lead.answer_due = lead.original_answer_due = horizon + timedelta(days=rng.uniform(2, 10))
                elif state == "signed":
                    lead.answer_due = lead.original_answer_due = horizon + timedelta(days=rng.uniform(1, 15))
                elif state == "waiting":
                    if rng.random() < 0.5:
                        lead.answer_due = horizon + timedelta(days=rng.uniform(1, 15))
                    else:
                        lead.answer_due = now - timedelta(days=rng.uniform(12, 40))
                        levels = (
                            Escalation.Level.WARNING,
                            Escalation.Level.YELLOW,
                            Escalation.Level.RED,
                        )
                elif state == "overdue_escalated":
                    lead.answer_due = now - timedelta(days=rng.uniform(12, 60))
                    levels = (Escalation.Level.WARNING, Escalation.Level.YELLOW, Escalation.Level.RED)
                elif state == "due_warning":
                    lead.answer_due = horizon
                elif state == "due_yellow":
                    lead.answer_due = now - timedelta(minutes=rng.uniform(1, 2 * 24 * 60))
                    levels = (Escalation.Level.WARNING,)
                elif state == "due_red":
                    lead.answer_due = now - timedelta(days=rng.uniform(12, 30))
                    levels = (Escalation.Level.WARNING, Escalation.Level.YELLOW)
                if lead.answer_due < lead.sign_due:
                    lead.sign_due = lead.answer_due
                assignments.append(lead)
                escalate.extend((lead, level) for level in levels)
                if rng.random() < 0.1 and state != "returned":
                    co = department_of(appeal.zone)
                    if co != dept:
                        assignments.append(
                            Assignment(
                                appeal=appeal,
                                department=co,
                                is_lead=False,
                                dispatched_at=lead.dispatched_at,
                                sign_due=lead.sign_due,
                                answer_due=lead.answer_due,
                                original_answer_due=lead.answer_due,
                                answer_days=5,
                                answered_at=lead.answered_at,
                            )
                        )
                if state == "closed" and rng.random() < 0.03:  # reopened once: the first round is history
                    assignments.append(
                        Assignment(
                            appeal=appeal,
                            department=dept,
                            is_current=False,
                            dispatched_at=dispatched - timedelta(days=10),
                            sign_due=sign_due - timedelta(days=10),
                            signed_at=dispatched - timedelta(days=10),
                            answer_due=answer_due - timedelta(days=10),
                            original_answer_due=answer_due - timedelta(days=10),
                            answer_days=5,
                            answered_at=dispatched - timedelta(days=5),
                            outcome="explained",
                        )
                    )
            Assignment.objects.bulk_create(assignments, batch_size=2000)
            Escalation.objects.bulk_create(
                [
                    Escalation(
                        assignment=a,
                        appeal_id=a.appeal_id,
                        level=level,
                        due=a.answer_due,
                        created_at=min(now, a.answer_due + timedelta(days=1)),
                    )
                    for a, level in escalate
                ],
                batch_size=2000,
            )
        done += size
        if done % 100_000 == 0 or done == n_appeals:
            elapsed = time.perf_counter() - fill_started
            print(f"  filled {done:,} appeals in {elapsed:.0f} s", flush=True)
    print(
        f"filled {Appeal.objects.count():,} appeals, {Assignment.objects.count():,} assignments, "
        f"{Escalation.objects.count():,} escalations in {time.perf_counter() - fill_started:.0f} s (not counted)"
    )
    print("  states: " + ", ".join(f"{state} {n:,}" for state, n in sorted(counts.items())))
    due = sum(n for state, n in counts.items() if state.startswith("due_"))
    print(f"  due for the sweep: {due:,} ({due / n_appeals:.2%} of the appeals)")
    # The rows went in without the services: the KPI facts and daily rollups the cockpit
    # reads are counted from them here, as `guanjia kpi rebuild` would.
    started = time.perf_counter()
    rollups.rebuild()
    print(
        f"KPI rollups rebuilt in {time.perf_counter() - started:.0f} s (not counted): "
        f"{DailyRollup.objects.count():,} rows"
    )
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a load, done now
        print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s (not counted)")
    return Filled(zones, departments, dispatchers, supervisors, handlers, enterprises, categories, horizon)


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to fill (default 1000000)")
    parser.add_argument("--zones", type=int, default=4)
    parser.add_argument("--departments", type=int, default=15, help="departments per zone (default 15)")
    parser.add_argument("--intake", type=int, default=3000, help="appeals submitted through the service")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a database kept (--keep) by an earlier run if it holds --appeals appeals: skip the fill",
    )
    args = parser.parse_args()

    # Settings read the environment once, at django.setup(): set everything first. Each database
    # gets a directory of its own, so that a SQLite run and a PostgreSQL run may go side by side.
    data_dir = BENCH_DIR / ("postgresql" if args.database_url else "sqlite")
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        if not args.reuse or not postgres_exists(args.database_url):
            drop_and_create_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.core.management import call_command
    from django.core.paginator import Paginator
    from django.db import connection
    from django.db.models import Count, Max
    from django.utils import timezone

    from guanjia.appeals import escalation, lifecycle, worklists
    from guanjia.appeals.defaults import ensure_default_categories
    from guanjia.appeals.models import Appeal, Channel, Escalation, Status
    from guanjia.core.models import OrgUnit, User
    from guanjia.enterprises.models import Enterprise

    rng = random.Random(20261127)
    failures: list[str] = []
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {args.appeals:,} appeals")
        print(f"migrated in {time.perf_counter() - started:.1f} s")

        reused = args.reuse and Appeal.objects.count() >= args.appeals
        if reused:
            # The organisation, people and enterprises of the run that filled it, found by their codes.
            zones = list(
                OrgUnit.objects.filter(code__in=[f"bench-z{z}" for z in range(args.zones)]).order_by("code")
            )
            departments, dispatchers, supervisors, handlers, enterprises = {}, {}, {}, {}, {}
            for z, zone in enumerate(zones):
                departments[zone.pk] = [
                    OrgUnit.objects.get(code=f"bench-z{z}-d{d}") for d in range(args.departments)
                ]
                dispatchers[zone.pk] = User.objects.get(username=f"dispatcher{z}")
                supervisors[zone.pk] = User.objects.get(username=f"supervisor{z}")
                for d, dept in enumerate(departments[zone.pk]):
                    handlers[dept.pk] = User.objects.get(username=f"handler{z}-{d}")
                enterprises[zone.pk] = list(
                    Enterprise.objects.filter(zone=zone, name__startswith="基准企业").values_list(
                        "pk", flat=True
                    )
                )
            categories = list(ensure_default_categories().values())
            horizon = escalation.warning_horizon(timezone.now())
            print(f"reused {Appeal.objects.count():,} appeals (not filled again)")
            # The last run's sweeps escalated the due 1%: undo them (their escalations are the newest,
            # written within minutes of each other) so that this run's sweep meets the same work.
            newest = Escalation.objects.aggregate(newest=Max("created_at"))["newest"]
            if newest is not None:
                undone, _by_model = Escalation.objects.filter(
                    created_at__gte=newest - timedelta(minutes=5)
                ).delete()
                print(f"undid the last run's sweep: {undone:,} rows")
            if connection.vendor == "postgresql":
                # New indexes, and the rows the last run's intake and sweep wrote, as autovacuum would.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
        else:
            filled = fill(args.appeals, args.zones, args.departments, rng)
            zones, departments, enterprises = filled.zones, filled.departments, filled.enterprises
            dispatchers, supervisors, handlers = filled.dispatchers, filled.supervisors, filled.handlers
            categories, horizon = filled.categories, filled.horizon

        # --- intake through the service -------------------------------------------------
        zone_users = {zone.pk: User.objects.get(pk=dispatchers[zone.pk].pk) for zone in zones}
        targets = []
        for _ in range(args.intake):
            zone = zones[rng.randrange(len(zones))]
            targets.append((Enterprise.objects.get(pk=rng.choice(enterprises[zone.pk])), zone_users[zone.pk]))
        started = time.perf_counter()
        for i, (enterprise, dispatcher) in enumerate(targets):
            lifecycle.submit_appeal(
                enterprise,
                title=f"电话转办诉求{i}",
                body="企业来电反映的困难，由受理员登记。",
                channel=Channel.PHONE,
                by=dispatcher,
                category=categories[i % len(categories)],
            )
        elapsed = time.perf_counter() - started
        print(f"intake: {args.intake:,} appeals through lifecycle.submit_appeal in {elapsed:.1f} s")
        print(f"        {args.intake / elapsed:,.0f} appeals/s")

        # --- the lists, as the pages evaluate them ------------------------------------------
        busiest_zone = zones[0]
        busiest_dept = departments[busiest_zone.pk][0]
        handler = User.objects.get(pk=handlers[busiest_dept.pk].pk)
        dispatcher = User.objects.get(pk=dispatchers[busiest_zone.pk].pk)
        supervisor = User.objects.get(pk=supervisors[busiest_zone.pk].pk)
        now = timezone.now()

        def page_of(queryset) -> tuple[int, int]:
            paginator = Paginator(queryset, PAGE)
            rows = list(paginator.get_page(1).object_list)
            return len(rows), paginator.count

        def timed(label: str, call, target_ms: float | None = None) -> None:
            for _ in range(3):
                call()  # warm the connection, the calendar and the page cache
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = call()
                samples.append((time.perf_counter() - started) * 1000)
            p50, p95 = percentiles(samples)
            verdict = ""
            if target_ms is not None:
                verdict = "  ok" if p95 < target_ms else f"  OVER the {target_ms:g} ms target"
                if p95 >= target_ms:
                    failures.append(f"{label}: p95 {p95:.1f} ms")
            print(f"{label:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  rows {result}{verdict}")

        print(f"\nlists ({args.runs} runs each; {busiest_dept.name}, {busiest_zone.name}):")

        def worklist(tab: str) -> tuple[int, int]:
            # What the page runs: the badges' one pass (which gives the page count too) and the rows.
            shown = worklists.worklist_page(handler, tab, now, 1, per_page=PAGE)
            return len(shown.page.object_list), shown.page.paginator.count

        for tab in TABS:
            timed(f"worklist tab {tab} (page + badges)", lambda tab=tab: worklist(tab), 50)
        timed(
            "worklist tab badges (one pass)",
            lambda: sum(worklists.worklist_counts(handler, now).values()),
            50,
        )
        timed("dispatcher queue", lambda: page_of(worklists.dispatcher_queue(dispatcher)), 50)

        def board(filters: worklists.BoardFilters):
            shown = worklists.board_page(supervisor, now, filters, 1, per_page=PAGE)
            return len(shown.page.object_list), shown.page.paginator.count, len(shown.counts)

        timed("supervisor board (page, per dept.)", lambda: board(worklists.BoardFilters()))
        red = worklists.BoardFilters(level=Escalation.Level.RED)
        timed("supervisor board, 红牌 filter", lambda: board(red))

        # --- plans ------------------------------------------------------------------------
        leads = escalation._open_leads()
        sweep_queries = {
            "sweep 红牌": escalation._not_yet(leads, escalation.Deadline.ANSWER, escalation.Level.RED).filter(
                answer_due__lte=now - timedelta(days=escalation.RED_AFTER_WORKDAYS)
            ),
            "sweep 催办": escalation._not_yet(
                leads, escalation.Deadline.ANSWER, escalation.Level.YELLOW
            ).filter(answer_due__lte=now),
            "sweep 签收催办": escalation._not_yet(
                leads.filter(
                    appeal__status=Status.DISPATCHED, signed_at__isnull=True, returned_at__isnull=True
                ),
                escalation.Deadline.SIGN,
                escalation.Level.YELLOW,
            ).filter(sign_due__lte=now),
            "sweep 预警": escalation._not_yet(
                leads, escalation.Deadline.ANSWER, escalation.Level.WARNING
            ).filter(answer_due__gt=now, answer_due__lte=horizon),
        }
        plans = {
            f"worklist {tab}": worklists.worklist_rows(worklists.worklist_tab(handler, tab, now))
            for tab in TABS
        }
        # The rows the badges count in one pass (the aggregate does not change how they are read).
        plans["worklist badges"] = worklists.department_open(handler).order_by()
        plans["dispatcher queue"] = worklists.dispatcher_queue(dispatcher)
        # What board_page sorts (bare keys; the page's rows are then read by key) and counts.
        plans["supervisor board (keys)"] = worklists.supervisor_board(
            supervisor, now, levels=False
        ).values_list("pk", flat=True)
        plans["supervisor board per department"] = (
            worklists._board_base(supervisor, now, worklists.BoardFilters())
            .values("department_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for label, queryset in sweep_queries.items():
            due_field = "sign_due" if "签收" in label else "answer_due"
            plans[label] = queryset.order_by(due_field, "pk")
        print("\nplans:")
        for label, queryset in plans.items():
            sliced = queryset[: escalation.BATCH if label.startswith("sweep") else PAGE]
            plan = sliced.explain()
            sql = str(sliced.query)
            print(f"--- {label}\n{plan}")
            scanned = full_scans(plan, sql, connection.vendor)
            if scanned:
                failures.append(f"{label}: full scan of {', '.join(scanned)}")
                print(f"!!! FULL TABLE SCAN of {', '.join(scanned)}")

        # --- the sweep ----------------------------------------------------------------------
        started = time.perf_counter()
        selected = sum(len(list(plans[label][: escalation.BATCH])) for label in sweep_queries)
        print(
            f"\nsweep's four selections ({escalation.BATCH:,} rows at most each): "
            f"{(time.perf_counter() - started) * 1000:.0f} ms for {selected:,} rows"
        )
        before = Escalation.objects.count()
        started = time.perf_counter()
        result = escalation.sweep()
        elapsed = time.perf_counter() - started
        print(
            f"sweep: {elapsed:.2f} s for {result.total:,} escalations "
            f"(红牌 {result.red:,}, 催办 {result.yellow:,}, 签收催办 {result.sign_yellow:,}, 预警 {result.warning:,}; "
            f"at most {escalation.BATCH:,} per level and run) over {Appeal.objects.count():,} appeals"
            + ("  ok" if elapsed < 1 else "  OVER the 1 s target")
        )
        assert Escalation.objects.count() - before == result.total
        if result.total:
            print(
                f"       {elapsed / result.total * 1000:.1f} ms per escalation written (event, audit, inbox, outbox)"
            )
        started = time.perf_counter()
        again = escalation.sweep()
        print(
            f"sweep run again at once: {time.perf_counter() - started:.2f} s for {again.total:,} escalations"
        )
        if elapsed >= 1:
            failures.append(f"sweep: {elapsed:.2f} s")
    finally:
        connection.close()
        if args.database_url and not args.keep:
            drop_and_create_postgres(args.database_url, create=False)
        if args.keep:
            print(f"kept: {args.database_url or data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 2 if any("scan" in f for f in failures) else 1
    return 0


def full_scans(plan: str, sql: str, vendor: str) -> list[str]:
    """The appeal/assignment tables (or their aliases in `sql`) that `plan` reads without an index."""
    tables = {"appeals_appeal", "appeals_assignment"}
    names = set(tables)
    for _table, alias in re.findall(r'"(appeals_appeal|appeals_assignment)"\s+(?:AS\s+)?"?(\w+)"?', sql):
        if alias.upper() not in {"ON", "WHERE", "INNER", "LEFT", "ORDER", "GROUP", "LIMIT"}:
            names.add(alias)
    found = []
    for line in plan.splitlines():
        if vendor == "postgresql":
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in tables:
                found.append(match.group(1))
        else:
            match = re.search(r"\bSCAN (\w+)(.*)", line)
            if match and match.group(1) in names and "USING" not in match.group(2):
                found.append(match.group(1))
    return found


if __name__ == "__main__":
    sys.exit(main())
