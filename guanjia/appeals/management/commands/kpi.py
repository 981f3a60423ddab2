"""`guanjia kpi rebuild` and `guanjia kpi check`: the daily rollups the cockpit reads (guanjia.appeals.rollups)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanjia.appeals import rollups


class Command(BaseCommand):
    help = (
        "考核统计：kpi rebuild 重新计算全部诉求的统计事实并按其合计校正每日统计；"
        "kpi check 只比较、不修改，发现差异时以状态 1 退出"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "check"])
        parser.add_argument("--batch", type=int, default=rollups.BATCH, help="appeals per transaction")
        parser.add_argument("--limit", type=int, default=50, help="differences to list (check)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        if options["action"] == "rebuild":
            progress = self.stdout.write if options["verbosity"] > 1 else None
            corrected = rollups.rebuild(batch=options["batch"], progress=progress)
            self.stdout.write(f"rebuilt: {corrected} rollup row(s) corrected")
            return
        result = rollups.check(batch=options["batch"])
        if result.ok:
            self.stdout.write("ok: the rollups are the sum of every appeal's facts")
            return
        for difference in result.differences[: options["limit"]]:
            self.stdout.write(str(difference))
        if result.stale_appeals:
            shown = ", ".join(f"#{pk}" for pk in result.stale_appeals[: options["limit"]])
            self.stdout.write(f"appeals whose stored facts are out of date: {shown}")
        raise CommandError(
            f"{len(result.differences)} rollup row(s) differ, {len(result.stale_appeals)} appeal(s) out of date;"
            " run `guanjia kpi rebuild`",
            returncode=1,
        )
