"""The rows behind a cockpit figure (穿透): exactly the appeals or assignments the number counts.

KPI figures take their rows from kpi.rows, the KPI module's own definitions; volumes, age bands and
red cards from the same conditions the rollups count (guanjia.appeals.rollups). These pages read
the appeals tables: they list a figure's rows, a few at a time, for a leader checking one number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import kpi, permissions, presentation, rollups
from guanjia.appeals.models import Appeal, Assignment, Channel, Escalation, RatingLevel, Status
from guanjia.core import masking
from guanjia.core.models import OrgUnit, User
from guanjia.core.workcalendar import BEIJING
from guanjia.enterprises.models import Contact

KINDS = ("kpi", "volume", "age", "red")
VOLUME_BY = ("day", "week", "category", "channel")


class DrillError(ValueError):
    """A drill-down asked for something that is not a figure (an unknown KPI, a bad key)."""


@dataclass(frozen=True)
class Drill:
    """What a drill-down lists: a kind and its key, within zones (and a department) and a period."""

    kind: str
    zone_ids: list[int]
    period: kpi.Period | None = None
    code: str = ""  # kpi: its code
    part: str = "denominator"  # kpi: numerator or denominator
    department_id: int | None = None  # kpi: one department's figure
    by: str = ""  # volume: day, week, category or channel
    key: str = ""  # volume: the bar's key; age: the band's index


def _day_range(start: date, end: date) -> Q:
    return Q(
        submitted_at__gte=datetime.combine(start, time(0), tzinfo=BEIJING),
        submitted_at__lt=datetime.combine(end, time(0), tzinfo=BEIJING),
    )


def _volume_rows(drill: Drill, visible: QuerySet[Appeal]) -> QuerySet[Appeal]:
    assert drill.period is not None
    found = visible.filter(zone_id__in=drill.zone_ids).filter(
        _day_range(drill.period.start, drill.period.end)
    )
    try:
        if drill.by == "day":
            day = date.fromisoformat(drill.key)
            return found.filter(_day_range(day, day + timedelta(days=1)))
        if drill.by == "week":
            monday = date.fromisoformat(drill.key)
            return found.filter(_day_range(monday, monday + timedelta(days=7)))
    except ValueError as error:
        raise DrillError(_("日期格式应为 YYYY-MM-DD")) from error
    if drill.by == "channel":
        if drill.key not in Channel.values:
            raise DrillError(_("未知的来源渠道"))
        return found.filter(channel=drill.key)
    if drill.by == "category":
        if drill.key == "none":
            return found.filter(category__isnull=True)
        if not drill.key.isdigit():
            raise DrillError(_("诉求类别应为类别编号"))
        return found.filter(category_id=int(drill.key))
    raise DrillError(_("分组方式只能是 day、week、category 或 channel"))


def _age_rows(drill: Drill, visible: QuerySet[Appeal], day: date) -> QuerySet[Appeal]:
    bands = rollups.AGE_BANDS
    if not drill.key.isdigit() or int(drill.key) >= len(bands):
        raise DrillError(_("未知的时长分档"))
    low, high = bands[int(drill.key)][1:]
    # Open appeals submitted between `high` and `low` days before `day` (Beijing dates).
    found = visible.filter(zone_id__in=drill.zone_ids, status__in=rollups.OPEN_STATUSES)
    latest = day - timedelta(days=low)
    found = found.filter(
        submitted_at__lt=datetime.combine(latest + timedelta(days=1), time(0), tzinfo=BEIJING)
    )
    if high is not None:
        earliest = day - timedelta(days=high)
        found = found.filter(submitted_at__gte=datetime.combine(earliest, time(0), tzinfo=BEIJING))
    return found


def _red_rows(drill: Drill, visible: QuerySet[Appeal]) -> QuerySet[Escalation]:
    assert drill.period is not None
    return Escalation.objects.filter(
        drill.period.events("created_at"),
        level=Escalation.Level.RED,
        appeal__zone_id__in=drill.zone_ids,
        appeal__in=visible.values("pk"),
    )


def rows(drill: Drill, *, user: User, day: date, now: datetime | None = None) -> QuerySet[Any]:
    """The queryset behind the figure: its count() is the figure (a sum of days for 平均办理时长).

    The rows are read through Appeal.objects.visible_to(user), as every list of appeals is; for the
    leaders and supervisors of the drill's zones that is every appeal of those zones, so the count
    is still the figure."""
    visible = Appeal.objects.visible_to(user)
    if drill.kind == "kpi":
        if drill.code not in kpi.KPIS:
            raise DrillError(_("未知的指标"))
        if drill.part not in kpi.PARTS:
            raise DrillError(_("part 只能是 numerator 或 denominator"))
        assert drill.period is not None
        scope = kpi.Scope(
            appeals=visible,
            zone_ids=drill.zone_ids,
            department_ids=[drill.department_id] if drill.department_id is not None else None,
        )
        return kpi.rows(drill.code, scope, drill.period, part=drill.part, now=now)
    if drill.kind == "volume":
        return _volume_rows(drill, visible)
    if drill.kind == "age":
        return _age_rows(drill, visible, day)
    if drill.kind == "red":
        return _red_rows(drill, visible)
    raise DrillError(_("未知的穿透类型"))


def kpi_rows_are_assignments(code: str) -> bool:
    return code == "mean_handling_days" or any(r.code == code and r.kind == "assignment" for r in kpi.RATIOS)


# --- rows as a table ------------------------------------------------------------------------------


@dataclass
class Table:
    """A drill-down's rows as the page and the export show them: cells in the columns' order, the
    appeal's id first (the page links it)."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    total_days: int | None = None  # 平均办理时长: the rows' days added up (the figure's numerator)


def _time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _deadline(moment: datetime | None) -> str:
    # A deadline is 24:00 of its day, stored as 00:00 of the next one.
    if moment is None:
        return ""
    return (timezone.localtime(moment) - timedelta(microseconds=1)).strftime("%Y-%m-%d 24:00")


def _level(value: int | None) -> str:
    return str(RatingLevel(value).label) if value else _("未评价")


class _People:
    """Enterprise names (confidential ones hidden as on the appeal pages) and primary contacts' phones,
    masked for roles that do not need them (core.masking), fetched once for a page's rows."""

    def __init__(self, user: User, appeals: Iterable[Appeal]) -> None:
        self.user = user
        self.visibility = permissions.EnterpriseVisibility(user)
        ids = {appeal.enterprise_id for appeal in appeals}
        self.phones: dict[int, str] = {}
        for enterprise_id, phone in Contact.objects.filter(
            enterprise_id__in=ids, is_primary=True
        ).values_list("enterprise_id", "phone"):
            self.phones.setdefault(enterprise_id, phone)

    def enterprise(self, appeal: Appeal) -> str:
        return appeal.enterprise.name if self.visibility.sees(appeal) else str(presentation.HIDDEN_ENTERPRISE)

    def phone(self, appeal: Appeal) -> str:
        if not self.visibility.sees(appeal):
            return ""
        return masking.phone_for(self.user, self.phones.get(appeal.enterprise_id, ""))


def _common(appeal: Appeal, people: _People) -> list[Any]:
    return [appeal.pk, appeal.title, people.enterprise(appeal), people.phone(appeal), appeal.zone.name]


COMMON = ["编号", "标题", "企业", "联系电话", "园区"]


def table(drill: Drill, found: Iterable[Any], user: User) -> Table:
    """The rows of `found` (a page of rows(drill), or all of them for an export) as a table."""
    items = list(found)
    if drill.kind == "kpi" and kpi_rows_are_assignments(drill.code):
        return _assignment_table(drill, items, user)
    if drill.kind == "red":
        appeals = [item.appeal for item in items]
        people = _People(user, appeals)
        result = Table([*COMMON, "主办部门", "红牌时间", "所督期限", "期限"])
        for item in items:
            result.rows.append(
                [
                    *_common(item.appeal, people),
                    item.assignment.department.name,
                    _time(item.created_at),
                    str(Escalation.Deadline(item.deadline).label),
                    _deadline(item.due),
                ]
            )
        return result
    people = _People(user, items)
    if drill.kind == "kpi":
        result = Table([*COMMON, "主办部门", "办结时间", "首次评价", "最后评价", "企业确认解决", "重办次数"])
        departments = _department_names([getattr(a, "lead_department", None) for a in items])
        for appeal in items:
            result.rows.append(
                [
                    *_common(appeal, people),
                    departments.get(getattr(appeal, "lead_department", None), ""),
                    _time(appeal.closed_at),
                    _level(getattr(appeal, "first_level", None)),
                    _level(getattr(appeal, "last_level", None)),
                    _("是") if getattr(appeal, "last_solved", None) else _("否"),
                    appeal.reopen_count,
                ]
            )
        return result
    result = Table([*COMMON, "诉求类别", "来源渠道", "状态", "提交时间"])
    for appeal in items:
        result.rows.append(
            [
                *_common(appeal, people),
                appeal.category.name if appeal.category else "",
                str(Channel(appeal.channel).label),
                str(Status(appeal.status).label),
                _time(appeal.submitted_at),
            ]
        )
    return result


def _department_names(ids: Iterable[int | None]) -> dict[int | None, str]:
    return dict(OrgUnit.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))


def _assignment_table(drill: Drill, items: list[Assignment], user: User) -> Table:
    people = _People(user, [item.appeal for item in items])
    days = drill.code == "mean_handling_days"
    columns = [*COMMON, "承办部门", "主办/协办", "交办时间", "签收期限", "签收时间", "答复期限", "答复时间"]
    result = Table([*columns, "办理工作日"] if days else columns)
    total = 0
    for item in items:
        row = [
            *_common(item.appeal, people),
            item.department.name,
            _("主办") if item.is_lead else _("协办"),
            _time(item.dispatched_at),
            _deadline(item.sign_due),
            _time(item.signed_at),
            _deadline(item.answer_due),
            _time(item.answered_at),
        ]
        if days:
            spent = kpi.handling_days(item)
            total += spent
            row.append(spent)
        result.rows.append(row)
    if days:
        result.total_days = total
    return result


def with_related(found: QuerySet[Any], drill: Drill) -> QuerySet[Any]:
    """What a table row shows, fetched with the row, in a stable order."""
    if drill.kind == "red":
        return found.select_related("appeal__enterprise", "appeal__zone", "assignment__department").order_by(
            "created_at", "pk"
        )
    if drill.kind == "kpi" and kpi_rows_are_assignments(drill.code):
        return found.select_related("appeal__enterprise", "appeal__zone", "department").order_by(
            "appeal_id", "dispatched_at", "pk"
        )
    return found.select_related("enterprise", "zone", "category").order_by("submitted_at", "pk")
