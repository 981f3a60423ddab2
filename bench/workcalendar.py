"""Benchmark the work calendar: 1,000,000 calls each of add_workdays and deadline with random inputs.

The calls go through guanjia.core.workcalendar as the services will make them,
against a fresh SQLite database under a temporary GUANJIA_DATA_DIR (or PostgreSQL
with --database-url), with the calendar's per-process table warm and the version
re-checked as in production (at most every RECHECK_SECONDS). Inputs are drawn
before the clock starts: dates from 2004 to 2030 (so some calls are provisional),
N from 1 to 30.

    .venv/bin/python bench/workcalendar.py
    .venv/bin/python bench/workcalendar.py --calls 200000
    .venv/bin/python bench/workcalendar.py --database-url postgres://postgres@127.0.0.1:5432/guanjia_bench
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls per function (default 1000000)")
    parser.add_argument("--database-url", help="postgres://… (default: a fresh SQLite file in a temp dir)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="guanjia-bench-"))
    # Settings read the environment once, at django.setup(): set everything first.
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        sys.path.insert(0, str(REPO / "bench"))
        from import_enterprises import ensure_postgres_database

        ensure_postgres_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    from guanjia.core import workcalendar

    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(20260213)
        first, span = date(2004, 1, 1).toordinal(), (date(2030, 12, 31) - date(2004, 1, 1)).days
        days = [date.fromordinal(first + rng.randrange(span)) for _ in range(args.calls)]
        ns = [rng.randint(1, 30) for _ in range(args.calls)]
        moments = [
            datetime.combine(day, datetime.min.time(), tzinfo=workcalendar.BEIJING)
            + timedelta(seconds=rng.randrange(86400))
            for day in days
        ]
        started = time.perf_counter()
        workcalendar.is_workday(date(2026, 2, 14))  # builds the table once
        print(
            f"database: {connection.vendor}; table built in {(time.perf_counter() - started) * 1000:.1f} ms; "
            f"version re-checked at most every {workcalendar.RECHECK_SECONDS:g} s"
        )

        add_workdays = workcalendar.add_workdays
        started = time.perf_counter()
        for day, n in zip(days, ns, strict=True):
            add_workdays(day, n)
        elapsed = time.perf_counter() - started
        print(f"add_workdays: {args.calls:,} calls in {elapsed:.2f} s  {args.calls / elapsed:12,.0f} calls/s")

        deadline = workcalendar.deadline
        provisional = 0
        started = time.perf_counter()
        for moment, n in zip(moments, ns, strict=True):
            provisional += deadline(moment, n).provisional
        elapsed = time.perf_counter() - started
        print(
            f"deadline:     {args.calls:,} calls in {elapsed:.2f} s  {args.calls / elapsed:12,.0f} calls/s"
            f"  ({provisional:,} provisional)"
        )
        return 0
    finally:
        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
