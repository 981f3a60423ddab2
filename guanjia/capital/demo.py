"""The listing part of `guanjia demo-data`: a dozen enterprises of the two demo zones in the listing
pipeline (上市后备企业库), across every stage and board, with their stage histories (one corrected by the
zone's leader), the intermediaries they engaged, a few blocking problems (one raised as an appeal by the
enterprise's steward) and the zone's support items (linked to a delivered policy benefit where the
enterprise has one).

Everything is written through the services (guanjia.capital.listings), as the zone's promoter would.
Enterprises on the investment demo's industry chains are taken first, so the per-chain figures have
something to show. No random choice is made: the rest of the demo stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef

from guanjia.capital import listings
from guanjia.capital.access import today
from guanjia.capital.models import LISTING_STAGES, Board, IntermediaryRole, ListingStage
from guanjia.core import audit
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.investment.models import NodePlacement
from guanjia.policies.models import Delivery, DeliveryStatus

DEMO_PROMOTER = "gj_promoter"
SECOND_ZONE_PROMOTER = "gj_promoter2"
DEMO_LEADER = "gj_leader"

S = ListingStage


@dataclass(frozen=True)
class CandidateSpec:
    stage: str
    board: str
    # Days spent in each stage reached before the current one, and days in the current one.
    stays: tuple[int, ...]
    planned_year: int | None = None
    stock_code: str = ""


FIRST_ZONE = (
    CandidateSpec(S.LISTED, Board.STAR, (400, 210, 150, 120, 90, 75), stock_code="688721"),
    CandidateSpec(S.REVIEWING, Board.CHINEXT, (380, 190, 160, 100, 45), planned_year=2027),
    CandidateSpec(S.FILED, Board.STAR, (300, 200, 140, 60), planned_year=2027),
    CandidateSpec(S.TUTORING, Board.BSE, (260, 180, 95), planned_year=2027),
    CandidateSpec(S.TUTORING, Board.MAIN, (420, 240, 30), planned_year=2028),
    CandidateSpec(S.RESTRUCTURING, Board.CHINEXT, (200, 70), planned_year=2028),
    CandidateSpec(S.CULTIVATING, Board.BSE, (150,), planned_year=2029),
    CandidateSpec(S.CULTIVATING, Board.OVERSEAS, (80,)),
)
SECOND_ZONE = (
    CandidateSpec(S.LISTED, Board.BSE, (350, 200, 120, 90, 60, 200), stock_code="920118"),
    CandidateSpec(S.TUTORING, Board.CHINEXT, (300, 150, 60), planned_year=2027),
    CandidateSpec(S.RESTRUCTURING, Board.BSE, (180, 40), planned_year=2028),
    CandidateSpec(S.CULTIVATING, Board.STAR, (120,), planned_year=2029),
)

# (sponsor, law firm, accounting firm) engaged from 股改 on, in turn.
FIRMS = (
    ("华泰证券", "国浩律师事务所", "天健会计师事务所"),
    ("中信建投证券", "上海市锦天城律师事务所", "立信会计师事务所"),
    ("中信证券", "北京市君合律师事务所", "容诚会计师事务所"),
    ("国泰君安证券", "北京市中伦律师事务所", "致同会计师事务所"),
)
CONTACTS = ("陈俊", "周敏", "刘洋", "王蕾", "赵磊", "孙婷")

PROBLEMS = (
    "募投项目用地尚未取得不动产权证，需协调自然资源部门加快办理",
    "历史沿革中存在集体企业改制，需区里出具确认意见",
    "环评批复主体与拟上市主体不一致，需协助办理变更",
)


def _history(spec: CandidateSpec, end: date) -> list[tuple[str, date]]:
    """The stages reached with their dates, counted back from `end` (today) through the stays."""
    reached = LISTING_STAGES[: LISTING_STAGES.index(spec.stage) + 1]
    stays = spec.stays[-len(reached) :]
    days, day = [], end
    for stay in reversed(stays):
        day -= timedelta(days=stay)
        days.append(day)
    return list(zip(reached, reversed(days), strict=True))


def _enterprises(zone: OrgUnit, count: int) -> list[Enterprise]:
    """Enterprises of the zone with a steward, those on an industry chain first."""
    placed = NodePlacement.objects.filter(enterprise=OuterRef("pk"))
    return list(
        Enterprise.objects.filter(zone=zone, steward__isnull=False, listing_candidate__isnull=True)
        .annotate(on_chain=Exists(placed))
        .order_by("-on_chain", "-registered_capital", "pk")[:count]
    )


def _build_zone(zone: OrgUnit, promoter: User, specs: tuple[CandidateSpec, ...], offset: int) -> list[Any]:
    end = today()
    built = []
    enterprises = _enterprises(zone, len(specs))
    for number, (spec, enterprise) in enumerate(zip(specs, enterprises, strict=False)):
        steps = _history(spec, end)
        first_stage, first_day = steps[0]
        candidate = listings.create_candidate(
            enterprise=enterprise,
            board=spec.board,
            stage=first_stage,
            stage_entered_on=first_day,
            planned_year=spec.planned_year,
            by=promoter,
        )
        for stage, day in steps[1:]:
            listings.move_stage(
                candidate,
                to=stage,
                on=day,
                by=promoter,
                stock_code=spec.stock_code if stage == S.LISTED else "",
            )
        if spec.stage != S.CULTIVATING:
            sponsor, law, accounting = FIRMS[(number + offset) % len(FIRMS)]
            engaged = steps[1][1] if len(steps) > 1 else first_day
            for index, (role, firm) in enumerate(
                (
                    (IntermediaryRole.SPONSOR, sponsor),
                    (IntermediaryRole.LAW_FIRM, law),
                    (IntermediaryRole.AUDITOR, accounting),
                )
            ):
                listings.add_intermediary(
                    candidate,
                    role=role,
                    firm=firm,
                    contact_person=CONTACTS[(number + index) % len(CONTACTS)],
                    phone=f"1380000{(number * 3 + index + offset * 10):04d}",
                    engaged_on=engaged,
                    by=promoter,
                )
        built.append(candidate)
    return built


def _supports(candidates: list[Any], promoter: User) -> None:
    """股改 and 辅导备案 rewards for the candidates past them; a delivered benefit linked where there is one."""
    for candidate in candidates:
        index = LISTING_STAGES.index(candidate.stage)
        delivery = (
            Delivery.objects.filter(enterprise_id=candidate.enterprise_id, status=DeliveryStatus.DISBURSED)
            .order_by("pk")
            .first()
        )
        if delivery is not None and index >= 1:
            listings.add_support(candidate, by=promoter, granted_on=delivery.disbursed_on, delivery=delivery)
        moves = {m.to_stage: m.on for m in candidate.moves.filter(voided=False)}
        if index >= LISTING_STAGES.index(S.RESTRUCTURING) + 1:
            listings.add_support(
                candidate,
                by=promoter,
                what="完成股份制改造奖励",
                amount=Decimal("50"),
                granted_on=moves[S.TUTORING],
            )
        if index >= LISTING_STAGES.index(S.FILED):
            listings.add_support(
                candidate,
                by=promoter,
                what="辅导备案奖励",
                amount=Decimal("100"),
                granted_on=moves[S.FILED],
            )


def add_demo_listings(sender: Any, **kwargs: Any) -> None:
    """demo_built hook: the listing pipeline of both demo zones, in the demo's transaction."""
    promoter = User.objects.filter(username=DEMO_PROMOTER).first()
    if promoter is None or not promoter.zone_ids():
        return
    zone = OrgUnit.objects.get(pk=promoter.zone_ids()[0])
    first = _build_zone(zone, promoter, FIRST_ZONE, 0)
    everyone = list(first)
    promoter_b = User.objects.filter(username=SECOND_ZONE_PROMOTER).first()
    if promoter_b is not None and promoter_b.zone_ids():
        zone_b = OrgUnit.objects.get(pk=promoter_b.zone_ids()[0])
        second = _build_zone(zone_b, promoter_b, SECOND_ZONE, 1)
        _supports(second, promoter_b)
        everyone += second
    _supports(first, promoter)

    # Problems of the first zone's candidates in 辅导备案 and 申报受理; the first one raised as an appeal by
    # its enterprise's steward (管家代报).
    blocked = [c for c in first if c.stage in (S.TUTORING, S.FILED)]
    problems = [
        listings.add_problem(candidate, text=text, by=promoter)
        for candidate, text in zip(blocked, PROBLEMS, strict=False)
    ]
    if problems:
        steward = problems[0].candidate.enterprise.steward
        if steward is not None:
            listings.raise_problem(problems[0], by=steward)

    # A stage recorded by mistake, corrected by the zone's leader with a reason.
    leader = User.objects.filter(username=DEMO_LEADER).first()
    wrong = next((c for c in first if c.stage == S.RESTRUCTURING), None)
    if leader is not None and wrong is not None and zone.pk in leader.zone_ids():
        entered = wrong.stage_entered_on
        listings.move_stage(wrong, to=S.TUTORING, on=today(), by=promoter, note="辅导备案材料已报送")
        listings.correct_stage(
            wrong,
            to=S.RESTRUCTURING,
            on=entered,
            reason="辅导备案材料仅报送未获受理，误录为辅导备案",
            by=leader,
        )
    audit.record(
        None,
        "capital.demo_load",
        summary=f"演示数据：上市后备企业 {len(everyone)} 家",
        detail={"candidates": len(everyone)},
    )
