"""guanjia restore PATH [--force]: put a `guanjia backup` archive back (database, attachments, media)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guanjia.core import backup


class Command(BaseCommand):
    help = (
        "Check a backup archive and restore the database, the attachments and the media from it. "
        "Stop the web processes and the workers first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="archive written by `guanjia backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that already holds data (everything in it is lost)",
        )

    def handle(self, *args, path: str, force: bool = False, **options) -> None:
        try:
            result = backup.restore_backup(path, force=force)
        except (backup.BackupError, OSError) as exc:  # OSError: a full disk, a directory without permission …
            raise CommandError(f"恢复失败：{exc}") from exc
        for warning in result.warnings:
            self.stderr.write(f"警告：{warning}")
        for line in backup.describe(result.manifest):
            self.stdout.write(line)
        if result.migrated:
            self.stdout.write("备份早于当前程序版本，已执行数据库迁移（migrate）")
        if result.pending_outbox:
            self.stdout.write(
                f"注意：有 {result.pending_outbox} 条待发消息（短信、邮件、机器人），启动 worker 后会发出；"
                "其中可能有备份之后已发过的，请先核对（见部署指南“备份与恢复”）"
            )
        self.stdout.write(
            self.style.SUCCESS("恢复完成。请启动服务，并运行 guanjia audit verify 检查审计日志")
        )
