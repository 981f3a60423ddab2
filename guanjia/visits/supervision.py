"""Overdue supervision (督查): enterprises whose visit is overdue, counted by zone and by steward.

Each count is one GROUP BY query in the database, whatever the number of enterprises: the overdue
condition is a range on VisitSchedule.next_due (indexed), and the totals come from the same scan
with conditional aggregates, so the page and the benchmark read the same figures. "Overdue" means
next_due is before the day (Beijing date): an enterprise due today is not overdue yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Min, Q, QuerySet
from django.utils.translation import gettext as _

from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.visits.models import VisitSchedule
from guanjia.visits.services import today


@dataclass(frozen=True)
class Overdue:
    """A group's enterprises, how many of them are overdue, and the oldest overdue due date."""

    enterprises: int
    overdue: int
    oldest_due: date | None

    @property
    def share(self) -> float:
        """Overdue / enterprises, 0 for a group without enterprises."""
        return self.overdue / self.enterprises if self.enterprises else 0.0


@dataclass(frozen=True, kw_only=True)
class ZoneOverdue(Overdue):
    zone: OrgUnit

    @property
    def label(self) -> str:
        return self.zone.name

    @property
    def query(self) -> str:
        """The overdue list's filter for this row."""
        return f"zone={self.zone.pk}"


@dataclass(frozen=True, kw_only=True)
class StewardOverdue(Overdue):
    """steward None: the enterprises with no steward."""

    steward: User | None

    @property
    def label(self) -> str:
        if self.steward is None:
            return _("（未分配管家）")
        return self.steward.full_name or self.steward.username

    @property
    def query(self) -> str:
        return f"steward={self.steward.pk if self.steward else 'none'}"


def _counts(zone_ids: list[int], group_by: str, day: date) -> list[dict]:
    """One GROUP BY over the enterprises of the zones, LEFT JOINed to their schedule rows."""
    overdue = Q(visit_schedule__next_due__lt=day)
    return list(
        Enterprise.objects.filter(zone_id__in=zone_ids)
        .order_by()
        .values(group_by)
        .annotate(
            n_enterprises=Count("pk"),
            n_overdue=Count("pk", filter=overdue),
            oldest_due=Min("visit_schedule__next_due", filter=overdue),
        )
    )


def overdue_by_zone(zone_ids: list[int], *, on: date | None = None) -> list[ZoneOverdue]:
    """Every zone of `zone_ids` (a zone without enterprises too), in the organisation's order."""
    day = on or today()
    counts = {row["zone_id"]: row for row in _counts(list(zone_ids), "zone_id", day)}
    zones = OrgUnit.objects.filter(pk__in=list(zone_ids), kind=OrgUnit.Kind.ZONE).order_by("code", "pk")
    result = []
    for zone in zones:
        row = counts.get(zone.pk, {})
        result.append(
            ZoneOverdue(
                zone=zone,
                enterprises=row.get("n_enterprises", 0),
                overdue=row.get("n_overdue", 0),
                oldest_due=row.get("oldest_due"),
            )
        )
    return result


def overdue_by_steward(zone_ids: list[int], *, on: date | None = None) -> list[StewardOverdue]:
    """Each steward serving enterprises of the zones, most overdue first; no steward comes last."""
    day = on or today()
    counts = _counts(list(zone_ids), "steward_id", day)
    users = User.objects.in_bulk([row["steward_id"] for row in counts if row["steward_id"] is not None])
    result = [
        StewardOverdue(
            steward=users.get(row["steward_id"]) if row["steward_id"] is not None else None,
            enterprises=row["n_enterprises"],
            overdue=row["n_overdue"],
            oldest_due=row["oldest_due"],
        )
        for row in counts
    ]

    def order(item: StewardOverdue) -> tuple:
        return (item.steward is None, -item.overdue, item.oldest_due or date.max, item.label)

    return sorted(result, key=order)


def overdue_enterprises(
    zone_ids: list[int],
    *,
    steward_id: int | None = None,
    zone_id: int | None = None,
    on: date | None = None,
    unassigned: bool = False,
) -> QuerySet[VisitSchedule]:
    """The overdue schedule rows of the zones, most overdue first; narrowed to a steward or a zone.

    `unassigned=True` keeps the enterprises that have no steward (the "no steward" row of
    overdue_by_steward); it cannot be combined with `steward_id`.
    """
    day = on or today()
    rows = VisitSchedule.objects.filter(next_due__lt=day, enterprise__zone_id__in=list(zone_ids))
    if zone_id is not None:
        rows = rows.filter(enterprise__zone_id=zone_id)
    if steward_id is not None:
        rows = rows.filter(enterprise__steward_id=steward_id)
    elif unassigned:
        rows = rows.filter(enterprise__steward__isnull=True)
    return rows.select_related("enterprise", "enterprise__zone", "enterprise__steward").order_by(
        "next_due", "enterprise_id"
    )
