"""`guanjia visits reschedule`: (re)compute every enterprise's next due visit, in batches."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanjia.visits import services


class Command(BaseCommand):
    help = "走访日程：visits reschedule 重新计算全部企业的下次应走访日期"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["reschedule"])
        parser.add_argument("--batch", type=int, default=services.BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        done = services.reschedule_all(batch=options["batch"])
        self.stdout.write(f"rescheduled {done} enterprise(s)")
