"""`guanjia backup` and `guanjia restore`: every table and every file comes back as it was.

Transactional tests: pg_dump runs in another process and sees committed rows only.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals.models import Attachment, Channel
from guanjia.appeals.tests.conftest import land, routed  # noqa: F401 - fixtures
from guanjia.core import audit, backup, outbox
from guanjia.core.models import AuditRecord, OutboxMessage
from guanjia.enterprises.models import ImportJob

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "现场情况说明：二期厂房容积率。\n".encode()
XLSX_BYTES = b"PK\x03\x04 not really a workbook, only bytes to carry"


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def populate(cast, category) -> None:
    """Rows in every table that matters, and files in both directories."""
    group = Group.objects.create(name="值班")
    group.permissions.add(*Permission.objects.all()[:3])
    cast.handler_a.groups.add(group)
    appeal = attachments.submit_with_attachments(
        cast.ent_a1,
        files=[upload("说明.pdf", PDF)],
        title="二期厂房容积率调整",
        body="想了解提高容积率的程序。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=category,
    )
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    attachments.add_attachments(appeal, [upload("现场.txt", TEXT)], by=cast.handler_a)
    outbox.enqueue(OutboxMessage.Channel.SMS, "13800000000", payload={"appeal": appeal.pk})  # sent at once
    # Still waiting at backup time: a restore brings it back as pending.
    OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.EMAIL, recipient="a@example.com", subject="待发"
    )
    audit.seal_pending()  # a chain head and sealed records …
    audit.record(cast.sysadmin, "test.unsealed", summary="尚未封存")  # … and one left unsealed
    job = ImportJob(original_name="企业名录.xlsx", zone=cast.zone_a, created_by=cast.dispatcher_a)
    job.file.save("企业名录.xlsx", ContentFile(XLSX_BYTES), save=True)


@pytest.fixture
def populated(request):
    """The routed cast (guanjia/appeals/tests/conftest.py) with populate() run on it."""
    cast = request.getfixturevalue("routed")
    populate(cast, request.getfixturevalue("land"))
    return cast


def database_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model table (auto-created m2m tables included), ordered by pk."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in state:
            continue
        columns = [f.attname for f in meta.concrete_fields]
        state[meta.db_table] = list(model._base_manager.order_by("pk").values_list(*columns))
    return state


def files_state(*roots: Path) -> dict[str, str]:
    return {
        f"{root.name}/{path.relative_to(root).as_posix()}": hashlib.sha256(path.read_bytes()).hexdigest()
        for root in roots
        if root.exists()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def without_restore_record(state: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The state minus the one system.restore audit record, which the restore adds as its last row."""
    table = AuditRecord._meta.db_table
    action = [f.attname for f in AuditRecord._meta.concrete_fields].index("action")
    rows = state[table]
    assert [row[action] for row in rows].count("system.restore") == 1
    assert rows[-1][action] == "system.restore"
    return {**state, table: rows[:-1]}


def rewrite(source: Path, target: Path, *, manifest=None, member: str = "", data: bytes = b"") -> Path:
    """A copy of an archive with the manifest edited by `manifest(dict)` or one member's bytes replaced."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for info in old.getmembers():
            content = old.extractfile(info).read() if info.isfile() else None  # type: ignore[union-attr]
            if info.name == "manifest.json" and manifest is not None:
                body = json.loads(content or b"")
                manifest(body)
                content = json.dumps(body).encode()
            elif info.name == member:
                content = data
            if content is not None:
                info.size = len(content)
            new.addfile(info, io.BytesIO(content) if content is not None else None)
    return target


def test_round_trip_restores_every_table_and_every_file(populated, dirs, settings):
    archive = dirs / "nightly.tar.gz"
    call_command("backup", output=str(archive))
    before = database_state()
    roots = (Path(settings.ATTACHMENTS_DIR), Path(settings.MEDIA_ROOT))
    before_files = files_state(*roots)
    assert len([name for name in before_files if name.startswith("attachments/")]) == 2
    assert [name for name in before_files if name.startswith("media/")]
    # The backup's own record was written before the dump, so it is in the archive.
    assert AuditRecord.objects.filter(action="system.backup").count() == 1

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["appeals_attachment"] == 2
    assert manifest["tables"]["core_auditrecord"] == len(before["core_auditrecord"])
    applied = MigrationRecorder(connection).applied_migrations()
    assert sorted(map(tuple, manifest["applied_migrations"])) == sorted(applied)
    assert manifest["migrations"] == {app: max(n for a, n in applied if a == app) for app, _ in applied}
    assert set(manifest["files"]) - {manifest["database"]["member"]} == set(before_files)
    assert all(manifest["files"][name]["sha256"] == digest for name, digest in before_files.items())
    assert manifest["missing_files"] == []

    # Destroy: rows removed, a stray row added, files deleted and a stray file added.
    Attachment.objects.all().delete()
    outbox.enqueue(OutboxMessage.Channel.SMS, "13900000000", payload={"stray": True})
    audit.record(None, "test.stray", summary="备份之后的记录")
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                path.unlink()
    (Path(settings.ATTACHMENTS_DIR) / "stray.bin").write_bytes(b"stray")
    assert database_state() != before

    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(archive))
    assert AuditRecord.objects.filter(action="test.stray").exists()  # refused: nothing touched

    call_command("restore", str(archive), force=True)
    assert without_restore_record(database_state()) == before
    assert files_state(*roots) == before_files
    assert not list(dirs.glob("*.before-restore-*"))  # the old directories are gone once it worked
    audit.seal_pending()
    report = audit.verify()
    assert report.ok, report.problems
    # Sequences came back too: new rows get fresh keys.
    outbox.enqueue(OutboxMessage.Channel.SMS, "13700000000")

    # An emptied database (flushed, as after `migrate` on a new server) needs no --force.
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore", str(archive))
    assert without_restore_record(database_state()) == before
    assert files_state(*roots) == before_files


def _untouched_state(settings) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, str]]:
    return database_state(), files_state(Path(settings.ATTACHMENTS_DIR), Path(settings.MEDIA_ROOT))


def test_bad_archives_are_refused_before_anything_is_touched(populated, dirs, settings, monkeypatch):
    # One populated database and one good archive serve every case: the tests stay quick.
    good = backup.create_backup(dirs / "good.tar.gz").path
    # After the backup, a row and a file that every refused restore must leave in place.
    outbox.enqueue(OutboxMessage.Channel.SMS, "13900000000")
    late_file = Path(settings.ATTACHMENTS_DIR) / "after-backup.bin"
    late_file.write_bytes(b"written after the backup")
    state = _untouched_state(settings)

    def refused(archive: Path, pattern: str) -> str:
        with pytest.raises(CommandError, match=pattern) as caught:
            call_command("restore", str(archive), force=True)
        assert _untouched_state(settings) == state
        return str(caught.value)

    # An attachment changed after the backup was written: its checksum no longer matches.
    with tarfile.open(good) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    member = next(name for name in manifest["files"] if name.startswith("attachments/"))
    message = refused(
        rewrite(good, dirs / "tampered.tar.gz", member=member, data=b"%PDF-1.4 forged"), "校验失败"
    )
    assert member in message

    # A file the manifest does not list.
    def drop_one(body: dict) -> None:
        del body["files"][next(name for name in body["files"] if name.startswith("media/"))]

    refused(rewrite(good, dirs / "unlisted.tar.gz", manifest=drop_one), "不在清单中")

    # SQLite into PostgreSQL, or the other way round.
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def swap_vendor(body: dict) -> None:
        body["database"]["vendor"] = other

    message = refused(rewrite(good, dirs / "other.tar.gz", manifest=swap_vendor), "数据库类型不符")
    assert "不能把" in message

    # An archive from a newer version of the code.
    def future(body: dict) -> None:
        body["applied_migrations"].append(["core", "9999_from_the_future"])

    message = refused(rewrite(good, dirs / "future.tar.gz", manifest=future), "更新版本")
    assert "core.9999_from_the_future" in message

    # Not an archive at all.
    junk = dirs / "junk.tar.gz"
    junk.write_bytes(b"not a gzip file")
    refused(junk, "无法读取")

    # A database restore that fails after the directories were swapped puts the old files back.
    def broken(*args: Any) -> None:
        assert (Path(settings.ATTACHMENTS_DIR)).exists()  # the archive's copy is in place by now
        raise backup.BackupError("写入数据库失败（测试）")

    with monkeypatch.context() as patch:
        patch.setattr(backup, "_restore_sqlite", broken)
        patch.setattr(backup, "_restore_postgresql", broken)
        refused(good, "写入数据库失败")
    assert not list(dirs.glob("*.before-restore-*"))

    # The good archive itself is taken (the state it restores is its own).
    call_command("restore", str(good), force=True)
    assert not OutboxMessage.objects.filter(recipient="13900000000").exists()
    assert not late_file.exists()


def test_backup_never_overwrites(cast, dirs):
    existing = dirs / "keep.tar.gz"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="不会覆盖"):
        call_command("backup", output=str(existing))
    assert existing.read_bytes() == b"an older backup"

    first = backup.create_backup(dirs)  # a directory: the default name inside it
    assert first.path.parent == dirs and first.path.name.startswith("guanjia-backup-")
    stamp = first.path.stat().st_mtime_ns
    with pytest.raises(backup.BackupError, match="不会覆盖"):
        backup.create_backup(dirs, now=_created(first))
    assert first.path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in dirs.iterdir() if p.is_file()) == sorted([existing.name, first.path.name])


def _created(result: backup.BackupResult):
    from datetime import datetime

    return datetime.fromisoformat(result.manifest["created_at"])


def test_missing_attachment_is_reported_and_staging_files_are_left_out(populated, dirs, settings):
    gone = Attachment.objects.order_by("pk").first()
    assert gone is not None
    attachments.stored_path(gone.storage_key).unlink()
    staging = Path(settings.ATTACHMENTS_DIR) / "tmp"
    staging.mkdir(exist_ok=True)
    (staging / "upload-in-flight").write_bytes(b"half an upload")

    result = backup.create_backup(dirs / "b.tar.gz")
    relative = attachments.stored_path(gone.storage_key).relative_to(settings.ATTACHMENTS_DIR).as_posix()
    assert result.missing_files == [f"attachments/{relative}"]
    assert not [name for name in result.manifest["files"] if "/tmp/" in name]


def test_default_location_is_data_dir_backups(cast, settings):
    result = backup.create_backup()
    assert result.path.parent == Path(settings.DATA_DIR) / "backups"
    assert result.path.stat().st_mode & 0o077 == 0  # personal data: the service user only
