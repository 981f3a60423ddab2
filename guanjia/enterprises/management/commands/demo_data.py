"""`guanjia demo-data`: load the demo area (江南市) into an empty database and print its logins."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanjia.enterprises import demo
from guanjia.enterprises.models import Enterprise


class Command(BaseCommand):
    help = "装入演示数据：江南市、两个园区、各角色演示账号和若干企业（可复现，同一种子结果相同）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="随机种子（默认 %(default)s）"
        )
        parser.add_argument(
            "--enterprises", type=int, default=demo.DEFAULT_ENTERPRISES, help="企业数量（默认 %(default)s）"
        )
        parser.add_argument("--if-empty", action="store_true", help="库中已有企业时什么也不做")

    def handle(self, *args, seed: int, enterprises: int, if_empty: bool, **options) -> None:
        if enterprises < 10:
            raise CommandError("--enterprises 至少为 10")
        existing = Enterprise.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(f"库中已有 {existing} 家企业，不再装入演示数据。")
                return
            # Demo enterprises mixed into a real registry would be taken for real ones.
            raise CommandError(f"库中已有 {existing} 家企业；演示数据只装入空库（或加 --if-empty 跳过）")
        started = time.monotonic()
        try:
            summary = demo.build_demo(seed=seed, enterprises=enterprises)
        except demo.DemoDataExists as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已装入演示数据（种子 {summary.seed}）：{summary.units} 个单位，{summary.users} 个账号，"
                f"{summary.enterprises} 家企业（{summary.unassigned} 家待分配管家），"
                f"用时 {time.monotonic() - started:.1f} 秒"
            )
        )
        self.stdout.write("\n演示账号（密码相同）：\n" + demo.format_logins() + "\n")
