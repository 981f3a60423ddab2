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

from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, AppealCategory, Channel
from guanjia.core import audit, workcalendar
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, Tier
from guanjia.visits.models import Mode, Visit, VisitAppeal, VisitSchedule

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
BATCH = 2000


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
            "tier": enterprise.tier,
            "last_visit_on": last,
            "next_due": due,
            "updated_at": timezone.now(),
        }
        row, _created = VisitSchedule.objects.update_or_create(enterprise=enterprise, defaults=values)
    return row


def _recompute(enterprises: Sequence[Enterprise]) -> int:
    """Compute the rows of a batch of enterprises: missing ones created, the others rewritten."""
    rows = VisitSchedule.objects.in_bulk([e.pk for e in enterprises])
    now = timezone.now()
    new, changed = [], []
    for enterprise in enterprises:
        row = rows.get(enterprise.pk)
        last = row.last_visit_on if row else None
        due = next_due(
            _anchor(enterprise, last), interval_for(enterprise.tier, row.interval_days if row else None)
        )
        if row is None:
            new.append(
                VisitSchedule(
                    enterprise=enterprise,
                    tier=enterprise.tier,
                    last_visit_on=None,
                    next_due=due,
                    updated_at=now,
                )
            )
        elif row.next_due != due or row.tier != enterprise.tier:
            row.next_due, row.tier, row.updated_at = due, enterprise.tier, now
            changed.append(row)
    VisitSchedule.objects.bulk_create(new, ignore_conflicts=True)
    VisitSchedule.objects.bulk_update(changed, ["next_due", "tier", "updated_at"])
    return len(new) + len(changed)


def sync_schedules(enterprises: QuerySet[Enterprise]) -> int:
    """Create the rows that bulk imports left missing and recompute those whose tier changed.

    Enterprises imported in bulk send no post_save signal, and a tier change is an UPDATE: the due
    lists call this on their scope first, so a list is never wrong; it costs one anti-join when
    nothing is stale.
    """
    stale = enterprises.filter(visit_schedule__isnull=True) | enterprises.exclude(
        visit_schedule__tier=F("tier")
    )
    done = 0
    ids = list(stale.values_list("pk", flat=True).distinct())
    for start in range(0, len(ids), BATCH):
        done += _recompute(list(Enterprise.objects.filter(pk__in=ids[start : start + BATCH])))
    return done


def reschedule_all(*, batch: int = BATCH) -> int:
    """Recompute every enterprise's row in batches (after a calendar change or a bulk import)."""
    done, last_pk = 0, 0
    while True:
        chunk = list(Enterprise.objects.filter(pk__gt=last_pk).order_by("pk")[:batch])
        if not chunk:
            return done
        with transaction.atomic():
            done += _recompute(chunk)
        last_pk = chunk[-1].pk


def set_interval(enterprise: Enterprise, interval_days: int | None, *, by: User) -> VisitSchedule:
    """Override (or, with None, reset) an enterprise's cadence; the zone's dispatcher or supervisor."""
    if not (by.has_any_role({Role.DISPATCHER, Role.SUPERVISOR}) and enterprise.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的受理员或效能督查可以调整走访周期"))
    if interval_days is not None and not 1 <= interval_days <= 366:
        raise ServiceError(_("走访周期（天）须在 1 到 366 之间"))
    with transaction.atomic():
        refresh_schedule(enterprise)
        VisitSchedule.objects.filter(enterprise=enterprise).update(interval_days=interval_days)
        row = refresh_schedule(enterprise)
        audit.record(
            by,
            "visit.set_interval",
            enterprise,
            summary=f"{enterprise.name} 走访周期调整为 {interval_days or '默认'}",
            detail={"interval_days": interval_days, "next_due": row.next_due.isoformat()},
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
) -> Visit:
    """The enterprise's steward records a visit and raises its problems as appeals: all, or nothing."""
    if not may_record(by, enterprise):
        raise NotAllowed(_("只有该企业的服务管家可以登记走访"))
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
    with transaction.atomic():
        visit = Visit.objects.create(
            zone_id=enterprise.zone_id,
            enterprise=enterprise,
            steward=by,
            visited_on=visited_on,
            mode=mode,
            our_side=our_side.strip(),
            their_side=their_side.strip(),
            summary=summary.strip(),
            explained=explained.strip(),
            location=location.strip(),
            latitude=latitude,
            longitude=longitude,
        )
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
                "appeals": [a.pk for a in appeals],
                "next_due": schedule.next_due.isoformat(),
            },
        )
    return visit


# --- due lists -------------------------------------------------------------------------------------


@dataclass
class DueLists:
    """A steward's enterprises by when their visit is due (Beijing dates)."""

    today: date
    week_end: date
    month_end: date
    overdue: list[VisitSchedule] = field(default_factory=list)
    this_week: list[VisitSchedule] = field(default_factory=list)
    this_month: list[VisitSchedule] = field(default_factory=list)


def schedules_of(enterprises: QuerySet[Enterprise]) -> QuerySet[VisitSchedule]:
    """The schedule rows of a scope, made complete and current first (see sync_schedules)."""
    sync_schedules(enterprises)
    return VisitSchedule.objects.filter(enterprise__in=enterprises.values("pk"))


def due_lists(steward: User, *, on: date | None = None) -> DueLists:
    """Overdue, due this week (through Sunday) and due later this month, for one steward."""
    day = on or today()
    week_end = day + timedelta(days=6 - day.weekday())
    month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    horizon = max(week_end, month_end)
    rows = (
        schedules_of(Enterprise.objects.filter(steward=steward))
        .filter(next_due__lte=horizon)
        .select_related("enterprise")
        .order_by("next_due", SCHEDULE_TIER_ORDER, "enterprise__name")
    )
    lists = DueLists(today=day, week_end=week_end, month_end=month_end)
    for row in rows:
        if row.next_due < day:
            lists.overdue.append(row)
        elif row.next_due <= week_end:
            lists.this_week.append(row)
        else:
            lists.this_month.append(row)
    return lists
