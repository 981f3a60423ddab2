"""Writes and reads of the visit schedule (定时上门): cadence, next due date, recording a visit.

Next due = the anchor + the interval in calendar days, moved forward to the next working day of
the official calendar (holidays and 调休 included). The anchor is the last visit's date or, for
an enterprise never visited, the Beijing date on which it was registered (created_at): a new
enterprise is due one interval after it joins, not on its first day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import EllipsisType

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, When
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals.models import Appeal, AppealCategory, Channel
from guanjia.core import audit, workcalendar
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, Tier
from guanjia.visits.models import Mode, Visit, VisitAppeal, VisitPhoto, VisitSchedule

# DESIGN.md "Visits": 重点 monthly, 规上 every two months, 一般 every quarter — in calendar days.
KEY_INTERVAL_DAYS = 30
ABOVE_SCALE_INTERVAL_DAYS = 60
GENERAL_INTERVAL_DAYS = 90
TIER_INTERVAL_DAYS: dict[str, int] = {
    Tier.KEY: KEY_INTERVAL_DAYS,
    Tier.ABOVE_SCALE: ABOVE_SCALE_INTERVAL_DAYS,
    Tier.GENERAL: GENERAL_INTERVAL_DAYS,
}
# Within a day, 重点 first, then 规上, then 一般 (as enterprises.TIER_ORDER, across the join).
SCHEDULE_TIER_ORDER = Case(
    When(enterprise__tier=Tier.KEY, then=0),
    When(enterprise__tier=Tier.ABOVE_SCALE, then=1),
    default=2,
    output_field=IntegerField(),
)
MAX_PROBLEMS = 10  # appeals raised from one visit
MAX_PHOTOS = attachments.MAX_FILES  # per visit
PHOTO_TYPES = frozenset({attachments.PNG, attachments.JPEG, attachments.GIF, attachments.WEBP})
BATCH = 2000
# What the recomputation reads of an enterprise: a 100k-row import fetches no more than this.
SCHEDULE_FIELDS = ("pk", "tier", "created_at")


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def interval_for(tier: str, override: int | None = None) -> int:
    """The cadence in calendar days: the enterprise's override, else its tier's default."""
    return override or TIER_INTERVAL_DAYS.get(tier, GENERAL_INTERVAL_DAYS)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day (a 调休 Saturday is one), else the next working day."""
    while not workcalendar.is_workday(day):
        day += timedelta(days=1)
    return day


def next_due(anchor: date, interval_days: int) -> date:
    return next_working_day(anchor + timedelta(days=interval_days))


def _anchor(enterprise: Enterprise, last_visit_on: date | None) -> date:
    return last_visit_on or timezone.localdate(enterprise.created_at)


def refresh_schedule(enterprise: Enterprise, *, last_visit_on: date | None = None) -> VisitSchedule:
    """(Re)compute one enterprise's schedule row, creating it if missing; keeps its override.

    The row is locked while it is read and rewritten: two visits recorded at once for the same
    enterprise must not leave the older date as the last visit.
    """
    with transaction.atomic():
        row = VisitSchedule.objects.select_for_update().filter(enterprise=enterprise).first()
        override = row.interval_days if row else None
        last = max(filter(None, [last_visit_on, row.last_visit_on if row else None]), default=None)
        due = next_due(_anchor(enterprise, last), interval_for(enterprise.tier, override))
        values = {
            "last_visit_on": last,
            "next_due": due,
            "updated_at": timezone.now(),
        }
        row, _created = VisitSchedule.objects.update_or_create(enterprise=enterprise, defaults=values)
    return row


def _recompute(enterprises: Sequence[Enterprise]) -> int:
    """Compute the rows of a batch of enterprises: missing ones created, changed ones rewritten."""
    rows = VisitSchedule.objects.in_bulk([e.pk for e in enterprises])
    now = timezone.now()
    new, changed = [], []
    due_of: dict[tuple[date, int], date] = {}  # an import's rows share a few anchors and intervals
    for enterprise in enterprises:
        row = rows.get(enterprise.pk)
        key = (
            _anchor(enterprise, row.last_visit_on if row else None),
            interval_for(enterprise.tier, row.interval_days if row else None),
        )
        if key not in due_of:
            due_of[key] = next_due(*key)
        due = due_of[key]
        if row is None:
            new.append(VisitSchedule(enterprise=enterprise, last_visit_on=None, next_due=due, updated_at=now))
        elif row.next_due != due:
            row.next_due, row.updated_at = due, now
            changed.append(row)
    VisitSchedule.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    VisitSchedule.objects.bulk_update(changed, ["next_due", "updated_at"], batch_size=500)
    return len(new) + len(changed)


def recompute_schedules(ids: Iterable[int], *, batch: int = BATCH) -> int:
    """Recompute the rows of these enterprises in batches, in the caller's transaction.

    The receiver of enterprises_changed (an import, a tier change) and of a new enterprise: the
    import's transaction holds its writes, so the rows commit or roll back with the enterprises.
    """
    ids = sorted(set(ids))
    done = 0
    for start in range(0, len(ids), batch):
        chunk = list(Enterprise.objects.filter(pk__in=ids[start : start + batch]).only(*SCHEDULE_FIELDS))
        done += _recompute(chunk)
    return done


def reschedule_all(*, batch: int = BATCH) -> int:
    """Recompute every enterprise's row in batches (after a calendar change), one short transaction each."""
    done, last_pk = 0, 0
    while True:
        chunk = list(Enterprise.objects.filter(pk__gt=last_pk).only(*SCHEDULE_FIELDS).order_by("pk")[:batch])
        if not chunk:
            return done
        with transaction.atomic():
            done += _recompute(chunk)
        last_pk = chunk[-1].pk


def set_interval(
    enterprise: Enterprise, interval_days: int | None, *, by: User, was: int | None | EllipsisType = ...
) -> VisitSchedule:
    """Override (or, with None, reset) an enterprise's cadence; the zone's dispatcher or supervisor.

    `was` is the override the caller showed (None: the default); if someone changed it since, the
    conditional UPDATE matches no row and the caller is told, rather than one change silently losing.
    """
    if not (by.has_any_role({Role.DISPATCHER, Role.SUPERVISOR}) and enterprise.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的受理员或效能督查可以调整走访周期"))
    if interval_days is not None and not 1 <= interval_days <= 366:
        raise ServiceError(_("走访周期（天）须在 1 到 366 之间"))
    with transaction.atomic():
        refresh_schedule(enterprise)  # the row exists from here on, locked where the database can
        rows = VisitSchedule.objects.filter(enterprise=enterprise)
        if not isinstance(was, EllipsisType):
            rows = rows.filter(interval_days=was)
        if rows.update(interval_days=interval_days) != 1:
            current = VisitSchedule.objects.get(enterprise=enterprise).interval_days
            raise Conflict(
                _("%(name)s 的走访周期刚被他人调整为 %(days)s，请刷新后再试")
                % {"name": enterprise.name, "days": current or _("默认")}
            )
        row = refresh_schedule(enterprise)
        audit.record(
            by,
            "visit.set_interval",
            enterprise,
            summary=f"{enterprise.name} 走访周期调整为 {interval_days or '默认'}",
            detail={
                "interval_days": interval_days,
                "was": None if isinstance(was, EllipsisType) else was,
                "next_due": row.next_due.isoformat(),
            },
        )
    return row


# --- recording a visit ---------------------------------------------------------------------------


@dataclass
class Problem:
    """A problem found during a visit, raised as an appeal in the same step."""

    title: str
    body: str
    category: AppealCategory | None = None


def may_record(user: User, enterprise: Enterprise) -> bool:
    return user.has_role(Role.STEWARD) and enterprise.steward_id == user.pk


def stage_photos(files: Sequence[UploadedFile]) -> list[attachments.StagedFile]:
    """Check a visit's photos by their content and keep them in temporary files (outside any
    transaction, like an appeal's attachments); anything but an image refuses the whole upload."""
    if len(files) > MAX_PHOTOS:
        raise attachments.AttachmentRefused(
            _("一次走访最多上传 %(max)s 张照片，您选择了 %(count)s 张")
            % {"max": MAX_PHOTOS, "count": len(files)}
        )
    staged = attachments.stage(files)
    for item in staged:
        if item.kind not in PHOTO_TYPES:
            attachments.discard(staged)
            raise attachments.AttachmentRefused(
                _("“%(name)s”不是照片，不能作为走访照片上传（允许：PNG、JPEG、GIF、WebP 图片）")
                % {"name": item.name}
            )
    return staged


def record_visit(
    enterprise: Enterprise,
    *,
    by: User,
    visited_on: date,
    mode: str,
    our_side: str,
    their_side: str,
    summary: str,
    explained: str = "",
    location: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    problems: Iterable[Problem] = (),
    photos: Sequence[UploadedFile] = (),
    plan: Visit | None = None,
) -> Visit:
    """The enterprise's steward records a visit, its photos and its problems (as appeals): all, or nothing.

    With `plan`, that planned row is filled in; without, the enterprise's open plan (if any) is, since
    the visit it planned has now been made; otherwise a new row is written. A plan is done once: the
    conditional UPDATE on "still not done" lets one of two concurrent recordings fill it.
    """
    if not may_record(by, enterprise):
        raise NotAllowed(_("只有该企业的服务管家可以登记走访"))
    if plan is not None and plan.enterprise_id != enterprise.pk:
        raise ServiceError(_("该走访计划不属于 %(name)s") % {"name": enterprise.name})
    if visited_on > today():
        raise ServiceError(_("走访日期：不能晚于今天"))
    if mode not in Mode.values:
        raise ServiceError(_("走访方式：请选择上门、电话或视频"))
    for label, value in ((_("我方人员"), our_side), (_("企业方人员"), their_side), (_("走访情况"), summary)):
        if not value.strip():
            raise ServiceError(_("%(field)s：请填写") % {"field": label})
    problems = list(problems)
    if len(problems) > MAX_PROBLEMS:
        raise ServiceError(_("一次走访最多提出 %(max)s 项诉求") % {"max": MAX_PROBLEMS})
    staged = stage_photos(photos) if photos else []
    keys: list[str] = []
    try:
        keys = attachments.place(staged)
        with transaction.atomic():
            visit = _write_visit(
                enterprise,
                plan=plan,
                values={
                    "zone_id": enterprise.zone_id,
                    "steward": by,
                    "visited_on": visited_on,
                    "mode": mode,
                    "our_side": our_side.strip(),
                    "their_side": their_side.strip(),
                    "summary": summary.strip(),
                    "explained": explained.strip(),
                    "location": location.strip(),
                    "latitude": latitude,
                    "longitude": longitude,
                    "recorded_at": timezone.now(),
                },
            )
            stored = attachments.save_rows(VisitPhoto, staged, keys, by=by, at=visit.recorded_at, visit=visit)
            appeals: list[Appeal] = []
            for number, problem in enumerate(problems, start=1):
                try:
                    appeal = lifecycle.submit_appeal(
                        enterprise,
                        title=problem.title,
                        body=problem.body,
                        channel=Channel.STEWARD,
                        category=problem.category,
                        by=by,
                    )
                except ServiceError as exc:
                    raise ServiceError(_("第 %(n)s 项诉求：%(error)s") % {"n": number, "error": exc}) from exc
                VisitAppeal.objects.create(visit=visit, appeal=appeal)
                appeals.append(appeal)
            schedule = refresh_schedule(enterprise, last_visit_on=visited_on)
            audit.record(
                by,
                "visit.record",
                visit,
                summary=f"登记走访 #{visit.pk}：{enterprise.name}（{visited_on}）",
                detail={
                    "enterprise": enterprise.pk,
                    "mode": mode,
                    "planned_on": visit.planned_on.isoformat() if visit.planned_on else None,
                    "appeals": [a.pk for a in appeals],
                    "photos": [{"id": p.pk, "name": p.name, "sha256": p.sha256} for p in stored],
                    "next_due": schedule.next_due.isoformat(),
                },
            )
    except BaseException:
        attachments.unplace(keys)  # the rows that named them were rolled back
        raise
    finally:
        attachments.discard(staged)
    return visit


def photo_response(photo: VisitPhoto, *, by: User, download: bool, ip: str | None = None) -> FileResponse:
    """A visit photo: shown inline on the visit's page, or downloaded — a download is audited, as an
    appeal attachment's is. The caller has checked that `by` sees the visit (Visit.visible_to)."""
    if download:
        return attachments.audited_download(
            photo,
            by=by,
            action="visit.photo_download",
            target=photo,
            summary=f"下载走访 #{photo.visit_id} 的照片 {photo.name}",
            detail={"visit": photo.visit_id, "name": photo.name, "sha256": photo.sha256},
            ip=ip,
        )
    handle = attachments.open_stored(photo.storage_key, what=f"visit photo {photo.pk}")
    return attachments.file_response(
        handle, name=photo.name, content_type=photo.content_type, pk=photo.pk, inline=True
    )


def _write_visit(enterprise: Enterprise, *, plan: Visit | None, values: dict) -> Visit:
    """Fill the plan in (the given one, else the enterprise's open one) or create the visit's row."""
    explicit = plan is not None
    if plan is None:
        plan = Visit.objects.plans().filter(enterprise=enterprise).first()
    if plan is not None:
        filled = Visit.objects.filter(pk=plan.pk, enterprise=enterprise, visited_on__isnull=True).update(
            **values
        )
        if filled == 1:
            return Visit.objects.get(pk=plan.pk)
        if explicit:
            raise Conflict(_("该走访计划已登记或已取消，请刷新后再试"))
        # Someone recorded (or cancelled) the open plan meanwhile: this visit is a visit of its own.
    return Visit.objects.create(enterprise=enterprise, **values)


# --- planning a visit ------------------------------------------------------------------------------


def plan_visit(enterprise: Enterprise, *, on: date, by: User, note: str = "") -> Visit:
    """The enterprise's steward plans a visit for a day from today on; one open plan per enterprise."""
    if not may_record(by, enterprise):
        raise NotAllowed(_("只有该企业的服务管家可以安排走访计划"))
    if on < today():
        raise ServiceError(_("计划走访日期：不能早于今天"))
    note = note.strip()
    if len(note) > 200:
        raise ServiceError(_("计划事项：最多 200 个字"))
    existing = Visit.objects.plans().filter(enterprise=enterprise).first()
    if existing is not None:
        raise ServiceError(
            _("%(name)s 已有 %(day)s 的走访计划；请先登记或取消该计划")
            % {"name": enterprise.name, "day": existing.planned_on.isoformat() if existing.planned_on else ""}
        )
    try:
        with transaction.atomic():
            plan = Visit.objects.create(
                zone_id=enterprise.zone_id,
                enterprise=enterprise,
                steward=by,
                planned_on=on,
                plan_note=note,
            )
            audit.record(
                by,
                "visit.plan",
                plan,
                summary=f"安排走访计划 #{plan.pk}：{enterprise.name}（{on}）",
                detail={"enterprise": enterprise.pk, "planned_on": on.isoformat()},
            )
    except IntegrityError as exc:  # the partial unique index: a plan made at the same moment won
        raise Conflict(_("%(name)s 刚被安排了走访计划，请刷新后查看") % {"name": enterprise.name}) from exc
    return plan


def cancel_plan(plan: Visit, *, by: User) -> None:
    """The enterprise's steward cancels an open plan (one that is not done yet)."""
    if not may_record(by, plan.enterprise):
        raise NotAllowed(_("只有该企业的服务管家可以取消走访计划"))
    with transaction.atomic():
        removed, _rows = Visit.objects.filter(pk=plan.pk, visited_on__isnull=True).delete()
        if not removed:
            raise Conflict(_("该走访计划已登记或已取消，请刷新后再试"))
        audit.record(
            by,
            "visit.cancel_plan",
            object_type="visits.visit",
            object_id=str(plan.pk),
            summary=f"取消走访计划 #{plan.pk}：{plan.enterprise.name}（{plan.planned_on}）",
            detail={"enterprise": plan.enterprise_id, "planned_on": str(plan.planned_on)},
        )


def hand_over_plans(enterprise: Enterprise, *, steward: User, by: User | None) -> int:
    """The enterprise's open plans go with it to its new steward (the receiver of steward_changed,
    inside assign_steward's transaction); the visits already made keep the steward who made them."""
    moved = (
        Visit.objects.plans().filter(enterprise=enterprise).exclude(steward=steward).update(steward=steward)
    )
    if moved:
        audit.record(
            by,
            "visit.plan_handover",
            enterprise,
            summary=f"{enterprise.name} 的走访计划移交给 {steward}",
            detail={"to": steward.pk, "plans": moved},
        )
    return moved


# --- due lists -------------------------------------------------------------------------------------


def end_of_week(day: date) -> date:
    """The Sunday of `day`'s week (weeks run Monday to Sunday, as in China)."""
    return day + timedelta(days=6 - day.weekday())


@dataclass
class DueLists:
    """A steward's enterprises by when their visit is due (Beijing dates), and its planned visits.

    Due rows carry `.plan`: the enterprise's open plan, or None.
    """

    today: date
    week_end: date
    month_end: date
    overdue: list[VisitSchedule] = field(default_factory=list)
    this_week: list[VisitSchedule] = field(default_factory=list)
    this_month: list[VisitSchedule] = field(default_factory=list)
    plans_week: list[Visit] = field(default_factory=list)  # a plan whose day has passed stays here
    plans_month: list[Visit] = field(default_factory=list)


def schedules_of(enterprises: QuerySet[Enterprise]) -> QuerySet[VisitSchedule]:
    """The schedule rows of a scope (a read: the rows are kept current by the signal receivers)."""
    return VisitSchedule.objects.filter(enterprise__in=enterprises.values("pk"))


def due_lists(steward: User, *, on: date | None = None) -> DueLists:
    """Overdue, due this week (through Sunday) and due later this month, for one steward."""
    day = on or today()
    week_end = end_of_week(day)
    month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    horizon = max(week_end, month_end)
    rows = (
        schedules_of(Enterprise.objects.filter(steward=steward))
        .filter(next_due__lte=horizon)
        .select_related("enterprise")
        .order_by("next_due", SCHEDULE_TIER_ORDER, "enterprise__name")
    )
    plans = list(
        Visit.objects.plans()
        .filter(steward=steward)
        .select_related("enterprise")
        .order_by("planned_on", "pk")
    )
    plan_of = {plan.enterprise_id: plan for plan in plans}
    lists = DueLists(today=day, week_end=week_end, month_end=month_end)
    for plan in plans:
        if plan.planned_on is not None and plan.planned_on <= week_end:
            lists.plans_week.append(plan)
        elif plan.planned_on is not None and plan.planned_on <= month_end:
            lists.plans_month.append(plan)
    for row in rows:
        row.plan = plan_of.get(row.enterprise_id)  # type: ignore[attr-defined]
        if row.next_due < day:
            lists.overdue.append(row)
        elif row.next_due <= week_end:
            lists.this_week.append(row)
        else:
            lists.this_month.append(row)
    return lists
