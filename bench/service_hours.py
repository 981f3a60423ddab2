"""Benchmark the two computations of issue 9 that grow with a zone: the weekly roster and the search.

1. Roster: a unit of W must-stay-open windows (default 10; every third needs two people at once) and S
   staff (default 40) with varied windows (each person two to four windows), weekdays (a fifth of them
   part-time, three or four days) and weekly limits (4 or 5), no lunch break, 30-minute slots from 9:00 to
   17:00 and a 60-minute lunch each between 11:00 and 14:00. guanjia.windows.rostering.generate (CP-SAT,
   one worker, deterministic) plans a Monday-to-Friday week; the time, the solver's status and the
   shortages are printed, best of --runs.
2. Search: N knowledge entries (default 100,000) in one zone, made of the demo corpus
   (guanjia/knowledge/corpus.py) with words of other entries mixed into each answer, indexed by
   guanjia.core.search (jieba words, SQLite FTS5 / PostgreSQL full-text); then Q queries (default 500,
   the corpus's questions reworded by dropping and reordering words) through search.search with the
   scope of a 高新区 enterprise user, as the portal runs them: p50 and p95.

SQLite: a fresh file under var/bench/service-hours-sqlite/. PostgreSQL: set DATABASE_URL (or
--database-url); the database named there (its name must contain "bench") is dropped and created
afresh, and dropped again at the end unless --keep.

    .venv/bin/python bench/service_hours.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_hours .venv/bin/python bench/service_hours.py
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
BENCH_DIR = REPO / "var" / "bench"
CHUNK = 5_000
WEEK = date(2026, 11, 23)  # Monday to Friday are working days in the official calendar


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--staff", type=int, default=40)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args()

    from policies import drop_and_create_postgres  # the same fresh-database rule as bench/policies.py

    # Settings read the environment once, at django.setup(): set everything first.
    data_dir = BENCH_DIR / "service-hours-sqlite"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        drop_and_create_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from guanjia.core import search
    from guanjia.core.models import OrgUnit, SearchEntry, User
    from guanjia.core.roles import Role
    from guanjia.enterprises.models import Enterprise, EnterpriseMembership
    from guanjia.knowledge.corpus import ENTRIES
    from guanjia.knowledge.models import SEARCH_KIND, Entry, EntryStatus
    from guanjia.testing import make_user
    from guanjia.windows import rostering
    from guanjia.windows.models import ServiceUnit, ServiceWindow, Staffing

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    print(f"database: {connection.vendor}")
    city = OrgUnit.objects.create(name="基准市", code="bench-city", kind=OrgUnit.Kind.CITY)
    zone = OrgUnit.objects.create(name="基准园区", code="bench-zone", kind=OrgUnit.Kind.ZONE, parent=city)
    department = OrgUnit.objects.create(
        name="基准园区市场监管局", code="bench-market", kind=OrgUnit.Kind.DEPARTMENT, parent=zone
    )

    # --- 1. the roster -----------------------------------------------------------------------------
    unit = ServiceUnit.objects.create(
        zone=zone,
        department=department,
        name="基准政务服务中心",
        address="基准路 1 号",
        lunch_from=clock(11, 0),
        lunch_to=clock(14, 0),
    )
    windows = [
        ServiceWindow.objects.create(
            unit=unit, number=str(n), name=f"窗口{n}", staff_needed=2 if n % 3 == 0 else 1
        )
        for n in range(1, args.windows + 1)
    ]
    for n in range(args.staff):
        user = make_user(f"bench_staff{n}", department, Role.HANDLER)
        part_time = rng.random() < 0.2
        days = sorted(rng.sample(range(1, 6), rng.choice([3, 4]))) if part_time else [1, 2, 3, 4, 5]
        staffing = Staffing.objects.create(
            unit=unit,
            user=user,
            weekdays="," + ",".join(str(day) for day in days) + ",",
            max_shifts=rng.choice([4, 5]),
        )
        staffing.windows.set(rng.sample(windows, rng.randint(2, min(4, len(windows)))))
    need = sum(window.staff_needed for window in windows)
    print(f"roster: {len(windows)} windows needing {need} people at once, {args.staff} staff, week of {WEEK}")
    best = None
    for _ in range(args.runs):
        started = time.perf_counter()
        plan = rostering.generate(unit, WEEK, time_limit=60.0)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(
        f"  generate: {best:.2f} s (best of {args.runs}), status {plan.status}, {len(plan.shifts)} shifts, "
        f"{len(plan.shortages)} shortages"
    )
    for shortage in plan.shortages[:5]:
        print(f"    {shortage.describe()}")

    # --- 2. the search -----------------------------------------------------------------------------
    author = make_user("bench_author", department, Role.HANDLER)
    reader = make_user("bench_reader", None, Role.ENTERPRISE_USER)
    enterprise = Enterprise.objects.create(name="基准企业", uscc="91320500MA1BENCH01", zone=zone)
    EnterpriseMembership.objects.create(user=reader, enterprise=enterprise)
    vocabulary = [word for entry in ENTRIES for word in search.words(entry.answer)]
    started = time.perf_counter()
    for offset in range(0, args.entries, CHUNK):
        size = min(CHUNK, args.entries - offset)
        rows, texts = [], []
        for n in range(offset, offset + size):
            source = ENTRIES[n % len(ENTRIES)]
            answer = source.answer + "".join(rng.sample(vocabulary, 12))
            question = source.question if n < len(ENTRIES) else f"{source.question}（{n}）"
            rows.append(
                Entry(
                    zone=zone,
                    department=department,
                    question=question,
                    answer=answer,
                    keywords=source.keywords,
                    status=EntryStatus.PUBLISHED,
                    created_by=author,
                )
            )
            texts.append((question, answer, source.keywords))
        with transaction.atomic():
            created = Entry.objects.bulk_create(rows)
            SearchEntry.objects.bulk_create(
                SearchEntry(
                    kind=SEARCH_KIND,
                    object_id=entry.pk,
                    title=question,
                    body=answer,
                    title_tokens=" ".join(search.words(question) + search.words(keywords)),
                    body_tokens=" ".join(search.words(answer)),
                )
                for entry, (question, answer, keywords) in zip(created, texts, strict=True)
            )
    print(
        f"search: {args.entries:,} entries indexed in {time.perf_counter() - started:.1f} s (jieba + index)"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    queries = []
    for _ in range(args.queries):
        words = search.words(rng.choice(ENTRIES).question)
        rng.shuffle(words)
        queries.append("".join(words[: max(2, len(words) - 1)]))
    within = Entry.objects.visible_to(User.objects.get(pk=reader.pk))
    search.search(SEARCH_KIND, queries[0], within=within, limit=10)  # jieba's dictionary, the caches
    times = []
    for query in queries:
        started = time.perf_counter()
        hits = search.search(SEARCH_KIND, query, within=within, limit=10)
        times.append((time.perf_counter() - started) * 1000)
        assert hits, query
    print(
        f"  {len(queries)} portal searches (top 10, scoped): p50 {statistics.median(times):.1f} ms, "
        f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms"
    )
    if args.database_url and not args.keep:
        connection.close()
        drop_and_create_postgres(args.database_url, create=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
