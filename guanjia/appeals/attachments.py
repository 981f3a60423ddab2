"""Appeal attachments (附件): checked by their content, stored outside the web root, served to viewers only.

A file is judged by its bytes, never by its name or the browser's content type:
PDF, images (PNG, JPEG, GIF, WebP), Office documents (OOXML docx/xlsx/pptx and
the legacy OLE doc/xls), OFD and plain text are taken; everything else — programs,
web pages, SVG, scripts, archives that are not office documents — is refused
with a message naming the file. One bad file refuses the whole upload.

Each file is written to a temporary file, hashed and checked before anything
reaches the database (a long write never holds the database lock), then renamed
to a random storage key in a sharded directory under settings.ATTACHMENTS_DIR;
the user's file name is kept in the database only. If the database write fails,
the stored files are removed again: nothing is half-written.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import secrets
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Assignment, Attachment, Status, StoredFile
from guanjia.core import audit
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

logger = logging.getLogger(__name__)
StoredFileT = TypeVar("StoredFileT", bound=StoredFile)

MAX_FILES = 10  # per upload
CHUNK = 64 * 1024
HEAD = 8 * 1024
NAME_MAX = 200  # Attachment.name's max_length
KEY_RE = re.compile(r"[0-9a-f]{32}")
# Closed and declined appeals are settled: only the zone's dispatcher may still add a file.
SETTLED = frozenset({Status.CLOSED, Status.DECLINED})


class AttachmentRefused(ServiceError):
    """A file (or the upload as a whole) that is not taken; the message names the file."""


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]  # the first is the one added to a name that lacks all of them


PDF = FileType("application/pdf", (".pdf",))
PNG = FileType("image/png", (".png",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"))
GIF = FileType("image/gif", (".gif",))
WEBP = FileType("image/webp", (".webp",))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",))
DOC = FileType("application/msword", (".doc",))
XLS = FileType("application/vnd.ms-excel", (".xls",))
OFD = FileType("application/ofd", (".ofd",))
TEXT_UTF8 = FileType("text/plain; charset=utf-8", (".txt", ".csv", ".log", ".md"))
TEXT_GB18030 = FileType("text/plain; charset=gb18030", (".txt", ".csv", ".log", ".md"))

# For the file input's `accept` hint and the help text; the content decides, not these.
ACCEPT = ",".join(
    sorted(
        {
            ext
            for t in (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, DOC, XLS, OFD, TEXT_UTF8)
            for ext in t.extensions
        }
    )
)
ALLOWED_LABEL = gettext_lazy(
    "PDF、图片（PNG/JPEG/GIF/WebP）、Word、Excel、PowerPoint（docx/xlsx/pptx）、Word/Excel 97-2003（doc/xls）、OFD、纯文本"
)


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def storage_root() -> Path:
    return Path(settings.ATTACHMENTS_DIR)


def stored_path(storage_key: str) -> Path:
    """Where a key's file lives: two levels of shards, so no directory grows past 256 entries per level."""
    if not KEY_RE.fullmatch(storage_key):
        raise ValueError(f"not a storage key: {storage_key!r}")
    return storage_root() / storage_key[:2] / storage_key[2:4] / storage_key


# --- who may attach ---------------------------------------------------------------------


def may_attach(appeal: Appeal, user: User) -> bool:
    """Whether `user` may add files to `appeal` (the page offers the form only then)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_role(Role.DISPATCHER) and appeal.zone_id in user.zone_ids():
        return True
    if appeal.status in SETTLED:
        return False
    if user.has_role(Role.STEWARD) and appeal.enterprise.steward_id == user.pk:
        return True
    if (
        user.has_role(Role.ENTERPRISE_USER)
        and EnterpriseMembership.objects.filter(
            user=user, enterprise_id=appeal.enterprise_id, is_active=True
        ).exists()
    ):
        return True
    return (
        user.has_any_role((Role.HANDLER, Role.DEPARTMENT_HEAD))
        and user.unit_id is not None
        and Assignment.objects.filter(appeal=appeal, department_id=user.unit_id, is_current=True).exists()
    )


# --- content checks ---------------------------------------------------------------------


class _Unreadable(Exception):
    """A file that claims a format by its first bytes but is damaged inside."""


def _zip_type(path: Path, display: str) -> FileType:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _Unreadable from exc
    lowered = {n.lower() for n in names}
    if "ofd.xml" in lowered:
        return OFD
    if "[content_types].xml" in lowered:
        # Macro-enabled documents (docm, xlsm …) carry a VBA project: code, not material.
        if any(n.endswith("vbaproject.bin") for n in lowered):
            raise AttachmentRefused(
                _("“%(name)s”是含宏的 Office 文档，不能上传；请另存为不含宏的文档或 PDF 后再上传")
                % {"name": display}
            )
        for main, kind in (
            ("word/document.xml", DOCX),
            ("xl/workbook.xml", XLSX),
            ("ppt/presentation.xml", PPTX),
        ):
            if main in lowered:
                return kind
    raise AttachmentRefused(
        _("“%(name)s”是压缩包，不是 Office 或 OFD 文档，不能上传；请解压后上传其中的文件") % {"name": display}
    )


_FREE = 0xFFFFFFFA  # sector numbers from here up are markers (end of chain, free, FAT, DIFAT)


def _ole_stream_names(handle: BinaryIO, size: int) -> set[str]:
    """The names of the streams directly under the root of an OLE compound file ([MS-CFB])."""
    handle.seek(0)
    header = handle.read(512)
    if len(header) < 512:
        raise _Unreadable
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise _Unreadable
    sector_size = 1 << shift
    sectors = size // sector_size + 1  # an upper bound that keeps a forged header from looping long
    fat_count, first_dir = struct.unpack_from("<II", header, 0x2C)
    first_difat, difat_count = struct.unpack_from("<II", header, 0x44)

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise _Unreadable
        handle.seek((number + 1) * sector_size)
        data = handle.read(sector_size)
        if not data:
            raise _Unreadable
        return data.ljust(sector_size, b"\0")

    fat_sectors = [n for n in struct.unpack_from("<109I", header, 0x4C) if n < _FREE]
    per_sector = sector_size // 4
    following = first_difat
    for _step in range(min(difat_count, sectors)):
        if following >= _FREE:
            break
        numbers = struct.unpack(f"<{per_sector}I", sector(following))
        fat_sectors.extend(n for n in numbers[:-1] if n < _FREE)
        following = numbers[-1]
    fat: list[int] = []
    for number in fat_sectors[: min(fat_count, sectors)]:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))
    entries: list[bytes] = []
    current, seen = first_dir, set()
    while current < _FREE:
        if current in seen or current >= len(fat):
            raise _Unreadable
        seen.add(current)
        data = sector(current)
        entries.extend(data[i : i + 128] for i in range(0, sector_size, 128))
        current = fat[current]
    if not entries or entries[0][0x42] != 5:  # entry 0 is the root storage
        raise _Unreadable
    names: set[str] = set()
    pending = [struct.unpack_from("<I", entries[0], 0x4C)[0]]  # the root's child: a tree of siblings
    visited: set[int] = set()
    while pending:
        index = pending.pop()
        if index >= len(entries) or index in visited:
            continue
        visited.add(index)
        entry = entries[index]
        length = struct.unpack_from("<H", entry, 0x40)[0]
        if entry[0x42] == 2 and 2 <= length <= 64:
            names.add(entry[: length - 2].decode("utf-16-le", "replace"))
        left, right = struct.unpack_from("<II", entry, 0x44)
        pending.extend((left, right))
    return names


def _ole_type(path: Path, display: str) -> FileType:
    try:
        with path.open("rb") as handle:
            names = _ole_stream_names(handle, path.stat().st_size)
    except (OSError, struct.error) as exc:
        raise _Unreadable from exc
    if "WordDocument" in names:
        return DOC
    if names & {"Workbook", "Book"}:
        return XLS
    # Installers (msi), Outlook messages, old PowerPoint …: the same container, not material we take.
    raise AttachmentRefused(
        _("“%(name)s”不是 Word 或 Excel 97-2003 文档，不能上传（允许：%(allowed)s）")
        % {"name": display, "allowed": ALLOWED_LABEL}
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Markup and scripts are refused even as text: a browser or a double click would run them.
_ACTIVE = re.compile(r"<\s*(script|html|svg|iframe|body|object|embed|!doctype|\?php)\b|<\?xml", re.IGNORECASE)


def _decodes_as_text(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    tail = ""
    first = True
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                text = decoder.decode(chunk)
                if first:
                    first = False
                    stripped = text.lstrip("\ufeff \t\r\n")
                    if stripped.startswith(("<", "#!")):
                        return False
                if _CONTROL.search(text):
                    return False
                # Keep a little of the previous chunk so that a tag cut in two is still seen.
                if _ACTIVE.search(tail + text):
                    return False
                tail = text[-16:]
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect(path: Path, display: str) -> FileType:
    """The type of the file at `path`, by its content; AttachmentRefused (naming `display`) otherwise."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    kind: FileType | None = None
    try:
        if head.startswith(b"%PDF-"):
            kind = PDF
        elif head.startswith(b"\x89PNG\r\n\x1a\n"):
            kind = PNG
        elif head.startswith(b"\xff\xd8\xff"):
            kind = JPEG
        elif head.startswith((b"GIF87a", b"GIF89a")):
            kind = GIF
        elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            kind = WEBP
        elif head.startswith(b"PK\x03\x04"):
            kind = _zip_type(path, display)
        elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            kind = _ole_type(path, display)
        elif b"\0" not in head:
            if _decodes_as_text(path, "utf-8-sig"):
                kind = TEXT_UTF8
            elif _decodes_as_text(path, "gb18030"):
                kind = TEXT_GB18030
    except _Unreadable:
        raise AttachmentRefused(
            _("“%(name)s”已损坏或格式不完整，无法识别，不能上传") % {"name": display}
        ) from None
    if kind is None:
        raise AttachmentRefused(
            _("“%(name)s”不是允许上传的文件类型（允许：%(allowed)s）；程序、网页、SVG、脚本和压缩包不能上传")
            % {"name": display, "allowed": ALLOWED_LABEL}
        )
    return kind


# Control characters, and the bidirectional overrides that make "fdp.exe" look like "exe.pdf".
_NAME_NOISE = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_name(name: str, kind: FileType) -> str:
    """The name shown and offered on download: the user's, without path or control characters, and
    ending in an extension of the detected type, so that a saved copy opens as what it is."""
    base = _NAME_NOISE.sub("", os.path.basename(name.replace("\\", "/"))).strip().strip(".") or _("附件")
    extension = ""
    if not base.lower().endswith(kind.extensions):
        extension = kind.extensions[0]
    elif "." in base:
        base, dot, ext = base.rpartition(".")
        extension = dot + ext
    return base[: NAME_MAX - len(extension)] + extension


# --- staging and storing ---------------------------------------------------------------------


@dataclass
class StagedFile:
    """A checked upload in a temporary file, waiting to be stored."""

    name: str
    kind: FileType
    size: int
    sha256: str
    temp: Path


def _display(upload: UploadedFile) -> str:
    # The name as the user knows it, for messages; clean_name() makes the stored one.
    return _NAME_NOISE.sub("", os.path.basename((upload.name or "").replace("\\", "/"))) or _("（无文件名）")


def _too_big(display: str, size: int) -> AttachmentRefused:
    return AttachmentRefused(
        _("“%(name)s”大小为 %(size)s，超过单个附件 %(max)s 的上限")
        % {"name": display, "size": filesizeformat(size), "max": filesizeformat(max_bytes())}
    )


def _write_temp(upload: UploadedFile, display: str) -> tuple[Path, int, str]:
    staging = storage_root() / "tmp"
    staging.mkdir(parents=True, exist_ok=True, mode=0o750)
    # In the attachments directory itself, so that storing it is a rename on the same file system.
    descriptor, name = tempfile.mkstemp(dir=staging, prefix="upload-")
    temp = Path(name)
    digest, size, limit = hashlib.sha256(), 0, max_bytes()
    try:
        with os.fdopen(descriptor, "wb") as out:
            upload.seek(0)
            for chunk in upload.chunks(CHUNK):
                size += len(chunk)
                if size > limit:  # the declared size is the client's word; count what arrives
                    raise _too_big(display, size)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, size, digest.hexdigest()


def discard(staged: Iterable[StagedFile]) -> None:
    """Remove the temporary files of an upload that was refused or is done."""
    for item in staged:
        item.temp.unlink(missing_ok=True)


def stage(files: Sequence[UploadedFile]) -> list[StagedFile]:
    """Check every file of one upload (count, size, type) and keep each in a temporary file.

    Outside any transaction: a large upload must not hold the database lock. One bad file refuses
    the whole upload, and nothing of it is kept.
    """
    if not files:
        raise AttachmentRefused(_("请选择要上传的文件"))
    if len(files) > MAX_FILES:
        raise AttachmentRefused(
            _("一次最多上传 %(max)s 个附件，您选择了 %(count)s 个") % {"max": MAX_FILES, "count": len(files)}
        )
    for upload in files:
        if upload.size is not None and upload.size > max_bytes():
            raise _too_big(_display(upload), upload.size)
    staged: list[StagedFile] = []
    temp: Path | None = None
    try:
        for upload in files:
            display = _display(upload)
            temp, size, sha256 = _write_temp(upload, display)
            if size == 0:
                raise AttachmentRefused(_("“%(name)s”是空文件，不能上传") % {"name": display})
            kind = detect(temp, display)
            staged.append(StagedFile(clean_name(display, kind), kind, size, sha256, temp))
            temp = None
    except BaseException as exc:
        discard(staged)
        if temp is not None:
            temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            logger.exception("could not stage an attachment under %s", storage_root())
            raise AttachmentRefused(_("附件未能保存，请稍后重试；如一再出现请联系系统管理员")) from exc
        raise
    return staged


def place(staged: Sequence[StagedFile]) -> list[str]:
    """Move staged files to new random storage keys, in order; the caller records them in the database
    and calls unplace(keys) if that fails. A failure here removes what was already moved."""
    keys: list[str] = []
    try:
        for item in staged:
            key = secrets.token_hex(16)
            target = stored_path(key)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            os.replace(item.temp, target)
            keys.append(key)
    except BaseException:
        unplace(keys)
        raise
    return keys


def unplace(keys: Iterable[str]) -> None:
    """Remove stored files whose database rows were not written (the transaction rolled back)."""
    for key in keys:
        stored_path(key).unlink(missing_ok=True)


def save_rows(
    model: type[StoredFileT],
    staged: Sequence[StagedFile],
    keys: Sequence[str],
    *,
    by: User,
    at: datetime,
    **owner: Any,
) -> list[StoredFileT]:
    """Record placed files as rows of `model` (an appeals.models.StoredFile), `owner` naming what they
    belong to (appeal=…, visit=…); bulk_create sets primary keys on PostgreSQL and SQLite (RETURNING)."""
    return model._default_manager.bulk_create(
        model(
            name=item.name,
            content_type=item.kind.content_type,
            size=item.size,
            sha256=item.sha256,
            storage_key=key,
            uploaded_by=by,
            uploaded_at=at,
            **owner,
        )
        for item, key in zip(staged, keys, strict=True)
    )


def _store(appeal: Appeal, staged: Sequence[StagedFile], *, by: User, now: datetime) -> list[Attachment]:
    """Move staged files into place and record them, with the timeline event and the audit record."""
    keys: list[str] = []
    try:
        keys = place(staged)
        with transaction.atomic():
            # Judge against the status as it is now, not as the caller read it.
            current = Appeal.objects.filter(pk=appeal.pk).values_list("status", flat=True).first()
            if current is None:
                raise ServiceError(_("该诉求已不存在"))
            appeal.status = current
            if not may_attach(appeal, by):
                raise NotAllowed(_("该诉求已办结或不予受理，只有本园区的受理员可以再添加附件"))
            rows = save_rows(Attachment, staged, keys, by=by, at=now, appeal=appeal)
            lifecycle.record(
                appeal,
                "attach",
                by=by,
                now=now,
                note="\n".join(item.name for item in staged),
                summary=f"诉求 #{appeal.pk} 上传附件 {len(rows)} 个",
                detail={
                    "files": [
                        {
                            "id": row.pk,
                            "name": row.name,
                            "type": row.content_type,
                            "size": row.size,
                            "sha256": row.sha256,
                        }
                        for row in rows
                    ]
                },
            )
    except BaseException:
        unplace(keys)
        raise
    return rows


def add_attachments(
    appeal: Appeal, files: Sequence[UploadedFile], *, by: User, at: datetime | None = None
) -> list[Attachment]:
    """Add files to an appeal: all of them or, if one is refused, none."""
    if not may_attach(appeal, by):
        if appeal.status in SETTLED and not by.has_role(Role.DISPATCHER):
            raise NotAllowed(_("该诉求已办结或不予受理，只有本园区的受理员可以再添加附件"))
        raise NotAllowed(_("您不能为该诉求添加附件"))
    staged = stage(files)
    try:
        return _store(appeal, staged, by=by, now=at or timezone.now())
    finally:
        discard(staged)  # whatever was not moved into place


def submit_with_attachments(
    enterprise: Enterprise, *, files: Sequence[UploadedFile] = (), by: User, **fields: Any
) -> Appeal:
    """Submit an appeal (lifecycle.submit_appeal) together with its files: both, or neither."""
    staged = stage(files) if files else []
    try:
        with transaction.atomic():
            appeal = lifecycle.submit_appeal(enterprise, by=by, **fields)
            if staged:
                _store(appeal, staged, by=by, now=appeal.submitted_at)
    finally:
        discard(staged)
    return appeal


# --- serving ---------------------------------------------------------------------------------


def _ascii_fallback(name: str, pk: int) -> str:
    if re.fullmatch(r"[A-Za-z0-9._ ()\-]+", name):
        return name
    extension = os.path.splitext(name)[1]
    extension = extension if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", extension) else ""
    return f"attachment-{pk}{extension}"


def open_stored(storage_key: str, *, what: str) -> BinaryIO:
    """The stored file of a key, open for reading; Http404 (and an error in the log) when it is missing."""
    try:
        return stored_path(storage_key).open("rb")
    except (OSError, ValueError):
        # A restore without the attachments directory, or a file removed behind our back.
        logger.error("%s (%s) is missing from %s", what, storage_key, storage_root())
        raise Http404(_("附件文件缺失，请联系系统管理员")) from None


def file_response(
    handle: BinaryIO, *, name: str, content_type: str, pk: int, inline: bool = False
) -> FileResponse:
    """A stored file's response: a download unless `inline` (images on a page), never sniffed or run."""
    response = FileResponse(handle, content_type=content_type)
    # RFC 6266 with an RFC 5987 UTF-8 name, and a plain ASCII name for clients that lack it.
    response["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{_ascii_fallback(name, pk)}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class Served(Protocol):
    """What audited_download needs of a stored file's row (an attachment, a photo, a briefing file)."""

    pk: Any
    name: str
    content_type: str
    storage_key: str


def audited_download(
    stored: Served,
    *,
    by: User,
    action: str,
    target: Any,
    summary: str,
    detail: dict[str, Any],
    ip: str | None = None,
) -> FileResponse:
    """A stored file as a download, with its audit record: the file is opened first (a missing file
    is a 404 and no record), and closed again if the record cannot be written."""
    handle = open_stored(stored.storage_key, what=f"{type(stored).__name__} {stored.pk}")
    try:
        audit.record(by, action, target, summary=summary, detail=detail, ip=ip)
    except BaseException:
        handle.close()
        raise
    return file_response(handle, name=stored.name, content_type=stored.content_type, pk=stored.pk)


def download(attachment: Attachment, *, by: User, ip: str | None = None) -> FileResponse:
    """The file as a download (never shown inline), audited. The caller has checked that `by` sees
    the appeal (Appeal.objects.visible_to)."""
    return audited_download(
        attachment,
        by=by,
        action="appeal.attachment_download",
        target=attachment,
        summary=f"下载诉求 #{attachment.appeal_id} 的附件 {attachment.name}",
        detail={"appeal": attachment.appeal_id, "name": attachment.name, "sha256": attachment.sha256},
        ip=ip,
    )


# --- leftovers ----------------------------------------------------------------------------


ORPHAN_AGE = timedelta(days=1)
# Models whose `storage_key` column names a stored file: Attachment, and those of apps that store
# their files here too (visits' photos register in their AppConfig.ready), so that their files are
# not taken for orphans.
_key_holders: list[type[models.Model]] = [Attachment]


def register_key_holder(model: type[models.Model]) -> None:
    """Let an app that stores files with place() keep them from remove_orphans."""
    if model not in _key_holders:
        _key_holders.append(model)


def remove_orphans(now: datetime | None = None, *, older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete what no attachment row points at, once it is a day old: staging files left by a
    killed worker, and stored files whose surrounding transaction rolled back after they were
    moved into place. A younger file may belong to an upload still in flight, so it is kept."""
    cutoff = ((now or timezone.now()) - older_than).timestamp()
    root = storage_root()
    removed = 0
    staging = root / "tmp"
    if staging.is_dir():
        for path in staging.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    candidates: dict[str, Path] = {}
    for path in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
        if KEY_RE.fullmatch(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
            candidates[path.name] = path
    keys = list(candidates)
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        known: set[str] = set()
        for holder in _key_holders:
            known.update(
                holder._default_manager.filter(storage_key__in=batch).values_list("storage_key", flat=True)
            )
        for key in batch:
            if key not in known:
                candidates[key].unlink(missing_ok=True)
                removed += 1
    if removed:
        logger.warning("removed %s orphaned attachment file(s) under %s", removed, root)
    return removed
