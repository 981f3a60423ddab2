"""Backup and restore: the database, the attachments and the media directory in one checked archive.

An archive (`guanjia-backup-YYYYmmdd-HHMMSS.tar.gz`) holds

    manifest.json                     what is inside, with a SHA-256 for every other member
    database/guanjia.sqlite3          SQLite: an online copy through the backup API
    database/guanjia.pgdump           PostgreSQL: pg_dump --format=custom
    attachments/…                     settings.ATTACHMENTS_DIR (without its tmp/ staging area)
    media/…                           settings.MEDIA_ROOT (import files)

The database is copied first and the directories second: a file added in between
is harmless, whereas a row pointing at a file the archive lacks is not. Files are
only ever added under random or dated names and removed when no row points at
them, so every file the database copy names is still there when the directories
are read; the backup checks this and lists any exception in the manifest.

A restore checks the whole archive before it touches anything, moves the current
directories aside, puts the archive's in place, restores the database, and moves
the old directories back if the database restore fails.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

import guanjia
from guanjia.core import audit
from guanjia.core.models import AuditRecord, OutboxMessage, User

logger = logging.getLogger(__name__)

FORMAT = "guanjia-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_DIR = "database"
AREAS = ("attachments", "media")  # archive folder = the directory it comes from, see area_roots()
SQLITE_MEMBER = f"{DB_DIR}/guanjia.sqlite3"
PG_MEMBER = f"{DB_DIR}/guanjia.pgdump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator (Chinese)."""


# --- files the database points at ----------------------------------------------------------


@dataclass(frozen=True)
class FileColumn:
    """A column whose values name files in one of the backed-up directories."""

    table: str
    column: str
    area: str  # "attachments" or "media"
    relative_path: Callable[[str], str]


_registered: list[FileColumn] = []


def register_file_column(
    model: type[models.Model], column: str, *, area: str, relative_path: Callable[[str], str]
) -> None:
    """Let a higher app name a column that points at files (core knows no domain app).

    The backup checks that every file named in its database copy is in the archive."""
    if area not in AREAS:
        raise ValueError(f"unknown backup area {area!r}")
    model_field = model._meta.get_field(column)
    assert isinstance(model_field, models.Field) and model_field.column
    entry = FileColumn(model._meta.db_table, model_field.column, area, relative_path)
    if entry not in _registered:
        _registered.append(entry)


def file_columns() -> list[FileColumn]:
    """Registered columns, plus every FileField (its value is a path under MEDIA_ROOT)."""
    found = list(_registered)
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField) and model_field.column:
                found.append(FileColumn(model._meta.db_table, model_field.column, "media", str))
    return found


def area_roots() -> dict[str, Path]:
    return {"attachments": Path(settings.ATTACHMENTS_DIR), "media": Path(settings.MEDIA_ROOT)}


def _referenced_files(cursor: Any, tables: Iterable[str]) -> dict[str, str]:
    """Archive member name -> "table.column" for every file the database copy points at."""
    present = set(tables)
    wanted: dict[str, str] = {}
    for entry in file_columns():
        if entry.table not in present:
            continue
        cursor.execute(f'SELECT "{entry.column}" FROM "{entry.table}"')  # noqa: S608 - names from models
        for (value,) in cursor.fetchall():
            if not value:
                continue
            try:
                relative = entry.relative_path(str(value))
            except ValueError:
                wanted[f"{entry.area}/?{value}"] = f"{entry.table}.{entry.column}"
                continue
            wanted[f"{entry.area}/{PurePosixPath(relative).as_posix()}"] = f"{entry.table}.{entry.column}"
    return wanted


# --- helpers -------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """Hands tarfile the file's bytes and hashes them on the way: each file is read once."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _vendor_label(vendor: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)


def _db_settings() -> dict[str, Any]:
    return connection.settings_dict


def _sqlite_path() -> Path:
    name = str(_db_settings()["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"无法备份或恢复内存中的 SQLite 数据库（{name or '未配置'}）")
    return Path(name)


def _pg_env() -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore: the password never appears on a command line."""
    params = _db_settings()
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[var] = str(params[key])
    env["PGDATABASE"] = str(params["NAME"])
    options = params.get("OPTIONS") or {}
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("connect_timeout", "PGCONNECT_TIMEOUT"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name} 程序：请安装 PostgreSQL 客户端（与数据库服务器同一大版本或更新），并确保它在 PATH 中"
        )
    return found


def _run(command: list[str], what: str) -> None:
    logger.info("running %s", " ".join(command))
    try:
        done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise BackupError(f"{what}失败：{exc}") from exc
    if done.returncode != 0:
        logger.error("%s exited with %s: %s", command[0], done.returncode, done.stderr.strip())
        raise BackupError(
            f"{what}失败（{Path(command[0]).name} 退出码 {done.returncode}）：{done.stderr.strip()}"
        )


def _migration_state(rows: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[list[str]]]:
    applied = sorted([app, name] for app, name in rows)
    last: dict[str, str] = {}
    for app, name in applied:
        last[app] = max(last.get(app, ""), name)
    return last, applied


# --- backup --------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def missing_files(self) -> list[str]:
        return list(self.manifest.get("missing_files", []))


@dataclass
class _DatabaseCopy:
    path: Path
    member: str
    tables: dict[str, int]
    last_migrations: dict[str, str]
    applied_migrations: list[list[str]]
    referenced: dict[str, str]
    server_version: str = ""


def default_archive_name(now: datetime | None = None) -> str:
    return f"guanjia-backup-{timezone.localtime(now or timezone.now()):%Y%m%d-%H%M%S}.tar.gz"


def _target_path(output: Path | str | None, now: datetime) -> Path:
    if output is None:
        folder = Path(settings.DATA_DIR) / "backups"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / default_archive_name(now)
    target = Path(output)
    if target.is_dir():
        return target / default_archive_name(now)
    if not target.parent.is_dir():
        raise BackupError(f"备份目录不存在：{target.parent}")
    return target


def _copy_sqlite(work: Path) -> _DatabaseCopy:
    source_path = _sqlite_path()
    if not source_path.exists():
        raise BackupError(f"SQLite 数据库文件不存在：{source_path}")
    copy_path = work / "guanjia.sqlite3"
    # The online backup API reads a consistent snapshot while other processes keep writing
    # (WAL); a file copy of a live WAL database may miss committed transactions.
    source = sqlite3.connect(source_path, timeout=60)
    try:
        target = sqlite3.connect(copy_path)
        try:
            source.backup(target)
            # A self-contained file: no -wal/-shm next to it when it is opened again.
            target.execute("PRAGMA journal_mode=DELETE")
            cursor = target.cursor()
            names = [
                row[0]
                for row in cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            tables = {name: cursor.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608
            rows = (
                cursor.execute("SELECT app, name FROM django_migrations").fetchall()
                if "django_migrations" in tables
                else []
            )
            referenced = _referenced_files(cursor, names)
            server_version = sqlite3.sqlite_version
        finally:
            target.close()
    finally:
        source.close()
    last, applied = _migration_state(rows)
    return _DatabaseCopy(copy_path, SQLITE_MEMBER, tables, last, applied, referenced, server_version)


def _copy_postgresql(work: Path) -> _DatabaseCopy:
    dump_path = work / "guanjia.pgdump"
    pg_dump = _pg_tool("pg_dump")
    # One REPEATABLE READ snapshot, shared with pg_dump: the row counts, the migration state and
    # the file references in the manifest describe exactly the rows in the dump.
    raw = connection.Database.connect(**connection.get_connection_params())  # type: ignore[attr-defined]
    try:
        raw.autocommit = True
        cursor = raw.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump_path}", "--no-password"],
            "导出 PostgreSQL 数据库",
        )
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        names = [row[0] for row in cursor.fetchall()]
        tables = {}
        for name in names:
            cursor.execute(f'SELECT COUNT(*) FROM "{name}"')  # noqa: S608 - names from the catalogue
            tables[name] = cursor.fetchone()[0]
        rows: list[tuple[str, str]] = []
        if "django_migrations" in tables:
            cursor.execute("SELECT app, name FROM django_migrations")
            rows = cursor.fetchall()
        referenced = _referenced_files(cursor, names)
        cursor.execute("ROLLBACK")
    finally:
        raw.close()
    last, applied = _migration_state(rows)
    return _DatabaseCopy(dump_path, PG_MEMBER, tables, last, applied, referenced, str(server_version))


def _add_file(archive: tarfile.TarFile, path: Path, member: str, files: dict[str, dict[str, Any]]) -> None:
    info = archive.gettarinfo(str(path), arcname=member)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        archive.addfile(info, reader)  # type: ignore[arg-type]  # tarfile only calls read()
    files[member] = {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _add_directory(archive: tarfile.TarFile, area: str, root: Path, files: dict[str, dict[str, Any]]) -> None:
    folder = tarfile.TarInfo(area)
    folder.type = tarfile.DIRTYPE
    folder.mode = 0o750
    folder.mtime = int(timezone.now().timestamp())
    archive.addfile(folder)
    if not root.is_dir():
        return
    for current, dirnames, filenames in os.walk(root):
        here = Path(current)
        relative = here.relative_to(root)
        if area == "attachments" and relative == Path("."):
            # Uploads in flight: no row points at them yet.
            dirnames[:] = [name for name in dirnames if name != "tmp"]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            member = (PurePosixPath(area) / PurePosixPath(*relative.parts) / name).as_posix()
            try:
                _add_file(archive, path, member, files)
            except FileNotFoundError:
                # Removed since the walk saw it: the database copy does not point at it
                # (checked below), so it does not belong in the backup.
                logger.info("%s vanished during the backup", path)


def create_backup(output: Path | str | None = None, *, now: datetime | None = None) -> BackupResult:
    """Write one archive with the database, the attachments and the media; never overwrites."""
    now = now or timezone.now()
    target = _target_path(output, now)
    if target.exists():
        raise BackupError(f"备份文件已存在，不会覆盖：{target}")
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份 {vendor} 数据库")

    # Recorded before the dump, so that the archive holds the record of its own making.
    with transaction.atomic():
        audit.record(
            None,
            "system.backup",
            summary=f"创建备份 {target.name}",
            detail={"archive": target.name, "os_user": _os_user(), "vendor": vendor},
        )

    with tempfile.TemporaryDirectory(prefix=".guanjia-backup-", dir=target.parent) as work_dir:
        work = Path(work_dir)
        database = _copy_sqlite(work) if vendor == "sqlite" else _copy_postgresql(work)
        partial = work / "archive.partial"
        partial.touch(mode=0o600)  # personal data: readable by the service user only
        files: dict[str, dict[str, Any]] = {}
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            _add_file(archive, database.path, database.member, files)
            database.path.unlink()  # the copy is in the archive; do not keep two on the disk
            for area, root in area_roots().items():
                _add_directory(archive, area, root, files)
            missing = sorted(member for member in database.referenced if member not in files)
            for member in missing:
                logger.error(
                    "%s (%s) is named in the database but missing", member, database.referenced[member]
                )
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "platform_version": guanjia.__version__,
                "created_at": timezone.localtime(now).isoformat(),
                "database": {
                    "vendor": vendor,
                    "member": database.member,
                    "server_version": database.server_version,
                },
                "migrations": database.last_migrations,
                "applied_migrations": database.applied_migrations,
                "tables": database.tables,
                "missing_files": missing,
                "files": files,
            }
            body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mode = 0o600
            info.mtime = int(now.timestamp())
            archive.addfile(info, io.BytesIO(body))
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        _publish(partial, target)
    logger.info("backup written to %s (%s files)", target, len(files))
    return BackupResult(target, manifest)


def _publish(partial: Path, target: Path) -> None:
    """Give the finished archive its name, refusing to replace a file that appeared meanwhile."""
    try:
        os.link(partial, target)  # fails if the target exists: no window between check and rename
    except FileExistsError:
        raise BackupError(f"备份文件已存在，不会覆盖：{target}") from None
    except OSError:
        # A file system without hard links.
        if target.exists():
            raise BackupError(f"备份文件已存在，不会覆盖：{target}") from None
        os.rename(partial, target)
    else:
        partial.unlink()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


# --- reading and checking an archive -------------------------------------------------------------


@dataclass
class CheckedArchive:
    """An archive unpacked into a staging directory and checked against its manifest."""

    path: Path
    staging: Path
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def vendor(self) -> str:
        return str(self.manifest["database"]["vendor"])

    @property
    def database_file(self) -> Path:
        return self.staging / self.manifest["database"]["member"]


def _allowed_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    if not parts or ".." in parts or PurePosixPath(name).is_absolute():
        return False
    return name == MANIFEST or parts[0] in (DB_DIR, *AREAS)


@contextmanager
def unpacked(path: Path | str) -> Iterator[CheckedArchive]:
    """Unpack and check an archive (every checksum, nothing unlisted); the staging area goes afterwards."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    staging = Path(tempfile.mkdtemp(prefix=".guanjia-restore-", dir=settings.DATA_DIR))
    try:
        try:
            with tarfile.open(path, "r:gz") as archive:
                members = archive.getmembers()
                for member in members:
                    if not _allowed_member(member.name) or not (member.isfile() or member.isdir()):
                        raise BackupError(f"备份文件中有不应出现的内容：{member.name}")
                # The "data" filter refuses absolute paths, links out of the tree and device files.
                archive.extractall(staging, members=members, filter="data")
        except BackupError:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise BackupError(f"备份文件无法读取，可能已损坏或不是管家备份：{path.name}（{exc}）") from exc
        yield _check(path, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check(path: Path, staging: Path) -> CheckedArchive:
    manifest_path = staging / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"备份文件中没有 {MANIFEST}，不是管家备份：{path.name}")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"备份清单 {MANIFEST} 已损坏：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"不是管家备份文件：{path.name}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {version} 高于本程序支持的版本 {FORMAT_VERSION}：请用更新版本的管家恢复"
        )
    listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
    for member, expected in sorted(listed.items()):
        file_path = staging / member
        if not _allowed_member(member) or not file_path.is_file():
            raise BackupError(f"备份不完整：清单中的文件 {member} 不在备份中")
        if sha256_of(file_path) != expected.get("sha256"):
            raise BackupError(
                f"校验失败：备份中的文件 {member} 与清单中的 SHA-256 不符（文件已损坏或被改动）"
            )
    for file_path in staging.rglob("*"):
        member = file_path.relative_to(staging).as_posix()
        if file_path.is_file() and member != MANIFEST and member not in listed:
            raise BackupError(f"校验失败：备份中的文件 {member} 不在清单中")
    database = manifest.get("database") or {}
    if database.get("member") not in listed:
        raise BackupError("备份不完整：没有数据库文件")
    checked = CheckedArchive(path, staging, manifest)
    for member in manifest.get("missing_files") or []:
        checked.warnings.append(f"备份时已缺失的文件（数据库中有记录）：{member}")
    return checked


def _check_target(checked: CheckedArchive, *, force: bool) -> None:
    vendor = connection.vendor
    if checked.vendor != vendor:
        raise BackupError(
            f"数据库类型不符：备份来自 {_vendor_label(checked.vendor)}，当前配置的是 {_vendor_label(vendor)}。"
            f"不能把 {_vendor_label(checked.vendor)} 备份恢复到 {_vendor_label(vendor)}"
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(
        f"{app}.{name}"
        for app, name in checked.manifest.get("applied_migrations") or []
        if (app, name) not in known
    )
    if unknown:
        shown = "、".join(unknown[:5]) + ("等" if len(unknown) > 5 else "")
        raise BackupError(f"备份来自更新版本的管家（数据库迁移 {shown} 本程序不认识）：请先升级程序，再恢复")
    if not force:
        users, records = _existing_data()
        if users or records:
            raise BackupError(
                f"目标数据库不是空的（已有 {users} 个用户账号、{records} 条审计记录）。"
                "恢复会用备份覆盖全部现有数据；如确定要这样做，请加 --force"
            )


def _existing_data() -> tuple[int, int]:
    present = set(connection.introspection.table_names())
    counts = []
    with connection.cursor() as cursor:
        for model in (User, AuditRecord):
            table = model._meta.db_table
            if table not in present:
                counts.append(0)
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts.append(cursor.fetchone()[0])
    return counts[0], counts[1]


# --- restore -------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    migrated: bool = False
    pending_outbox: int = 0
    warnings: list[str] = field(default_factory=list)


def restore_backup(path: Path | str, *, force: bool = False) -> RestoreResult:
    """Check the archive, then replace the database, the attachments and the media with its content."""
    with unpacked(path) as checked:
        _check_target(checked, force=force)
        aside = _swap_directories(checked)
        try:
            connections.close_all()
            if checked.vendor == "sqlite":
                _restore_sqlite(checked.database_file)
            else:
                _restore_postgresql(checked)
        except BaseException:
            _swap_back(aside)
            raise
        finally:
            connections.close_all()
        for old in aside.values():
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        result = RestoreResult(checked.manifest, warnings=list(checked.warnings))
    result.migrated = _migrate_if_needed()
    with transaction.atomic():
        audit.record(
            None,
            "system.restore",
            summary=f"从备份 {Path(path).name} 恢复（备份时间 {checked.manifest.get('created_at', '')}）",
            detail={
                "archive": Path(path).name,
                "created_at": checked.manifest.get("created_at"),
                "platform_version": checked.manifest.get("platform_version"),
                "forced": force,
                "migrated": result.migrated,
                "os_user": _os_user(),
            },
        )
    result.pending_outbox = OutboxMessage.objects.filter(
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
    ).count()
    return result


def _swap_directories(checked: CheckedArchive) -> dict[str, Path | None]:
    """Move the current directories aside and the archive's into place; returns what was moved aside."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    aside: dict[str, Path | None] = {}
    try:
        for area, root in area_roots().items():
            old: Path | None = None
            if root.exists():
                old = root.with_name(f"{root.name}.before-restore-{stamp}")
                os.rename(root, old)
            aside[area] = old
            root.parent.mkdir(parents=True, exist_ok=True)
            source = checked.staging / area
            if source.is_dir():
                shutil.move(str(source), str(root))
            else:
                root.mkdir(mode=0o750)
    except OSError as exc:
        _swap_back(aside)
        raise BackupError(f"无法替换文件目录：{exc}") from exc
    return aside


def _swap_back(aside: dict[str, Path | None]) -> None:
    roots = area_roots()
    for area, old in aside.items():
        root = roots[area]
        try:
            if root.exists():
                shutil.rmtree(root)
            if old is not None:
                os.rename(old, root)
        except OSError:
            logger.exception("could not move %s back to %s", old, root)


def _restore_sqlite(copy: Path) -> None:
    target_path = _sqlite_path()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(copy)
    try:
        # timeout: wait for a reader of another process to finish rather than fail at once.
        target = sqlite3.connect(target_path, timeout=60)
        try:
            source.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(f"写入 SQLite 数据库失败：{exc}") from exc
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgresql(checked: CheckedArchive) -> None:
    pg_restore = _pg_tool("pg_restore")
    # --single-transaction: a failure leaves the database as it was. --no-owner/--no-privileges:
    # the roles of the backed-up server need not exist here; the restoring user owns everything.
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={_db_settings()['NAME']}",
            str(checked.database_file),
        ],
        "恢复 PostgreSQL 数据库",
    )
    # Tables the archive does not know (from a newer migration applied here) would make
    # `migrate` stumble over tables that django_migrations says do not exist yet.
    archived = set(checked.manifest.get("tables") or {})
    extra = sorted(set(connection.introspection.table_names()) - archived)
    if extra:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in extra:
                logger.warning("dropping table %s, which the backup does not have", table)
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")


def _migrate_if_needed() -> bool:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    from django.core.management import call_command

    logger.info("the backup predates %s migration(s); migrating", len(plan))
    call_command("migrate", interactive=False, verbosity=0)
    return True


def describe(manifest: dict[str, Any]) -> list[str]:
    """A few lines about an archive, for the operator."""
    files = manifest.get("files") or {}
    counts = {area: sum(1 for member in files if member.startswith(f"{area}/")) for area in AREAS}
    tables = manifest.get("tables") or {}
    return [
        f"备份时间：{manifest.get('created_at', '')}，管家版本 {manifest.get('platform_version', '')}",
        f"数据库：{_vendor_label(str(manifest.get('database', {}).get('vendor', '')))}，"
        f"{len(tables)} 张表，{sum(tables.values())} 行",
        f"附件 {counts['attachments']} 个，导入文件等 {counts['media']} 个",
    ]
