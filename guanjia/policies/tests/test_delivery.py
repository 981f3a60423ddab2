"""The delivery service (政策兑现): pushes, the one transition table, amounts and dates, who may not, and
the totals.

Scene: a policy of zone A's 市场监管局 (market_a, kept by handler_a) with one benefit item every enterprise
of zone A qualifies for (ent_a1 of steward_a, ent_a2 of steward_a2); zone B's ent_b1 is outside its
coverage. The pages, the API and the races have their own modules; they import the builders below.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, Notification, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.policies import delivery
from guanjia.policies.models import (
    BenefitItem,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Policy,
    PushChannel,
)
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import Cast, make_user

BEIJING = ZoneInfo("Asia/Shanghai")
PUSHED, APPLIED, APPROVED = DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED
DISBURSED, REJECTED = DeliveryStatus.DISBURSED, DeliveryStatus.REJECTED


# --- builders the other delivery test modules import --------------------------------------------------------


def keepers_policy(cast: Cast, **fields) -> Policy:
    """A policy of zone A's 市场监管局: handler_a keeps it; it covers zone A only."""
    return make_policy(cast.market_a, created_by=cast.handler_a, **fields)


def subsidy(policy: Policy, **fields) -> BenefitItem:
    """An item without conditions (every covered enterprise qualifies): at most 50 万元, paid within 5
    working days of approval."""
    fields.setdefault("max_amount", Decimal("50"))
    fields.setdefault("disburse_within_days", 5)
    return make_item(policy, **fields)


def walked(cast: Cast, item: BenefitItem, to: str, enterprise: Enterprise | None = None) -> Delivery:
    """A delivery of `item` to ent_a1 (or `enterprise`), walked through the services to the state `to`."""
    enterprise = enterprise or cast.ent_a1
    d = delivery.push(item, enterprise, by=cast.handler_a)
    if to == PUSHED:
        return d
    applicant = cast.ent_user_a1 if enterprise == cast.ent_a1 else enterprise.steward
    assert applicant is not None
    delivery.apply(d, by=applicant)
    if to == APPLIED:
        return d
    if to == REJECTED:
        return delivery.reject(d, by=cast.handler_a, reason="材料不全")
    delivery.approve(d, by=cast.handler_a)
    if to == APPROVED:
        return d
    return delivery.disburse(d, by=cast.handler_a, amount=Decimal("30"), disbursed_on=delivery.today())


def other_department_handler(cast: Cast) -> User:
    """A handler of zone A's enterprise service centre: not a keeper of market_a's policies."""
    return make_user("handler_centre", cast.centre_a, Role.HANDLER)


def other_enterprise_user(cast: Cast) -> User:
    """The user of ent_a2, another enterprise of the same zone."""
    user = make_user("ent_user_a2", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=user, enterprise=cast.ent_a2)
    return user


@pytest.fixture
def policy(cast):
    return keepers_policy(cast)


@pytest.fixture
def item(policy):
    return subsidy(policy)


def fresh(d: Delivery) -> Delivery:
    return Delivery.objects.get(pk=d.pk)


# --- pushing ------------------------------------------------------------------------------------------


def test_the_steward_pushes_a_benefit_and_the_enterprise_is_told(cast, item):
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)

    d = fresh(d)
    assert (d.status, d.channel, d.pushed_by, d.zone) == (
        PUSHED,
        PushChannel.STEWARD,
        cast.steward_a,
        cast.zone_a,
    )
    assert d.version == 1
    event = DeliveryEvent.objects.get(delivery=d)
    assert (event.from_status, event.to_status, event.by) == ("", PUSHED, cast.steward_a)
    assert AuditRecord.objects.filter(action="policies.delivery_push", object_id=str(d.pk)).exists()
    note = Notification.objects.get(user=cast.ent_user_a1)
    assert note.link == "/portal/policies/"
    assert item.name in note.title
    assert delivery.delivery_for(item, cast.ent_a1) == d


def test_a_keeper_pushes_through_the_portal_channel(cast, item):
    d = delivery.push(item, cast.ent_a2, by=cast.handler_a)
    assert d.channel == PushChannel.PORTAL


@pytest.mark.parametrize("who", ["steward_a2", "steward_b", "leader_a", "dispatcher_a", "promoter_a"])
def test_only_the_enterprise_s_steward_or_a_keeper_pushes(cast, item, who):
    with pytest.raises(NotAllowed):
        delivery.push(item, cast.ent_a1, by=getattr(cast, who))
    assert not Delivery.objects.exists()


def test_a_handler_of_another_department_may_not_push(cast, item):
    with pytest.raises(NotAllowed):
        delivery.push(item, cast.ent_a1, by=other_department_handler(cast))


def test_an_enterprise_that_does_not_qualify_is_not_pushed_to(cast, policy):
    chemicals = subsidy(policy, divisions=["26"])  # ent_a2's division, not ent_a1's (39)
    with pytest.raises(ServiceError, match="不符合"):
        delivery.push(chemicals, cast.ent_a1, by=cast.steward_a)
    assert delivery.push(chemicals, cast.ent_a2, by=cast.steward_a2).status == PUSHED


def test_an_enterprise_outside_the_coverage_is_not_pushed_to(cast, item):
    with pytest.raises(ServiceError, match="不符合"):
        delivery.push(item, cast.ent_b1, by=cast.handler_a)


@pytest.mark.parametrize(
    ("effective_on", "expires_on", "words"),
    [(date(2099, 1, 1), None, "生效前"), (date(2020, 1, 1), date(2021, 1, 1), "已于 2021-01-01 失效")],
)
def test_a_policy_not_in_force_is_not_pushed(cast, effective_on, expires_on, words):
    item = subsidy(keepers_policy(cast, effective_on=effective_on, expires_on=expires_on))
    with pytest.raises(ServiceError, match=words):
        delivery.push(item, cast.ent_a1, by=cast.steward_a)
    with pytest.raises(ServiceError, match=words):
        delivery.push_all(item, by=cast.handler_a)


def test_a_second_push_of_the_same_benefit_is_refused_clearly(cast, item):
    delivery.push(item, cast.ent_a1, by=cast.steward_a)
    with pytest.raises(ServiceError, match="已有“研发费用补贴”的兑现记录（已推送），不能重复推送"):
        delivery.push(item, cast.ent_a1, by=cast.handler_a)
    assert Delivery.objects.count() == 1


def test_push_all_reaches_every_qualifying_enterprise_not_yet_reached_once(cast, item):
    delivery.push(item, cast.ent_a1, by=cast.steward_a)
    reader = other_enterprise_user(cast)

    assert delivery.push_all(item, by=cast.handler_a) == 1  # ent_a2; ent_a1 had it, ent_b1 is zone B's

    d = Delivery.objects.get(enterprise=cast.ent_a2)
    assert (d.status, d.channel, d.pushed_by) == (PUSHED, PushChannel.PORTAL, cast.handler_a)
    assert DeliveryEvent.objects.filter(delivery=d, to_status=PUSHED).count() == 1
    assert AuditRecord.objects.filter(action="policies.delivery_push", object_id=str(d.pk)).count() == 1
    assert Notification.objects.filter(user=reader, link="/portal/policies/").count() == 1
    assert not Delivery.objects.filter(enterprise=cast.ent_b1).exists()
    assert delivery.push_all(item, by=cast.handler_a) == 0


@pytest.mark.parametrize("who", ["steward_a", "leader_a"])
def test_only_a_keeper_pushes_to_all(cast, item, who):
    with pytest.raises(NotAllowed):
        delivery.push_all(item, by=getattr(cast, who))
    with pytest.raises(NotAllowed):
        delivery.push_all(item, by=other_department_handler(cast))


def test_auto_grant_puts_every_qualifying_enterprise_straight_into_review(cast, policy):
    item = subsidy(policy, auto_grant=True)

    assert delivery.auto_grant(item, by=cast.handler_a) == 2

    for d in Delivery.objects.filter(item=item):
        assert (d.status, d.channel, d.applied_by) == (APPLIED, PushChannel.AUTO, None)
        assert d.applied_at is not None
    assert Notification.objects.filter(user=cast.ent_user_a1, title__contains="免申即享").count() == 1
    assert delivery.auto_grant(item, by=cast.handler_a) == 0


def test_auto_grant_is_only_for_items_marked_so_and_only_for_keepers(cast, item, policy):
    with pytest.raises(ServiceError, match="未标记为免申即享"):
        delivery.auto_grant(item, by=cast.handler_a)
    with pytest.raises(NotAllowed):
        delivery.auto_grant(subsidy(policy, auto_grant=True), by=cast.steward_a)
    assert not Delivery.objects.exists()


def test_pushing_an_auto_grant_item_needs_no_application(cast, policy):
    item = subsidy(policy, auto_grant=True)
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    assert (d.status, d.channel) == (APPLIED, PushChannel.STEWARD)
    with pytest.raises(ServiceError, match="当前为“待审核”，不能改为“待审核”"):
        delivery.apply(d, by=cast.ent_user_a1)


# --- the transition table -------------------------------------------------------------------------------


def test_the_whole_way_from_push_to_disbursement(cast, item):
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    delivery.apply(d, by=cast.ent_user_a1, note="已准备材料")
    delivery.approve(d, by=cast.handler_a, note="材料齐全")
    delivery.disburse(d, by=cast.handler_a, amount=Decimal("50"), disbursed_on=delivery.today())

    d = fresh(d)
    assert d.status == DISBURSED
    assert (d.amount, d.disbursed_on, d.application_note) == (Decimal("50"), delivery.today(), "已准备材料")
    assert d.version == 4
    steps = list(DeliveryEvent.objects.filter(delivery=d).values_list("from_status", "to_status"))
    assert steps == [("", PUSHED), (PUSHED, APPLIED), (APPLIED, APPROVED), (APPROVED, DISBURSED)]
    verbs = set(AuditRecord.objects.filter(object_id=str(d.pk)).values_list("action", flat=True))
    assert verbs >= {
        "policies.delivery_push",
        "policies.delivery_apply",
        "policies.delivery_approve",
        "policies.delivery_disburse",
    }


STEPS = {
    APPLIED: lambda cast, d: delivery.apply(d, by=cast.ent_user_a1),
    APPROVED: lambda cast, d: delivery.approve(d, by=cast.handler_a),
    REJECTED: lambda cast, d: delivery.reject(d, by=cast.handler_a, reason="不符合条件"),
    DISBURSED: lambda cast, d: delivery.disburse(
        d, by=cast.handler_a, amount=Decimal("1"), disbursed_on=delivery.today()
    ),
}


@pytest.mark.parametrize("start", DeliveryStatus.values)
@pytest.mark.parametrize("to", [APPLIED, APPROVED, REJECTED, DISBURSED])
def test_every_move_in_the_table_is_allowed_and_every_other_refused(cast, item, start, to):
    d = walked(cast, item, start)
    allowed = to in delivery.TRANSITIONS[start]
    if allowed:
        STEPS[to](cast, d)
        assert fresh(d).status == to
        return
    before = fresh(d).version
    current, wanted = DeliveryStatus(start).label, DeliveryStatus(to).label
    with pytest.raises(ServiceError, match=f"当前为“{current}”，不能改为“{wanted}”"):
        STEPS[to](cast, d)
    assert (fresh(d).status, fresh(d).version) == (start, before)


def test_the_table_allows_no_skip():
    table = delivery.TRANSITIONS
    assert table[PUSHED] == (APPLIED,)
    assert set(table[APPLIED]) == {APPROVED, REJECTED}
    assert set(table[APPROVED]) == {DISBURSED, REJECTED}
    assert table[DISBURSED] == table[REJECTED] == ()


def test_the_steward_applies_on_the_enterprise_s_behalf_marked_as_such(cast, item):
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    delivery.apply(d, by=cast.steward_a)
    d = fresh(d)
    assert (d.status, d.applied_by) == (APPLIED, cast.steward_a)
    assert delivery.applied_on_behalf(d)
    assert "服务管家代企业申请" in DeliveryEvent.objects.get(delivery=d, to_status=APPLIED).note
    record = AuditRecord.objects.get(action="policies.delivery_apply", object_id=str(d.pk))
    assert record.detail["on_behalf"] is True


def test_the_enterprise_s_own_application_is_not_on_behalf(cast, item):
    d = walked(cast, item, APPLIED)
    assert fresh(d).applied_by == cast.ent_user_a1
    assert not delivery.applied_on_behalf(fresh(d))


# --- who may not --------------------------------------------------------------------------------------------


def test_the_user_of_another_enterprise_and_another_steward_may_not_apply(cast, item):
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    for who in (other_enterprise_user(cast), cast.steward_a2, cast.steward_b, cast.handler_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            delivery.apply(d, by=who)
    assert fresh(d).status == PUSHED


@pytest.mark.parametrize("step", [APPROVED, REJECTED])
def test_only_the_policy_s_keepers_review(cast, item, step):
    d = walked(cast, item, APPLIED)
    for who in (
        other_department_handler(cast),
        cast.steward_a,
        cast.ent_user_a1,
        cast.leader_a,
        cast.supervisor_a,
    ):
        with pytest.raises(NotAllowed):
            if step == APPROVED:
                delivery.approve(d, by=who)
            else:
                delivery.reject(d, by=who, reason="不符合")
    assert fresh(d).status == APPLIED


def test_only_the_policy_s_keepers_disburse(cast, item):
    d = walked(cast, item, APPROVED)
    for who in (other_department_handler(cast), cast.steward_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            delivery.disburse(d, by=who, amount=Decimal("1"), disbursed_on=delivery.today())
    assert fresh(d).status == APPROVED


def test_the_department_head_is_a_keeper_too(cast, item):
    head = make_user("head_market_a", cast.market_a, Role.DEPARTMENT_HEAD)
    d = walked(cast, item, APPLIED)
    delivery.approve(d, by=head)
    assert fresh(d).approved_by == head


# --- amounts, dates, reasons, versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (Decimal("-0.01"), "不能为负数"),
        (Decimal("-5"), "不能为负数"),
        ("-1", "不能为负数"),
        (Decimal("50.01"), "不能超过该事项的最高金额 50 万元"),
        (Decimal("1.005"), "最多两位小数"),
        ("abc", "不是有效的金额"),
        ("NaN", "不是有效的金额"),
        (None, "请填写"),
    ],
)
def test_a_wrong_amount_is_refused(cast, item, amount, words):
    d = walked(cast, item, APPROVED)
    with pytest.raises(ServiceError, match=words):
        delivery.disburse(d, by=cast.handler_a, amount=amount, disbursed_on=delivery.today())
    assert fresh(d).status == APPROVED


def test_the_database_refuses_a_negative_amount_too(cast, item):
    d = walked(cast, item, DISBURSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(pk=d.pk).update(amount=Decimal("-1"))
    assert fresh(d).amount == Decimal("30")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("50"), Decimal("12.34")])
def test_amounts_from_zero_to_the_maximum_are_paid(cast, item, amount):
    d = walked(cast, item, APPROVED)
    delivery.disburse(d, by=cast.handler_a, amount=amount, disbursed_on=delivery.today())
    assert fresh(d).amount == amount


def test_an_item_without_a_maximum_takes_any_amount(cast, policy):
    item = subsidy(policy, max_amount=None)
    d = walked(cast, item, APPROVED)
    delivery.disburse(d, by=cast.handler_a, amount=Decimal("99999"), disbursed_on=delivery.today())
    assert fresh(d).amount == Decimal("99999")


def test_the_disbursement_day_is_neither_in_the_future_nor_before_the_approval(cast, item):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING), tick=False):
        with pytest.raises(ServiceError, match="不能晚于今天"):
            delivery.disburse(d, by=cast.handler_a, amount=Decimal("1"), disbursed_on=date(2026, 11, 21))
        with pytest.raises(ServiceError, match="不能早于审核通过日期（2026-11-16）"):
            delivery.disburse(d, by=cast.handler_a, amount=Decimal("1"), disbursed_on=date(2026, 11, 15))
        delivery.disburse(d, by=cast.handler_a, amount=Decimal("1"), disbursed_on=date(2026, 11, 16))
    assert fresh(d).disbursed_on == date(2026, 11, 16)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(cast, item, reason):
    d = walked(cast, item, APPLIED)
    with pytest.raises(ServiceError, match="未通过原因：请填写"):
        delivery.reject(d, by=cast.handler_a, reason=reason)
    delivery.reject(d, by=cast.handler_a, reason="  不属于支持范围 ")
    assert fresh(d).reject_reason == "不属于支持范围"
    assert Notification.objects.filter(user=cast.ent_user_a1, title__contains="未通过").exists()


def test_a_stale_version_is_a_conflict(cast, item):
    d = walked(cast, item, APPLIED)
    with pytest.raises(Conflict):
        delivery.approve(d, by=cast.handler_a, version=d.version - 1)
    stale = Delivery.objects.get(pk=d.pk)
    delivery.approve(d, by=cast.handler_a, version=d.version)
    with pytest.raises(Conflict):
        delivery.reject(stale, by=cast.handler_a, reason="晚了一步")
    assert fresh(d).status == APPROVED


# --- working days and overdue ---------------------------------------------------------------------------------


def test_approval_sets_the_due_day_in_working_days(cast, item):
    # Friday 2026-11-20: five working days later is Friday 2026-11-27 (the weekend does not count).
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
    assert fresh(d).disburse_due == date(2026, 11, 27) == add_workdays(date(2026, 11, 20), 5)


def test_the_due_day_skips_the_national_day_holiday(cast, item):
    # Approved the day before the 2026 National Day holiday: the due day follows the official calendar.
    with time_machine.travel(datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
    due = fresh(d).disburse_due
    assert due == add_workdays(date(2026, 9, 30), 5)
    assert due > date(2026, 10, 7)  # 10月1日–7日 are holidays, not working days


def test_an_item_due_within_zero_days_is_due_on_the_approval_day(cast, policy):
    item = subsidy(policy, disburse_within_days=0)
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
    assert fresh(d).disburse_due == date(2026, 11, 20)


def test_an_approved_delivery_past_its_due_day_is_overdue(cast, item):
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
    d = fresh(d)
    assert not delivery.is_overdue(d, date(2026, 11, 27))  # the due day itself is not late
    assert delivery.is_overdue(d, date(2026, 11, 28))
    visible = Delivery.objects.visible_to(cast.handler_a)
    assert list(delivery.filter_deliveries(visible, overdue=True, on=date(2026, 11, 28))) == [d]
    assert not delivery.filter_deliveries(visible, overdue=True, on=date(2026, 11, 27)).exists()
    annotated = delivery.with_overdue(visible, date(2026, 11, 28)).get(pk=d.pk)
    assert getattr(annotated, "is_overdue") is True  # noqa: B009 (an annotation mypy cannot see)


def test_a_disbursed_or_rejected_delivery_is_never_overdue(cast, item, policy):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        paid = walked(cast, item, DISBURSED)
        other = subsidy(policy, name="贷款贴息")
        turned_down = walked(cast, other, APPROVED)
        delivery.reject(turned_down, by=cast.handler_a, reason="资金已用完")
    late = date(2027, 1, 1)
    assert not delivery.is_overdue(fresh(paid), late)
    assert not delivery.is_overdue(fresh(turned_down), late)


# --- totals ---------------------------------------------------------------------------------------------------


def test_totals_per_policy_and_per_zone_are_counted_in_the_database(
    cast, item, policy, django_assert_max_num_queries
):
    other_policy = keepers_policy(cast, title="关于促进外贸发展的若干措施")
    loans = subsidy(other_policy, name="出口信用保险补贴")
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        walked(cast, item, DISBURSED)  # 30 万元
        walked(cast, item, APPROVED, enterprise=cast.ent_a2)  # due 2026-11-23
        walked(cast, loans, PUSHED)
        walked(cast, loans, REJECTED, enterprise=cast.ent_a2)

    visible = Delivery.objects.visible_to(cast.leader_a)
    with django_assert_max_num_queries(3):  # per policy, per zone, overall
        totals = delivery.totals(visible, on=date(2026, 11, 24))

    by_policy = {row.label: row for row in totals.by_policy}
    first = by_policy[policy.title]
    assert first.counts == {PUSHED: 0, APPLIED: 0, APPROVED: 1, DISBURSED: 1, REJECTED: 0}
    assert (first.total, first.disbursed_amount, first.overdue) == (2, Decimal("30"), 1)
    second = by_policy[other_policy.title]
    assert (second.counts[PUSHED], second.counts[REJECTED], second.total, second.overdue) == (1, 1, 2, 0)
    assert second.disbursed_amount == Decimal("0")
    [zone] = totals.by_zone
    assert (zone.key, zone.total, zone.disbursed_amount, zone.overdue) == (
        cast.zone_a.pk,
        4,
        Decimal("30"),
        1,
    )
    assert (totals.overall.total, totals.overall.overdue) == (4, 1)


def test_totals_are_scoped_to_what_the_reader_sees(cast, item):
    walked(cast, item, APPLIED)
    walked(cast, item, PUSHED, enterprise=cast.ent_a2)
    assert delivery.totals(Delivery.objects.visible_to(cast.steward_b)).overall.total == 0
    assert delivery.totals(Delivery.objects.visible_to(cast.steward_a)).overall.total == 1
    assert delivery.totals(Delivery.objects.visible_to(other_department_handler(cast))).overall.total == 0
    assert delivery.totals(Delivery.objects.visible_to(cast.handler_a)).overall.total == 2


def test_the_actions_offered_follow_the_table_and_the_role(cast, item):
    d = walked(cast, item, PUSHED)
    assert delivery.actions_for(cast.ent_user_a1, d) == {"apply"}
    assert delivery.actions_for(cast.steward_a, d) == {"apply"}
    assert delivery.actions_for(cast.handler_a, d) == set()
    delivery.apply(d, by=cast.ent_user_a1)
    assert delivery.actions_for(cast.handler_a, d) == {"approve", "reject"}
    assert delivery.actions_for(cast.leader_a, d) == set()
    delivery.approve(d, by=cast.handler_a)
    assert delivery.actions_for(cast.handler_a, d) == {"disburse", "reject"}
    delivery.disburse(d, by=cast.handler_a, amount=Decimal("2"), disbursed_on=delivery.today())
    assert delivery.actions_for(cast.handler_a, d) == set()
