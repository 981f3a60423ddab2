"""Writes and reads of the listing pipeline (上市后备企业库): candidates, their stage moves and corrections,
intermediaries, blocking problems (raised as appeals), support items, and the figures.

Stages move only forward (培育 → 股改 → 辅导备案 → 申报受理 → 审核/注册 → 上市; skipping allowed), each move
dated not before the previous one and not in the future. Going back, or changing the date the candidate
entered its stage, is a correction: another function, a reason required, for the zone's leaders and
supervisors only, audited as a correction. A correction to stage T dated D voids the moves into T and
later stages (they stay in the history, marked) and records the entry into T on D; to change the date of
an earlier move, correct back to that stage with the right date and move forward again.

Every stage write changes the row only if its id, stage and version are still those the writer read
(the conditional update is the real guard: it holds on SQLite, where select_for_update is ignored), so
of two concurrent moves exactly one applies and the other gets Conflict.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Channel
from guanjia.appeals.models import Status as AppealStatus
from guanjia.capital import access
from guanjia.capital.access import check_corrector, check_raiser, check_writer
from guanjia.capital.models import (
    LISTING_STAGES,
    ZERO,
    Board,
    IntermediaryRole,
    ListingCandidate,
    ListingIntermediary,
    ListingProblem,
    ListingStage,
    ListingStageMove,
    ListingSupport,
    listing_stage_index,
)
from guanjia.core import audit
from guanjia.core.errors import Conflict, InvalidField
from guanjia.core.models import User
from guanjia.core.validation import clean_optional_whole, clean_text
from guanjia.enterprises.models import Enterprise
from guanjia.investment.models import NodePlacement
from guanjia.policies.models import Delivery, DeliveryStatus

NOTE_MAX = 200
NOTES_MAX = 2000
FIRM_MAX = 100
PERSON_MAX = 50
PHONE_MAX = 30
PROBLEM_MAX = 1000
WHAT_MAX = 200
MONEY_MAX = Decimal("999999999999.99")
YEAR_LOW, YEAR_HIGH = 2000, 2100
STOCK_CODE = re.compile(r"^[0-9A-Za-z.]{1,20}$")
PHONE_CHARACTERS = set("0123456789-+()（） 转")
NO_CHAIN = "未上链"


def stage_label(stage: str) -> str:
    return str(ListingStage(stage).label) if stage else "—"


# --- checks shared by the writes ---------------------------------------------------------------------


def _check_choice(field: str, label: str, value: Any, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        raise InvalidField(field, _("%(label)s：“%(value)s”不是可选项") % {"label": label, "value": value})
    return str(value)


def _check_day(field: str, label: str, day: Any, *, required: bool = True) -> date | None:
    if day is None or day == "":
        if required:
            raise InvalidField(field, _("%(label)s：请填写") % {"label": label})
        return None
    if not isinstance(day, date):
        raise InvalidField(field, _("%(label)s：请填写有效的日期") % {"label": label})
    if day > access.today():
        raise InvalidField(field, _("%(label)s：不能晚于今天") % {"label": label})
    return day


def _check_stock_code(value: Any, stage: str) -> str:
    code = clean_text("stock_code", _("股票代码"), value, limit=20)
    if code and stage != ListingStage.LISTED:
        raise InvalidField("stock_code", _("股票代码：上市后才填写"))
    if code and not STOCK_CODE.match(code):
        raise InvalidField("stock_code", _("股票代码：只能由数字、字母和“.”组成，如 688001 或 00700.HK"))
    return code


def _check_amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if not isinstance(value, Decimal):
        raise InvalidField("amount", _("金额：请填写数字"))
    if value < 0:
        raise InvalidField("amount", _("金额：不能为负数"))
    if value > MONEY_MAX:
        raise InvalidField("amount", _("金额：数额过大"))
    return value


def _stage_write(candidate: ListingCandidate, version: int, **changes: Any) -> None:
    """Write `changes` if the candidate's stage and version are still those read; else Conflict."""
    moved = ListingCandidate.objects.filter(pk=candidate.pk, stage=candidate.stage, version=version).update(
        version=version + 1, **changes
    )
    if moved != 1:
        raise Conflict(_("该企业的上市阶段刚被他人调整，请刷新后重试"))
    candidate.version = version + 1
    for name, value in changes.items():
        setattr(candidate, name, value)


# --- candidates ---------------------------------------------------------------------------------------


def create_candidate(
    *,
    enterprise: Enterprise,
    board: str,
    by: User,
    stage: str = ListingStage.CULTIVATING,
    stage_entered_on: date | None = None,
    planned_year: Any = None,
    stock_code: str = "",
    notes: str = "",
) -> ListingCandidate:
    """Enter an enterprise of the writer's zone in the pipeline, at the stage it has reached."""
    check_writer(by, enterprise.zone_id)
    board = _check_choice("board", _("拟上市板块"), board, Board.values)
    stage = _check_choice("stage", _("阶段"), stage, LISTING_STAGES)
    entered = _check_day("stage_entered_on", _("进入当前阶段日期"), stage_entered_on or access.today())
    assert entered is not None
    year = clean_optional_whole("planned_year", _("计划上市年份"), planned_year, low=YEAR_LOW, high=YEAR_HIGH)
    code = _check_stock_code(stock_code, stage)
    notes = clean_text("notes", _("备注"), notes, limit=NOTES_MAX)
    try:
        with transaction.atomic():
            candidate = ListingCandidate.objects.create(
                enterprise=enterprise,
                zone_id=enterprise.zone_id,
                board=board,
                stage=stage,
                stage_entered_on=entered,
                planned_year=year,
                stock_code=code,
                notes=notes,
                created_by=by,
            )
            ListingStageMove.objects.create(
                candidate=candidate, from_stage="", to_stage=stage, on=entered, by=by
            )
            audit.record(
                by,
                "capital.listing_create",
                candidate,
                summary=f"上市后备企业库新增“{enterprise.name}”（{stage_label(stage)}）",
                detail={"board": board, "stage": stage, "on": entered.isoformat()},
            )
    except IntegrityError:
        # The one-per-enterprise constraint: someone entered it meanwhile (or before).
        raise InvalidField(
            "enterprise", _("企业：“%(name)s”已在上市后备企业库中") % {"name": enterprise.name}
        ) from None
    return candidate


def move_stage(
    candidate: ListingCandidate,
    *,
    to: str,
    on: date | None,
    by: User,
    version: int | None = None,
    note: str = "",
    stock_code: str = "",
) -> ListingCandidate:
    """Move a candidate forward to `to` on `on` (stages may be skipped); reaching 上市 takes its stock code."""
    check_writer(by, candidate.zone_id)
    to = _check_choice("to", _("推进到"), to, LISTING_STAGES)
    if listing_stage_index(to) <= listing_stage_index(candidate.stage):
        raise InvalidField(
            "to",
            _("推进到：该企业已在“%(stage)s”阶段，只能向后推进；退回须由领导或效能督查更正")
            % {"stage": candidate.get_stage_display()},
        )
    day = _check_day("on", _("日期"), on)
    assert day is not None
    if day < candidate.stage_entered_on:
        raise InvalidField(
            "on",
            _("日期：不能早于进入当前阶段的日期（%(day)s）")
            % {"day": candidate.stage_entered_on.isoformat()},
        )
    note = clean_text("note", _("说明"), note, limit=NOTE_MAX)
    code = _check_stock_code(stock_code, to)
    seen = version if version is not None else candidate.version
    from_stage = candidate.stage
    with transaction.atomic():
        changes: dict[str, Any] = {"stage": to, "stage_entered_on": day}
        if code:
            changes["stock_code"] = code
        _stage_write(candidate, seen, **changes)
        ListingStageMove.objects.create(
            candidate=candidate, from_stage=from_stage, to_stage=to, on=day, by=by, note=note
        )
        audit.record(
            by,
            "capital.listing_move",
            candidate,
            summary=f"上市后备企业“{candidate.enterprise.name}”由{stage_label(from_stage)}推进到{stage_label(to)}",
            detail={"from": from_stage, "to": to, "on": day.isoformat(), "note": note},
        )
    return candidate


def correct_stage(
    candidate: ListingCandidate,
    *,
    to: str,
    on: date | None,
    reason: str,
    by: User,
    version: int | None = None,
) -> ListingCandidate:
    """The correction of a wrongly recorded stage or date: the candidate is at `to` (the current stage or
    an earlier one) since `on`. The moves into `to` and later stages are voided; audited as a correction."""
    check_corrector(by, candidate.zone_id)
    to = _check_choice("to", _("更正为"), to, LISTING_STAGES)
    if listing_stage_index(to) > listing_stage_index(candidate.stage):
        raise InvalidField("to", _("更正为：更正只能改为当前阶段或之前的阶段；向后推进由招商专员办理"))
    day = _check_day("on", _("进入该阶段日期"), on)
    assert day is not None
    reason = clean_text("reason", _("更正原因"), reason, limit=NOTE_MAX, required=True)
    index = listing_stage_index(to)
    undone = [s for s in LISTING_STAGES if listing_stage_index(s) >= index]
    kept = candidate.moves.filter(voided=False).exclude(to_stage__in=undone).order_by("-on", "-pk").first()
    if kept is not None and day < kept.on:
        raise InvalidField(
            "on",
            _("进入该阶段日期：不能早于之前阶段“%(stage)s”的日期（%(day)s）")
            % {"stage": stage_label(kept.to_stage), "day": kept.on.isoformat()},
        )
    if to == candidate.stage and day == candidate.stage_entered_on:
        raise InvalidField("on", _("进入该阶段日期：与现有记录相同，无需更正"))
    seen = version if version is not None else candidate.version
    from_stage, from_day = candidate.stage, candidate.stage_entered_on
    with transaction.atomic():
        changes: dict[str, Any] = {"stage": to, "stage_entered_on": day}
        if to != ListingStage.LISTED:
            changes["stock_code"] = ""
        _stage_write(candidate, seen, **changes)
        candidate.moves.filter(voided=False, to_stage__in=undone).update(voided=True)
        ListingStageMove.objects.create(
            candidate=candidate,
            from_stage=from_stage,
            to_stage=to,
            on=day,
            by=by,
            is_correction=True,
            reason=reason,
        )
        audit.record(
            by,
            "capital.listing_correct",
            candidate,
            summary=(
                f"更正上市后备企业“{candidate.enterprise.name}”的阶段："
                f"{stage_label(from_stage)}（{from_day.isoformat()}）→{stage_label(to)}（{day.isoformat()}）"
            ),
            detail={
                "from": from_stage,
                "from_on": from_day.isoformat(),
                "to": to,
                "on": day.isoformat(),
                "reason": reason,
            },
        )
    return candidate


# --- intermediaries, problems, supports -------------------------------------------------------------------


def add_intermediary(
    candidate: ListingCandidate,
    *,
    role: str,
    firm: str,
    by: User,
    contact_person: str = "",
    phone: str = "",
    engaged_on: date | None = None,
) -> ListingIntermediary:
    """Record an intermediary the candidate engaged (券商, 律所, 会计师事务所)."""
    check_writer(by, candidate.zone_id)
    role = _check_choice("role", _("机构类型"), role, IntermediaryRole.values)
    firm = clean_text("firm", _("机构名称"), firm, limit=FIRM_MAX, required=True)
    person = clean_text("contact_person", _("联系人"), contact_person, limit=PERSON_MAX)
    phone = clean_text("phone", _("联系电话"), phone, limit=PHONE_MAX)
    if phone and not set(phone) <= PHONE_CHARACTERS:
        raise InvalidField("phone", _("联系电话：只能包含数字和“-”“+”“()”“转”"))
    day = _check_day("engaged_on", _("签约日期"), engaged_on, required=False)
    with transaction.atomic():
        intermediary = ListingIntermediary.objects.create(
            candidate=candidate,
            role=role,
            firm=firm,
            contact_person=person,
            phone=phone,
            engaged_on=day,
            created_by=by,
        )
        audit.record(
            by,
            "capital.listing_intermediary",
            candidate,
            summary=f"上市后备企业“{candidate.enterprise.name}”登记{IntermediaryRole(role).label}：{firm}",
            detail={"intermediary": intermediary.pk, "role": role, "firm": firm},
        )
    return intermediary


def add_problem(candidate: ListingCandidate, *, text: str, by: User) -> ListingProblem:
    """Record a problem blocking the candidate."""
    check_writer(by, candidate.zone_id)
    text = clean_text("text", _("问题描述"), text, limit=PROBLEM_MAX, required=True)
    with transaction.atomic():
        problem = ListingProblem.objects.create(candidate=candidate, text=text, raised_by=by)
        audit.record(
            by,
            "capital.listing_problem",
            candidate,
            summary=f"上市后备企业“{candidate.enterprise.name}”登记上市障碍问题",
            detail={"problem": problem.pk},
        )
    return problem


def raise_problem(problem: ListingProblem, *, by: User) -> Appeal:
    """Raise a problem as an appeal through the steward channel (管家代报); the problem keeps the link.
    A problem is raised once: of two concurrent clicks one wins, the other gets Conflict and no appeal."""
    candidate = problem.candidate
    check_raiser(by, candidate)
    if problem.appeal_id is not None:
        raise Conflict(_("该问题已转为诉求 #%(n)s") % {"n": problem.appeal_id})
    text = problem.text
    title = _("上市培育：%(text)s") % {"text": text if len(text) <= 40 else f"{text[:39]}…"}
    with transaction.atomic():
        appeal = lifecycle.submit_appeal(
            candidate.enterprise, title=title, body=text, channel=Channel.STEWARD, by=by
        )
        linked = ListingProblem.objects.filter(pk=problem.pk, appeal__isnull=True).update(appeal=appeal)
        if linked != 1:
            raise Conflict(_("该问题刚被他人转为诉求，请刷新后查看"))
        problem.appeal = appeal
        audit.record(
            by,
            "capital.listing_problem_raise",
            candidate,
            summary=f"上市后备企业“{candidate.enterprise.name}”的问题转为诉求 #{appeal.pk}",
            detail={"problem": problem.pk, "appeal": appeal.pk},
        )
    return appeal


def deliveries_for(candidate: ListingCandidate) -> QuerySet[Delivery]:
    """The delivered (已兑现) policy benefits of the candidate's enterprise, which a support item may link."""
    return (
        Delivery.objects.filter(enterprise_id=candidate.enterprise_id, status=DeliveryStatus.DISBURSED)
        .select_related("item__policy")
        .order_by("-disbursed_on", "-pk")
    )


def add_support(
    candidate: ListingCandidate,
    *,
    by: User,
    granted_on: date | None,
    what: str = "",
    amount: Decimal | None = None,
    delivery: Delivery | None = None,
) -> ListingSupport:
    """Record a support item; linked to a delivered benefit, it takes that benefit's name and amount
    where none is given."""
    check_writer(by, candidate.zone_id)
    if delivery is not None:
        if not deliveries_for(candidate).filter(pk=delivery.pk).exists():
            raise InvalidField("delivery", _("政策兑现：不是该企业已兑现的政策事项"))
        what = what or delivery.item.name
        amount = amount if amount not in (None, "") else delivery.amount
    what = clean_text("what", _("支持事项"), what, limit=WHAT_MAX, required=True)
    value = _check_amount(amount)
    day = _check_day("granted_on", _("给予日期"), granted_on)
    assert day is not None
    try:
        with transaction.atomic():
            support = ListingSupport.objects.create(
                candidate=candidate, what=what, amount=value, granted_on=day, delivery=delivery, created_by=by
            )
            audit.record(
                by,
                "capital.listing_support",
                candidate,
                summary=f"上市后备企业“{candidate.enterprise.name}”登记支持事项：{what}",
                detail={
                    "support": support.pk,
                    "amount": str(value or ""),
                    "delivery": delivery and delivery.pk,
                },
            )
    except IntegrityError:
        raise InvalidField("delivery", _("政策兑现：该兑现已登记为支持事项")) from None
    return support


# --- reads and figures ------------------------------------------------------------------------------------


def with_figures(candidates: QuerySet[ListingCandidate]) -> QuerySet[ListingCandidate]:
    """Annotate the support total (万元) and the number of open problems (not raised, or raised and
    not yet closed)."""
    total = (
        ListingSupport.objects.filter(candidate=OuterRef("pk"))
        .order_by()
        .values("candidate")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return candidates.annotate(
        support_total=Coalesce(Subquery(total, output_field=money), Value(ZERO), output_field=money),
        open_problems=Count(
            "problems",
            filter=Q(problems__appeal__isnull=True) | ~Q(problems__appeal__status=AppealStatus.CLOSED),
            distinct=True,
        ),
    )


def chains_of(candidate_ids: list[int]) -> dict[int, list[str]]:
    """The industry chains each candidate's enterprise is placed on (investment.NodePlacement)."""
    rows = (
        NodePlacement.objects.filter(enterprise__listing_candidate__in=candidate_ids)
        .values_list("enterprise__listing_candidate", "node__chain__name")
        .order_by("node__chain__name")
        .distinct()
    )
    chains: dict[int, list[str]] = defaultdict(list)
    for candidate_id, name in rows:
        if name not in chains[candidate_id]:
            chains[candidate_id].append(name)
    return dict(chains)


def days_in_stage(candidate: ListingCandidate, today: date | None = None) -> int:
    return ((today or access.today()) - candidate.stage_entered_on).days


def stage_counts(candidates: QuerySet[ListingCandidate]) -> dict[str, int]:
    """How many of `candidates` are at each stage (every stage present, in order)."""
    counts = dict(candidates.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage: counts.get(stage, 0) for stage in LISTING_STAGES}


def chain_counts(candidates: QuerySet[ListingCandidate]) -> list[tuple[str, int]]:
    """How many of `candidates` are on each chain (a candidate on two chains counts once on each), and
    those on none as 未上链, by count then name."""
    ids = list(candidates.values_list("pk", flat=True))
    chains = chains_of(ids)
    counts: dict[str, int] = defaultdict(int)
    for pk in ids:
        for name in chains.get(pk, [NO_CHAIN]):
            counts[name] += 1
    return sorted(counts.items(), key=lambda item: (item[0] == NO_CHAIN, -item[1], item[0]))


@dataclass(frozen=True)
class StageAverage:
    stage: str
    label: str
    n: int  # finished stays in the stage
    days: float | None  # their mean length in days


def average_days(candidates: QuerySet[ListingCandidate]) -> list[StageAverage]:
    """Mean days per stage from the history: each stay that a later move ended (voided moves left out,
    so a corrected mistake does not count), from the move into the stage to the next move."""
    stays: dict[str, list[int]] = defaultdict(list)
    moves = (
        ListingStageMove.objects.filter(candidate__in=candidates.values("pk"), voided=False)
        .order_by("candidate_id", "on", "pk")
        .values_list("candidate_id", "to_stage", "on")
    )
    previous: tuple[int, str, date] | None = None
    for candidate_id, stage, on in moves:
        if previous is not None and previous[0] == candidate_id:
            stays[previous[1]].append((on - previous[2]).days)
        previous = (candidate_id, stage, on)
    rows = []
    for stage in LISTING_STAGES[:-1]:  # 上市 is the end: nobody leaves it
        spans = stays.get(stage, [])
        rows.append(
            StageAverage(
                stage, stage_label(stage), len(spans), round(sum(spans) / len(spans), 1) if spans else None
            )
        )
    return rows


@dataclass(frozen=True)
class Figures:
    total: int
    by_stage: list[tuple[str, str, int]]  # (stage, label, count)
    by_chain: list[tuple[str, int]]
    averages: list[StageAverage]


def figures(candidates: QuerySet[ListingCandidate]) -> Figures:
    counts = stage_counts(candidates)
    return Figures(
        total=sum(counts.values()),
        by_stage=[(stage, stage_label(stage), counts[stage]) for stage in LISTING_STAGES],
        by_chain=chain_counts(candidates),
        averages=average_days(candidates),
    )


def history(candidate: ListingCandidate) -> QuerySet[ListingStageMove]:
    return candidate.moves.select_related("by").order_by("on", "pk")


def enterprises_for_new(user: User) -> QuerySet[Enterprise]:
    """The enterprises a promoter may enter: of its zones, not yet in the pipeline."""
    if not access.may_write(user):
        return Enterprise.objects.none()
    return Enterprise.objects.filter(zone_id__in=user.zone_ids(), listing_candidate__isnull=True).order_by(
        "name"
    )
