"""What the policies app puts on the home page (政策直达): a steward's benefits still to push and those
waiting for the enterprise; a keeper's deliveries to review and to pay, overdue ones in red; a leader's
or supervisor's zone figures; an enterprise user's benefits and its deliveries in hand."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.policies import matching
from guanjia.policies.access import keeps_some_policy, today
from guanjia.policies.delivery import overdue_condition
from guanjia.policies.models import Delivery, DeliveryStatus, Policy

# Who sees the zone's figures (the dispatchers oversee deliveries too, but their home is the queue).
ZONE_READERS = (Role.LEADER, Role.SUPERVISOR)


def sections(user: User) -> list[HomeSection]:
    if not user.is_authenticated or not user.is_active or user.is_admin_account:
        return []
    found: list[HomeSection] = []
    if user.has_role(Role.ENTERPRISE_USER):
        found.append(_enterprise_section(user))
    if user.has_role(Role.STEWARD):
        found.append(_steward_section(user))
    if keeps_some_policy(user) and Policy.objects.filter(department_id=user.unit_id).exists():
        found.append(_keeper_section(user))
    if user.has_any_role(ZONE_READERS) and user.zone_ids():
        found.append(_zone_section(user))
    return found


def _enterprise_section(user: User) -> HomeSection:
    enterprises = Enterprise.objects.filter(
        pk__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")
    )
    benefits = sum(matching.benefits_for(enterprise).count() for enterprise in enterprises)
    mine = Delivery.objects.visible_to(user).aggregate(
        to_apply=Count("pk", filter=Q(status=DeliveryStatus.PUSHED)),
        in_hand=Count("pk", filter=Q(status__in=[DeliveryStatus.APPLIED, DeliveryStatus.APPROVED])),
    )
    return counts_section(
        _("政策直达"),
        [
            (_("可享政策"), benefits, False),
            (_("待申请"), mine["to_apply"], False),
            (_("办理中"), mine["in_hand"], False),
        ],
        "policies:portal",
        _("查看可享政策"),
        order=7,
    )


def _steward_section(user: User) -> HomeSection:
    worklist = matching.steward_worklist(user)
    to_push = sum(len(worklist.pending(enterprise)) for enterprise in worklist.enterprises)
    waiting = (
        Delivery.objects.visible_to(user)
        .filter(enterprise__steward=user, status=DeliveryStatus.PUSHED)
        .count()
    )
    return counts_section(
        _("政策直达"),
        [(_("可推送的政策"), to_push, False), (_("待企业申请"), waiting, False)],
        "policies:steward-benefits",
        _("查看服务企业可享政策"),
        order=14,
    )


def _keeper_section(user: User) -> HomeSection:
    mine = (
        Delivery.objects.visible_to(user)
        .filter(item__policy__department_id=user.unit_id)
        .aggregate(
            to_review=Count("pk", filter=Q(status=DeliveryStatus.APPLIED)),
            to_pay=Count("pk", filter=Q(status=DeliveryStatus.APPROVED)),
            overdue=Count("pk", filter=overdue_condition(today())),
        )
    )
    return counts_section(
        _("政策兑现"),
        [
            (_("待审核"), mine["to_review"], False),
            (_("待兑现"), mine["to_pay"], False),
            (_("逾期未兑现"), mine["overdue"], True),
        ],
        "policies:deliveries",
        _("进入兑现台账"),
        order=8,
    )


def _zone_section(user: User) -> HomeSection:
    figures = (
        Delivery.objects.visible_to(user)
        .filter(zone_id__in=user.zone_ids())
        .aggregate(
            to_review=Count("pk", filter=Q(status=DeliveryStatus.APPLIED)),
            to_pay=Count("pk", filter=Q(status=DeliveryStatus.APPROVED)),
            overdue=Count("pk", filter=overdue_condition(today())),
            paid=Sum("amount", filter=Q(status=DeliveryStatus.DISBURSED)),
        )
    )
    return counts_section(
        _("政策兑现概况"),
        [
            (_("待审核"), figures["to_review"], False),
            (_("待兑现"), figures["to_pay"], False),
            (_("逾期未兑现"), figures["overdue"], True),
            (_("已兑现金额（万元）"), round(figures["paid"] or 0), False),
        ],
        "policies:totals",
        _("查看兑现统计"),
        order=25,
    )
