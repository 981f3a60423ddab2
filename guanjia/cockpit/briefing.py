"""A briefing's content (周报/月报): one dataclass that the PDF and the Excel renderers both read.

Every figure comes from the KPI module (guanjia.appeals.kpi) for the briefing's scope and period,
so that a briefing never disagrees with the cockpit; rankings go through cockpit.ranking (ties
share a rank, a unit with fewer than MIN_N judged rows is listed but not ranked). A briefing
carries no personal data: no enterprise contact, no user, and phone or ID numbers that someone
typed into an appeal's title are masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import kpi
from guanjia.appeals.models import OPEN_STATUSES, Appeal, Assignment, Escalation, Status
from guanjia.appeals.worklists import overdue_workdays
from guanjia.cockpit.models import Briefing
from guanjia.cockpit.ranking import MIN_N, Ranked, rank
from guanjia.core.masking import mask_id_number, mask_phone
from guanjia.core.models import OrgUnit
from guanjia.core.workcalendar import BEIJING

if TYPE_CHECKING:
    from guanjia.appeals.kpi import KpiValue

Kind = Briefing.Kind

LONGEST_OPEN = 10  # the longest-open appeals a briefing lists
RED_CARD_LIST_MAX = 1000  # red cards listed (all are counted); the PDF shows fewer, the Excel these
# KPIs whose value is a count of days, not a share.
DAY_KPIS = frozenset({"mean_handling_days"})


# --- periods ---------------------------------------------------------------------------------


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(kind: str, start: date) -> kpi.Period:
    """The week (Monday to Sunday) or the calendar month that begins on `start`; ValueError otherwise."""
    if kind == Kind.WEEKLY:
        if start.weekday() != 0:
            raise ValueError(_("周报的起始日期须是星期一"))
        return kpi.Period(start, start + timedelta(days=7))
    if kind == Kind.MONTHLY:
        if start.day != 1:
            raise ValueError(_("月报的起始日期须是某月 1 日"))
        return kpi.Period(start, _next_month(start))
    raise ValueError(_("未知的简报类型：%(kind)s") % {"kind": kind})


def last_complete(kind: str, today: date) -> kpi.Period:
    """The briefing period that ended last before `today`: the previous week, or the previous month."""
    if kind == Kind.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return period_of(kind, monday - timedelta(days=7))
    first = today.replace(day=1)
    return period_of(kind, (first - timedelta(days=1)).replace(day=1))


def previous_period(kind: str, period: kpi.Period) -> kpi.Period:
    """The period a briefing compares with: the week before, or the calendar month before."""
    if kind == Kind.WEEKLY:
        return period_of(kind, period.start - timedelta(days=7))
    return period_of(kind, (period.start - timedelta(days=1)).replace(day=1))


def beijing_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(BEIJING).date()


# --- personal data ---------------------------------------------------------------------------

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def scrub(text: str) -> str:
    """Text without readable phone or ID numbers: a briefing is passed around, so it carries none."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group()), text)
    return _LANDLINE.sub(lambda m: mask_phone(m.group().replace("-", "")), text)


# --- formatting, shared by both renderers ------------------------------------------------------


def format_value(code: str, value: KpiValue) -> str:
    if value.value is None:
        return "—"
    if code in DAY_KPIS:
        return _("%(days).1f 天") % {"days": value.value}
    return f"{value.value * 100:.1f}%"


def format_change(code: str, current: KpiValue, previous: KpiValue) -> str:
    """The change against the previous period: percentage points for a share, days for a duration."""
    if current.value is None or previous.value is None:
        return "—"
    delta = current.value - previous.value
    if code in DAY_KPIS:
        return _("%(sign)s%(days).1f 天") % {"sign": "+" if delta > 0 else "", "days": delta}
    points = delta * 100
    return _("%(sign)s%(points).1f 个百分点") % {"sign": "+" if points > 0 else "", "points": points}


# --- the content -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLine:
    """One KPI over the scope: this period and the one before."""

    code: str
    label: str
    current: KpiValue
    previous: KpiValue

    @property
    def change(self) -> float | None:
        if self.current.value is None or self.previous.value is None:
            return None
        return self.current.value - self.previous.value

    @property
    def value_text(self) -> str:
        return format_value(self.code, self.current)

    @property
    def previous_text(self) -> str:
        return format_value(self.code, self.previous)

    @property
    def change_text(self) -> str:
        return format_change(self.code, self.current, self.previous)


@dataclass(frozen=True)
class RankingRow:
    """A unit's place on one KPI (rank None: fewer than MIN_N judged rows, listed but not ranked)."""

    unit_id: int
    name: str
    rank: int | None
    value: KpiValue

    @property
    def n(self) -> int:
        return self.value.denominator


@dataclass(frozen=True)
class KpiRanking:
    code: str
    label: str
    rows: list[RankingRow]

    def value_text(self, row: RankingRow) -> str:
        return format_value(self.code, row.value)


@dataclass(frozen=True)
class RedCard:
    """红牌 of the period: which appeal, whose, how many working days past its deadline."""

    appeal_id: int
    title: str
    zone: str
    department: str
    due: date | None  # the deadline's working day
    overdue_days: int
    escalated_at: datetime


@dataclass(frozen=True)
class OpenAppeal:
    """One of the longest-open appeals of the scope, as it stood when the briefing was generated."""

    appeal_id: int
    title: str
    zone: str
    status: str
    department: str
    submitted_at: datetime
    open_days: int  # calendar days since submission


@dataclass(frozen=True)
class BriefingData:
    kind: str
    zone_id: int | None
    scope_name: str
    period: kpi.Period
    previous: kpi.Period
    generated_at: datetime
    kpis: list[KpiLine]
    department_rankings: list[KpiRanking]
    zone_rankings: list[KpiRanking]  # the city's briefing only: a zone's leaders see their zone alone
    red_card_count: int
    red_cards: list[RedCard]
    longest_open: list[OpenAppeal]
    min_n: int = MIN_N

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def last_day(self) -> date:
        return self.period.end - timedelta(days=1)

    @property
    def period_text(self) -> str:
        return _("%(start)s 至 %(end)s") % {
            "start": self.period.start.strftime("%Y年%m月%d日"),
            "end": self.last_day.strftime("%Y年%m月%d日"),
        }

    @property
    def previous_text(self) -> str:
        return _("%(start)s 至 %(end)s") % {
            "start": self.previous.start.strftime("%Y年%m月%d日"),
            "end": (self.previous.end - timedelta(days=1)).strftime("%Y年%m月%d日"),
        }

    @property
    def title(self) -> str:
        """e.g. 高新区周报（2026年03月02日 至 2026年03月08日）"""
        return f"{self.scope_name}{self.kind_label}（{self.period_text}）"

    @property
    def provisional(self) -> int:
        return sum(line.current.provisional for line in self.kpis)

    @property
    def generated_text(self) -> str:
        return self.generated_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def scope_name(zone: OrgUnit | None) -> str:
    if zone is not None:
        return zone.name
    city = OrgUnit.objects.filter(kind=OrgUnit.Kind.CITY).order_by("pk").first()
    return city.name if city is not None else _("全市")


def zone_ids_of(zone: OrgUnit | None) -> list[int]:
    """A zone, or (None) every zone of the city: the zones a city leader's cockpit shows."""
    if zone is not None:
        return [zone.pk]
    return sorted(OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE).values_list("pk", flat=True))


def _rankings(units: list[kpi.UnitKpis], names: dict[int, str]) -> list[KpiRanking]:
    result = []
    for code, label in kpi.KPIS.items():
        ranked: Iterable[Ranked] = rank(units, code)
        # A unit with no row at all on this KPI (n = 0) has no figure to list.
        rows = [
            RankingRow(r.unit_id, names.get(r.unit_id, str(r.unit_id)), r.rank, r.kpi) for r in ranked if r.n
        ]
        result.append(KpiRanking(code, str(label), rows))
    return result


def _unit_names(ids: Iterable[int]) -> dict[int, str]:
    return dict(OrgUnit.objects.filter(pk__in=set(ids)).values_list("pk", "name"))


def _window(period: kpi.Period) -> dict[str, datetime]:
    return {"created_at__gte": period.start_at, "created_at__lt": period.end_at}


def _red_cards(zone_ids: list[int], period: kpi.Period, now: datetime) -> tuple[int, list[RedCard]]:
    rows = Escalation.objects.filter(
        level=Escalation.Level.RED, appeal__zone_id__in=zone_ids, **_window(period)
    )
    count = rows.count()
    cards = []
    picked = rows.select_related("appeal", "appeal__zone", "assignment", "assignment__department")
    for escalation in picked.order_by("created_at", "pk")[:RED_CARD_LIST_MAX]:
        assignment = escalation.assignment
        due = escalation.due or assignment.answer_due
        # Overdue until answered (or until now, still open): how late the answer was, or is.
        until = min(assignment.answered_at or now, now)
        cards.append(
            RedCard(
                appeal_id=escalation.appeal_id,
                title=scrub(escalation.appeal.title),
                zone=escalation.appeal.zone.name,
                department=assignment.department.name,
                due=(due.astimezone(BEIJING) - timedelta(microseconds=1)).date() if due else None,
                overdue_days=overdue_workdays(due, until) if due else 0,
                escalated_at=escalation.created_at,
            )
        )
    cards.sort(key=lambda card: (-card.overdue_days, card.appeal_id))
    return count, cards


def _longest_open(zone_ids: list[int], now: datetime) -> list[OpenAppeal]:
    rows = Appeal.objects.filter(status__in=OPEN_STATUSES, zone_id__in=zone_ids)
    current = Assignment.objects.filter(is_current=True, is_lead=True).select_related("department")
    picked = (
        rows.select_related("zone")
        .prefetch_related(Prefetch("assignments", queryset=current, to_attr="current_leads"))
        .order_by("submitted_at", "pk")[:LONGEST_OPEN]
    )
    today = beijing_today(now)
    result = []
    for appeal in picked:
        leads = appeal.current_leads  # type: ignore[attr-defined]
        result.append(
            OpenAppeal(
                appeal_id=appeal.pk,
                title=scrub(appeal.title),
                zone=appeal.zone.name,
                status=str(Status(appeal.status).label),
                department=leads[0].department.name if leads else "",
                submitted_at=appeal.submitted_at,
                open_days=(today - appeal.submitted_at.astimezone(BEIJING).date()).days,
            )
        )
    return result


def build(
    kind: str, zone: OrgUnit | None, period: kpi.Period, *, now: datetime | None = None
) -> BriefingData:
    """The content of a briefing of `zone` (None: the city) for `period`, as of `now`."""
    now = now or timezone.now()
    zone_id = zone.pk if zone is not None else None
    zone_ids = zone_ids_of(zone)
    scope = kpi.Scope(zone_ids=zone_ids)
    previous = previous_period(kind, period)
    current_values = kpi.all_kpis(scope, period, now=now)
    previous_values = kpi.all_kpis(scope, previous, now=now)
    lines = [
        KpiLine(code, str(label), current_values[code], previous_values[code])
        for code, label in kpi.KPIS.items()
    ]
    departments = kpi.by_department(scope, period, now=now)
    zones = kpi.by_zone(scope, period, now=now) if zone is None else []
    names = _unit_names([u.unit_id for u in departments] + [u.unit_id for u in zones])
    count, cards = _red_cards(zone_ids, period, now)
    return BriefingData(
        kind=kind,
        zone_id=zone_id,
        scope_name=scope_name(zone),
        period=period,
        previous=previous,
        generated_at=now,
        kpis=lines,
        department_rankings=_rankings(departments, names),
        zone_rankings=_rankings(zones, names) if zone is None else [],
        red_card_count=count,
        red_cards=cards,
        longest_open=_longest_open(zone_ids, now),
    )
