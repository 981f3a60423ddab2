"""The matching API: a benefit item's qualifying enterprises and near misses, an enterprise's benefits —
scoped to what the caller may see, paged, and refused to who may not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guanjia.enterprises.models import Scale
from guanjia.policies.models import Delivery, DeliveryStatus, PushChannel
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import make_enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(cast):
    """ent_a1 (small, 5000 万元) qualifies; ent_a2 (small, no capital) misses the capital."""
    return make_item(
        make_policy(cast.market_a),
        name="研发费用补贴",
        scales=[Scale.SMALL],
        capital_min=Decimal("100"),
        capital_max=Decimal("5000"),
    )


def item_url(item) -> str:
    return f"/api/policy-matching/items/{item.pk}/"


def enterprise_url(enterprise) -> str:
    return f"/api/policy-matching/enterprises/{enterprise.pk}/"


def test_a_keeper_reads_the_qualifying_and_near_miss_lists(cast, login, item):
    Delivery.objects.create(item=item, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.PORTAL)
    response = login(cast.handler_a).get(item_url(item))
    assert response.status_code == 200
    body = response.json()
    assert (body["item"], body["policy"], body["in_force"], body["page"]) == (
        item.pk,
        item.policy_id,
        True,
        1,
    )
    assert (body["qualifying_count"], body["near_miss_count"]) == (1, 1)
    [ent] = body["qualifying"]
    assert ent["id"] == cast.ent_a1.pk and ent["delivery_status"] == DeliveryStatus.PUSHED
    assert ent["registered_capital"] == "5000.00" and ent["founded_on"] == "2015-03-01"
    [near] = body["near_misses"]
    assert near["enterprise"]["id"] == cast.ent_a2.pk and near["enterprise"]["delivery_status"] is None
    assert (near["missed"], near["missed_label"], near["asked"], near["has"]) == (
        "capital",
        "注册资本",
        "100–5000 万元（含）",
        "注册资本未填写",
    )


def test_others_see_the_enterprises_they_may_see(cast, login, item):
    body = login(cast.steward_a).get(item_url(item)).json()
    assert [e["id"] for e in body["qualifying"]] == [cast.ent_a1.pk] and body["near_misses"] == []
    body = login(cast.steward_a2).get(item_url(item)).json()
    assert body["qualifying"] == [] and [n["enterprise"]["id"] for n in body["near_misses"]] == [
        cast.ent_a2.pk
    ]
    body = login(cast.ent_user_a1).get(item_url(item)).json()
    assert [e["id"] for e in body["qualifying"]] == [cast.ent_a1.pk] and body["near_misses"] == []


def test_the_item_is_404_out_of_coverage_and_403_without_the_library(cast, login, item):
    assert login(cast.steward_b).get(item_url(item)).status_code == 404
    assert login(cast.handler_a).get("/api/policy-matching/items/999999/").status_code == 404
    assert login(cast.outsider).get(item_url(item)).status_code == 403
    assert login(cast.sysadmin).get(item_url(item)).status_code == 403
    from django.test import Client

    assert Client().get(item_url(item)).status_code in (401, 403)


def test_a_policy_not_in_force_lists_nobody(cast, login):
    item = make_item(make_policy(cast.market_a, effective_on=date(2099, 1, 1)))
    body = login(cast.handler_a).get(item_url(item)).json()
    assert body["in_force"] is False
    assert (body["qualifying_count"], body["near_miss_count"], body["qualifying"]) == (0, 0, [])


def test_pages_of_a_hundred(cast, login, item):
    for i in range(150):
        make_enterprise(
            f"91API{i:013d}", f"分页企业{i:03d}", cast.zone_a, None, registered_capital=Decimal("1000")
        )
    client = login(cast.handler_a)
    first, second = client.get(item_url(item)).json(), client.get(item_url(item), {"page": 2}).json()
    assert first["qualifying_count"] == 151 and len(first["qualifying"]) == 100
    assert len(second["qualifying"]) == 51 and second["near_misses"] == []
    assert {e["id"] for e in first["qualifying"]}.isdisjoint(e["id"] for e in second["qualifying"])
    assert client.get(item_url(item), {"page": ""}).json()["page"] == 1
    for bad in ("3", "0", "-1", "abc", "²", "9" * 12):
        assert client.get(item_url(item), {"page": bad}).status_code == 404, bad


def test_an_enterprise_s_benefits(cast, login, item):
    other = make_item(make_policy(cast.market_a), name="大型企业奖励", scales=[Scale.LARGE])
    Delivery.objects.create(
        item=item,
        enterprise=cast.ent_a1,
        zone=cast.zone_a,
        channel=PushChannel.STEWARD,
        status=DeliveryStatus.APPLIED,
    )
    for who in (cast.steward_a, cast.ent_user_a1, cast.dispatcher_a, cast.leader_a):
        response = login(who).get(enterprise_url(cast.ent_a1))
        assert response.status_code == 200, who
        body = response.json()
        assert body["enterprise"] == cast.ent_a1.pk
        assert [(b["id"], b["policy"]) for b in body["benefits"]] == [(item.pk, item.policy_id)]
        assert other.pk not in {b["id"] for b in body["benefits"]}
    # the promoter sees the enterprise but no delivery (Delivery.objects.visible_to)
    assert login(cast.steward_a).get(enterprise_url(cast.ent_a1)).json()["benefits"][0][
        "delivery_status"
    ] == ("applied")
    assert (
        login(cast.promoter_a).get(enterprise_url(cast.ent_a1)).json()["benefits"][0]["delivery_status"]
        is None
    )


def test_an_enterprise_out_of_scope_is_404_and_roles_without_enterprises_get_403(cast, login, item):
    assert login(cast.steward_b).get(enterprise_url(cast.ent_a1)).status_code == 404
    assert login(cast.steward_a).get(enterprise_url(cast.ent_a2)).status_code == 404
    assert login(cast.ent_user_a1).get(enterprise_url(cast.ent_a2)).status_code == 404
    assert login(cast.handler_a).get(enterprise_url(cast.ent_a1)).status_code == 403
    assert login(cast.outsider).get(enterprise_url(cast.ent_a1)).status_code == 403
    assert login(cast.auditor).get(enterprise_url(cast.ent_a1)).status_code == 403
