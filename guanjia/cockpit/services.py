"""Briefings (周报/月报): who sees and generates them, generating them, and serving their files.

A briefing is generated, never typed (DESIGN.md 减负): its content is briefing.build() over the KPI
module, rendered to PDF and Excel, and both files are stored with the appeals' attachments
(outside the web root, in backups). The files are written and placed before the transaction
that records them, which is short: it locks the briefing's row (or creates it; the unique
constraint decides between two concurrent first generations), swaps the file rows, bumps the
version and writes the audit record. The replaced files are removed only once that has
committed; if it rolls back, the new ones are removed instead, so nothing is half-written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import attachments
from guanjia.appeals.kpi import Period
from guanjia.cockpit import briefing, briefing_pdf, briefing_xlsx
from guanjia.cockpit.models import Briefing, BriefingFile
from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

logger = logging.getLogger(__name__)

# No appeal is older than the platform: a period before this is a typo.
EARLIEST = date(2000, 1, 1)
# Leaders read briefings; supervisors (效能督查) of the same scope too.
BRIEFING_ROLES = (Role.LEADER, Role.SUPERVISOR)

_FORMATS: dict[str, attachments.FileType] = {
    BriefingFile.Format.PDF: attachments.PDF,
    BriefingFile.Format.XLSX: attachments.XLSX,
}


# --- who ---------------------------------------------------------------------------------------


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def reads_briefings(user: User | None) -> bool:
    """Whether the user may open the briefings page at all (its scope decides which ones it sees)."""
    return _active(user) and user is not None and user.has_any_role(BRIEFING_ROLES)


def city_wide(user: User) -> bool:
    """A user of the city's own unit: it sees the city's briefings besides every zone's."""
    return user.unit is not None and user.unit.kind == OrgUnit.Kind.CITY


def visible_to(user: User | None) -> QuerySet[Briefing]:
    """The briefings of the user's scope: its zones', and the city's for a city leader or supervisor."""
    if user is None or not reads_briefings(user):
        return Briefing.objects.none()
    scope = Q(zone_id__in=user.zone_ids())
    if city_wide(user):
        scope |= Q(zone__isnull=True)
    return Briefing.objects.filter(scope)


def may_generate(user: User | None, zone: OrgUnit | None) -> bool:
    """Leaders and supervisors generate the briefings of their own scope (zone None: the city)."""
    if user is None or not reads_briefings(user):
        return False
    if zone is None:
        return city_wide(user)
    return zone.kind == OrgUnit.Kind.ZONE and zone.pk in user.zone_ids()


def scope_choices(user: User) -> list[tuple[OrgUnit | None, str]]:
    """The scopes the user may generate briefings for: the city (a city user), then its zones."""
    choices: list[tuple[OrgUnit | None, str]] = []
    if city_wide(user):
        choices.append((None, briefing.scope_name(None)))
    zones = OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by("code", "pk")
    choices.extend((zone, zone.name) for zone in zones)
    return choices


# --- generating ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    briefing: Briefing
    created: bool  # False: an existing briefing was regenerated (or, for the schedule, left as it was)
    replaced: bool


def period_for(kind: str, start: date | None, *, today: date) -> Period:
    """The period a briefing of `kind` starting on `start` covers (None: the last complete one);
    only periods that have ended can be briefed, so that a briefing never shows half a week."""
    if kind not in Briefing.Kind.values:
        raise ServiceError(_("简报类型须为周报或月报"))
    if start is None:
        return briefing.last_complete(kind, today)
    if start < EARLIEST:
        raise ServiceError(_("起始日期：不能早于 %(day)s") % {"day": EARLIEST.isoformat()})
    if start > today:
        raise ServiceError(_("起始日期：%(start)s 尚未到来") % {"start": start.isoformat()})
    try:
        period = briefing.period_of(kind, start)
    except ValueError as exc:
        raise ServiceError(_("起始日期：%(error)s") % {"error": exc}) from None
    if period.end > today:
        raise ServiceError(
            _("起始日期：%(start)s 起的%(kind)s尚未结束，只能生成已结束的周期")
            % {"start": start.isoformat(), "kind": Briefing.Kind(kind).label}
        )
    return period


def _file_name(data: briefing.BriefingData, fmt: str) -> str:
    name = f"{data.scope_name}{data.kind_label}-{data.period.start:%Y%m%d}"
    return attachments.clean_name(name, _FORMATS[fmt])


def _stage(content: bytes, name: str, kind: attachments.FileType) -> attachments.StagedFile:
    staging = attachments.storage_root() / "tmp"
    staging.mkdir(parents=True, exist_ok=True, mode=0o750)
    # In the attachments directory itself, so that placing the file is a rename on one file system.
    descriptor, temp = tempfile.mkstemp(dir=staging, prefix="briefing-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return attachments.StagedFile(name, kind, len(content), hashlib.sha256(content).hexdigest(), Path(temp))


def _render(data: briefing.BriefingData) -> list[tuple[str, attachments.StagedFile]]:
    staged: list[tuple[str, attachments.StagedFile]] = []
    try:
        for fmt, content in (
            (BriefingFile.Format.PDF, briefing_pdf.render(data)),
            (BriefingFile.Format.XLSX, briefing_xlsx.render(data)),
        ):
            staged.append((fmt, _stage(content, _file_name(data, fmt), _FORMATS[fmt])))
    except BaseException:
        attachments.discard(item for _fmt, item in staged)
        raise
    return staged


def _existing(kind: str, zone: OrgUnit | None, start: date) -> QuerySet[Briefing]:
    return Briefing.objects.filter(kind=kind, zone=zone, starts_on=start)


def _record(
    data: briefing.BriefingData,
    zone: OrgUnit | None,
    staged: list[tuple[str, attachments.StagedFile]],
    keys: list[str],
    *,
    by: User | None,
    replace: bool,
) -> Generated:
    """Write the briefing's rows for files already placed under `keys` (one short transaction)."""
    period, now = data.period, data.generated_at
    with transaction.atomic():
        found = _existing(data.kind, zone, period.start).select_for_update().first()
        created = False
        if found is None:
            try:
                with transaction.atomic():
                    found = Briefing.objects.create(
                        kind=data.kind,
                        zone=zone,
                        starts_on=period.start,
                        ends_on=period.end,
                        generated_at=now,
                        generated_by=by,
                    )
                created = True
            except IntegrityError:
                # A concurrent generation created it first (PostgreSQL waits on the unique index
                # until that one commits): regenerate that one, or leave it, as for any existing one.
                found = _existing(data.kind, zone, period.start).select_for_update().get()
        old_keys: list[str] = []
        if not created:
            if not replace:
                return Generated(found, created=False, replaced=False)
            old_keys = list(found.files.values_list("storage_key", flat=True))
            found.files.all().delete()
            changed = Briefing.objects.filter(pk=found.pk, version=found.version).update(
                version=F("version") + 1, generated_at=now, generated_by=by, ends_on=period.end
            )
            if changed != 1:
                raise Conflict(_("该简报正由他人重新生成，请刷新后重试"))
            found.refresh_from_db()
        BriefingFile.objects.bulk_create(
            BriefingFile(
                briefing=found,
                format=fmt,
                name=item.name,
                content_type=item.kind.content_type,
                size=item.size,
                sha256=item.sha256,
                storage_key=key,
            )
            for (fmt, item), key in zip(staged, keys, strict=True)
        )
        audit.record(
            by,
            "briefing.generate",
            found,
            summary=f"{'生成' if created else '重新生成'}{data.title}" + ("" if by else "（定时任务）"),
            detail={
                "kind": data.kind,
                "zone": zone.pk if zone else None,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "version": found.version,
                "files": {fmt: item.sha256 for fmt, item in staged},
            },
        )
        if old_keys:
            transaction.on_commit(lambda: attachments.unplace(old_keys))
    return Generated(found, created=created, replaced=not created)


def generate_briefing(
    kind: str,
    zone: OrgUnit | None,
    *,
    by: User | None,
    start: date | None = None,
    now: datetime | None = None,
    replace: bool = True,
) -> Generated:
    """Generate the 周报/月报 of `zone` (None: the city) for the period starting on `start` (None: the
    last complete one). `by` None is the schedule. An existing briefing of that kind, scope and
    period is regenerated (`replace`) or left as it is."""
    if by is not None and not may_generate(by, zone):
        raise NotAllowed(_("您只能生成本人所辖范围的简报"))
    if zone is not None and zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("范围须为园区或全市"))
    now = now or timezone.now()
    period = period_for(kind, start, today=briefing.beijing_today(now))
    if not replace:
        found = _existing(kind, zone, period.start).first()
        if found is not None:
            return Generated(found, created=False, replaced=False)
    data = briefing.build(kind, zone, period, now=now)
    staged = _render(data)
    items = [item for _fmt, item in staged]
    keys: list[str] = []
    try:
        keys = attachments.place(items)
        result = _record(data, zone, staged, keys, by=by, replace=replace)
        if not result.created and not result.replaced:
            attachments.unplace(keys)  # a concurrent run made it first, and the schedule keeps that one
    except BaseException:
        attachments.unplace(keys)
        raise
    finally:
        attachments.discard(items)  # whatever was not moved into place
    return result


def generate_scheduled(kind: str, *, now: datetime | None = None) -> int:
    """The schedule's run: the last complete period's briefing for the city and for every zone,
    each made once (a second run, or a briefing a leader made already, is left as it is).
    Returns how many it created."""
    now = now or timezone.now()
    zones: list[OrgUnit | None] = [
        None,
        *OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE).order_by("code", "pk"),
    ]
    created = 0
    for zone in zones:
        try:
            created += generate_briefing(kind, zone, by=None, now=now, replace=False).created
        except Exception:
            # One scope's failure (logged with its cause) must not cost every other scope its briefing.
            logger.exception("could not generate the %s briefing of %s", kind, zone or "the city")
    return created


# --- serving ---------------------------------------------------------------------------------------


def download(found: BriefingFile, *, by: User, ip: str | None = None) -> FileResponse:
    """A briefing's file as a download, audited. The caller has checked that `by` sees the briefing
    (visible_to)."""
    return attachments.audited_download(
        found,
        by=by,
        action="briefing.download",
        target=found.briefing,
        summary=f"下载简报 {found.name}",
        detail={"briefing": found.briefing_id, "format": found.format, "sha256": found.sha256},
        ip=ip,
    )
