"""The appeals part of `guanjia demo-data`: the demo zones' routing tables and a few months of appeals.

The appeals replay a plausible history through the lifecycle services (each
step with its own `at`), so every deadline, event and audit record is what the
platform itself would have written. Texts come from data/appeals_zh.csv, written
for this project.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
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
    Pause,
    Rating,
    RatingLevel,
    Review,
)
from guanjia.appeals.services import default_department
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


@dataclass
class _People:
    """Who acts in the demo history, looked up once."""

    dispatchers: dict[int, User | None]
    supervisors: dict[int, User | None]
    leaders: dict[int, User | None]
    handlers: dict[int, User]  # department id → a handler
    heads: dict[int, User]  # department id → its head
    members: dict[int, User]  # enterprise id → an enterprise user
    enterprises: dict[int, list[Enterprise]]  # zone id → enterprises with a steward
    duplicates: dict[str, list[dict[str, str]]]  # text id → the texts that repeat it (合并)


def _first(role: str, **filters: Any) -> User | None:
    return User.objects.with_role(role).filter(**filters).order_by("username").first()


def add_demo_appeals(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """A few hundred appeals in every state over the past months: some overdue, paused, extended,
    reopened, coordinated by a leader, merged, declined and reviewed."""
    now = timezone.now().astimezone(BEIJING)
    categories = {c.name: c for c in AppealCategory.objects.all()}
    zones = [unit for unit in units.values() if unit.kind == OrgUnit.Kind.ZONE]
    texts = _texts()
    duplicates: dict[str, list[dict[str, str]]] = {}
    for row in texts:
        if row["duplicate_of"]:
            duplicates.setdefault(row["duplicate_of"], []).append(row)
    people = _People(
        dispatchers={zone.pk: _first(Role.DISPATCHER, unit__parent=zone) for zone in zones},
        supervisors={zone.pk: _first(Role.SUPERVISOR, unit__parent=zone) for zone in zones},
        leaders={zone.pk: _first(Role.LEADER, unit=zone) for zone in zones},
        handlers={u.unit_id: u for u in User.objects.with_role(Role.HANDLER) if u.unit_id},
        heads={u.unit_id: u for u in User.objects.with_role(Role.DEPARTMENT_HEAD) if u.unit_id},
        members={m.enterprise_id: m.user for m in EnterpriseMembership.objects.select_related("user")},
        enterprises={
            zone.pk: list(
                Enterprise.objects.filter(zone=zone, steward__isnull=False).select_related("steward")
            )
            for zone in zones
        },
        duplicates=duplicates,
    )
    # One department of the first zone has its head approve every answer (a step inside 办理中).
    approving = units.get(f"{zones[0].code}-tax") if zones else None
    if approving is not None:
        OrgUnit.objects.filter(pk=approving.pk).update(answers_need_approval=True)
    routes = {(r.zone_id, r.category_id): r.lead_department for r in CategoryRoute.objects.all()}
    replay = _Replay(rng, now)
    attempts = APPEALS_PER_ENTERPRISE * sum(len(listed) for listed in people.enterprises.values())
    for _ in range(attempts):
        zone = zones[0] if rng.random() < 0.65 or len(zones) == 1 else zones[1]
        row = rng.choice([text for text in texts if not text["duplicate_of"]])
        category = categories.get(row["category"]) or categories["其他"]
        lead = routes.get((zone.pk, category.pk))
        # Most appeals go to departments whose demo handlers can answer them; the rest wait unsigned.
        if (lead is None or lead.pk not in people.handlers) and rng.random() < 0.8:
            continue
        enterprise = rng.choice(people.enterprises[zone.pk])
        # Recent weeks are busier, so the queues and worklists hold appeals in every state.
        days_ago = min(rng.expovariate(1 / 25), HISTORY_DAYS)
        submitted = _working_moment(rng, now - timedelta(days=days_ago))
        _replay_one(replay, people, row, category, enterprise, submitted)


def _submit(
    replay: _Replay,
    people: _People,
    row: dict[str, str],
    category: AppealCategory,
    enterprise: Enterprise,
    submitted: datetime,
) -> Appeal | None:
    rng = replay.rng
    dispatcher = people.dispatchers.get(enterprise.zone_id)
    author: User | None
    if enterprise.pk in people.members and rng.random() < 0.7:
        channel, author = Channel.PORTAL, people.members[enterprise.pk]
    elif rng.random() < 0.2 and dispatcher is not None:
        channel, author = Channel.PHONE, dispatcher
    else:
        channel, author = Channel.STEWARD, enterprise.steward
    if author is None:
        return None
    handling = (
        Handling.CONSULT
        if row["kind"] == "咨询"
        else (Handling.COMPLEX if rng.random() < 0.1 else Handling.NORMAL)
    )
    return lifecycle.submit_appeal(
        enterprise,
        title=row["title"],
        body=row["body"],
        channel=channel,
        by=author,
        category=category,
        handling=handling,
        urgent=row["urgency"] == "紧急",
        confidential=rng.random() < 0.04,
        external_ticket=f"12345-{submitted:%Y%m%d}-{rng.randint(1000, 9999)}"
        if channel == Channel.PHONE
        else "",
        at=submitted,
    )


def _rater(people: _People, enterprise: Enterprise) -> tuple[User | None, bool]:
    if enterprise.pk in people.members:
        return people.members[enterprise.pk], False
    return enterprise.steward, True


def _replay_decline(replay: _Replay, people: _People, appeal: Appeal, moment: datetime) -> None:
    """A decline is rated like an answer; a dissatisfied rating goes to the supervisor's review."""
    dispatcher = people.dispatchers[appeal.zone_id]
    assert dispatcher is not None
    lifecycle.decline_appeal(
        appeal,
        reason="该事项属于企业间民事纠纷，不属于政务服务范围",
        advice="建议通过人民调解或法律途径解决，园区可协助联系法律服务机构",
        by=dispatcher,
        at=moment,
    )
    later = replay.later(moment, 2, 40)
    rater, on_behalf = _rater(people, appeal.enterprise)
    if later is None or rater is None:
        return
    dissatisfied = replay.rng.random() < 0.5
    lifecycle.rate_appeal(
        appeal,
        level=RatingLevel.DISSATISFIED if dissatisfied else RatingLevel.FAIRLY_SATISFIED,
        solved=False,
        by=rater,
        on_behalf=on_behalf,
        comment="我们认为园区可以协调处理" if dissatisfied else "",
        at=later,
    )
    supervisor = people.supervisors.get(appeal.zone_id)
    decided = replay.later(later, 4, 40)
    if not dissatisfied or supervisor is None or decided is None:
        return  # a review waits for the supervisor
    review = Review.objects.get(appeal=appeal, state=Review.State.PENDING)
    lifecycle.decide_review(
        review,
        decision=Review.State.UPHELD,
        note="经核实，该事项确属民事纠纷，维持不予受理决定",
        by=supervisor,
        at=decided,
    )


def _merge_duplicates(
    replay: _Replay, people: _People, row: dict[str, str], master: Appeal, moment: datetime
) -> datetime:
    """Other enterprises raise the same problem while the master is in hand: the dispatcher merges them.

    Returns the moment of the last merge, from which the master's story goes on."""
    dispatcher = people.dispatchers[master.zone_id]
    assert dispatcher is not None
    for text in people.duplicates.get(row["id"], []):
        others = [e for e in people.enterprises[master.zone_id] if e.pk != master.enterprise_id]
        submitted = replay.later(moment, 1, 6)
        merged = replay.later(submitted, 1, 8) if submitted else None
        if not others or submitted is None or merged is None:
            break
        assert master.category is not None
        child = _submit(replay, people, text, master.category, replay.rng.choice(others), submitted)
        if child is not None:
            lifecycle.merge_appeal(child, into=master, by=dispatcher, at=merged)
            moment = merged
    return moment


def _replay_one(
    replay: _Replay,
    people: _People,
    row: dict[str, str],
    category: AppealCategory,
    enterprise: Enterprise,
    submitted: datetime,
) -> None:
    rng = replay.rng
    dispatcher = people.dispatchers.get(enterprise.zone_id)
    appeal = _submit(replay, people, row, category, enterprise, submitted)
    if appeal is None or dispatcher is None:
        return
    moment = replay.later(submitted, 1, 20)
    if moment is None:
        return
    if rng.random() < 0.05:
        _replay_decline(replay, people, appeal, moment)
        return
    co: list[OrgUnit] = []
    if rng.random() < 0.1:
        lead_unit = default_department(category, OrgUnit.objects.get(pk=appeal.zone_id))
        candidates = OrgUnit.objects.filter(parent_id=appeal.zone_id, pk__in=list(people.handlers))
        if lead_unit is not None:
            candidates = candidates.exclude(pk=lead_unit.pk)
        co = list(candidates.order_by("?")[:1])
    try:
        assignments = lifecycle.dispatch_appeal(appeal, co=co, by=dispatcher, at=moment)
    except ServiceError:
        return  # no lead department for this category in the zone: stays in the queue
    lead = assignments[0]
    for other in assignments[1:]:
        opinion_at = replay.later(moment, 4, 48)
        if opinion_at is not None:
            lifecycle.give_opinion(
                appeal,
                opinion="本部门意见：符合条件的可按政策予以支持，请主办部门统筹答复。",
                by=people.handlers[other.department_id],
                at=opinion_at,
            )
            moment = opinion_at
    handler = people.handlers.get(lead.department_id)
    if handler is None:
        return  # a department without a demo handler: it waits, unsigned (and soon overdue)
    rounds = 0
    while True:
        moment = replay.later(moment, 0.5, 30)
        if moment is None:
            return
        if appeal.status == "dispatched":
            lifecycle.sign_appeal(appeal, by=handler, at=moment)
            if rng.random() < 0.4:
                moment = _merge_duplicates(replay, people, row, appeal, moment)
            moment = _replay_handling(replay, people, appeal, moment, handler)
            if moment is None:
                return
        if appeal.reopen_count >= lifecycle.MAX_REOPENS and appeal.coordinated_at is None:
            leader = people.leaders.get(appeal.zone_id)
            if leader is None:
                return
            lifecycle.coordinate_appeal(
                appeal,
                decision="请主办部门会同相关部门一周内上门，形成解决方案后书面答复企业。",
                by=leader,
                at=moment,
            )
            moment = replay.later(moment, 8, 48)
            if moment is None:
                return
        answered = lifecycle.answer_appeal(
            appeal, answer=_answer_for(row, rounds), outcome=rng.choice(list(Outcome)), by=handler, at=moment
        )
        if answered.answered_at is None:  # the department's head approves answers
            head = people.heads.get(lead.department_id)
            moment = replay.later(moment, 1, 20)
            if head is None or moment is None:
                return
            lifecycle.approve_answer(appeal, by=head, at=moment)
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
        rater, on_behalf = _rater(people, enterprise)
        if rater is None:
            return
        rating = lifecycle.rate_appeal(
            appeal,
            level=level,
            solved=level >= RatingLevel.SATISFIED,
            by=rater,
            on_behalf=on_behalf,
            at=moment,
        )
        if level == RatingLevel.FAIRLY_SATISFIED and rng.random() < 0.3:
            _replay_dispute(replay, people, rating, handler, moment)
        if appeal.status == "closed":
            return
        rounds += 1


def _replay_handling(
    replay: _Replay, people: _People, appeal: Appeal, moment: datetime, handler: User
) -> datetime | None:
    """From signing to the answer's moment: now and then a request for material or an extension."""
    rng = replay.rng
    roll = rng.random()
    if roll < 0.08:
        asked = replay.later(moment, 2, 20)
        if asked is None:
            return None
        lifecycle.pause_appeal(
            appeal, request="请补充近三个月的用电清单和相关合同扫描件。", by=handler, at=asked
        )
        replied = replay.later(asked, 8, 24 * 6)
        if replied is None:
            return None
        if replied >= Pause.objects.get(appeal=appeal, resumed_at__isnull=True).resume_by:
            lifecycle.resume_overdue_pauses(now=replied)
        else:
            rater, _on_behalf = _rater(people, appeal.enterprise)
            lifecycle.resume_appeal(appeal, by=rater or handler, reply="材料已上传，请查收。", at=replied)
        moment = replied
    elif roll < 0.14:
        asked = replay.later(moment, 2, 20)
        if asked is None:
            return None
        extension = lifecycle.request_extension(
            appeal, days=rng.choice([3, 5, 10]), reason="需现场踏勘并征求相关部门意见", by=handler, at=asked
        )
        supervisor = people.supervisors.get(appeal.zone_id)
        decided = replay.later(asked, 2, 30)
        if supervisor is None or decided is None:
            return None  # waits for the supervisor's decision
        lifecycle.decide_extension(
            extension,
            approve=rng.random() < 0.8,
            note="同意延期，请按新期限办结" if rng.random() < 0.8 else "理由不充分，请按原期限办结",
            by=supervisor,
            at=decided,
        )
        appeal.refresh_from_db()
        moment = decided
    return replay.later(moment, 4, 24 * rng.choice([1, 2, 3, 5, 8]))


def _replay_dispute(
    replay: _Replay, people: _People, rating: Rating, handler: User, moment: datetime
) -> None:
    """The department thinks a 基本满意 unfair; the supervisor decides."""
    asked = replay.later(moment, 4, 30)
    if asked is None:
        return
    review = lifecycle.dispute_rating(
        rating, reason="已按企业要求全部办结，并有书面确认。", by=handler, at=asked
    )
    supervisor = people.supervisors.get(rating.appeal.zone_id)
    decided = replay.later(asked, 4, 40)
    if supervisor is None or decided is None:
        return
    change = replay.rng.random() < 0.5
    lifecycle.decide_review(
        review,
        decision=Review.State.CHANGED if change else Review.State.UPHELD,
        level=RatingLevel.SATISFIED if change else None,
        note="有企业书面确认，改判为满意" if change else "企业评价属实，维持原评价",
        by=supervisor,
        at=decided,
    )
    rating.appeal.refresh_from_db()


def _answer_for(row: dict[str, str], rounds: int) -> str:
    if rounds:
        return f"经再次核查并与企业当面沟通，关于“{row['title']}”的补充答复如下：已协调相关科室按程序加快办理，办理进度将每周告知企业。"
    return (
        f"关于“{row['title']}”，经核查，已按相关政策和程序办理，具体办理要求和所需材料已电话告知企业联系人。"
    )
