"""Stewards side by side (不搞平均主义), for the leaders of their own zone only.

Outcomes, not activity (DESIGN.md 减负): the share of a steward's enterprises whose visit is not
overdue, its coverage of running campaigns, the appeals raised on its visits in the period and how
many of them were solved, and how its enterprises rated the answers to appeals closed in the period
(最终满意率, by the KPI module's own rows).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from guanjia.appeals import kpi
from guanjia.appeals.models import Appeal, Rating, Status
from guanjia.campaigns.models import Campaign, CampaignTarget
from guanjia.campaigns.services import annotate_visited
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.visits import supervision
from guanjia.visits.models import VisitAppeal


def steward_zone(user: User) -> OrgUnit | None:
    """The zone whose stewards `user` may compare: a leader's own zone (not a city's, not a supervisor's)."""
    if not (user.is_authenticated and user.is_active and user.has_role(Role.LEADER)):
        return None
    unit = user.unit
    if unit is None or unit.kind == OrgUnit.Kind.CITY:
        return None
    return unit.zone


@dataclass(frozen=True)
class StewardRow:
    steward: User
    enterprises: int
    visits_overdue: int
    campaign_visited: int
    campaign_targets: int
    raised: int
    solved: int
    rated: int
    satisfied: int

    @property
    def visits_on_time(self) -> float | None:
        """Share of its enterprises whose visit is not overdue."""
        return (self.enterprises - self.visits_overdue) / self.enterprises if self.enterprises else None

    @property
    def campaign_coverage(self) -> float | None:
        return self.campaign_visited / self.campaign_targets if self.campaign_targets else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    @property
    def visits_on_time_text(self) -> str:
        return percent(self.visits_on_time)

    @property
    def campaign_coverage_text(self) -> str:
        return percent(self.campaign_coverage)

    @property
    def satisfaction_text(self) -> str:
        return percent(self.satisfaction)


def percent(value: float | None) -> str:
    """93.3% — or — when there is nothing to divide."""
    return "—" if value is None else f"{value * 100:.1f}%"


def steward_rows(zone: OrgUnit, period: kpi.Period, day: date) -> list[StewardRow]:
    """Every steward serving an enterprise of the zone, by name."""
    zone_ids = [zone.pk]
    visits = {row.steward.pk: row for row in supervision.overdue_by_steward(zone_ids, on=day) if row.steward}

    campaign_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    running = Campaign.objects.filter(zones=zone, starts_on__lte=day, ends_on__gte=day).distinct()
    for campaign in running:
        targets = CampaignTarget.objects.filter(
            campaign=campaign, enterprise__zone_id=zone.pk, steward__isnull=False
        )
        grouped = (
            annotate_visited(campaign, targets)
            .order_by()
            .values("steward_id")
            .annotate(total=Count("pk"), seen=Count("pk", filter=Q(visited=True)))
        )
        for group in grouped:
            campaign_counts[group["steward_id"]][0] += group["seen"]
            campaign_counts[group["steward_id"]][1] += group["total"]

    # Appeals raised on its visits in the period, and of them those closed with the enterprise's
    # last rating saying solved (as the campaigns' problem counts read it).
    last = Rating.objects.filter(appeal=OuterRef("appeal_id")).order_by("-at", "-pk")
    links = (
        VisitAppeal.objects.filter(
            visit__zone_id=zone.pk,
            visit__visited_on__gte=period.start,
            visit__visited_on__lt=period.end,
        )
        .annotate(last_solved=Subquery(last.values("solved")[:1]))
        .order_by()
        .values("visit__steward_id")
        .annotate(
            raised=Count("pk"),
            solved=Count("pk", filter=Q(appeal__status=Status.CLOSED, last_solved=True)),
        )
    )
    raised: dict[int, dict[str, int]] = {
        row["visit__steward_id"]: {"raised": row["raised"], "solved": row["solved"]} for row in links
    }

    # Its enterprises' ratings: 最终满意率's rows (closed in the period, rated) by current steward.
    rated_rows = kpi.rows("final_satisfaction", kpi.Scope(zone_ids=zone_ids), period)
    satisfied_rows = kpi.rows("final_satisfaction", kpi.Scope(zone_ids=zone_ids), period, part="numerator")
    rated = _by_steward(rated_rows)
    satisfied = _by_steward(satisfied_rows)

    stewards = User.objects.filter(
        Q(stewarded_enterprises__zone_id=zone.pk) | Q(pk__in=list(raised)) | Q(pk__in=list(campaign_counts))
    ).distinct()
    result = []
    for steward in sorted(stewards, key=lambda user: (user.full_name or user.username, user.pk)):
        visit = visits.get(steward.pk)
        raised_row: dict[str, int] = raised.get(steward.pk, {})
        seen, total = campaign_counts.get(steward.pk, [0, 0])
        result.append(
            StewardRow(
                steward=steward,
                enterprises=visit.enterprises if visit else 0,
                visits_overdue=visit.overdue if visit else 0,
                campaign_visited=seen,
                campaign_targets=total,
                raised=raised_row.get("raised", 0),
                solved=raised_row.get("solved", 0),
                rated=rated.get(steward.pk, 0),
                satisfied=satisfied.get(steward.pk, 0),
            )
        )
    return result


def _by_steward(rows: QuerySet[Appeal]) -> dict[int, int]:
    counted = (
        Appeal.objects.filter(pk__in=rows.values("pk"))
        .values("enterprise__steward_id")
        .annotate(n=Count("pk"))
    )
    return {
        row["enterprise__steward_id"]: row["n"] for row in counted.order_by() if row["enterprise__steward_id"]
    }
