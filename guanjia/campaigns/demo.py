"""Demo campaign: "2026年冬季访万企" runs from 30 days ago to 30 days ahead over the first zone's 重点
and 规上 enterprises, about half of them visited. gj_steward1 has targets still to visit, one of
them due today in its visit calendar (on a working day), for the phone story of the browser test."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Outcome
from guanjia.campaigns import services
from guanjia.campaigns.models import CampaignTarget
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise, Tier
from guanjia.visits import services as visit_services
from guanjia.visits.models import Mode, Visit

DEMO_NAME = "2026年冬季访万企"
DEMO_DISPATCHER = "gj_dispatcher"
DEMO_STEWARD = "gj_steward1"
DEMO_HANDLER = "gj_handler"
HALF_WINDOW_DAYS = 30
PROBLEMS = (
    ("新厂房用电增容排队时间长", "走访中企业反映新厂房用电增容申请已排队两个月，希望协调供电公司加快办理。"),
    ("研发人员子女入学咨询", "企业引进的研发骨干子女明年入学，希望了解园区学校的入学政策和办理流程。"),
)


def _due_today_enterprise(steward: User, today: Any) -> Enterprise | None:
    """One of the steward's enterprises never visited, of a tier visited less often than the campaign
    lasts, recorded as last visited one interval ago: due today, and not visited in the period."""
    never_visited = (
        Enterprise.objects.filter(steward=steward)
        .exclude(tier=Tier.KEY)
        .exclude(pk__in=Visit.objects.values("enterprise_id"))
        .order_by("pk")
    )
    enterprise = never_visited.first()
    if enterprise is None:
        return None
    interval = visit_services.interval_for(enterprise.tier)
    visit_services.record_visit(
        enterprise,
        by=steward,
        visited_on=today - timedelta(days=interval),
        mode=Mode.ONSITE,
        our_side=str(steward),
        their_side="企业负责人",
        summary="了解企业生产经营情况，约定下次上门时间。",
    )
    return enterprise


def add_demo_campaign(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    dispatcher = User.objects.filter(username=DEMO_DISPATCHER).first()
    steward = User.objects.filter(username=DEMO_STEWARD).first()
    if dispatcher is None or steward is None:
        return
    today = services.today()
    starts_on = today - timedelta(days=HALF_WINDOW_DAYS)
    zone = OrgUnit.objects.get(pk=dispatcher.zone_ids()[0])
    campaign = services.create_campaign(
        name=DEMO_NAME,
        description="对重点和规上企业开展冬季走访，了解生产经营困难，问题当场提成诉求、限时办结。",
        starts_on=starts_on,
        ends_on=today + timedelta(days=HALF_WINDOW_DAYS),
        zones=[zone],
        by=dispatcher,
    )
    services.add_targets_by_criteria(
        campaign, services.TargetCriteria(tiers=[Tier.KEY, Tier.ABOVE_SCALE]), by=dispatcher
    )
    due_today = _due_today_enterprise(steward, today)
    if due_today is not None:
        services.add_target_pairs(campaign, [(due_today.pk, steward.pk)], by=dispatcher, source="demo")
    targets = list(
        CampaignTarget.objects.filter(campaign=campaign, steward__isnull=False)
        .select_related("enterprise", "enterprise__steward")
        .order_by("pk")
    )
    # Half of all targets visited: gj_steward1 one of its own (the rest wait for it, the demo's
    # "my targets"), the other stewards the others until half the list is covered.
    to_visit = CampaignTarget.objects.filter(campaign=campaign).count() // 2
    targets.sort(key=lambda target: target.enterprise.steward_id != steward.pk)
    own_visited = solved_one = False
    problems = list(PROBLEMS)
    for index, target in enumerate(targets):
        enterprise = target.enterprise
        if to_visit == 0:
            break
        if enterprise.pk == getattr(due_today, "pk", None) or enterprise.steward is None:
            continue
        if enterprise.steward == steward:
            if own_visited:
                continue
            own_visited = True
        to_visit -= 1
        raised = [visit_services.Problem(*problems.pop())] if problems and index % 5 == 0 else []
        visit = visit_services.record_visit(
            enterprise,
            by=enterprise.steward,
            visited_on=starts_on + timedelta(days=rng.randint(0, HALF_WINDOW_DAYS)),
            mode=rng.choice([Mode.ONSITE, Mode.ONSITE, Mode.PHONE, Mode.VIDEO]),
            our_side=str(enterprise.steward),
            their_side="企业负责人",
            summary="冬季访万企：了解订单、用工和用能情况，宣讲惠企政策。",
            explained="研发费用加计扣除、稳岗返还、技改补贴",
            problems=raised,
        )
        if raised and not solved_one:
            # The first problem raised went round the loop: answered, and confirmed solved at the
            # steward's return visit (回访), so the campaign's "solved" figure is not empty.
            solved_one = _solve(Appeal.objects.get(visit_link__visit=visit), steward=enterprise.steward)


def _solve(appeal: Appeal, *, steward: User) -> bool:
    dispatcher = User.objects.filter(username=DEMO_DISPATCHER).first()
    handler = User.objects.filter(username=DEMO_HANDLER).first()
    if dispatcher is None or handler is None or handler.unit is None:
        return False
    lifecycle.dispatch_appeal(appeal, to=handler.unit, by=dispatcher)
    lifecycle.sign_appeal(Appeal.objects.get(pk=appeal.pk), by=handler)
    lifecycle.answer_appeal(
        Appeal.objects.get(pk=appeal.pk),
        answer="已协调供电公司，增容方案已批复，本月内完成接电。",
        outcome=Outcome.SOLVED,
        by=handler,
    )
    lifecycle.rate_appeal(Appeal.objects.get(pk=appeal.pk), level=5, solved=True, by=steward, on_behalf=True)
    return True
