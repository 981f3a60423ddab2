"""Benchmark the visit calendar, the due/overdue lists and overdue supervision on 100,000 enterprises.

Fills a fresh database with N enterprises (default 100,000) in several zones, served by S stewards
(default 1,000; zones weigh 4:3:2:1 in enterprises and stewards alike, about 100 enterprises per
steward), in tiers 重点 5% / 规上 25% / 一般 70% (2% with an overridden cadence), with their visit
schedules, V past visits (default 300,000; more of them for the tiers visited more often), open
plans for 8% of the enterprises, and an appeal raised from 2% of the visits — all with
guanjia.core.bulk, not through the services. Each schedule's next due date comes from
guanjia.visits.services.next_due / interval_for, so due dates are real working days of the official
calendar; last visits are spread so that about 15% of the enterprises are overdue. The rows are
built from the fields the models have when it runs (see insert()). Then it measures, 50 runs each
over random stewards and zones (p50, p95, max):

- the steward's calendar: services.due_lists(steward), the steward read afresh as a request would;
- the visit-schedule API of a zone's dispatcher with ?overdue=true, first page: the view itself
  (VisitScheduleViewSet.as_view, called with a request from DRF's APIRequestFactory, authenticated
  with force_authenticate and rendered to JSON). This is the code the API runs from the view down:
  permissions, the scoped queryset, the page with its count, the serializer; it leaves out the
  middleware (sessions, the rate limit), which has nothing to do with the list;
- a steward's visit log through VisitViewSet, first page (it reads the visit table);
- overdue supervision (guanjia.visits.supervision): overdue_by_zone for a city's user (every zone),
  overdue_by_steward for a zone, and the first page (with its count) of overdue_enterprises for a
  zone and for one steward;
- a campaign's coverage, guanjia.campaigns.services.coverage, on a campaign of 20,000 targets of
  which half have been visited in its period — when the campaigns app is installed.

Each operation is run once more with its queries captured, and every SELECT it sent is EXPLAINed
(SQLite: EXPLAIN QUERY PLAN). It fails (exit status 2) if a plan reads the enterprise, visit or
visit-schedule table in full — except where an operation counts every enterprise of its scope
(overdue_by_zone and overdue_by_steward's totals, the coverage by zone and its problems query): there PostgreSQL rightly
reads the tables whole, and the plan is printed with the reason.

SQLite: a fresh file under var/bench/visits-sqlite/. PostgreSQL: set DATABASE_URL (or
--database-url); the database named there (its name must contain "bench") is dropped and created
afresh, and dropped again at the end unless --keep.

    .venv/bin/python bench/visits.py                          # 100,000 enterprises, SQLite
    .venv/bin/python bench/visits.py --enterprises 20000 --stewards 200 --visits 60000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_visits .venv/bin/python bench/visits.py

There is no target in DESIGN.md for these lists; the appeal worklists' p95 < 50 ms is the reference.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import random
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
CHUNK = 20_000
PAGE = 50  # the API's PAGE_SIZE, and the supervision page's
CAMPAIGN_TARGETS = 20_000
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TIERS = [("key", 0.05), ("above_scale", 0.25), ("general", 0.70)]
OVERDUE_SHARE = 0.15  # of the enterprises visited at least once
NEVER_VISITED_SHARE = 0.03  # registered lately, mostly not yet due
OVERRIDE_SHARE = 0.02  # an interval set by the dispatcher
OPEN_PLAN_SHARE = 0.08  # enterprises with a visit planned and not yet made
PROBLEM_SHARE = 0.02  # visits that raised an appeal
PROBLEMS = ["用电增容", "招工难", "厂房消防验收", "人才公寓申请", "政策兑现进度", "道路施工影响出行"]
SCANNED_TABLES = {"enterprises_enterprise", "visits_visit", "visits_visitschedule"}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞"]
THEIR_SIDE = ["总经理", "财务总监", "行政经理", "董事长", "厂长", "人事主管"]
SUMMARIES = [
    "企业生产经营正常，订单饱满，计划扩建二期厂房。",
    "了解用工情况，企业反映技术工人招聘困难。",
    "走访了解研发投入情况，企业拟申报高新技术企业。",
    "企业反映用电负荷接近上限，希望协调增容。",
    "核实企业统计数据，沟通季度产值情况。",
    "企业经营平稳，暂无困难诉求。",
]
EXPLAINED = ["", "", "研发费用加计扣除政策", "稳岗返还政策", "专精特新企业申报指南", "人才公寓申请条件"]


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


class Operation(NamedTuple):
    """A timed operation; `reads_in_full` names the tables its plans may scan, and `why`."""

    label: str
    call: Callable[[], str]
    shape: str = ""
    reads_in_full: frozenset[str] = frozenset()
    why: str = ""


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95, ordered[-1]


def uscc_of(i: int) -> str:
    from guanjia.enterprises.uscc import with_check_digit

    serial = ""
    for _ in range(8):
        i, digit = divmod(i, len(USCC_ALPHABET))
        serial = USCC_ALPHABET[digit] + serial
    return with_check_digit(f"91320599{serial}0")


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=100_000, help="enterprises (default 100000)")
    parser.add_argument("--stewards", type=int, default=1000, help="stewards (default 1000)")
    parser.add_argument("--visits", type=int, default=300_000, help="past visits (default 300000)")
    parser.add_argument("--zones", type=int, default=4)
    parser.add_argument("--runs", type=int, default=50, help="timed runs per operation (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.stewards < args.zones or args.enterprises < args.stewards:
        parser.error("need at least one steward per zone and one enterprise per steward")

    # Settings read the environment once, at django.setup(): set everything first. A directory of
    # its own per database, apart from the other benchmarks', so that runs may go side by side.
    data_dir = BENCH_DIR / ("visits-postgresql" if args.database_url else "visits-sqlite")
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        drop_and_create_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.core.paginator import Paginator
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory, force_authenticate

    from guanjia.appeals.models import Appeal, Rating
    from guanjia.core import bulk, workcalendar
    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role
    from guanjia.enterprises.models import Enterprise, StewardAssignment
    from guanjia.visits import api, services, supervision
    from guanjia.visits.models import Mode, Visit, VisitAppeal, VisitSchedule

    rng = random.Random(20261128)
    failures: list[str] = []

    def previous_working_day(day: date) -> date:
        while not workcalendar.is_workday(day):
            day -= timedelta(days=1)
        return day

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {args.enterprises:,} "
            f"enterprises, {args.stewards:,} stewards, {args.visits:,} visits"
        )
        print(f"migrated in {time.perf_counter() - started:.1f} s")
        today = services.today()

        # --- organisation and people -------------------------------------------------------------
        fill_started = time.perf_counter()
        city = OrgUnit.objects.create(name="基准市", code="bench-city", kind=OrgUnit.Kind.CITY)
        zones, centres = [], {}
        user_rows: list[User] = []
        grants: list[tuple[User, str]] = []

        def person(username: str, unit: OrgUnit, *roles: str) -> User:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            user = User(username=username, full_name=name, unit=unit)
            user.set_unusable_password()
            user_rows.append(user)
            grants.extend((user, role) for role in roles)
            return user

        # Zones weigh 4:3:2:1 (with four): in enterprises and in stewards alike.
        weights = list(range(args.zones, 0, -1))
        zone_share = [w / sum(weights) for w in weights]
        stewards_per_zone = [max(1, round(args.stewards * share)) for share in zone_share]
        stewards_per_zone[0] += args.stewards - sum(stewards_per_zone)
        dispatchers, stewards = {}, {}
        city_supervisor = person("city-supervisor", city, Role.SUPERVISOR)
        for z in range(args.zones):
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
            dispatchers[zone.pk] = person(f"dispatcher{z}", centres[zone.pk], Role.DISPATCHER)
            person(f"supervisor{z}", centres[zone.pk], Role.SUPERVISOR)
            stewards[zone.pk] = [
                person(f"steward{z}-{s}", centres[zone.pk], Role.STEWARD) for s in range(stewards_per_zone[z])
            ]
        User.objects.bulk_create(user_rows, batch_size=500)
        RoleGrant.objects.bulk_create([RoleGrant(user=u, role=r) for u, r in grants], batch_size=500)

        # --- enterprises, schedules, visits (bulk) -------------------------------------------------
        tier_names = [name for name, _share in TIERS]
        tier_weights = list(itertools.accumulate(share for _name, share in TIERS))
        zone_weights = list(itertools.accumulate(zone_share))
        next_id: dict[type, int] = {}

        def new_ids(model, count: int) -> list[int]:
            # PostgreSQL: from the table's sequence; SQLite: after the largest id (as AUTOINCREMENT would).
            reserved = bulk.reserve_ids(model, count)
            if reserved is not None:
                return reserved
            first = (
                next_id.get(model)
                or (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            )
            next_id[model] = first + count
            return list(range(first, first + count))

        # (enterprise id, zone, steward, tier, override, registered on, its visits' dates newest first)
        plans: list[tuple[int, OrgUnit, User, str, int | None, date | None, list[date]]] = []
        overdue_planned = 0
        for pk in new_ids(Enterprise, args.enterprises):
            zone = rng.choices(zones, cum_weights=zone_weights)[0]
            steward = rng.choice(stewards[zone.pk])
            tier = rng.choices(tier_names, cum_weights=tier_weights)[0]
            override = rng.choice([20, 45, 120, 180]) if rng.random() < OVERRIDE_SHARE else None
            interval = services.interval_for(tier, override)
            if rng.random() < NEVER_VISITED_SHARE:
                # Registered within about one interval: most are not due yet, a few have just passed it.
                created = today - timedelta(days=rng.randint(0, round(interval * 1.2)))
                plans.append((pk, zone, steward, tier, override, created, []))
                continue
            if rng.random() < OVERDUE_SHARE:
                last = today - timedelta(days=interval + rng.randint(5, 120))
                overdue_planned += 1
            else:
                last = today - timedelta(days=rng.randint(0, interval - 1))
            plans.append((pk, zone, steward, tier, override, None, [previous_working_day(last)]))

        # The visits beyond each enterprise's last: enterprises visited more often get more of them.
        visited = [plan for plan in plans if plan[6]]
        extra = Counter(
            rng.choices(
                range(len(visited)),
                weights=[1 / services.interval_for(plan[3], plan[4]) for plan in visited],
                k=max(0, args.visits - len(visited)),
            )
        )
        for index, count in extra.items():
            dates = visited[index][6]
            interval = services.interval_for(visited[index][3], visited[index][4])
            for _ in range(count):
                step = timedelta(days=round(interval * rng.uniform(0.8, 1.2)))
                dates.append(previous_working_day(dates[-1] - step))

        all_stewards = [s for zone in zones for s in stewards[zone.pk]]
        now = datetime.now(tz=workcalendar.BEIJING)
        evening, morning = datetime.min.time().replace(hour=18), datetime.min.time().replace(hour=10)
        counts: Counter[str] = Counter()
        with transaction.atomic():
            for start in range(0, len(plans), CHUNK):
                chunk = plans[start : start + CHUNK]
                enterprise_rows: list[dict] = []
                schedule_rows: list[dict] = []
                assignment_rows: list[dict] = []
                visit_rows: list[dict] = []
                raised: list[int] = []  # positions in visit_rows of the visits that raised an appeal
                for pk, zone, steward, tier, override, registered, dates in chunk:
                    # Registered some time before its first visit, if not given.
                    created = registered or dates[-1] - timedelta(days=rng.randint(30, 3000))
                    created_at = datetime.combine(created, morning, tzinfo=workcalendar.BEIJING)
                    enterprise_rows.append(
                        {
                            "id": pk,
                            "uscc": uscc_of(pk),
                            "name": f"基准企业{pk}有限公司",
                            "scale": rng.choice(["large", "medium", "small", "small", "micro"]),
                            "tier": tier,
                            "industry_section": "C",
                            "industry_division": rng.choice(["26", "34", "35", "38", "39"]),
                            "zone_id": zone.pk,
                            "steward_id": steward.pk,
                            "created_at": created_at,
                            "updated_at": created_at,
                        }
                    )
                    assignment_rows.append(
                        {
                            "enterprise_id": pk,
                            "steward_id": steward.pk,
                            "started_at": created_at,
                            "reason": "基准",
                        }
                    )
                    last_visit = dates[0] if dates else None
                    due = services.next_due(last_visit or created, services.interval_for(tier, override))
                    counts["overdue" if due < today else "not overdue"] += 1
                    counts[tier] += 1
                    schedule_rows.append(
                        {
                            "enterprise_id": pk,
                            "interval_days": override,
                            "tier": tier,
                            "last_visit_on": last_visit,
                            "next_due": due,
                            "updated_at": now,
                        }
                    )
                    for day in dates:
                        # One visit in ten was made by a colleague (the steward before a handover).
                        by = steward if rng.random() < 0.9 else rng.choice(stewards[zone.pk])
                        if rng.random() < PROBLEM_SHARE:
                            raised.append(len(visit_rows))
                        visit_rows.append(
                            {
                                "zone_id": zone.pk,
                                "enterprise_id": pk,
                                "steward_id": by.pk,
                                "visited_on": day,
                                "planned_on": day if rng.random() < 0.6 else None,  # most were planned
                                "plan_note": "",
                                "mode": rng.choices(Mode.values, weights=[7, 2, 1])[0],
                                "our_side": by.full_name,
                                "their_side": f"{rng.choice(SURNAMES)}{rng.choice(THEIR_SIDE)}",
                                "summary": rng.choice(SUMMARIES),
                                "explained": rng.choice(EXPLAINED),
                                "location": "",
                                "recorded_at": datetime.combine(day, evening, tzinfo=workcalendar.BEIJING),
                            }
                        )
                    if rng.random() < OPEN_PLAN_SHARE:
                        # An open plan: planned for the coming days (a few for days already past).
                        visit_rows.append(
                            {
                                "zone_id": zone.pk,
                                "enterprise_id": pk,
                                "steward_id": steward.pk,
                                "visited_on": None,
                                "planned_on": today + timedelta(days=rng.randint(-3, 20)),
                                "plan_note": "例行走访",
                                "mode": Mode.ONSITE,
                                "our_side": "",
                                "their_side": "",
                                "summary": "",
                                "explained": "",
                                "location": "",
                                "recorded_at": now,
                            }
                        )
                        counts["plans"] += 1
                for row, pk in zip(visit_rows, new_ids(Visit, len(visit_rows)), strict=True):
                    row["id"] = pk
                appeal_rows, link_rows, rating_rows = [], [], []
                for visit, pk in zip(
                    [visit_rows[i] for i in raised], new_ids(Appeal, len(raised)), strict=True
                ):
                    appeal, rating = problem_raised(rng, visit, pk, now)
                    appeal_rows.append(appeal)
                    link_rows.append({"visit_id": visit["id"], "appeal_id": pk})
                    if rating is not None:
                        rating_rows.append(rating)
                insert(Enterprise, enterprise_rows)
                insert(StewardAssignment, assignment_rows)
                insert(VisitSchedule, schedule_rows)
                insert(Visit, visit_rows)
                insert(Appeal, appeal_rows)
                insert(VisitAppeal, link_rows)
                insert(Rating, rating_rows)
                counts["appeals"] += len(appeal_rows)
                counts["visits"] += sum(1 for row in visit_rows if row["visited_on"] is not None)
                print(f"  filled {start + len(chunk):,} enterprises", flush=True)
        print(
            f"filled {Enterprise.objects.count():,} enterprises, {VisitSchedule.objects.count():,} schedules, "
            f"{counts['visits']:,} visits and {counts['plans']:,} open plans ({Visit.objects.count():,} rows), "
            f"{counts['appeals']:,} appeals raised from visits in {time.perf_counter() - fill_started:.0f} s "
            "(not counted)"
        )
        n = args.enterprises
        print(
            f"  tiers: 重点 {counts['key']:,}, 规上 {counts['above_scale']:,}, 一般 {counts['general']:,}; "
            f"overdue {counts['overdue']:,} ({counts['overdue'] / n:.1%}); "
            f"stewards per zone {stewards_per_zone}"
        )

        # --- a campaign, when the campaigns app is there --------------------------------------
        campaign = None
        if importlib.util.find_spec("guanjia.campaigns") and "guanjia.campaigns" in settings.INSTALLED_APPS:
            campaign = fill_campaign(rng, plans, zones, User.objects.get(pk=city_supervisor.pk), today)
        else:
            print("campaigns: guanjia.campaigns is not installed; its coverage is not measured")

        if connection.vendor == "postgresql":
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a load, done now
            print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s (not counted)")

        # --- the operations ------------------------------------------------------------------------
        factory = APIRequestFactory()
        schedule_list = api.VisitScheduleViewSet.as_view({"get": "list"})
        visit_list = api.VisitViewSet.as_view({"get": "list"})
        zone_ids = [zone.pk for zone in zones]

        def fresh(user: User) -> User:
            # As a request does: the user read by its session or token, its roles not yet cached.
            return User.objects.select_related("unit").get(pk=user.pk)

        def api_get(view, path: str, params: dict, user: User) -> tuple[int, int]:
            request = factory.get(path, params, HTTP_HOST="localhost")
            force_authenticate(request, user=fresh(user))
            response = view(request)
            response.render()
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            return len(response.data["results"]), response.data["count"]

        def calendar() -> str:
            lists = services.due_lists(fresh(rng.choice(all_stewards)))
            return f"{len(lists.overdue)}/{len(lists.this_week)}/{len(lists.this_month)}"

        def dispatcher_overdue() -> str:
            zone = rng.choice(zones)
            shown, total = api_get(
                schedule_list, "/api/visit-schedule/", {"overdue": "true"}, dispatchers[zone.pk]
            )
            return f"{shown} of {total:,}"

        def visit_log() -> str:
            shown, total = api_get(visit_list, "/api/visits/", {}, rng.choice(all_stewards))
            return f"{shown} of {total:,}"

        def page_of(queryset) -> str:
            paginator = Paginator(queryset, PAGE)
            rows = list(paginator.get_page(1).object_list)
            return f"{len(rows)} of {paginator.count:,}"

        def by_zone() -> str:
            rows = supervision.overdue_by_zone(zone_ids)
            return f"{len(rows)} zones, {sum(r.overdue for r in rows):,} overdue"

        def by_steward() -> str:
            rows = supervision.overdue_by_steward([rng.choice(zone_ids)])
            return f"{len(rows)} stewards, {sum(r.overdue for r in rows):,} overdue"

        def overdue_in_zone() -> str:
            return page_of(supervision.overdue_enterprises([rng.choice(zone_ids)]))

        def overdue_of_steward() -> str:
            zone = rng.choice(zones)
            steward = rng.choice(stewards[zone.pk])
            return page_of(supervision.overdue_enterprises([zone.pk], steward_id=steward.pk))

        # The totals of overdue_by_zone and overdue_by_steward count every enterprise of their scope,
        # overdue or not: reading the whole of a large share of the table is what they are for.
        every_enterprise = frozenset({"enterprises_enterprise", "visits_visitschedule"})
        operations = [
            Operation("steward's calendar (due_lists)", calendar, "overdue/week/month"),
            Operation("API schedule, dispatcher, overdue", dispatcher_overdue, "page of count"),
            Operation("API visit log, steward", visit_log, "page of count"),
            Operation(
                "overdue_by_zone, city (all zones)",
                by_zone,
                reads_in_full=every_enterprise,
                why="it counts every enterprise of the city",
            ),
            Operation(
                "overdue_by_steward, a zone",
                by_steward,
                reads_in_full=every_enterprise,
                why="it counts every enterprise of the zone (10-40% of them)",
            ),
            Operation("overdue_enterprises, a zone", overdue_in_zone, "page of count"),
            Operation("overdue_enterprises, a steward", overdue_of_steward, "page of count"),
        ]
        if campaign is not None:
            from guanjia.campaigns import services as campaign_services

            def coverage() -> str:
                shown = campaign_services.coverage(type(campaign).objects.get(pk=campaign.pk))
                return (
                    f"{shown.overall.visited:,}/{shown.overall.total:,}, {len(shown.by_zone)} zones, "
                    f"{len(shown.by_steward)} stewards; problems {shown.problems.raised}/"
                    f"{shown.problems.closed}/{shown.problems.solved}"
                )

            operations.append(
                Operation(
                    f"campaign coverage ({CAMPAIGN_TARGETS:,} targets)",
                    coverage,
                    "visited/targets; problems raised/closed/solved",
                    reads_in_full=frozenset({"enterprises_enterprise", "visits_visit"}),
                    why=(
                        f"it groups its {CAMPAIGN_TARGETS:,} targets by their enterprises' zones, and "
                        "finds the visits of the period behind the appeals raised in one pass over the "
                        "visits, which PostgreSQL prices below thousands of index probes"
                    ),
                )
            )

        # Other work on the machine shows in every figure: say how busy it was.
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(
            f"\noperations ({args.runs} runs each over random stewards and zones; ms; load average {load}):"
        )
        for label, call, shape, _tables, _why in operations:
            for _ in range(3):
                call()  # warm the connection, the calendar and the page cache
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = call()
                samples.append((time.perf_counter() - started) * 1000)
            p50, p95, worst = percentiles(samples)
            print(
                f"{label:<38} p50 {p50:7.1f}  p95 {p95:7.1f}  max {worst:7.1f}   "
                f"last: {result}{f' ({shape})' if shape else ''}",
                flush=True,
            )

        # --- plans -------------------------------------------------------------------------------
        print("\nplans (every SELECT each operation sends, run once more):")
        for label, call, _shape, reads_in_full, why in operations:
            with CaptureQueriesContext(connection) as captured:
                call()
            selects = [
                q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
            ]
            print(f"=== {label}: {len(captured.captured_queries)} queries")
            for number, sql in enumerate(selects, start=1):
                plan = explain(connection, sql)
                short = re.sub(r"\s+", " ", sql)
                print(f"--- {number}. {short[:220]}{'…' if len(short) > 220 else ''}\n{plan}")
                scanned = full_scans(plan, sql, connection.vendor)
                allowed = [table for table in scanned if table in reads_in_full]
                if allowed:
                    print(f"(full scan of {', '.join(allowed)}: expected, {why})")
                scanned = [table for table in scanned if table not in reads_in_full]
                if scanned:
                    failures.append(f"{label}, query {number}: full scan of {', '.join(scanned)}")
                    print(f"!!! FULL TABLE SCAN of {', '.join(scanned)}")
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
        return 2
    return 0


def insert(model, rows: list[dict]) -> None:
    """bulk.insert the rows' values for the fields `model` has now (the visits app changes under
    this script: a field it no longer has is left out, a new one gets its default)."""
    from django.db import models

    from guanjia.core import bulk

    if not rows:
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    names = tuple(name for name in rows[0] if name in fields)
    # Only dates, times and decimals need preparing for the database; the rest go as they are.
    prepared = (models.DateField, models.DecimalField, models.JSONField)
    prepare = [bulk.db_value(model, name) if isinstance(fields[name], prepared) else None for name in names]
    values = [
        tuple(
            row[name] if convert is None else convert(row[name])
            for name, convert in zip(names, prepare, strict=True)
        )
        for row in rows
    ]
    bulk.insert(model, names, values)


def explain(connection, sql: str) -> str:
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


def full_scans(plan: str, sql: str, vendor: str) -> list[str]:
    """The enterprise/visit tables (or their aliases in `sql`) that `plan` reads without an index."""
    names = set(SCANNED_TABLES)
    pattern = r'"(' + "|".join(SCANNED_TABLES) + r')"\s+(?:AS\s+)?"?(\w+)"?'
    for _table, alias in re.findall(pattern, sql):
        if alias.upper() not in {"ON", "WHERE", "INNER", "LEFT", "ORDER", "GROUP", "LIMIT"}:
            names.add(alias)
    found = []
    for line in plan.splitlines():
        if vendor == "postgresql":
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in SCANNED_TABLES:
                found.append(match.group(1))
        else:
            match = re.search(r"\bSCAN (\w+)(.*)", line)
            if match and match.group(1) in names and "USING" not in match.group(2):
                found.append(match.group(1))
    return found


def problem_raised(rng: random.Random, visit: dict, pk: int, now: datetime) -> tuple[dict, dict | None]:
    """An appeal the steward raised from `visit`, and the rating of it once closed (85% solved).

    It carries only what coverage's problem counts read (no assignments): answered five days after
    the visit and closed three days later, unless that is still ahead.
    """
    from guanjia.appeals.models import Channel, Status
    from guanjia.core import workcalendar

    submitted = datetime.combine(visit["visited_on"], datetime.min.time(), tzinfo=workcalendar.BEIJING)
    submitted += timedelta(hours=17)
    answered, closed = submitted + timedelta(days=5), submitted + timedelta(days=8)
    status = Status.CLOSED if closed <= now else Status.ANSWERED if answered <= now else Status.SIGNED
    title = rng.choice(PROBLEMS)
    appeal = {
        "id": pk,
        "zone_id": visit["zone_id"],
        "enterprise_id": visit["enterprise_id"],
        "title": title,
        "body": f"走访中企业反映：{title}。",
        "channel": Channel.STEWARD,
        "status": status,
        "submitted_by_id": visit["steward_id"],
        "submitted_at": submitted,
        "accept_due": submitted + timedelta(days=1),
        "accepted_at": submitted + timedelta(hours=2),
        "answered_at": answered if status != Status.SIGNED else None,
        "rate_due": answered + timedelta(days=5) if status == Status.ANSWERED else None,
        "closed_at": closed if status == Status.CLOSED else None,
    }
    if status != Status.CLOSED:
        return appeal, None
    solved = rng.random() < 0.85
    rating = {
        "appeal_id": pk,
        "level": rng.choice([4, 5]) if solved else rng.choice([2, 3]),
        "solved": solved,
        "rated_by_id": visit["steward_id"],
        "on_behalf": True,
        "at": closed,
    }
    return appeal, rating


def fill_campaign(rng: random.Random, plans: list, zones: list, creator, today: date):
    """A city's campaign over every zone: CAMPAIGN_TARGETS targets, half of them visited in its period."""
    from django.utils import timezone

    from guanjia.campaigns.models import Campaign, CampaignTarget

    starts_on, ends_on = today - timedelta(days=45), today + timedelta(days=15)
    campaign = Campaign.objects.create(
        name="基准行动：访万企", starts_on=starts_on, ends_on=ends_on, created_by=creator
    )
    campaign.zones.set(zones)
    # A plan's dates are its visits, newest first: visited in the period when the newest is in it.
    visited = [plan for plan in plans if plan[6] and plan[6][0] >= starts_on]
    others = [plan for plan in plans if not (plan[6] and plan[6][0] >= starts_on)]
    half = min(CAMPAIGN_TARGETS // 2, len(visited), len(others))
    chosen = rng.sample(visited, half) + rng.sample(others, half)
    added_at = timezone.now()
    insert(
        CampaignTarget,
        [
            {
                "campaign_id": campaign.pk,
                "enterprise_id": plan[0],
                "steward_id": plan[2].pk,
                "added_at": added_at,
            }
            for plan in chosen
        ],
    )
    print(
        f"campaign: {len(chosen):,} targets over {len(zones)} zones, {half:,} of them visited "
        f"from {starts_on} to today (it ends {ends_on})"
    )
    return campaign


if __name__ == "__main__":
    sys.exit(main())
