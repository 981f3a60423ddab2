"""Benchmark policy matching (政策直达) on 100,000 enterprises: every benefit item against every enterprise.

Fills a fresh database with N enterprises (default 100,000) in four zones of one city (4:3:2:1), each
with a random scale, tier, industry division (one of twelve, 3% blank), founding date (2% unknown),
registered capital (3% unknown) and, for a third of them, one or two of eight tags; S stewards (default
1,000) serve them. Then P policies (default 16): half of the city's departments (covering every zone),
half of a zone's; in force, except one not yet and one expired. Each has three benefit items (48), each
with one to four random conditions among division, scale, tier, tags, years since founding and
capital, a few narrowed to some zones. Everything is written with bulk_create, not the services.

Then it times (guanjia.policies.matching, the code the pages and the API run):

- matching: for every item, the number of enterprises that qualify and the number that miss exactly
  one condition (matching.counts(item): one query, grouped by the number of conditions missed); the
  total over all items is the figure the README records, best of --runs passes;
- benefits_for(enterprise) for a sample of enterprises (default 1,000), fetched as the enterprise's
  page card fetches them;
- steward_worklist(steward) for a sample of stewards (default 50): the worklist's count and first page.

SQLite: a fresh file under var/bench/policies-sqlite/. PostgreSQL: set DATABASE_URL (or
--database-url); the database named there (its name must contain "bench") is dropped and created
afresh, and dropped again at the end unless --keep.

    .venv/bin/python bench/policies.py                      # 100,000 enterprises, SQLite
    .venv/bin/python bench/policies.py --enterprises 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_policies .venv/bin/python bench/policies.py
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
CHUNK = 10_000
ZONE_WEIGHTS = [4, 3, 2, 1]
DIVISIONS = ["13", "14", "26", "27", "29", "34", "35", "36", "38", "39", "40", "65"]
SCALES = [("large", 0.03), ("medium", 0.12), ("small", 0.45), ("micro", 0.40)]
TIERS = [("key", 0.05), ("above_scale", 0.25), ("general", 0.70)]
TAGS = [
    "高新技术企业",
    "专精特新",
    "小巨人",
    "科技型中小企业",
    "龙头企业",
    "外资企业",
    "上市企业",
    "瞪羚企业",
]
CAPITALS = ["50", "100", "200", "500", "1000", "2000", "5000", "10000"]
ITEM_NAMES = ["研发费用补贴", "贷款贴息", "首台套奖励", "人才引进补助", "技改补助", "上市奖励", "稳岗补贴"]


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


def weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=100_000, help="enterprises (default 100000)")
    parser.add_argument("--stewards", type=int, default=1000, help="stewards (default 1000)")
    parser.add_argument("--policies", type=int, default=16, help="policies, three items each (default 16)")
    parser.add_argument("--sample", type=int, default=1000, help="enterprises timed for benefits_for")
    parser.add_argument("--steward-sample", type=int, default=50, help="stewards timed for the worklist")
    parser.add_argument("--runs", type=int, default=3, help="passes over all items (default 3)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    # Settings read the environment once, at django.setup(): set everything first. A directory of its
    # own per database, apart from the other benchmarks', so that runs may go side by side.
    data_dir = BENCH_DIR / ("policies-postgresql" if args.database_url else "policies-sqlite")
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

    from django.core.management import call_command
    from django.db import connection, transaction

    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role
    from guanjia.enterprises.models import Enterprise, Tag
    from guanjia.policies import matching
    from guanjia.policies.access import today
    from guanjia.policies.models import BenefitItem, Policy, join_codes

    rng = random.Random(20261128)
    day = today()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {args.enterprises:,} "
            f"enterprises, {args.policies * 3} benefit items; migrated in {time.perf_counter() - started:.1f} s"
        )

        # --- organisation, people, tags ----------------------------------------------------------------
        fill_started = time.perf_counter()
        city = OrgUnit.objects.create(name="基准市", code="bench-city", kind=OrgUnit.Kind.CITY)
        zones = [
            OrgUnit.objects.create(
                name=f"基准园区{z}", code=f"bench-z{z}", kind=OrgUnit.Kind.ZONE, parent=city
            )
            for z in range(len(ZONE_WEIGHTS))
        ]
        city_departments = [
            OrgUnit.objects.create(
                name=name, code=f"bench-city-{n}", kind=OrgUnit.Kind.DEPARTMENT, parent=city
            )
            for n, name in enumerate(["基准市科技局", "基准市工信局"])
        ]
        zone_departments = [
            OrgUnit.objects.create(
                name=f"{zone.name}经济发展局",
                code=f"{zone.code}-econ",
                kind=OrgUnit.Kind.DEPARTMENT,
                parent=zone,
            )
            for zone in zones
        ]
        centres = [
            OrgUnit.objects.create(
                name=f"{zone.name}企业服务中心",
                code=f"{zone.code}-centre",
                kind=OrgUnit.Kind.DEPARTMENT,
                parent=zone,
            )
            for zone in zones
        ]
        author = User.objects.create_user(
            username="bench-author", full_name="基准承办人", unit=city_departments[0]
        )
        RoleGrant.objects.create(user=author, role=Role.HANDLER)
        steward_rows = []
        for s in range(args.stewards):
            z = rng.choices(range(len(zones)), weights=ZONE_WEIGHTS)[0]
            steward = User(username=f"bench-steward{s}", full_name=f"管家{s}", unit=centres[z])
            steward.set_unusable_password()
            steward_rows.append(steward)
        stewards = User.objects.bulk_create(steward_rows, batch_size=1000)
        RoleGrant.objects.bulk_create(
            [RoleGrant(user=s, role=Role.STEWARD) for s in stewards], batch_size=1000
        )
        stewards_of: dict[int, list[User]] = {zone.pk: [] for zone in zones}
        for steward in stewards:
            stewards_of[zones[[c.pk for c in centres].index(steward.unit_id)].pk].append(steward)
        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])

        # --- enterprises (bulk) ------------------------------------------------------------------------
        through = Enterprise.tags.through
        with transaction.atomic():
            for start in range(0, args.enterprises, CHUNK):
                rows = []
                for i in range(start, min(start + CHUNK, args.enterprises)):
                    zone = rng.choices(zones, weights=ZONE_WEIGHTS)[0]
                    founded = None if rng.random() < 0.02 else day - timedelta(days=rng.randint(30, 30 * 365))
                    capital = (
                        None
                        if rng.random() < 0.03
                        else Decimal(rng.choice(CAPITALS)) * rng.choice([1, 1, 2, 3])
                    )
                    rows.append(
                        Enterprise(
                            uscc=f"91BENCH{i:011d}",
                            name=f"基准企业{i:06d}有限公司",
                            zone=zone,
                            steward=rng.choice(stewards_of[zone.pk]) if stewards_of[zone.pk] else None,
                            scale=weighted(rng, SCALES),
                            tier=weighted(rng, TIERS),
                            industry_section="C",
                            industry_division="" if rng.random() < 0.03 else rng.choice(DIVISIONS),
                            founded_on=founded,
                            registered_capital=capital,
                        )
                    )
                created = Enterprise.objects.bulk_create(rows, batch_size=2000)
                links = [
                    through(enterprise_id=e.pk, tag_id=tag.pk)
                    for e in created
                    if rng.random() < 0.33
                    for tag in rng.sample(tags, rng.choice([1, 1, 2]))
                ]
                through.objects.bulk_create(links, batch_size=5000)
                print(f"  filled {start + len(rows):,} enterprises", flush=True)

        # --- policies and their benefit items -----------------------------------------------------------
        items: list[BenefitItem] = []
        for p in range(args.policies):
            half = p // 2
            department = city_departments[half % 2] if p % 2 == 0 else zone_departments[half % len(zones)]
            effective = day - timedelta(days=rng.randint(30, 900))
            expires = None if rng.random() < 0.5 else day + timedelta(days=rng.randint(30, 900))
            if p == args.policies - 1:
                effective, expires = day + timedelta(days=10), None  # not yet in force
            elif p == args.policies - 2:
                effective, expires = day - timedelta(days=800), day - timedelta(days=1)  # expired yesterday
            policy = Policy.objects.create(
                title=f"基准政策{p}",
                issuer="基准市人民政府",
                department=department,
                effective_on=effective,
                expires_on=expires,
                created_by=author,
            )
            for n in range(3):
                conditions = rng.sample(
                    ["division", "scale", "tier", "tags", "years", "capital"], rng.randint(1, 4)
                )
                fields: dict[str, object] = {}
                if "division" in conditions:
                    fields["divisions"] = join_codes(rng.sample(DIVISIONS, rng.randint(2, 6)))
                if "scale" in conditions:
                    fields["scales"] = join_codes(
                        rng.sample(["large", "medium", "small", "micro"], rng.randint(1, 3))
                    )
                if "tier" in conditions:
                    fields["tiers"] = join_codes(
                        rng.sample(["key", "above_scale", "general"], rng.randint(1, 2))
                    )
                if "years" in conditions:
                    low = rng.choice([None, 1, 2, 3, 5])
                    fields["min_years"] = low
                    fields["max_years"] = (
                        rng.choice([None, (low or 0) + rng.randint(3, 10)]) if low else rng.randint(3, 10)
                    )
                if "capital" in conditions:
                    low_capital = rng.choice([None, Decimal("100"), Decimal("500")])
                    fields["capital_min"] = low_capital
                    fields["capital_max"] = (
                        rng.choice([None, Decimal("5000"), Decimal("10000")])
                        if low_capital
                        else Decimal("5000")
                    )
                item = BenefitItem.objects.create(
                    policy=policy, name=f"{rng.choice(ITEM_NAMES)}{p}-{n}", **fields
                )
                if "tags" in conditions:
                    item.tags.set(rng.sample(tags, rng.randint(1, 3)))
                if department in city_departments and rng.random() < 0.25:
                    item.zones.set(rng.sample(zones, 2))
                items.append(item)
        print(
            f"filled {Enterprise.objects.count():,} enterprises ({through.objects.count():,} tags), "
            f"{len(stewards):,} stewards, {len(items)} benefit items in {time.perf_counter() - fill_started:.0f} s "
            "(not counted)"
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        # --- timing ----------------------------------------------------------------------------------
        loaded = list(
            BenefitItem.objects.select_related("policy__department__parent").prefetch_related("tags", "zones")
        )

        def match_all() -> tuple[int, int]:
            qualifying = near = 0
            for item in loaded:
                fits, misses_one = matching.counts(item, on=day)
                qualifying += fits
                near += misses_one
            return qualifying, near

        passes = []
        for run in range(args.runs):
            seconds, (qualifying, near) = timed(match_all)
            passes.append(seconds)
            print(f"  pass {run + 1}: {seconds:.2f} s")
        best = min(passes)
        print(
            f"matching all {len(loaded)} items against {args.enterprises:,} enterprises: "
            f"{qualifying:,} qualifying pairs, {near:,} near misses; best {best:.2f} s "
            f"(median {statistics.median(passes):.2f} s, {1000 * best / len(loaded):.0f} ms per item)"
        )

        sample = list(
            Enterprise.objects.select_related("zone").order_by("?")[: args.sample]
            if connection.vendor == "postgresql"
            else Enterprise.objects.select_related("zone").filter(
                pk__in=rng.sample(list(Enterprise.objects.values_list("pk", flat=True)), args.sample)
            )
        )
        per_call = []
        found = 0
        for enterprise in sample:
            seconds, benefits = timed(lambda e=enterprise: list(matching.benefits_for(e, on=day)))
            per_call.append(seconds)
            found += len(benefits)  # type: ignore[arg-type]
        benefits_total = sum(per_call)
        print(
            f"benefits_for {len(sample):,} enterprises: {benefits_total:.2f} s "
            f"(p50 {1000 * statistics.median(per_call):.1f} ms, max {1000 * max(per_call):.1f} ms; "
            f"{found / max(len(sample), 1):.1f} benefits each)"
        )

        worklist_calls = []
        for steward in rng.sample(stewards, min(args.steward_sample, len(stewards))):

            def worklist(steward: User = steward) -> int:
                found = matching.steward_worklist(steward, on=day)
                for enterprise in found.enterprises[:20]:
                    found.pending(enterprise)
                return len(found.enterprises)

            seconds, _count = timed(worklist)
            worklist_calls.append(seconds)
        worklist_total = sum(worklist_calls)
        print(
            f"steward_worklist for {len(worklist_calls)} stewards (the list and its first page): {worklist_total:.2f} s "
            f"(p50 {1000 * statistics.median(worklist_calls):.1f} ms, max {1000 * max(worklist_calls):.1f} ms)"
        )
        print(f"TOTAL: {best + benefits_total + worklist_total:.2f} s")
    finally:
        connection.close()
        if args.database_url and not args.keep:
            drop_and_create_postgres(args.database_url, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
