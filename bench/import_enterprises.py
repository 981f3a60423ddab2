"""Benchmark the enterprise import: generate N valid rows, then validate and write them.

The rows go through the same functions the web pages and the worker call
(start_import, validate_job, confirm_import, write_job), not through HTTP, into a
fresh SQLite database under a temporary GUANJIA_DATA_DIR, or into PostgreSQL
with --database-url (the database is created if absent; each run uses codes of
its own, so runs do not collide).

    .venv/bin/python bench/import_enterprises.py                  # 100,000 rows, .xlsx, SQLite
    .venv/bin/python bench/import_enterprises.py --rows 20000 --format csv
    .venv/bin/python bench/import_enterprises.py \\
        --database-url postgres://postgres@127.0.0.1:5432/guanjia_bench

Target (DESIGN.md, "Long writes"): 100,000 rows validated and written in under
30 s in all, in under 500 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
STEWARDS = 20
TAGS = ["高新技术企业", "专精特新", "龙头企业", "外资企业", "科技型中小企业", "规上工业"]
DIVISIONS = ["13", "26", "27", "34", "35", "38", "39", "40", "51", "54", "59", "64", "65", "72", "75"]
STREETS = ["科技园路", "创新大道", "星湖街", "金鸡湖大道", "港田路", "长江路", "湖东路"]


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def ensure_postgres_database(url: str) -> None:
    """Create the database named in url if it does not exist (connecting to 'postgres' to do so)."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def generate_rows(n: int, run: str, stewards: list[str]):
    """Yield n valid, unique rows in template column order."""
    from guanjia.enterprises.uscc import with_check_digit

    rng = random.Random(run)
    for i in range(n):
        # 91 (enterprise) + 320500 (苏州) + a 9-character organisation code: run prefix + serial.
        serial = ""
        k = i
        for _ in range(6):
            k, digit = divmod(k, len(USCC_ALPHABET))
            serial = USCC_ALPHABET[digit] + serial
        uscc = with_check_digit(f"91320500{run}{serial}")
        yield (
            uscc,
            f"苏州基准测试{i}号科技有限公司",
            rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(["伟", "芳", "娜", "敏", "静", "强", "磊"]),
            f"{rng.randint(1995, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            str(rng.choice([50, 100, 500, 1000, 2000, 5000, 12000.5])),
            rng.choice(["大型", "中型", "小型", "微型"]),
            rng.choice(["重点", "规上", "一般", "一般"]),
            rng.choice(DIVISIONS),
            "、".join(rng.sample(TAGS, rng.randint(0, 2))),
            f"苏州工业园区{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            rng.choice(["王经理", "李主任", "张总", "陈女士"]),
            f"13{rng.randint(0, 999999999):09d}",
            stewards[i % len(stewards)] if i % 10 else "",
        )


def write_xlsx(path: Path, headers: tuple[str, ...], rows) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def write_csv(path: Path, headers: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        writer.writerows(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate (default 100000)")
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--database-url", help="postgres://… (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="guanjia-bench-"))
    # Settings read the environment once, at django.setup(): set everything first.
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        ensure_postgres_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role
    from guanjia.enterprises import importing
    from guanjia.enterprises.models import Enterprise, ImportJob

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        run = "".join(random.choice(USCC_ALPHABET) for _ in range(3))
        zone = OrgUnit.objects.create(
            name=f"基准园区 {run}", code=f"bench-{run.lower()}", kind=OrgUnit.Kind.ZONE
        )
        centre = OrgUnit.objects.create(
            name=f"基准园区 {run} 企业服务中心",
            code=f"bench-{run.lower()}-centre",
            kind=OrgUnit.Kind.DEPARTMENT,
            parent=zone,
            is_dispatch_desk=True,
        )
        dispatcher = User.objects.create_user(username=f"bench-dispatcher-{run}", unit=centre)
        RoleGrant.objects.create(user=dispatcher, role=Role.DISPATCHER)
        stewards = []
        for i in range(STEWARDS):
            steward = User.objects.create_user(username=f"bench-steward-{run}-{i}", unit=centre)
            RoleGrant.objects.create(user=steward, role=Role.STEWARD)
            stewards.append(steward.username)
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']}); setup {time.perf_counter() - started:.1f} s"
        )

        path = data_dir / f"bench.{args.format}"
        started = time.perf_counter()
        rows = generate_rows(args.rows, run, stewards)
        (write_xlsx if args.format == "xlsx" else write_csv)(path, importing.HEADERS, rows)
        print(
            f"generated {args.rows} rows into {path.name} ({path.stat().st_size / 1024 / 1024:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s (not counted)"
        )
        rss_before = peak_rss_mb()
        if args.tracemalloc:
            tracemalloc.start()

        before = Enterprise.objects.count()
        started = time.perf_counter()
        with path.open("rb") as stream:
            job = importing.start_import(upload=File(stream, name=path.name), zone=zone, by=dispatcher)
        t_upload = time.perf_counter() - started

        started = time.perf_counter()
        job = importing.validate_job(job.pk)
        t_validate = time.perf_counter() - started
        if job.status != ImportJob.Status.VALID:
            print(f"validation did not pass: {job.status} {job.errors[:5]}")
            return 1

        started = time.perf_counter()
        job = importing.confirm_import(job, by=dispatcher)
        job = importing.write_job(job.pk)
        t_write = time.perf_counter() - started
        if job.status != ImportJob.Status.DONE:
            print(f"writing did not finish: {job.status} {job.errors[:5]}")
            return 1
        written = Enterprise.objects.count() - before
        assert written == args.rows == job.written_rows, (written, job.written_rows)

        total = t_upload + t_validate + t_write
        print(f"upload check + row count: {t_upload:6.2f} s")
        print(f"validate:                 {t_validate:6.2f} s  {args.rows / t_validate:9,.0f} rows/s")
        print(f"confirm + write:          {t_write:6.2f} s  {args.rows / t_write:9,.0f} rows/s")
        print(f"total:                    {total:6.2f} s  {args.rows / total:9,.0f} rows/s")
        print(f"peak RSS: {peak_rss_mb():.0f} MB (before the import: {rss_before:.0f} MB)")
        if args.tracemalloc:
            _current, peak = tracemalloc.get_traced_memory()
            print(f"tracemalloc peak (Python allocations during the import): {peak / 1024 / 1024:.0f} MB")
        return 0
    finally:
        connection.close()
        if args.keep:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
