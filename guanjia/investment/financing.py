"""Funds and financing matchmaking (产业基金 / 投融资对接): the zone's funds, the enterprises' financing
needs, the matching of one to the other, roadshows (路演) and what they brought (对接成果).

A need is 对接中 (open) → 已融资 (fulfilled) or 已撤回 (withdrawn). It becomes 已融资 either when a
promoter marks it so (a need may be met by less than was asked, which only the promoter can judge),
or by itself when the outcomes recorded for it reach its amount (money that arrived needs no extra
click: 减负). Only an open need may be edited, withdrawn or invited to a roadshow; an outcome may
still be recorded for a fulfilled need (a later tranche), never for a withdrawn one.

Who writes: the zone's promoters write funds, roadshows and outcomes, and may record, edit, withdraw
or mark fulfilled a need of an enterprise of their zone; an enterprise user posts, edits and
withdraws its own enterprise's needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.masking import mask_phone
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.investment.access import check_keeper, may_keep, today
from guanjia.investment.models import (
    INVESTMENT_READERS,
    ZERO,
    ChainNode,
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    FinancingOutcome,
    Fund,
    IndustryChain,
    InvestmentStage,
    NodePlacement,
    Roadshow,
)

# --- matching weights ------------------------------------------------------------------------------
# A fund's fit for a need is scored out of 100: where the enterprise sits on the fund's chains (focus,
# up to 40), whether the round is one the fund invests in (stage, up to 30), and whether the amount is
# within the fund's ticket range (ticket, 30). The fund must provide the need's kind of money (a hard
# filter), and a fund that fits neither the enterprise's industry nor the amount is not suggested.
FOCUS_NODE = 40  # the enterprise is placed on a node the fund focuses on
FOCUS_CHAIN = 25  # ... on a node of a chain the fund focuses on
FOCUS_ANY = 10  # the fund names no focus at all: 不限行业
STAGE_MATCH = 30  # the need's round is among the fund's stages
STAGE_OPEN = 10  # the need names no round, or the fund no stages
TICKET_FIT = 30  # ticket_min <= amount <= ticket_max

# Amounts are DecimalField(max_digits=14, decimal_places=2): 万元 with two decimals, below 10^12.
MONEY_LIMIT = Decimal("1000000000000")
PHONE = re.compile(r"^[0-9+\-() ]{3,20}$")
FUND_FIELDS = (
    "name",
    "manager",
    "size",
    "focus_chains",
    "focus_nodes",
    "stages",
    "kinds",
    "ticket_min",
    "ticket_max",
    "contact_name",
    "contact_phone",
)
NEED_FIELDS = ("amount", "kind", "stage", "purpose", "needed_by")


# --- who may do what -------------------------------------------------------------------------------


def reads_matches(user: User) -> bool:
    """Promoters and leaders of a zone see funds and their match scores; nobody else does."""
    return user.is_authenticated and not user.is_admin_account and user.has_any_role(INVESTMENT_READERS)


def member_enterprises(user: User) -> QuerySet[Enterprise]:
    """The enterprises an enterprise user is bound to (active memberships), by name."""
    if not user.has_role(Role.ENTERPRISE_USER):
        return Enterprise.objects.none()
    bound = EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")
    return Enterprise.objects.filter(pk__in=bound).order_by("name", "pk")


def is_member(user: User, enterprise_id: int) -> bool:
    return (
        user.has_role(Role.ENTERPRISE_USER)
        and EnterpriseMembership.objects.filter(
            user=user, enterprise_id=enterprise_id, is_active=True
        ).exists()
    )


def may_write_need(user: User, enterprise: Enterprise) -> bool:
    """The enterprise's own user, or a promoter of its zone."""
    return may_keep(user, enterprise.zone_id) or is_member(user, enterprise.pk)


def _check_need_writer(by: User, enterprise: Enterprise) -> None:
    if not may_write_need(by, enterprise):
        raise NotAllowed(_("只有该企业的企业用户或本园区的招商专员可以办理该企业的融资需求"))


def fund_phone_for(user: User, fund: Fund) -> str:
    """A fund's contact phone: in full for the zone's promoters (they call the fund), masked otherwise."""
    return fund.contact_phone if may_keep(user, fund.zone_id) else mask_phone(fund.contact_phone)


# --- small checks ----------------------------------------------------------------------------------


def _money(label: str, value: Any, *, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        raise ServiceError(_("%(label)s：请填写数字") % {"label": label}) from None
    if not amount.is_finite():
        raise ServiceError(_("%(label)s：请填写数字") % {"label": label})
    if positive and amount <= 0:
        raise ServiceError(_("%(label)s：必须大于 0") % {"label": label})
    if amount < 0:
        raise ServiceError(_("%(label)s：不能为负数") % {"label": label})
    if amount >= MONEY_LIMIT:
        raise ServiceError(_("%(label)s：数额过大") % {"label": label})
    if amount != amount.quantize(Decimal("0.01")):
        raise ServiceError(_("%(label)s：最多保留两位小数") % {"label": label})
    return amount.quantize(Decimal("0.01"))


def _text(label: str, value: Any, *, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(text) > limit:
        raise ServiceError(_("%(label)s：不能超过 %(n)d 个字") % {"label": label, "n": limit})
    return text


def _choices(label: str, values: Iterable[str], allowed: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(v) for v in values))
    for value in chosen:
        if value not in allowed:
            raise ServiceError(_("%(label)s：未知的选项“%(value)s”") % {"label": label, "value": value})
    return [v for v in allowed if v in chosen]  # in the choices' own order


def _fmt(amount: Decimal) -> str:
    """3000.00 → "3000", 12.50 → "12.5"."""
    text = format(amount.normalize(), "f")
    return text


def stage_label(value: str) -> str:
    return str(InvestmentStage(value).label) if value in InvestmentStage.values else value


def kind_label(value: str) -> str:
    return str(FinancingKind(value).label) if value in FinancingKind.values else value


# --- funds -----------------------------------------------------------------------------------------


def _clean_fund(zone_id: int, values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """The fund's fields checked and normalised; raise ServiceError naming the first bad field."""
    clean: dict[str, Any] = {}
    clean["name"] = _text(_("基金名称"), values["name"], limit=100, required=True)
    clean["manager"] = _text(_("基金管理人"), values["manager"], limit=100, required=True)
    clean["size"] = _money(_("基金规模"), values["size"])
    clean["ticket_min"] = _money(_("单笔投资下限"), values["ticket_min"])
    clean["ticket_max"] = _money(_("单笔投资上限"), values["ticket_max"], positive=True)
    if clean["ticket_max"] < clean["ticket_min"]:
        raise ServiceError(_("单笔投资上限：不能低于单笔投资下限"))
    clean["stages"] = _choices(_("投资阶段"), values["stages"], InvestmentStage.values)
    clean["kinds"] = _choices(_("投资方式"), values["kinds"], FinancingKind.values)
    if not clean["kinds"]:
        raise ServiceError(_("投资方式：请至少选择一种"))
    clean["contact_name"] = _text(_("联系人"), values["contact_name"], limit=50)
    phone = _text(_("联系电话"), values["contact_phone"], limit=20)
    if phone and not PHONE.match(phone):
        raise ServiceError(_("联系电话：格式不正确"))
    clean["contact_phone"] = phone
    chains = list(dict.fromkeys(values["focus_chains"]))
    for chain in chains:
        if chain.zone_id != zone_id:
            raise ServiceError(_("关注产业链：“%(name)s”不是本园区的产业链") % {"name": chain.name})
    nodes = list(dict.fromkeys(values["focus_nodes"]))
    node_zones = dict(
        ChainNode.objects.filter(pk__in=[n.pk for n in nodes]).values_list("pk", "chain__zone_id")
    )
    for node in nodes:
        if node_zones.get(node.pk) != zone_id:
            raise ServiceError(_("关注环节：“%(name)s”不是本园区产业链的环节") % {"name": node.name})
    clean["focus_chains"], clean["focus_nodes"] = chains, nodes
    taken = Fund.objects.filter(zone_id=zone_id, name=clean["name"])
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ServiceError(_("基金名称：本园区已有同名基金“%(name)s”") % {"name": clean["name"]})
    return clean


def _fund_detail(clean: dict[str, Any]) -> dict[str, Any]:
    return {
        key: [obj.pk for obj in value]
        if key in ("focus_chains", "focus_nodes")
        else str(value)
        if isinstance(value, Decimal)
        else value
        for key, value in clean.items()
    }


def create_fund(
    *,
    zone: OrgUnit,
    by: User,
    name: str,
    manager: str,
    size: Decimal,
    ticket_max: Decimal,
    ticket_min: Decimal = ZERO,
    stages: Iterable[str] = (),
    kinds: Iterable[str] = (FinancingKind.EQUITY,),
    focus_chains: Iterable[IndustryChain] = (),
    focus_nodes: Iterable[ChainNode] = (),
    contact_name: str = "",
    contact_phone: str = "",
) -> Fund:
    """A promoter adds a fund the zone works with."""
    check_keeper(by, zone.pk)
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("所属园区：“%(zone)s”不是园区或县区") % {"zone": zone})
    clean = _clean_fund(
        zone.pk,
        {
            "name": name,
            "manager": manager,
            "size": size,
            "ticket_min": ticket_min,
            "ticket_max": ticket_max,
            "stages": stages,
            "kinds": kinds,
            "focus_chains": focus_chains,
            "focus_nodes": focus_nodes,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
        },
    )
    chains, nodes = clean.pop("focus_chains"), clean.pop("focus_nodes")
    try:
        with transaction.atomic():
            fund = Fund.objects.create(zone=zone, created_by=by, **clean)
            fund.focus_chains.set(chains)
            fund.focus_nodes.set(nodes)
            audit.record(
                by,
                "investment.fund_create",
                fund,
                summary=f"新增产业基金：{fund.name}",
                detail=_fund_detail({**clean, "focus_chains": chains, "focus_nodes": nodes}),
            )
    except IntegrityError:  # two promoters adding the same name at once: the unique constraint decides
        raise Conflict(
            _("基金名称：本园区刚刚已有人添加了同名基金“%(name)s”") % {"name": clean["name"]}
        ) from None
    return fund


def update_fund(fund: Fund, *, by: User, version: int, **changes: Any) -> Fund:
    """Edit what was given; `version` is the one the editor read, so a stale edit loses (Conflict)."""
    check_keeper(by, fund.zone_id)
    unknown = set(changes) - set(FUND_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current: dict[str, Any] = {
        **{name: getattr(fund, name) for name in FUND_FIELDS if name not in ("focus_chains", "focus_nodes")},
        "focus_chains": list(fund.focus_chains.all()),
        "focus_nodes": list(fund.focus_nodes.all()),
    }
    clean = _clean_fund(fund.zone_id, {**current, **changes}, exclude_pk=fund.pk)
    chains, nodes = clean.pop("focus_chains"), clean.pop("focus_nodes")
    try:
        with transaction.atomic():
            moved = Fund.objects.filter(pk=fund.pk, version=version).update(**clean, version=version + 1)
            if moved != 1:
                raise Conflict(_("基金“%(name)s”刚被他人修改，请刷新后重试") % {"name": fund.name})
            fund.focus_chains.set(chains)
            fund.focus_nodes.set(nodes)
            audit.record(
                by,
                "investment.fund_update",
                fund,
                summary=f"修改产业基金：{clean['name']}",
                detail=_fund_detail({**clean, "focus_chains": chains, "focus_nodes": nodes}),
            )
    except IntegrityError:
        raise Conflict(
            _("基金名称：本园区刚刚已有人添加了同名基金“%(name)s”") % {"name": clean["name"]}
        ) from None
    for key, value in clean.items():
        setattr(fund, key, value)
    fund.version = version + 1
    return fund


# --- financing needs -------------------------------------------------------------------------------


def _clean_need(values: dict[str, Any], *, check_date: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    clean["amount"] = _money(_("融资金额"), values["amount"], positive=True)
    kind = str(values["kind"] or "")
    if kind not in FinancingKind.values:
        raise ServiceError(_("融资方式：请选择股权融资、债权融资或银行贷款"))
    clean["kind"] = kind
    stage = str(values["stage"] or "")
    if stage and stage not in InvestmentStage.values:
        raise ServiceError(_("融资轮次：未知的轮次“%(value)s”") % {"value": stage})
    # A round (轮次) is a thing of equity: a loan or a bond has none, so it is not kept for them.
    clean["stage"] = stage if kind == FinancingKind.EQUITY else ""
    clean["purpose"] = _text(_("资金用途"), values["purpose"], limit=200, required=True)
    needed_by = values["needed_by"]
    if not isinstance(needed_by, date):
        raise ServiceError(_("需求时间：请填写日期"))
    if check_date and needed_by < today():
        raise ServiceError(_("需求时间：不能早于今天"))
    clean["needed_by"] = needed_by
    return clean


def _need_detail(clean: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, Decimal | date) else value for key, value in clean.items()}


def post_need(
    enterprise: Enterprise,
    *,
    by: User,
    amount: Decimal,
    kind: str,
    purpose: str,
    needed_by: date,
    stage: str = "",
) -> FinancingNeed:
    """An enterprise user posts its enterprise's need, or a promoter records one for an enterprise of its zone."""
    _check_need_writer(by, enterprise)
    clean = _clean_need(
        {"amount": amount, "kind": kind, "stage": stage, "purpose": purpose, "needed_by": needed_by},
        check_date=True,
    )
    with transaction.atomic():
        need = FinancingNeed.objects.create(enterprise=enterprise, created_by=by, **clean)
        audit.record(
            by,
            "investment.financing_need_post",
            need,
            summary=f"发布融资需求：{enterprise.name} {_fmt(clean['amount'])} 万元（{kind_label(clean['kind'])}）",
            detail=_need_detail(clean),
        )
    return need


def _check_open(need: FinancingNeed, doing: str) -> None:
    if need.status != FinancingNeedStatus.OPEN:
        raise ServiceError(
            _("该融资需求%(status)s，不能%(doing)s") % {"status": need.get_status_display(), "doing": doing}
        )


def _move_need(need: FinancingNeed, *, version: int, **values: Any) -> None:
    """Write `values` if nobody changed the need since it was read (same version, still open)."""
    now = timezone.now()
    moved = FinancingNeed.objects.filter(pk=need.pk, version=version, status=FinancingNeedStatus.OPEN).update(
        **values, updated_at=now, version=version + 1
    )
    if moved != 1:
        raise Conflict(_("该融资需求刚被他人修改，请刷新后重试"))
    for key, value in values.items():
        setattr(need, key, value)
    need.updated_at, need.version = now, version + 1


def update_need(need: FinancingNeed, *, by: User, version: int, **changes: Any) -> FinancingNeed:
    """Edit an open need; a withdrawn or fulfilled one is kept as it was."""
    _check_need_writer(by, need.enterprise)
    _check_open(need, _("修改"))
    unknown = set(changes) - set(NEED_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current = {name: getattr(need, name) for name in NEED_FIELDS}
    merged = {**current, **changes}
    # The date may have passed since it was posted; only a new date must not be in the past.
    clean = _clean_need(merged, check_date=merged["needed_by"] != current["needed_by"])
    with transaction.atomic():
        _move_need(need, version=version, **clean)
        audit.record(
            by,
            "investment.financing_need_update",
            need,
            summary=f"修改融资需求：{need.enterprise.name} {_fmt(need.amount)} 万元",
            detail=_need_detail(clean),
        )
    return need


def withdraw_need(need: FinancingNeed, *, by: User, version: int) -> FinancingNeed:
    """The enterprise (or a promoter for it) withdraws an open need."""
    _check_need_writer(by, need.enterprise)
    _check_open(need, _("撤回"))
    with transaction.atomic():
        _move_need(need, version=version, status=FinancingNeedStatus.WITHDRAWN)
        audit.record(
            by,
            "investment.financing_need_withdraw",
            need,
            summary=f"撤回融资需求：{need.enterprise.name} {_fmt(need.amount)} 万元",
            detail={"from": FinancingNeedStatus.OPEN, "to": FinancingNeedStatus.WITHDRAWN},
        )
    return need


def mark_fulfilled(need: FinancingNeed, *, by: User, version: int) -> FinancingNeed:
    """A promoter marks an open need 已融资 (e.g. met by less than asked, or by money not recorded here)."""
    check_keeper(by, need.enterprise.zone_id)
    _check_open(need, _("标记为已融资"))
    with transaction.atomic():
        _move_need(need, version=version, status=FinancingNeedStatus.FULFILLED)
        audit.record(
            by,
            "investment.financing_need_fulfil",
            need,
            summary=f"融资需求标记为已融资：{need.enterprise.name}",
            detail={"from": FinancingNeedStatus.OPEN, "to": FinancingNeedStatus.FULFILLED, "by_hand": True},
        )
    return need


def raised_total(need: FinancingNeed) -> Decimal:
    return FinancingOutcome.objects.filter(need=need).aggregate(total=Sum("amount"))["total"] or ZERO


def raised() -> Coalesce:
    """The amount raised so far, as an annotation of a FinancingNeed queryset (one subquery per row)."""
    total = (
        FinancingOutcome.objects.filter(need=OuterRef("pk"))
        .values("need")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(0), output_field=DecimalField(max_digits=14, decimal_places=2))


# --- roadshows and outcomes ------------------------------------------------------------------------


def create_roadshow(*, zone: OrgUnit, by: User, title: str, held_on: date, location: str = "") -> Roadshow:
    """A promoter plans (or records) a roadshow of its zone."""
    check_keeper(by, zone.pk)
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("所属园区：“%(zone)s”不是园区或县区") % {"zone": zone})
    clean_title = _text(_("路演名称"), title, limit=100, required=True)
    clean_location = _text(_("地点"), location, limit=100)
    if not isinstance(held_on, date):
        raise ServiceError(_("举办日期：请填写日期"))
    with transaction.atomic():
        roadshow = Roadshow.objects.create(
            zone=zone, title=clean_title, held_on=held_on, location=clean_location, created_by=by
        )
        audit.record(
            by,
            "investment.roadshow_create",
            roadshow,
            summary=f"新建路演：{clean_title}（{held_on}）",
            detail={"held_on": str(held_on), "location": clean_location},
        )
    return roadshow


@dataclass(frozen=True)
class InviteResult:
    funds: int  # funds newly invited
    needs: int  # needs newly invited


def invite_to_roadshow(
    roadshow: Roadshow,
    *,
    by: User,
    funds: Iterable[Fund] = (),
    needs: Iterable[FinancingNeed] = (),
) -> InviteResult:
    """Invite funds and enterprises' open needs of the roadshow's zone; those already invited are skipped."""
    check_keeper(by, roadshow.zone_id)
    fund_list = list({f.pk: f for f in funds}.values())
    need_list = list({n.pk: n for n in needs}.values())
    if not fund_list and not need_list:
        raise ServiceError(_("参会名单：请至少选择一家基金或一项融资需求"))
    for fund in fund_list:
        if fund.zone_id != roadshow.zone_id:
            raise ServiceError(_("参会基金：“%(name)s”不是本园区的基金") % {"name": fund.name})
    zones = dict(
        Enterprise.objects.filter(pk__in={n.enterprise_id for n in need_list}).values_list("pk", "zone_id")
    )
    for need in need_list:
        if zones.get(need.enterprise_id) != roadshow.zone_id:
            raise ServiceError(_("路演企业：融资需求 #%(id)d 不属于本园区的企业") % {"id": need.pk})
        if need.status != FinancingNeedStatus.OPEN:
            raise ServiceError(
                _("路演企业：融资需求 #%(id)d %(status)s，不能邀请")
                % {"id": need.pk, "status": need.get_status_display()}
            )
    fund_through = Roadshow.funds.through
    need_through = Roadshow.needs.through
    with transaction.atomic():
        had_funds = set(roadshow.funds.values_list("pk", flat=True))
        had_needs = set(roadshow.needs.values_list("pk", flat=True))
        new_funds = [f for f in fund_list if f.pk not in had_funds]
        new_needs = [n for n in need_list if n.pk not in had_needs]
        # ignore_conflicts: two promoters inviting the same fund at once add it once, without an error.
        fund_through.objects.bulk_create(
            [fund_through(roadshow_id=roadshow.pk, fund_id=f.pk) for f in new_funds], ignore_conflicts=True
        )
        need_through.objects.bulk_create(
            [need_through(roadshow_id=roadshow.pk, financingneed_id=n.pk) for n in new_needs],
            ignore_conflicts=True,
        )
        if new_funds or new_needs:
            audit.record(
                by,
                "investment.roadshow_invite",
                roadshow,
                summary=f"路演“{roadshow.title}”邀请基金 {len(new_funds)} 家、融资需求 {len(new_needs)} 项",
                detail={"funds": [f.pk for f in new_funds], "needs": [n.pk for n in new_needs]},
            )
    return InviteResult(funds=len(new_funds), needs=len(new_needs))


def record_outcome(
    need: FinancingNeed,
    *,
    by: User,
    amount: Decimal,
    invested_on: date,
    fund: Fund | None = None,
    investor: str = "",
    roadshow: Roadshow | None = None,
) -> FinancingOutcome:
    """A promoter records money invested for a need; the need becomes 已融资 once the outcomes reach its amount."""
    zone_id = need.enterprise.zone_id
    check_keeper(by, zone_id)
    clean_amount = _money(_("投资金额"), amount, positive=True)
    if not isinstance(invested_on, date):
        raise ServiceError(_("投资日期：请填写日期"))
    if invested_on > today():
        raise ServiceError(_("投资日期：不能晚于今天"))
    investor = _text(_("出资方"), investor, limit=100)
    if fund is not None:
        if fund.zone_id != zone_id:
            raise ServiceError(_("出资基金：“%(name)s”不是该企业所在园区的基金") % {"name": fund.name})
        investor = ""  # the fund names the investor
    elif not investor:
        raise ServiceError(_("出资方：请选择出资基金或填写出资方名称"))
    if roadshow is not None:
        if roadshow.zone_id != zone_id:
            raise ServiceError(_("路演：“%(title)s”不是该企业所在园区的路演") % {"title": roadshow.title})
        if not roadshow.needs.filter(pk=need.pk).exists():
            raise ServiceError(_("路演：该融资需求未参加路演“%(title)s”") % {"title": roadshow.title})
    with transaction.atomic():
        # The row lock makes outcomes of one need queue (PostgreSQL), so that each one's total below
        # counts the others; SQLite's IMMEDIATE transactions queue them anyway.
        fresh = FinancingNeed.objects.select_for_update().get(pk=need.pk)
        if fresh.status == FinancingNeedStatus.WITHDRAWN:
            raise ServiceError(_("该融资需求已撤回，不能登记对接成果"))
        outcome = FinancingOutcome.objects.create(
            need=fresh,
            fund=fund,
            investor=investor,
            roadshow=roadshow,
            amount=clean_amount,
            invested_on=invested_on,
            by=by,
        )
        total = raised_total(fresh)
        fulfilled = fresh.status == FinancingNeedStatus.OPEN and total >= fresh.amount
        if fulfilled:
            _move_need(fresh, version=fresh.version, status=FinancingNeedStatus.FULFILLED)
        audit.record(
            by,
            "investment.financing_outcome_record",
            fresh,
            summary=(
                f"登记对接成果：{need.enterprise.name} 获 {fund.name if fund else investor} "
                f"投资 {_fmt(clean_amount)} 万元" + ("，融资需求已满足" if fulfilled else "")
            ),
            detail={
                "outcome": outcome.pk,
                "fund": fund.pk if fund else None,
                "investor": investor,
                "roadshow": roadshow.pk if roadshow else None,
                "amount": str(clean_amount),
                "invested_on": str(invested_on),
                "total": str(total),
                "fulfilled": fulfilled,
            },
        )
    need.status, need.version, need.updated_at = fresh.status, fresh.version, fresh.updated_at
    return outcome


# --- totals ----------------------------------------------------------------------------------------


def outcomes_visible_to(user: User) -> QuerySet[FinancingOutcome]:
    """The outcomes of the needs of the enterprises of the user's zones (promoters and leaders)."""
    if not reads_matches(user):
        return FinancingOutcome.objects.none()
    return FinancingOutcome.objects.filter(need__in=FinancingNeed.objects.visible_to(user))


@dataclass(frozen=True)
class FundTotal:
    fund_id: int | None  # None: investors that are not one of the zone's funds
    name: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PeriodTotal:
    period: str  # "2026-03"
    amount: Decimal
    count: int


def invested_per_fund(outcomes: QuerySet[FinancingOutcome]) -> list[FundTotal]:
    """Money invested per fund, largest first; outcomes by other investors together as one row."""
    rows = outcomes.values("fund_id", "fund__name").annotate(amount=Sum("amount"), count=Count("pk"))
    totals = [
        FundTotal(
            fund_id=row["fund_id"],
            name=row["fund__name"] or _("其他出资方"),
            amount=row["amount"] or ZERO,
            count=row["count"],
        )
        for row in rows
    ]
    return sorted(totals, key=lambda t: (t.fund_id is None, -t.amount, t.name))


def invested_per_month(outcomes: QuerySet[FinancingOutcome]) -> list[PeriodTotal]:
    """Money invested per calendar month of the investment date, in order."""
    rows = (
        outcomes.annotate(month=TruncMonth("invested_on"))
        .values("month")
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("month")
    )
    return [
        PeriodTotal(period=row["month"].strftime("%Y-%m"), amount=row["amount"] or ZERO, count=row["count"])
        for row in rows
    ]


# --- matching --------------------------------------------------------------------------------------


@dataclass
class Match:
    """How well a fund fits a need: the score (0–100), its parts, and the reasons in words."""

    fund: Fund
    need: FinancingNeed
    score: int
    focus: int
    stage: int
    ticket: int
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Place:
    node_id: int
    node_name: str
    chain_id: int
    chain_name: str


@dataclass(frozen=True)
class _FundProfile:
    fund: Fund
    nodes: dict[int, str]  # focus node id → name
    chains: dict[int, str]  # focus chain id → name


def _profile(fund: Fund) -> _FundProfile:
    # Reads the prefetched focus when there is one (matches_for_need loads it for all funds at once).
    return _FundProfile(
        fund=fund,
        nodes={n.pk: n.name for n in fund.focus_nodes.all()},
        chains={c.pk: c.name for c in fund.focus_chains.all()},
    )


def _places(placements: Iterable[NodePlacement]) -> list[_Place]:
    return [
        _Place(p.node_id, p.node.name, p.node.chain_id, p.node.chain.name)
        for p in sorted(placements, key=lambda p: (p.node.chain_id, p.node.position, p.node_id))
    ]


def _score(profile: _FundProfile, need: FinancingNeed, places: list[_Place]) -> Match | None:
    """The fund's fit for the need, or None where it must not be suggested."""
    fund = profile.fund
    if need.kind not in fund.kinds:
        return None  # the fund does not provide this kind of money
    reasons = [_("融资方式：%(kind)s ✓") % {"kind": kind_label(need.kind)}]

    on_nodes = [p.node_name for p in places if p.node_id in profile.nodes]
    on_chains = list(dict.fromkeys(p.chain_name for p in places if p.chain_id in profile.chains))
    if on_nodes:
        focus = FOCUS_NODE
        reasons.append(_("关注环节：%(nodes)s ✓") % {"nodes": "、".join(dict.fromkeys(on_nodes))})
    elif on_chains:
        focus = FOCUS_CHAIN
        reasons.append(_("关注产业链：%(chains)s ✓") % {"chains": "、".join(on_chains)})
    elif not profile.nodes and not profile.chains:
        focus = FOCUS_ANY
        reasons.append(_("不限行业"))
    else:
        focus = 0
        reasons.append(
            _("行业不符：企业所在环节不在基金关注范围内") if places else _("行业不符：企业尚未标注产业链环节")
        )

    if not need.stage:
        stage = STAGE_OPEN
        reasons.append(_("融资轮次未填写"))
    elif not fund.stages:
        stage = STAGE_OPEN
        reasons.append(_("投资阶段：不限"))
    elif need.stage in fund.stages:
        stage = STAGE_MATCH
        reasons.append(_("投资阶段：%(stage)s ✓") % {"stage": stage_label(need.stage)})
    else:
        stage = 0
        reasons.append(
            _("投资阶段不符（基金投：%(stages)s）")
            % {"stages": "、".join(stage_label(s) for s in fund.stages)}
        )

    if need.amount > fund.ticket_max:
        ticket = 0
        reasons.append(_("金额超出单笔投资范围（上限 %(max)s 万元）") % {"max": _fmt(fund.ticket_max)})
    elif need.amount < fund.ticket_min:
        ticket = 0
        reasons.append(_("低于单笔投资下限（%(min)s 万元）") % {"min": _fmt(fund.ticket_min)})
    else:
        ticket = TICKET_FIT
        reasons.append(
            _("单笔投资范围：%(min)s–%(max)s 万元 ✓")
            % {"min": _fmt(fund.ticket_min), "max": _fmt(fund.ticket_max)}
        )

    if focus == 0 and ticket == 0:
        return None  # fits neither the industry nor the amount
    return Match(
        fund=fund,
        need=need,
        score=focus + stage + ticket,
        focus=focus,
        stage=stage,
        ticket=ticket,
        reasons=reasons,
    )


def matches_for_need(need: FinancingNeed) -> list[Match]:
    """The funds of the enterprise's zone that fit the need, best first (then by fund name)."""
    enterprise = need.enterprise
    funds = Fund.objects.filter(zone_id=enterprise.zone_id).prefetch_related("focus_nodes", "focus_chains")
    places = _places(
        NodePlacement.objects.filter(enterprise_id=enterprise.pk).select_related("node", "node__chain")
    )
    # Kinds are a JSON list: filtered here rather than with a JSON lookup SQLite lacks; a zone has
    # tens of funds, not thousands.
    matches = [m for fund in funds if (m := _score(_profile(fund), need, places)) is not None]
    return sorted(matches, key=lambda m: (-m.score, m.fund.name, m.fund.pk))


def matches_for_fund(fund: Fund, *, limit: int | None = None) -> list[Match]:
    """The open needs of the fund's zone that fit it, best first: a fixed handful of queries however
    many needs there are (placements prefetched)."""
    if not fund.kinds:
        return []
    profile = _profile(fund)
    needs = (
        FinancingNeed.objects.filter(
            enterprise__zone_id=fund.zone_id, status=FinancingNeedStatus.OPEN, kind__in=fund.kinds
        )
        .select_related("enterprise")
        .prefetch_related(
            Prefetch(
                "enterprise__chain_placements",
                queryset=NodePlacement.objects.select_related("node", "node__chain"),
            )
        )
    )
    matches = [
        m
        for need in needs
        if (m := _score(profile, need, _places(need.enterprise.chain_placements.all()))) is not None
    ]
    matches.sort(key=lambda m: (-m.score, m.need.enterprise.name, m.need.pk))
    return matches if limit is None else matches[:limit]
