"""The audit log: records written in the caller's transaction, sealed into a hash chain by a worker.

A chain written inside every request would make all writers queue behind one
"last hash". Instead `record()` inserts a plain row; `seal_pending()` (a huey
periodic task, and on demand) gives unsealed rows their place in the chain in
id order. `verify()` walks the sealed chain and names the first record that was
changed or removed behind the application's back.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.sql import DeleteQuery
from django.utils import timezone

from guanjia.core.masking import mask_phone
from guanjia.core.models import AuditChainHead, AuditRecord, User

GENESIS = "0" * 64

# A mainland mobile number standing alone (not inside a USCC or another longer code).
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")


def _without_phones(value: Any) -> Any:
    """Mobile numbers masked in a summary or a detail: the auditor reads every record, and exports
    them, but is not a role that needs to call anyone (docs/security.md, masking)."""
    if isinstance(value, str):
        return _MOBILE.sub(lambda m: mask_phone(m.group()), value)
    if isinstance(value, dict):
        return {key: _without_phones(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_phones(item) for item in value]
    return value


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    summary: str = "",
    detail: dict | None = None,
    ip: str | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditRecord:
    """Write one audit record in the current transaction."""
    entry = build(
        actor,
        action,
        obj,
        summary=summary,
        detail=detail,
        ip=ip,
        object_type=object_type,
        object_id=object_id,
    )
    entry.save(force_insert=True)
    return entry


def build(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    summary: str = "",
    detail: dict | None = None,
    ip: str | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditRecord:
    """An unsaved audit record, as record() writes it, for a caller that inserts many at once."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditRecord(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.username if actor is not None and actor.pk else "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=_without_phones(str(summary))[:300],
        detail=_without_phones(detail or {}),
        ip=ip,
    )


def _digest(rec: AuditRecord, seq: int, prev_hash: str) -> str:
    body = json.dumps(
        [
            seq,
            prev_hash,
            rec.id,
            rec.at.astimezone(UTC).isoformat(timespec="microseconds"),
            rec.actor_id,
            rec.actor_name,
            rec.action,
            rec.object_type,
            rec.object_id,
            rec.summary,
            rec.detail,
            rec.ip,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seal_pending(batch: int = 500) -> int:
    """Seal unsealed records in id order; returns how many were sealed.

    Two sealers running at once both read the head; the unique `seq` and the
    conditional update on the head make one of them roll back its batch, so
    the chain never forks.
    """
    sealed = 0
    while True:
        try:
            with transaction.atomic():
                head, _ = AuditChainHead.objects.get_or_create(id=1)
                pending = list(AuditRecord.objects.filter(seq__isnull=True).order_by("id")[:batch])
                if not pending:
                    return sealed
                seq, prev = head.last_seq, head.last_hash or GENESIS
                now = timezone.now()
                for rec in pending:
                    seq += 1
                    digest = _digest(rec, seq, prev)
                    AuditRecord.objects.filter(id=rec.id, seq__isnull=True).update(
                        seq=seq, prev_hash=prev, hash=digest, sealed_at=now
                    )
                    prev = digest
                moved = AuditChainHead.objects.filter(id=1, last_seq=head.last_seq).update(
                    last_seq=seq, last_hash=prev
                )
                if moved != 1:
                    raise IntegrityError("audit chain head moved under us")
                sealed += len(pending)
        except IntegrityError:
            continue  # another sealer won this batch; read the new head and go on


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    unsealed_late: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unsealed_late


def verify(chunk: int = 2000) -> VerifyReport:
    """Recompute the chain; report the first changed or removed record and records left unsealed."""
    report = VerifyReport()
    head = AuditChainHead.objects.filter(id=1).first()
    if head and head.pruned_before_seq:
        expected_seq, prev = head.pruned_before_seq, head.pruned_anchor_hash
    else:
        expected_seq, prev = 1, GENESIS
    while not report.problems:
        rows = list(AuditRecord.objects.filter(seq__gte=expected_seq).order_by("seq")[:chunk])
        if not rows:
            break
        for rec in rows:
            assert rec.seq is not None
            if rec.seq != expected_seq:
                report.problems.append(
                    f"记录缺失：链序号 {expected_seq} 至 {rec.seq - 1} 的审计记录被删除（其后一条为记录 #{rec.id}）"
                )
                break
            if rec.prev_hash != prev or _digest(rec, rec.seq, prev) != rec.hash:
                report.problems.append(
                    f"记录被篡改：审计记录 #{rec.id}（链序号 {rec.seq}）的内容与哈希链不符"
                )
                break
            prev = rec.hash
            expected_seq += 1
            report.checked += 1
    if not report.problems and head and head.last_seq >= expected_seq:
        report.problems.append(f"记录缺失：链序号 {expected_seq} 至 {head.last_seq} 的审计记录被删除（链尾）")
    elif not report.problems and head and head.last_seq and head.last_hash != prev:
        report.problems.append("链尾哈希与记录不符：最后一条审计记录被篡改")
    cutoff = timezone.now() - timedelta(minutes=settings.AUDIT_UNSEALED_GRACE_MINUTES)
    report.unsealed_late = AuditRecord.objects.filter(seq__isnull=True, at__lt=cutoff).count()
    return report


def prune(days: int) -> int:
    """Delete sealed records older than `days` (at least 180) and re-anchor the chain at the first kept one."""
    if days < 180:
        raise ValueError("审计记录至少保留 180 天")
    seal_pending()
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        last = AuditRecord.objects.filter(seq__isnull=False, at__lt=cutoff).order_by("-seq").first()
        if last is None or last.seq is None:
            return 0
        AuditChainHead.objects.filter(id=1).update(
            pruned_before_seq=last.seq + 1, pruned_anchor_hash=last.hash
        )
        ids = list(AuditRecord.objects.filter(seq__lte=last.seq).values_list("id", flat=True))
        # AuditQuerySet refuses delete(); retention is the one sanctioned removal, done below the ORM's guard.
        DeleteQuery(AuditRecord).delete_batch(ids, "default")
        record(
            None,
            "audit.prune",
            summary=f"按保留期 {days} 天清理 {len(ids)} 条审计记录",
            detail={"days": days, "through_seq": last.seq},
        )
        return len(ids)
