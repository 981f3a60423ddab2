"""The appeals part of `guanjia demo-data`: the demo zones' routing tables and a few months of appeals.

The appeals replay a plausible history through the lifecycle services (each
step with its own `at`), so every deadline, event and audit record is what the
platform itself would have written. Texts come from data/appeals_zh.csv, written
for this project.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    CategoryRoute,
    Channel,
    Handling,
    Outcome,
    RatingLevel,
)
from guanjia.core.errors import ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

BEIJING = ZoneInfo("Asia/Shanghai")
TEXTS = Path(__file__).resolve().parent / "data" / "appeals_zh.csv"
APPEALS_PER_ENTERPRISE = 2  # attempts; with the default 320 enterprises about 270 appeals result
HISTORY_DAYS = 120

# category code → the demo department key (guanjia.enterprises.demo.DEPARTMENTS) that leads it,
# as the departments in appeals_zh.csv answer them.
DEMO_ROUTES = {
    "land": "planning",
    "finance": "finance",
    "talent": "hr",
    "approval": "approval",
    "utilities": "power",
    "tax": "tax",
    "policy": "economy",
    "market": "market",
    "ip": "ip",
    "safety": "ecology",
    "logistics": "transport",
    "other": "centre",
}


def add_demo_routes(sender: Any, *, units: dict[str, OrgUnit], **kwargs: Any) -> None:
    categories = {c.code: c for c in AppealCategory.objects.filter(code__in=DEMO_ROUTES)}
    zones = [unit for unit in units.values() if unit.kind == OrgUnit.Kind.ZONE]
    CategoryRoute.objects.bulk_create(
        CategoryRoute(category=categories[code], zone=zone, lead_department=units[f"{zone.code}-{key}"])
        for zone in zones
        for code, key in DEMO_ROUTES.items()
        if code in categories and f"{zone.code}-{key}" in units
    )


def _texts() -> list[dict[str, str]]:
    with TEXTS.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _working_moment(rng: random.Random, day: datetime) -> datetime:
    return datetime.combine(day.date(), time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=BEIJING)


class _Replay:
    """Walks one appeal through its history, stopping where the story has not happened yet."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now

    def later(self, moment: datetime, low_hours: float, high_hours: float) -> datetime | None:
        step = (moment + timedelta(hours=self.rng.uniform(low_hours, high_hours))).astimezone(BEIJING)
        if not 8 <= step.hour < 18:
            # Staff act in office hours: a step that would fall at night happens the next morning.
            morning = step if step.hour < 8 else step + timedelta(days=1)
            step = datetime.combine(morning.date(), time(8, self.rng.randint(0, 59)), tzinfo=BEIJING)
        return step if step < self.now else None


def add_demo_appeals(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """A few hundred appeals in every state over the past months, some overdue, some reopened."""
    now = timezone.now().astimezone(BEIJING)
    categories = {c.name: c for c in AppealCategory.objects.all()}
    zones = [unit for unit in units.values() if unit.kind == OrgUnit.Kind.ZONE]
    enterprises = {
        zone.pk: list(Enterprise.objects.filter(zone=zone, steward__isnull=False).select_related("steward"))
        for zone in zones
    }
    dispatchers = {
        zone.pk: User.objects.with_role(Role.DISPATCHER).filter(unit__parent=zone).first() for zone in zones
    }
    handlers: dict[int, User] = {u.unit_id: u for u in User.objects.with_role(Role.HANDLER) if u.unit_id}
    members = {m.enterprise_id: m.user for m in EnterpriseMembership.objects.select_related("user")}
    routes = {(r.zone_id, r.category_id): r.lead_department for r in CategoryRoute.objects.all()}
    texts = _texts()
    replay = _Replay(rng, now)
    attempts = APPEALS_PER_ENTERPRISE * sum(len(listed) for listed in enterprises.values())
    for _ in range(attempts):
        zone = zones[0] if rng.random() < 0.65 or len(zones) == 1 else zones[1]
        row = rng.choice(texts)
        category = categories.get(row["category"]) or categories["其他"]
        lead = routes.get((zone.pk, category.pk))
        # Most appeals go to departments whose demo handlers can answer them; the rest wait unsigned.
        if (lead is None or lead.pk not in handlers) and rng.random() < 0.8:
            continue
        enterprise = rng.choice(enterprises[zone.pk])
        # Recent weeks are busier, so the queues and worklists hold appeals in every state.
        days_ago = min(rng.expovariate(1 / 25), HISTORY_DAYS)
        submitted = _working_moment(rng, now - timedelta(days=days_ago))
        _replay_one(replay, row, category, enterprise, submitted, dispatchers[zone.pk], handlers, members)


def _replay_one(
    replay: _Replay,
    row: dict[str, str],
    category: AppealCategory,
    enterprise: Enterprise,
    submitted: datetime,
    dispatcher: User | None,
    handlers: dict[int, User],
    members: dict[int, User],
) -> None:
    rng = replay.rng
    steward = enterprise.steward
    author: User | None
    if enterprise.pk in members and rng.random() < 0.7:
        channel, author = Channel.PORTAL, members[enterprise.pk]
    elif rng.random() < 0.2 and dispatcher is not None:
        channel, author = Channel.PHONE, dispatcher
    else:
        channel, author = Channel.STEWARD, steward
    if author is None or dispatcher is None:
        return
    handling = (
        Handling.CONSULT
        if row["kind"] == "咨询"
        else (Handling.COMPLEX if rng.random() < 0.1 else Handling.NORMAL)
    )
    appeal = lifecycle.submit_appeal(
        enterprise,
        title=row["title"],
        body=row["body"],
        channel=channel,
        by=author,
        category=category,
        handling=handling,
        urgent=row["urgency"] == "紧急",
        external_ticket=f"12345-{submitted:%Y%m%d}-{rng.randint(1000, 9999)}"
        if channel == Channel.PHONE
        else "",
        at=submitted,
    )
    moment = replay.later(submitted, 1, 20)
    if moment is None:
        return
    if rng.random() < 0.05:
        lifecycle.decline_appeal(
            appeal,
            reason="该事项属于企业间民事纠纷，不属于政务服务范围",
            advice="建议通过人民调解或法律途径解决，园区可协助联系法律服务机构",
            by=dispatcher,
            at=moment,
        )
        return
    try:
        lead = lifecycle.dispatch_appeal(appeal, by=dispatcher, at=moment)[0]
    except ServiceError:
        return  # no lead department for this category in the zone: stays in the queue
    handler = handlers.get(lead.department_id)
    if handler is None:
        return  # a department without a demo handler: it waits, unsigned (and soon overdue)
    rounds = 0
    while True:
        moment = replay.later(moment, 0.5, 30)
        if moment is None:
            return
        if appeal.status == "dispatched":
            lifecycle.sign_appeal(appeal, by=handler, at=moment)
            moment = replay.later(moment, 4, 24 * rng.choice([1, 2, 3, 5, 8]))
            if moment is None:
                return
        lifecycle.answer_appeal(
            appeal, answer=_answer_for(row, rounds), outcome=rng.choice(list(Outcome)), by=handler, at=moment
        )
        moment = replay.later(moment, 2, 60)
        if moment is None:
            return  # answered, waiting for the enterprise's rating
        roll = rng.random()
        if roll < 0.12 and rounds < 2:
            level = rng.choice([RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED])
        elif roll < 0.25:
            rate_due = Appeal.objects.get(pk=appeal.pk).rate_due
            if rate_due is not None and rate_due <= replay.now:
                lifecycle.close_unrated(now=rate_due, appeal_ids=[appeal.pk])  # nobody rated in time
            return
        else:
            level = rng.choice(
                [
                    RatingLevel.VERY_SATISFIED,
                    RatingLevel.SATISFIED,
                    RatingLevel.SATISFIED,
                    RatingLevel.FAIRLY_SATISFIED,
                ]
            )
        rater, on_behalf = (
            (members[enterprise.pk], False) if enterprise.pk in members else (enterprise.steward, True)
        )
        if rater is None:
            return
        lifecycle.rate_appeal(
            appeal,
            level=level,
            solved=level >= RatingLevel.SATISFIED,
            by=rater,
            on_behalf=on_behalf,
            at=moment,
        )
        if appeal.status == "closed":
            return
        rounds += 1


def _answer_for(row: dict[str, str], rounds: int) -> str:
    if rounds:
        return f"经再次核查并与企业当面沟通，关于“{row['title']}”的补充答复如下：已协调相关科室按程序加快办理，办理进度将每周告知企业。"
    return (
        f"关于“{row['title']}”，经核查，已按相关政策和程序办理，具体办理要求和所需材料已电话告知企业联系人。"
    )
