"""Delivering a benefit to an enterprise (政策兑现): the one transition table, the pushes, and the totals.

pushed (已推送: by the enterprise's steward, or by the policy's keepers to every qualifying enterprise
through a portal notice) → applied (待审核: the enterprise applied or confirmed; its steward may record
that on its behalf, marked by applied_by) → approved (已审核: by a keeper of the policy; the money is due
`disburse_within_days` working days later) → disbursed (已兑现: amount and date), or rejected (未通过:
with a reason) from applied or approved. A 免申即享 item skips the application: its deliveries start in
applied. Nothing else moves a delivery, and no state is skipped.

Every step changes the row with a conditional update on (id, status, version), so two people acting at
once never both win; writes its DeliveryEvent and its audit record in the same transaction; and tells
the enterprise's users through their inbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit, notifications
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.policies import matching
from guanjia.policies.access import may_keep, today
from guanjia.policies.models import (
    BenefitItem,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Policy,
    PushChannel,
)

PUSHED, APPLIED, APPROVED = DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED
DISBURSED, REJECTED = DeliveryStatus.DISBURSED, DeliveryStatus.REJECTED

# The only moves a delivery makes. A new delivery starts in pushed (or, 免申即享, in applied).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PUSHED: (APPLIED,),
    APPLIED: (APPROVED, REJECTED),
    APPROVED: (DISBURSED, REJECTED),
    DISBURSED: (),
    REJECTED: (),
}
OPEN_STATUSES = frozenset({PUSHED, APPLIED, APPROVED})

NOTE_MAX = 500  # application_note, reject_reason and an event's note
MONEY_LIMIT = Decimal("1000000000000")  # max_digits=14, decimal_places=2
CENT = Decimal("0.01")


# --- who may do what -----------------------------------------------------------------------------------


def is_member(user: User | None, enterprise: Enterprise) -> bool:
    """An active enterprise user of `enterprise`."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_role(Role.ENTERPRISE_USER)
        and EnterpriseMembership.objects.filter(user=user, enterprise=enterprise, is_active=True).exists()
    )


def is_steward_of(user: User | None, enterprise: Enterprise) -> bool:
    """The enterprise's current steward."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_role(Role.STEWARD)
        and enterprise.steward_id == user.pk
    )


def may_push(user: User, item: BenefitItem, enterprise: Enterprise) -> bool:
    """The enterprise's steward, or a keeper of the item's policy."""
    return is_steward_of(user, enterprise) or may_keep(user, item.policy)


def may_apply(user: User, delivery: Delivery) -> bool:
    """An enterprise user of the delivery's enterprise, or its steward on its behalf."""
    return is_member(user, delivery.enterprise) or is_steward_of(user, delivery.enterprise)


def may_review(user: User, delivery: Delivery) -> bool:
    """A keeper of the policy (its department's handlers and head): approves, rejects, disburses."""
    return may_keep(user, delivery.item.policy)


def allowed_moves(delivery: Delivery) -> tuple[str, ...]:
    return TRANSITIONS.get(delivery.status, ())


def actions_for(user: User, delivery: Delivery) -> frozenset[str]:
    """The steps `user` may take on `delivery` now: "apply", "approve", "reject", "disburse"."""
    moves = allowed_moves(delivery)
    actions: set[str] = set()
    if APPLIED in moves and may_apply(user, delivery):
        actions.add("apply")
    if may_review(user, delivery):
        if APPROVED in moves:
            actions.add("approve")
        if REJECTED in moves:
            actions.add("reject")
        if DISBURSED in moves:
            actions.add("disburse")
    return frozenset(actions)


def applied_on_behalf(delivery: Delivery) -> bool:
    """Whether the application was recorded by someone else than the enterprise's users (its steward)."""
    annotated = getattr(delivery, "on_behalf", None)
    if annotated is not None:
        return bool(annotated)
    if delivery.applied_by_id is None:
        return False
    return not EnterpriseMembership.objects.filter(
        user_id=delivery.applied_by_id, enterprise_id=delivery.enterprise_id
    ).exists()


# --- reading ------------------------------------------------------------------------------------------


def delivery_for(item: BenefitItem, enterprise: Enterprise) -> Delivery | None:
    """The delivery of `item` to `enterprise`, if there is one (there is at most one)."""
    return Delivery.objects.filter(item=item, enterprise=enterprise).first()


def overdue_condition(on: date | None = None) -> Q:
    """Approved, and the day the money was due has passed."""
    return Q(status=APPROVED, disburse_due__lt=on or today())


def with_overdue(deliveries: QuerySet[Delivery], on: date | None = None) -> QuerySet[Delivery]:
    """`deliveries` annotated with `is_overdue`."""
    return deliveries.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(on), output_field=BooleanField())
    )


def with_on_behalf(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """`deliveries` annotated with `on_behalf` (applied_on_behalf() in the same query, for lists)."""
    members = EnterpriseMembership.objects.filter(
        user_id=OuterRef("applied_by_id"), enterprise_id=OuterRef("enterprise_id")
    )
    return deliveries.annotate(
        on_behalf=ExpressionWrapper(
            Q(applied_by__isnull=False) & ~Exists(members), output_field=BooleanField()
        )
    )


def is_overdue(delivery: Delivery, on: date | None = None) -> bool:
    due = delivery.disburse_due
    return delivery.status == APPROVED and due is not None and due < (on or today())


def filter_deliveries(
    deliveries: QuerySet[Delivery],
    *,
    status: str = "",
    policy: Policy | int | None = None,
    item: BenefitItem | int | None = None,
    zone: OrgUnit | int | None = None,
    enterprise: Enterprise | int | None = None,
    overdue: bool | None = None,
    on: date | None = None,
) -> QuerySet[Delivery]:
    """The filters every list of deliveries offers (page, export, API)."""
    if status:
        deliveries = deliveries.filter(status=status)
    if policy is not None:
        deliveries = deliveries.filter(item__policy=policy)
    if item is not None:
        deliveries = deliveries.filter(item=item)
    if zone is not None:
        deliveries = deliveries.filter(zone=zone)
    if enterprise is not None:
        deliveries = deliveries.filter(enterprise=enterprise)
    if overdue is True:
        deliveries = deliveries.filter(overdue_condition(on))
    elif overdue is False:
        deliveries = deliveries.exclude(overdue_condition(on))
    return deliveries


@dataclass
class TotalsRow:
    """One line of the totals: a policy or a zone, its deliveries by status, money paid, overdue."""

    key: int | None
    label: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    disbursed_amount: Decimal = Decimal("0")
    overdue: int = 0

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        return [(status, self.counts.get(status, 0)) for status in DeliveryStatus.values]


@dataclass
class Totals:
    by_policy: list[TotalsRow]
    by_zone: list[TotalsRow]
    overall: TotalsRow
    on: date


def _aggregates(day: date) -> dict[str, Any]:
    counts = {f"n_{status}": Count("pk", filter=Q(status=status)) for status in DeliveryStatus.values}
    return {
        **counts,
        "n_total": Count("pk"),
        "paid": Sum("amount", filter=Q(status=DISBURSED)),
        "n_overdue": Count("pk", filter=overdue_condition(day)),
    }


def _row(values: Mapping[str, Any], key: int | None, label: str) -> TotalsRow:
    return TotalsRow(
        key=key,
        label=label,
        counts={status: values[f"n_{status}"] for status in DeliveryStatus.values},
        total=values["n_total"],
        # SQLite's sum drops the decimal places ("30"): two places on every database.
        disbursed_amount=Decimal(str(values["paid"] or 0)).quantize(CENT),
        overdue=values["n_overdue"],
    )


def totals(deliveries: QuerySet[Delivery], *, on: date | None = None) -> Totals:
    """Counts by status, money disbursed and overdue disbursements of `deliveries` (already scoped to the
    reader, e.g. Delivery.objects.visible_to(user)), per policy and per zone, counted by the database."""
    day = on or today()
    plain = deliveries.order_by()
    aggregates = _aggregates(day)
    by_policy = [
        _row(values, values["item__policy_id"], values["item__policy__title"])
        for values in plain.values("item__policy_id", "item__policy__title")
        .annotate(**aggregates)
        .order_by("item__policy__title", "item__policy_id")
    ]
    by_zone = [
        _row(values, values["zone_id"], values["zone__name"])
        for values in plain.values("zone_id", "zone__name")
        .annotate(**aggregates)
        .order_by("zone__name", "zone_id")
    ]
    overall = _row(plain.aggregate(**aggregates), None, _("合计"))
    return Totals(by_policy=by_policy, by_zone=by_zone, overall=overall, on=day)


# --- checks -------------------------------------------------------------------------------------------


def _label(status: str) -> str:
    return str(DeliveryStatus(status).label) if status in DeliveryStatus.values else status


def _check_move(delivery: Delivery, to: str) -> None:
    if to not in allowed_moves(delivery):
        raise ServiceError(
            _("该兑现事项当前为“%(current)s”，不能改为“%(wanted)s”")
            % {"current": _label(delivery.status), "wanted": _label(to)}
        )


def _check_version(delivery: Delivery, version: int | None) -> None:
    if version is not None and version != delivery.version:
        raise Conflict(_("该兑现记录刚被他人处理，请刷新后重试"))


def _clean_text(value: str | None, *, label: str, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(text) > NOTE_MAX:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": NOTE_MAX})
    return text


def _check_in_force(policy: Policy, day: date) -> None:
    if policy.effective_on > day:
        raise ServiceError(
            _("政策“%(policy)s”%(day)s 起生效，生效前不能推送")
            % {"policy": policy.title, "day": policy.effective_on.isoformat()}
        )
    if policy.expires_on is not None and policy.expires_on < day:
        raise ServiceError(
            _("政策“%(policy)s”已于 %(day)s 失效，不能再推送")
            % {"policy": policy.title, "day": policy.expires_on.isoformat()}
        )


def _check_qualifies(item: BenefitItem, enterprise: Enterprise, day: date) -> None:
    # matching.qualifies holds the policy's coverage (and the item's zones) as well as its conditions.
    if not matching.qualifies(item, enterprise, on=day):
        raise ServiceError(
            _("企业“%(enterprise)s”不符合“%(item)s”的条件，不能推送")
            % {"enterprise": enterprise.name, "item": item.name}
        )


def _already(enterprise: Enterprise, item: BenefitItem, existing: Delivery) -> ServiceError:
    return ServiceError(
        _("企业“%(enterprise)s”已有“%(item)s”的兑现记录（%(status)s），不能重复推送")
        % {"enterprise": enterprise.name, "item": item.name, "status": _label(existing.status)}
    )


def money(value: Decimal) -> str:
    """An amount of 万元 as people write it: 50, 12.5, 0.01."""
    return f"{value.normalize():f}"


def _clean_amount(amount: Any, item: BenefitItem) -> Decimal:
    if amount is None or amount == "":
        raise ServiceError(_("兑现金额：请填写"))
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise ServiceError(_("兑现金额：“%(value)s”不是有效的金额") % {"value": amount}) from exc
    if not value.is_finite():
        raise ServiceError(_("兑现金额：“%(value)s”不是有效的金额") % {"value": amount})
    if value < 0:
        raise ServiceError(_("兑现金额：不能为负数"))
    if value != value.quantize(CENT):
        raise ServiceError(_("兑现金额：最多两位小数（万元）"))
    if value >= MONEY_LIMIT:
        raise ServiceError(_("兑现金额：金额过大"))
    if item.max_amount is not None and value > item.max_amount:
        raise ServiceError(
            _("兑现金额：不能超过该事项的最高金额 %(max)s 万元") % {"max": money(item.max_amount)}
        )
    return value


def _clean_disbursed_on(disbursed_on: date | None, delivery: Delivery, day: date) -> date:
    if disbursed_on is None:
        raise ServiceError(_("兑现日期：请填写"))
    if disbursed_on > day:
        raise ServiceError(_("兑现日期：不能晚于今天（%(today)s）") % {"today": day.isoformat()})
    approved_on = approval_day(delivery)
    if approved_on is not None and disbursed_on < approved_on:
        raise ServiceError(_("兑现日期：不能早于审核通过日期（%(day)s）") % {"day": approved_on.isoformat()})
    return disbursed_on


def approval_day(delivery: Delivery) -> date | None:
    return timezone.localdate(delivery.approved_at) if delivery.approved_at else None


def disburse_due_after(day: date, workdays: int) -> date:
    """The day the money is due: `workdays` working days after the approval day (0: that same day)."""
    return add_workdays(day, workdays) if workdays > 0 else day


# --- notifications ------------------------------------------------------------------------------------


def _portal_link() -> str:
    return reverse("policies:portal")


def _members_by_enterprise(enterprise_ids: Iterable[int]) -> dict[int, list[User]]:
    members: dict[int, list[User]] = defaultdict(list)
    for membership in EnterpriseMembership.objects.filter(
        enterprise_id__in=list(enterprise_ids), is_active=True, user__is_active=True
    ).select_related("user"):
        members[membership.enterprise_id].append(membership.user)
    return members


def _tell_enterprise(delivery: Delivery, title: str) -> None:
    users = _members_by_enterprise([delivery.enterprise_id]).get(delivery.enterprise_id, [])
    notifications.notify(users, title=title, link=_portal_link())


# --- pushing ------------------------------------------------------------------------------------------


def _push_channel(by: User, item: BenefitItem, enterprise: Enterprise) -> str:
    if is_steward_of(by, enterprise):
        return PushChannel.STEWARD
    if may_keep(by, item.policy):
        return PushChannel.PORTAL
    raise NotAllowed(_("只有该企业的服务管家或该政策承办部门的工作人员可以推送"))


def push(item: BenefitItem, enterprise: Enterprise, *, by: User) -> Delivery:
    """Push `item` to one enterprise it qualifies for: by its steward (管家推送) or by a keeper of the
    policy (门户通知). A 免申即享 item needs no application: it goes straight to review (applied)."""
    channel = _push_channel(by, item, enterprise)
    day = today()
    _check_in_force(item.policy, day)
    _check_qualifies(item, enterprise, day)
    auto = item.auto_grant
    status = APPLIED if auto else PUSHED
    now = timezone.now()
    try:
        with transaction.atomic():
            # Read inside the transaction: on SQLite (IMMEDIATE) it already holds the write lock; on
            # PostgreSQL the unique constraint settles a race (IntegrityError below).
            existing = delivery_for(item, enterprise)
            if existing is not None:
                raise _already(enterprise, item, existing)
            delivery = Delivery.objects.create(
                item=item,
                enterprise=enterprise,
                zone_id=enterprise.zone_id,
                status=status,
                channel=channel,
                pushed_by=by,
                pushed_at=now,
                applied_at=now if auto else None,
                updated_at=now,
            )
            note = str(PushChannel(channel).label)
            if auto:
                note = _("%(channel)s；免申即享，无需申请") % {"channel": note}
            DeliveryEvent.objects.create(
                delivery=delivery, from_status="", to_status=status, by=by, at=now, note=note
            )
            audit.record(
                by,
                "policies.delivery_push",
                delivery,
                summary=f"推送政策兑现事项“{item.name}”给“{enterprise.name}”（{note}）",
                detail={"item": item.pk, "enterprise": enterprise.pk, "channel": channel, "status": status},
            )
            _tell_enterprise(delivery, _push_title(item, auto))
    except IntegrityError:
        existing = delivery_for(item, enterprise)
        if existing is None:
            raise
        raise _already(enterprise, item, existing) from None
    return delivery


def _push_title(item: BenefitItem, auto: bool) -> str:
    if auto:
        return _("免申即享：贵企业符合政策“%(policy)s”的“%(item)s”，无需申请，已进入兑现审核") % {
            "policy": item.policy.title,
            "item": item.name,
        }
    return _("政策推送：贵企业符合政策“%(policy)s”的“%(item)s”，请在“政策直达”中申请") % {
        "policy": item.policy.title,
        "item": item.name,
    }


def _undelivered(item: BenefitItem, day: date) -> QuerySet[Enterprise]:
    return matching.qualifying(item, on=day).exclude(
        pk__in=Delivery.objects.filter(item=item).values("enterprise_id")
    )


def _create_many(item: BenefitItem, *, by: User, channel: str, status: str, verb: str) -> int:
    """A delivery of `item` in `status` for every qualifying enterprise that has none yet: one insert per
    table, one notification per enterprise. Returns how many were created."""
    day = today()
    now = timezone.now()
    auto = status == APPLIED
    with transaction.atomic():
        enterprises = list(_undelivered(item, day).only("pk", "name", "zone_id"))
        if not enterprises:
            return 0
        # A steward pushing one of them meanwhile is skipped, not an error (the unique constraint).
        Delivery.objects.bulk_create(
            [
                Delivery(
                    item=item,
                    enterprise=enterprise,
                    zone_id=enterprise.zone_id,
                    status=status,
                    channel=channel,
                    pushed_by=by,
                    pushed_at=now,
                    applied_at=now if auto else None,
                    updated_at=now,
                )
                for enterprise in enterprises
            ],
            ignore_conflicts=True,
        )
        # Ours are those written at this very moment by this push (bulk_create with ignore_conflicts
        # does not return the ids on every database).
        created = list(
            Delivery.objects.filter(item=item, pushed_at=now, pushed_by=by, channel=channel).select_related(
                "enterprise"
            )
        )
        label = str(PushChannel(channel).label)
        DeliveryEvent.objects.bulk_create(
            [
                DeliveryEvent(delivery=d, from_status="", to_status=status, by=by, at=now, note=label)
                for d in created
            ]
        )
        AuditRecord.objects.bulk_create(
            [
                audit.build(
                    by,
                    verb,
                    d,
                    summary=f"{label}：政策兑现事项“{item.name}”给“{d.enterprise.name}”",
                    detail={
                        "item": item.pk,
                        "enterprise": d.enterprise_id,
                        "channel": channel,
                        "status": status,
                    },
                )
                for d in created
            ]
        )
        members = _members_by_enterprise(d.enterprise_id for d in created)
        title = _push_title(item, auto)
        notifications.notify_many(
            [notifications.Notice(members[d.enterprise_id], title, _portal_link()) for d in created]
        )
    return len(created)


def push_all(item: BenefitItem, *, by: User) -> int:
    """A keeper of the policy notifies every qualifying enterprise not yet reached (门户通知)."""
    if not may_keep(by, item.policy):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以批量推送"))
    _check_in_force(item.policy, today())
    return _create_many(item, by=by, channel=PushChannel.PORTAL, status=PUSHED, verb="policies.delivery_push")


def auto_grant(item: BenefitItem, *, by: User) -> int:
    """免申即享: every qualifying enterprise not yet reached goes straight to review, without applying."""
    if not may_keep(by, item.policy):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以发起免申即享"))
    if not item.auto_grant:
        raise ServiceError(_("兑现事项“%(item)s”未标记为免申即享") % {"item": item.name})
    _check_in_force(item.policy, today())
    return _create_many(
        item, by=by, channel=PushChannel.AUTO, status=APPLIED, verb="policies.delivery_auto_grant"
    )


# --- the steps ----------------------------------------------------------------------------------------


def _move(delivery: Delivery, *, to: str, by: User, note: str = "", **fields: Any) -> None:
    """Move `delivery` to `to` if nobody moved it since it was read; write its event. Inside a transaction."""
    now = timezone.now()
    moved = Delivery.objects.filter(pk=delivery.pk, version=delivery.version, status=delivery.status).update(
        status=to, updated_at=now, version=F("version") + 1, **fields
    )
    if moved != 1:
        raise Conflict(_("该兑现记录刚被他人处理，请刷新后重试"))
    DeliveryEvent.objects.create(
        delivery=delivery, from_status=delivery.status, to_status=to, by=by, at=now, note=note[:NOTE_MAX]
    )
    delivery.status, delivery.updated_at, delivery.version = to, now, delivery.version + 1
    for name, value in fields.items():
        setattr(delivery, name, value)


def _describe(delivery: Delivery) -> str:
    return f"“{delivery.item.name}”（{delivery.enterprise.name}）"


def apply(delivery: Delivery, *, by: User, note: str = "", version: int | None = None) -> Delivery:
    """The enterprise applies for (or confirms) a pushed benefit; its steward may record it on its behalf."""
    member = is_member(by, delivery.enterprise)
    if not member and not is_steward_of(by, delivery.enterprise):
        raise NotAllowed(_("只有该企业的用户或其服务管家可以申请"))
    _check_version(delivery, version)
    _check_move(delivery, APPLIED)
    text = _clean_text(note, label=_("申请说明"))
    event_note = text if member else _("服务管家代企业申请") + (f"：{text}" if text else "")
    with transaction.atomic():
        now = timezone.now()
        _move(
            delivery, to=APPLIED, by=by, note=event_note, applied_at=now, applied_by=by, application_note=text
        )
        audit.record(
            by,
            "policies.delivery_apply",
            delivery,
            summary=f"申请政策兑现{_describe(delivery)}" + ("" if member else "（服务管家代为申请）"),
            detail={"from": PUSHED, "to": APPLIED, "on_behalf": not member},
        )
    return delivery


def approve(delivery: Delivery, *, by: User, note: str = "", version: int | None = None) -> Delivery:
    """A keeper approves an application; the money is due `disburse_within_days` working days later."""
    if not may_review(by, delivery):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以审核"))
    _check_version(delivery, version)
    _check_move(delivery, APPROVED)
    text = _clean_text(note, label=_("审核意见"))
    now = timezone.now()
    due = disburse_due_after(timezone.localdate(now), delivery.item.disburse_within_days)
    with transaction.atomic():
        _move(delivery, to=APPROVED, by=by, note=text, approved_at=now, approved_by=by, disburse_due=due)
        audit.record(
            by,
            "policies.delivery_approve",
            delivery,
            summary=f"审核通过政策兑现{_describe(delivery)}，应于 {due.isoformat()} 前兑现",
            detail={"from": APPLIED, "to": APPROVED, "disburse_due": due.isoformat()},
        )
        _tell_enterprise(
            delivery,
            _("政策兑现审核通过：“%(item)s”，预计 %(due)s 前兑现") % {"item": delivery.item.name, "due": due},
        )
    return delivery


def reject(delivery: Delivery, *, by: User, reason: str, version: int | None = None) -> Delivery:
    """A keeper turns down an application or an approved delivery, with the reason."""
    if not may_review(by, delivery):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以审核"))
    _check_version(delivery, version)
    _check_move(delivery, REJECTED)
    text = _clean_text(reason, label=_("未通过原因"), required=True)
    from_status = delivery.status
    with transaction.atomic():
        _move(delivery, to=REJECTED, by=by, note=text, rejected_at=timezone.now(), reject_reason=text)
        audit.record(
            by,
            "policies.delivery_reject",
            delivery,
            summary=f"政策兑现未通过{_describe(delivery)}：{text}",
            detail={"from": from_status, "to": REJECTED, "reason": text},
        )
        _tell_enterprise(delivery, _("政策兑现未通过：“%(item)s”") % {"item": delivery.item.name})
    return delivery


def disburse(
    delivery: Delivery,
    *,
    by: User,
    amount: Any,
    disbursed_on: date | None,
    note: str = "",
    version: int | None = None,
) -> Delivery:
    """A keeper records the money paid (兑现): amount in 万元 (0 ≤ amount ≤ the item's maximum) and the day
    (not in the future, not before the approval)."""
    if not may_review(by, delivery):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以登记兑现"))
    _check_version(delivery, version)
    _check_move(delivery, DISBURSED)
    value = _clean_amount(amount, delivery.item)
    day = _clean_disbursed_on(disbursed_on, delivery, today())
    text = _clean_text(note, label=_("说明"))
    with transaction.atomic():
        _move(delivery, to=DISBURSED, by=by, note=text, amount=value, disbursed_on=day)
        audit.record(
            by,
            "policies.delivery_disburse",
            delivery,
            summary=f"政策兑现{_describe(delivery)}：{value} 万元（{day.isoformat()}）",
            detail={"from": APPROVED, "to": DISBURSED, "amount": str(value), "disbursed_on": day.isoformat()},
        )
        _tell_enterprise(
            delivery,
            _("政策已兑现：“%(item)s” %(amount)s 万元") % {"item": delivery.item.name, "amount": value},
        )
    return delivery
