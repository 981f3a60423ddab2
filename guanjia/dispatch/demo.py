"""The smart-dispatch part of `guanjia demo-data`: keyword rules, each demo zone's routing model trained on
its replayed history (or the note saying it has too little), the suggestion rounds of the appeals
dispatched over the last weeks, and the current round of a few appeals waiting on the dispatcher's desk.

The past rounds show what the keyword rules would have suggested at the time (no model existed then) next
to the department the dispatcher actually chose, so the routing page's adoption figure is a real count of
the demo's own dispatches, not a made-up rate. Rows are written in the demo's transaction.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from guanjia.appeals.models import Appeal, Assignment
from guanjia.core import audit
from guanjia.core.models import OrgUnit
from guanjia.dispatch import routing, rules
from guanjia.dispatch.access import WAITING
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.dispatch.models import Source, Suggestion

PAST_ROUNDS_DAYS = 28  # dispatches of the last four weeks get the round the rules would have shown
WAITING_ROUNDS = 5  # appeals per zone waiting on the desk with their suggestions already shown


def add_demo_routing(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: rules, models, past and current suggestion rounds, in the demo's transaction."""
    ensure_default_rules()
    now = timezone.now()
    zones = sorted((unit for unit in units.values() if unit.kind == OrgUnit.Kind.ZONE), key=lambda u: u.code)
    totals = {"rounds": 0, "promoted": 0, "waiting": 0}
    for zone in zones:
        totals["rounds"] += _past_rounds(zone, since=now - timedelta(days=PAST_ROUNDS_DAYS))
        totals["promoted"] += routing.retrain(zone, now=now).is_active
        for appeal in Appeal.objects.filter(zone=zone, status__in=WAITING).order_by("-submitted_at")[
            :WAITING_ROUNDS
        ]:
            totals["waiting"] += bool(routing.suggest(appeal).routes)
    audit.record(
        None,
        "routing.demo_load",
        summary=f"装入智能分派演示数据：{len(zones)} 个园区，启用 {totals['promoted']} 个分派模型，"
        f"{totals['rounds']} 轮历史分派建议",
        detail=totals,
    )


def _past_rounds(zone: OrgUnit, *, since: Any) -> int:
    """One dispatched round per appeal first dispatched since `since`, as the keyword rules saw it."""
    firsts: dict[int, Assignment] = {}
    for lead in (
        Assignment.objects.filter(
            appeal__zone=zone, is_lead=True, kind=Assignment.Kind.DISPATCH, dispatched_at__gte=since
        )
        .select_related("appeal")
        .order_by("dispatched_at", "id")
    ):
        firsts.setdefault(lead.appeal_id, lead)
    rounds = []
    for lead in firsts.values():
        appeal = lead.appeal
        shown = rules.routes(zone, appeal.title, appeal.body)
        if not shown:
            continue
        departments = [route.department.pk for route in shown]
        rounds.append(
            Suggestion(
                appeal=appeal,
                zone=zone,
                source=Source.RULES,
                created_at=lead.dispatched_at - timedelta(minutes=5),
                ranked=[
                    {
                        "category": route.category.pk,
                        "department": route.department.pk,
                        "confidence": round(route.confidence, 4),
                        "words": list(route.words),
                    }
                    for route in shown
                ],
                dispatched_at=lead.dispatched_at,
                dispatched_department_id=lead.department_id,
                taken_rank=departments.index(lead.department_id) + 1
                if lead.department_id in departments
                else 0,
            )
        )
    Suggestion.objects.bulk_create(rounds)
    return len(rounds)
