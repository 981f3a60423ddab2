"""guanjia audit verify | seal | prune --days N"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from guanjia.core import audit


class Command(BaseCommand):
    help = "Verify, seal or prune the hash-chained audit log."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute the chain and name the first record changed or removed")
        sub.add_parser("seal", help="seal records not yet in the chain (the worker does this every minute)")
        prune = sub.add_parser("prune", help="delete sealed records older than --days (at least 180)")
        prune.add_argument("--days", type=int, default=settings.AUDIT_RETENTION_DAYS)

    def handle(self, *args, action: str, **options) -> None:
        if action == "seal":
            self.stdout.write(f"sealed {audit.seal_pending()} records")
        elif action == "prune":
            try:
                removed = audit.prune(options["days"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"pruned {removed} records older than {options['days']} days")
        else:
            report = audit.verify()
            for problem in report.problems:
                self.stderr.write(problem)
            if report.unsealed_late:
                self.stderr.write(f"{report.unsealed_late} 条审计记录超时未封存（封存任务是否在运行？）")
            if not report.ok:
                raise CommandError("审计日志校验未通过")
            self.stdout.write(f"审计日志校验通过：{report.checked} 条记录，哈希链完整")
