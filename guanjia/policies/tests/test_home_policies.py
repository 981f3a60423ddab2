"""The home page's policy cards: a steward's benefits to push and pushes waiting for the enterprise; a
keeper's deliveries to review, to pay and overdue (red); a leader's or supervisor's zone figures; an
enterprise user's benefits and deliveries in hand; nothing for anyone else."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.policies import home, matching
from guanjia.policies.access import today
from guanjia.policies.models import Delivery, DeliveryStatus, PushChannel
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def _cards(user) -> dict[str, dict[str, int]]:
    return {
        section.title: {card["label"]: card["count"] for card in section.context["cards"]}
        for section in home.sections(user)
    }


def _delivery(item, enterprise, status, by, **fields) -> Delivery:
    now = timezone.now()
    if status != DeliveryStatus.PUSHED:
        fields.setdefault("applied_at", now)
    if status in (DeliveryStatus.APPROVED, DeliveryStatus.DISBURSED):
        fields.setdefault("approved_at", now)
        fields.setdefault("disburse_due", today() + timedelta(days=10))
    if status == DeliveryStatus.DISBURSED:
        fields.setdefault("amount", Decimal("12.40"))
        fields.setdefault("disbursed_on", today())
    if status == DeliveryStatus.REJECTED:
        fields.setdefault("reject_reason", "材料不全")
    return Delivery.objects.create(
        item=item,
        enterprise=enterprise,
        zone_id=enterprise.zone_id,
        status=status,
        channel=PushChannel.PORTAL,
        pushed_by=by,
        **fields,
    )


@pytest.fixture
def world(cast):
    """Zone A's 市场监管局 keeps a policy of three items everybody in zone A qualifies for; a city
    department's policy reaches both zones; deliveries in every state."""
    handler = cast.handler_a
    policy = make_policy(cast.market_a)
    first, second, third = (make_item(policy, name=name) for name in ("研发费用补助", "稳岗返还", "质量奖"))
    make_item(policy, name="重点企业奖励", tiers=["key"])  # ent_a1 only
    city_department = OrgUnit.objects.create(
        name="示例市工信局", code="city-industry", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.city
    )
    city_handler = make_user("handler_city", city_department, Role.HANDLER)
    city_item = make_item(make_policy(city_department, title="示例市专精特新政策"), name="小巨人奖励")
    _delivery(first, cast.ent_a1, DeliveryStatus.PUSHED, handler)
    _delivery(second, cast.ent_a1, DeliveryStatus.APPLIED, handler)
    _delivery(third, cast.ent_a1, DeliveryStatus.APPROVED, handler)
    _delivery(first, cast.ent_a2, DeliveryStatus.APPROVED, handler, disburse_due=today() - timedelta(days=1))
    _delivery(second, cast.ent_a2, DeliveryStatus.DISBURSED, handler, amount=Decimal("30.60"))
    _delivery(third, cast.ent_a2, DeliveryStatus.REJECTED, handler)
    # Due today is not overdue yet.
    _delivery(city_item, cast.ent_a2, DeliveryStatus.APPROVED, city_handler, disburse_due=today())
    _delivery(city_item, cast.ent_b1, DeliveryStatus.APPLIED, city_handler)
    _delivery(city_item, cast.ent_a1, DeliveryStatus.DISBURSED, city_handler, amount=Decimal("100"))
    return city_handler


def test_each_reader_counts_its_own_work_and_nobody_elses(cast, world):
    # ent_a1 qualifies for the four items of zone A and the city's item; all but one are delivered.
    benefits = matching.benefits_for(cast.ent_a1).count()
    assert benefits == 5
    assert _cards(cast.ent_user_a1) == {"政策直达": {"可享政策": 5, "待申请": 1, "办理中": 2}}
    # steward_a serves ent_a1: only 重点企业奖励 is still to push; one push waits for the enterprise.
    assert _cards(cast.steward_a) == {"政策直达": {"可推送的政策": 1, "待企业申请": 1}}
    # steward_a2 serves ent_a2: 重点企业奖励 is for key enterprises only, the rest are delivered.
    assert _cards(cast.steward_a2) == {"政策直达": {"可推送的政策": 0, "待企业申请": 0}}
    assert _cards(cast.handler_a) == {"政策兑现": {"待审核": 1, "待兑现": 2, "逾期未兑现": 1}}
    assert _cards(world) == {"政策兑现": {"待审核": 1, "待兑现": 1, "逾期未兑现": 0}}
    zone_a = {"待审核": 1, "待兑现": 3, "逾期未兑现": 1, "已兑现金额（万元）": 131}
    assert _cards(cast.leader_a) == {"政策兑现概况": zone_a}
    assert _cards(cast.supervisor_a) == {"政策兑现概况": zone_a}
    assert _cards(cast.leader_city) == {"政策兑现概况": {**zone_a, "待审核": 2}}
    for user in (cast.dispatcher_a, cast.promoter_a, cast.sysadmin, cast.auditor, cast.outsider):
        assert home.sections(user) == [], user


def test_a_handler_of_a_department_without_policies_gets_no_card(cast, world):
    tax = OrgUnit.objects.create(
        name="高新区税务局", code="zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    assert home.sections(make_user("handler_tax", tax, Role.HANDLER)) == []
    head = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    assert _cards(head) == _cards(cast.handler_a)


def test_the_home_page_shows_the_cards_with_overdue_in_red_and_links_to_act(cast, world, login):
    page = login(cast.handler_a).get("/").content.decode()
    assert "政策兑现" in page and "逾期未兑现" in page and "/policies/deliveries/" in page
    assert 'text-danger">1</div><div class="text-secondary">逾期未兑现' in page
    for user, link in (
        (cast.steward_a, "/policies/my-enterprises/"),
        (cast.ent_user_a1, "/portal/policies/"),
        (cast.leader_a, "/policies/deliveries/totals/"),
    ):
        response = login(user).get("/")
        assert response.status_code == 200 and link in response.content.decode(), user
