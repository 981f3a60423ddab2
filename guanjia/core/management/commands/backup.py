"""guanjia backup [--output PATH]: the database, attachments and media in one checked archive."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guanjia.core import backup


class Command(BaseCommand):
    help = "Write one archive with the database, the attachments and the media files (never overwrites)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            help="archive file or directory (default: $GUANJIA_DATA_DIR/backups/guanjia-backup-<time>.tar.gz)",
        )

    def handle(self, *args, output: str | None = None, **options) -> None:
        try:
            result = backup.create_backup(output)
        except (backup.BackupError, OSError) as exc:  # OSError: a full disk, a directory without permission …
            raise CommandError(f"备份失败：{exc}") from exc
        for member in result.missing_files:
            self.stderr.write(f"警告：数据库中有记录、但文件目录中缺失的文件：{member}")
        for line in backup.describe(result.manifest):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"备份完成：{result.path}"))
