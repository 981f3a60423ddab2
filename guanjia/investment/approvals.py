"""Approval agency (审批代办): the checklist a signed project gets, its agent, each approval's start and
finish in working days, and the acceleration report (行政审批加速度).

Each approval has a statutory limit (法定时限) and the zone's promise (承诺时限), both in working days.
Starting it on day D promises it by add_workdays(D, promised_days); finishing it on F took
workdays_between(D, F) working days (D excluded, F included), in the official work calendar (holidays
skipped, 调休 Saturdays counted). An approval is overdue when it is unfinished after its promised day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, F, Max, Q, QuerySet
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import User
from guanjia.core.workcalendar import add_workdays, workdays_between
from guanjia.investment import access
from guanjia.investment.access import check_keeper
from guanjia.investment.models import (
    STAGES,
    ApprovalItem,
    ApprovalTemplateItem,
    Project,
    Stage,
    stage_index,
)

NAME_MAX = 50
NOTE_MAX = 200
# A promise or a statutory limit longer than this many working days (about four years) is a typo.
DAYS_MAX = 1000


def is_overdue(item: ApprovalItem, today: date | None = None) -> bool:
    """Unfinished after its promised day."""
    return (
        item.finished_on is None
        and item.promised_by is not None
        and item.promised_by < (today or access.today())
    )


def finished_late(item: ApprovalItem) -> bool:
    """Finished, but after its promised day."""
    return (
        item.finished_on is not None and item.promised_by is not None and item.finished_on > item.promised_by
    )


def overdue_items(items: QuerySet[ApprovalItem], today: date | None = None) -> QuerySet[ApprovalItem]:
    return items.filter(finished_on__isnull=True, promised_by__lt=today or access.today())


def promised_day(started_on: date, promised_days: int) -> date:
    """The day an approval started on `started_on` is promised by (same day for a 即办 promise of 0)."""
    return add_workdays(started_on, promised_days) if promised_days > 0 else started_on


def create_checklist(project: Project) -> list[ApprovalItem]:
    """Create the approval items of the project's type from the templates (the caller's transaction and
    audit record: advance_project on reaching 签约). Items already on the checklist are kept as they are."""
    have = set(ApprovalItem.objects.filter(project=project).values_list("name", flat=True))
    templates = ApprovalTemplateItem.objects.filter(project_type=project.project_type).order_by(
        "position", "pk"
    )
    items = [
        ApprovalItem(
            project=project,
            name=template.name,
            statutory_days=template.statutory_days,
            promised_days=template.promised_days,
            position=template.position,
        )
        for template in templates
        if template.name not in have
    ]
    return ApprovalItem.objects.bulk_create(items)


def _check_days(value: int, label: str) -> None:
    if value is None or value < 0:
        raise ServiceError(_("%(label)s：不能为负数") % {"label": label})
    if value > DAYS_MAX:
        raise ServiceError(_("%(label)s：不能超过 %(n)d 个工作日") % {"label": label, "n": DAYS_MAX})


def add_item(
    project: Project, *, name: str, statutory_days: int, promised_days: int, by: User, note: str = ""
) -> ApprovalItem:
    """Add an approval the template lacks (a custom one) to a signed project's checklist."""
    check_keeper(by, project.zone_id)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("审批事项：不能为空"))
    if len(name) > NAME_MAX:
        raise ServiceError(_("审批事项：不能超过 %(n)d 个字") % {"n": NAME_MAX})
    _check_days(statutory_days, _("法定时限"))
    _check_days(promised_days, _("承诺时限"))
    if statutory_days < 1:
        raise ServiceError(_("法定时限：至少 1 个工作日"))
    if promised_days > statutory_days:
        raise ServiceError(_("承诺时限：不能超过法定时限（%(n)d 个工作日）") % {"n": statutory_days})
    note = (note or "").strip()[:NOTE_MAX]
    with transaction.atomic():
        held = Project.objects.filter(pk=project.pk, stage__in=STAGES[stage_index(Stage.SIGNED) :]).update(
            stage=F("stage")
        )
        if held != 1:
            raise ServiceError(_("审批事项：项目签约后才有审批代办清单"))
        if ApprovalItem.objects.filter(project=project, name=name).exists():
            raise ServiceError(_("审批事项：清单中已有“%(name)s”") % {"name": name})
        last = ApprovalItem.objects.filter(project=project).aggregate(m=Max("position"))["m"] or 0
        item = ApprovalItem.objects.create(
            project=project,
            name=name,
            statutory_days=statutory_days,
            promised_days=promised_days,
            position=last + 1,
            note=note,
        )
        audit.record(
            by,
            "investment.approval_add",
            item,
            summary=f"招商项目“{project.name}”新增审批事项“{name}”",
            detail={"project": project.pk, "statutory_days": statutory_days, "promised_days": promised_days},
        )
    return item


def assign_agent(project: Project, *, agent: User, by: User) -> Project:
    """Name the project's agent (代办员): a promoter of the project's zone."""
    check_keeper(by, project.zone_id)
    if not access.promoters_of_zone(project.zone).filter(is_active=True, pk=agent.pk).exists():
        raise ServiceError(_("代办员：%(user)s 不是本园区的招商专员") % {"user": agent})
    previous = project.agent_id
    with transaction.atomic():
        moved = Project.objects.filter(pk=project.pk, version=project.version).update(
            agent=agent, version=project.version + 1
        )
        if moved != 1:
            raise Conflict(_("该项目刚被他人修改，请刷新后重试"))
        project.agent, project.version = agent, project.version + 1
        audit.record(
            by,
            "investment.approval_agent",
            project,
            summary=f"招商项目“{project.name}”的代办员设为 {agent}",
            detail={"from": previous, "to": agent.pk},
        )
    return project


def start_item(item: ApprovalItem, *, on: date, by: User) -> ApprovalItem:
    """The approval was accepted (受理) on `on`: it is promised by promised_days working days later."""
    project = item.project
    check_keeper(by, project.zone_id)
    if on is None:
        raise ServiceError(_("受理日期：不能为空"))
    if on > access.today():
        raise ServiceError(_("受理日期：不能晚于今天"))
    if item.started_on is not None:
        raise ServiceError(
            _("受理日期：“%(name)s”已于 %(day)s 受理") % {"name": item.name, "day": item.started_on}
        )
    promised_by = promised_day(on, item.promised_days)
    with transaction.atomic():
        moved = ApprovalItem.objects.filter(pk=item.pk, version=item.version, started_on__isnull=True).update(
            started_on=on, promised_by=promised_by, version=item.version + 1
        )
        if moved != 1:
            raise Conflict(_("该审批事项刚被他人修改，请刷新后重试"))
        item.started_on, item.promised_by, item.version = on, promised_by, item.version + 1
        audit.record(
            by,
            "investment.approval_start",
            item,
            summary=f"招商项目“{project.name}”的“{item.name}”受理，承诺 {promised_by} 前办结",
            detail={
                "project": project.pk,
                "started_on": on.isoformat(),
                "promised_by": promised_by.isoformat(),
            },
        )
    return item


def finish_item(item: ApprovalItem, *, on: date, by: User) -> ApprovalItem:
    """The approval was granted (办结) on `on`: record the working days it took."""
    project = item.project
    check_keeper(by, project.zone_id)
    if on is None:
        raise ServiceError(_("办结日期：不能为空"))
    if item.started_on is None:
        raise ServiceError(_("办结日期：“%(name)s”尚未受理，请先登记受理日期") % {"name": item.name})
    if item.finished_on is not None:
        raise ServiceError(
            _("办结日期：“%(name)s”已于 %(day)s 办结") % {"name": item.name, "day": item.finished_on}
        )
    if on < item.started_on:
        raise ServiceError(_("办结日期：不能早于受理日期（%(day)s）") % {"day": item.started_on})
    if on > access.today():
        raise ServiceError(_("办结日期：不能晚于今天"))
    actual = workdays_between(item.started_on, on)
    with transaction.atomic():
        moved = ApprovalItem.objects.filter(
            pk=item.pk, version=item.version, started_on__isnull=False, finished_on__isnull=True
        ).update(finished_on=on, actual_days=actual, version=item.version + 1)
        if moved != 1:
            raise Conflict(_("该审批事项刚被他人修改，请刷新后重试"))
        item.finished_on, item.actual_days, item.version = on, actual, item.version + 1
        audit.record(
            by,
            "investment.approval_finish",
            item,
            summary=f"招商项目“{project.name}”的“{item.name}”办结，用时 {actual} 个工作日",
            detail={"project": project.pk, "finished_on": on.isoformat(), "actual_days": actual},
        )
    return item


# --- 行政审批加速度 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccelerationRow:
    """Approvals finished in a period: how many, and their average statutory, promised and actual days."""

    name: str
    n: int
    statutory: float | None
    promised: float | None
    actual: float | None
    on_time: int  # finished by the promised day

    @property
    def speedup(self) -> float | None:
        """提速: the share of the statutory time saved, 1 − average actual / average statutory."""
        if not self.n or not self.statutory:
            return None
        return 1 - (self.actual or 0) / self.statutory

    @property
    def speedup_percent(self) -> int | None:
        speedup = self.speedup
        return None if speedup is None else round(speedup * 100)


@dataclass(frozen=True)
class Acceleration:
    start: date
    end: date
    rows: list[AccelerationRow]
    overall: AccelerationRow


def _row(name: str, figures: Mapping[str, Any]) -> AccelerationRow:
    def average(value: object) -> float | None:
        return None if value is None else round(float(value), 2)  # type: ignore[arg-type]

    return AccelerationRow(
        name=name,
        n=figures["n"],
        statutory=average(figures["statutory"]),
        promised=average(figures["promised"]),
        actual=average(figures["actual"]),
        on_time=figures["on_time"] or 0,
    )


def acceleration(zone_ids: Iterable[int], start: date, end: date) -> Acceleration:
    """Per approval name and overall, for the approvals of the zones' projects finished in [start, end]:
    n, average statutory, promised and actual working days, on-time count and 提速 — averaged in the
    database."""
    finished = ApprovalItem.objects.filter(
        project__zone_id__in=list(zone_ids), finished_on__gte=start, finished_on__lte=end
    ).order_by()
    aggregates = {
        "n": Count("pk"),
        "statutory": Avg("statutory_days"),
        "promised": Avg("promised_days"),
        "actual": Avg("actual_days"),
        "on_time": Count("pk", filter=Q(finished_on__lte=F("promised_by"))),
    }
    rows = [_row(figures["name"], figures) for figures in finished.values("name").annotate(**aggregates)]
    rows.sort(key=lambda row: (-row.n, row.name))
    overall = _row(_("全部事项"), finished.aggregate(**aggregates))
    return Acceleration(start=start, end=end, rows=rows, overall=overall)
