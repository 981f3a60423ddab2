"""The cockpit's figures for one scope and period, read by the page, its exports and the API.

Every KPI comes from guanjia.appeals.kpi, every volume, age band and red-card count from
guanjia.appeals.rollups (daily rollups): with a scope of zones only, neither reads the appeals or
assignments tables, so the page stays fast on a city's volume. Visits and campaigns are read from
their own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import kpi, rollups
from guanjia.appeals.models import AppealCategory, Channel
from guanjia.campaigns.models import Campaign, CampaignTarget
from guanjia.campaigns.services import annotate_visited
from guanjia.cockpit.ranking import LOWER_IS_BETTER
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.visits import supervision
from guanjia.visits.services import today

COCKPIT_ROLES = (Role.LEADER, Role.SUPERVISOR)

# Periods a leader picks from; "custom" takes start and end (end excluded, as everywhere in kpi).
PERIOD_CHOICES = (
    ("this_week", gettext_lazy("本周")),
    ("last_week", gettext_lazy("上周")),
    ("this_month", gettext_lazy("本月")),
    ("last_month", gettext_lazy("上月")),
    ("this_quarter", gettext_lazy("本季度")),
    ("custom", gettext_lazy("自定义")),
)
DEFAULT_PERIOD = "this_month"
# Longer periods show their volume by week: a bar per day stops being readable.
DAILY_UP_TO_DAYS = 62


def may_use(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_any_role(COCKPIT_ROLES))


def _month_start(day: date, months_back: int = 0) -> date:
    month = day.month - 1 - months_back
    return date(day.year + month // 12, month % 12 + 1, 1)


def preset_period(name: str, day: date) -> kpi.Period:
    """A named period around `day` (Beijing date): calendar weeks (Monday first), months, quarters."""
    monday = day - timedelta(days=day.weekday())
    if name == "this_week":
        return kpi.Period(monday, monday + timedelta(days=7))
    if name == "last_week":
        return kpi.Period(monday - timedelta(days=7), monday)
    if name == "last_month":
        return kpi.Period(_month_start(day, 1), _month_start(day))
    if name == "this_quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return kpi.Period(first, _month_start(first, -3))
    return kpi.Period(_month_start(day), _month_start(day, -1))  # this_month


def previous_period(period: kpi.Period) -> kpi.Period:
    """The period `period`'s changes are measured against: the calendar month (or quarter) before a
    calendar month (quarter), as the monthly briefing compares; otherwise the days of equal length
    just before it (a week: the week before)."""
    start, end = period.start, period.end
    if start.day == 1 and end.day == 1:
        for months in (1, 3):
            if end == _month_start(start, -months) and (months == 1 or start.month % 3 == 1):
                return kpi.Period(_month_start(start, months), start)
    length = end - start
    return kpi.Period(start - length, start)


@dataclass(frozen=True)
class CockpitScope:
    """Whose figures: the zones the user leads or supervises, or one of them it chose.

    zone is None for the user's whole scope (a city leader: every zone of the city).
    """

    user: User
    zone_ids: list[int]
    zone: OrgUnit | None
    all_zone_ids: list[int]

    @property
    def kpi_scope(self) -> kpi.Scope:
        # Zones only, no appeals queryset: a leader and a supervisor see every appeal of their zones
        # (Appeal.objects.visible_to), and a scope of zones is what the rollups' fast path answers.
        return kpi.Scope(zone_ids=self.zone_ids)

    @property
    def label(self) -> str:
        if self.zone is not None:
            return self.zone.name
        unit = self.user.unit
        return unit.name if unit is not None else ""

    @property
    def many_zones(self) -> bool:
        return len(self.all_zone_ids) > 1


def resolve_scope(user: User, zone_id: int | None) -> CockpitScope:
    """The user's cockpit scope; a zone outside it is a 404 (its existence is not confirmed)."""
    all_zone_ids = sorted(user.zone_ids())
    if zone_id is None:
        zone = OrgUnit.objects.get(pk=all_zone_ids[0]) if len(all_zone_ids) == 1 else None
        return CockpitScope(user, all_zone_ids, zone, all_zone_ids)
    if zone_id not in all_zone_ids:
        raise Http404(_("该园区不在您的范围内"))
    return CockpitScope(user, [zone_id], OrgUnit.objects.get(pk=zone_id), all_zone_ids)


def zones_of(scope: CockpitScope) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(pk__in=scope.all_zone_ids).order_by("code", "pk"))


# --- KPI cards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiCard:
    """One KPI now and in the previous period; delta in percentage points (days for 平均办理时长)."""

    code: str
    label: str
    current: kpi.KpiValue
    previous: kpi.KpiValue

    @property
    def is_days(self) -> bool:
        return self.code == "mean_handling_days"

    @property
    def delta(self) -> float | None:
        if self.current.value is None or self.previous.value is None:
            return None
        change = self.current.value - self.previous.value
        return round(change if self.is_days else change * 100, 1)

    @property
    def better(self) -> bool | None:
        """Whether the change is an improvement (None: no change or nothing to compare)."""
        if not self.delta:
            return None
        return (self.delta < 0) if self.code in LOWER_IS_BETTER else (self.delta > 0)


def show(value: kpi.KpiValue, code: str) -> str:
    """A KPI's value as a page shows it: 93.3% for a ratio, 2.5 for days, — when n is 0."""
    if value.value is None:
        return "—"
    if code == "mean_handling_days":
        return f"{value.value:.1f}"
    return f"{value.value * 100:.1f}%"


def kpi_cards(scope: CockpitScope, period: kpi.Period) -> list[KpiCard]:
    current = kpi.all_kpis(scope.kpi_scope, period)
    previous = kpi.all_kpis(scope.kpi_scope, previous_period(period))
    return [KpiCard(code, str(label), current[code], previous[code]) for code, label in kpi.KPIS.items()]


# --- volume, age, red cards (rollups) -------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a chart and one row of its table: label, count, and the drill-down's filter."""

    key: str
    label: str
    value: int


def volume_by(scope: CockpitScope, period: kpi.Period, by: str) -> list[Bar]:
    """Appeals submitted in the period, by day, week, category or channel."""
    found = rollups.volume(scope.zone_ids, period, by=by)
    if by in ("day", "week"):
        return [Bar(key.isoformat(), key.strftime("%m-%d"), n) for key, n in found]
    if by == "channel":
        labels = dict(Channel.choices)
        return [Bar(str(key), str(labels.get(key, key)), n) for key, n in found]
    names = dict(
        AppealCategory.objects.filter(pk__in=[key for key, _n in found if key]).values_list("pk", "name")
    )
    return [
        Bar("none" if key is None else str(key), names.get(key, _("未分类")) if key else _("未分类"), n)
        for key, n in found
    ]


def time_axis(period: kpi.Period) -> str:
    return "day" if (period.end - period.start).days <= DAILY_UP_TO_DAYS else "week"


def open_by_age(scope: CockpitScope, day: date) -> list[Bar]:
    """Open appeals now, by how long ago they were submitted (the rollups' bands)."""
    return [
        Bar(str(index), label, n)
        for index, (label, n) in enumerate(rollups.open_by_age(scope.zone_ids, today=day))
    ]


def red_cards(scope: CockpitScope, period: kpi.Period) -> int:
    return rollups.red_cards(scope.zone_ids, period)


# --- zones side by side ----------------------------------------------------------------------------


def zone_rows(scope: CockpitScope, period: kpi.Period) -> list[dict[str, Any]]:
    """Every zone of the scope (one without rows too) with every KPI."""
    found = {row.unit_id: row.kpis for row in kpi.by_zone(scope.kpi_scope, period)}
    empty = dict.fromkeys(kpi.KPIS, kpi.KpiValue(0, 0, None))
    zones = OrgUnit.objects.filter(pk__in=scope.zone_ids).order_by("code", "pk")
    return [{"zone": zone, "kpis": found.get(zone.pk, empty)} for zone in zones]


# --- visits and campaigns -------------------------------------------------------------------------


def visit_rows(scope: CockpitScope, day: date) -> list[supervision.ZoneOverdue]:
    """Per zone: enterprises, those whose visit is overdue, and their share."""
    return supervision.overdue_by_zone(scope.zone_ids, on=day)


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    visited: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.total if self.total else None


def running_campaigns(scope: CockpitScope, day: date) -> list[CampaignRow]:
    """Campaigns covering a zone of the scope and running on `day`, with their targets in the scope
    visited within the campaign's period (the test campaigns.services.coverage counts with)."""
    campaigns = (
        Campaign.objects.filter(zones__in=scope.zone_ids, starts_on__lte=day, ends_on__gte=day)
        .distinct()
        .order_by("ends_on", "pk")
    )
    result = []
    for campaign in campaigns:
        targets = CampaignTarget.objects.filter(campaign=campaign, enterprise__zone_id__in=scope.zone_ids)
        # The aggregate's name must differ from the annotation's, or the filter reads the aggregate.
        counts = annotate_visited(campaign, targets).aggregate(
            total=Count("pk"), visited_count=Count("pk", filter=Q(visited=True))
        )
        result.append(CampaignRow(campaign, counts["visited_count"], counts["total"]))
    return result


def current_day() -> date:
    return today()
