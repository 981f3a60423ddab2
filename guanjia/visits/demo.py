"""Demo visits: gj_steward1 has past visits, some enterprises overdue, some due this week, one
visit that raised an appeal, and two planned visits. Every other enterprise gets its schedule row in
one bulk pass."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.visits import services
from guanjia.visits.models import Mode

DEMO_STEWARD = "gj_steward1"


def add_demo_visits(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    # Bulk-created enterprises sent no post_save: their rows are written here in batches.
    services.reschedule_all()
    steward = User.objects.filter(username=DEMO_STEWARD).first()
    if steward is None:
        return
    enterprises = list(Enterprise.objects.filter(steward=steward).order_by("pk")[:10])
    planned, enterprises = enterprises[8:], enterprises[:8]
    today = services.today()
    for index, enterprise in enumerate(enterprises):
        interval = services.interval_for(enterprise.tier)
        if index < 3:  # overdue: visited more than one interval ago
            visited_on = today - timedelta(days=interval + 5 + index)
        elif index < 6:  # due within the week: visited about one interval ago
            visited_on = today - timedelta(days=interval - (index - 3))
        else:  # recently visited
            visited_on = today - timedelta(days=3 + index)
        problems = []
        if index == 6:
            problems = [
                services.Problem(
                    title="厂区周边道路照明不足",
                    body="走访中企业反映夜班员工上下班途经道路照明不足，希望协调增设路灯。",
                )
            ]
        services.record_visit(
            enterprise,
            by=steward,
            visited_on=visited_on,
            mode=Mode.ONSITE if index % 3 else Mode.PHONE,
            our_side=steward.full_name or steward.username,
            their_side="企业负责人",
            summary="了解企业生产经营情况和用工需求。",
            explained="研发费用加计扣除、稳岗返还政策",
            problems=problems,
        )
    # Two planned visits: one in two days, one in ten (the calendar's 本周/本月计划).
    for offset, enterprise, note in zip(
        (2, 10), planned, ("了解用工需求", "宣讲研发费用加计扣除政策"), strict=False
    ):
        services.plan_visit(enterprise, on=today + timedelta(days=offset), by=steward, note=note)
