"""The delivery API (/api/policy-deliveries/): scoped reads and filters, pushing, the steps with their
versions, the totals, and who may not."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from guanjia.core.models import User
from guanjia.policies import delivery
from guanjia.policies.models import Delivery, DeliveryStatus
from guanjia.policies.tests.test_delivery import (
    BEIJING,
    keepers_policy,
    other_department_handler,
    other_enterprise_user,
    subsidy,
    walked,
)

PUSHED, APPLIED, APPROVED = DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED
DISBURSED, REJECTED = DeliveryStatus.DISBURSED, DeliveryStatus.REJECTED
API = "/api/policy-deliveries/"


@pytest.fixture
def policy(cast):
    return keepers_policy(cast)


@pytest.fixture
def item(policy):
    return subsidy(policy)


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def fresh(d: Delivery) -> Delivery:
    return Delivery.objects.get(pk=d.pk)


def step(user: User, d: Delivery, name: str, **body):
    return api(user).post(f"{API}{d.pk}/{name}/", {"version": d.version, **body}, format="json")


# --- reading ------------------------------------------------------------------------------------------


def test_the_list_is_scoped_and_filtered(cast, item, policy):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        late = walked(cast, item, APPROVED)
        other = walked(cast, subsidy(policy, name="贷款贴息"), APPLIED, enterprise=cast.ent_a2)

    def ids(user: User, **query) -> set[int]:
        response = api(user).get(API, query)
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.data["results"]}

    assert ids(cast.handler_a) == ids(cast.leader_a) == {late.pk, other.pk}
    assert ids(cast.steward_a) == ids(cast.ent_user_a1) == {late.pk}
    assert ids(cast.steward_b) == ids(other_department_handler(cast)) == set()
    assert ids(cast.handler_a, status=APPLIED) == {other.pk}
    assert ids(cast.handler_a, enterprise=cast.ent_a1.pk, policy=policy.pk, zone=cast.zone_a.pk) == {late.pk}
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING), tick=False):
        assert ids(cast.handler_a, overdue="true") == {late.pk}
        assert ids(cast.handler_a, overdue="false") == {other.pk}
        assert api(cast.handler_a).get(API, {"overdue": "maybe"}).status_code == 400


def test_a_delivery_reads_with_its_history_and_out_of_scope_is_404(cast, item):
    d = walked(cast, item, APPLIED)
    body = api(cast.ent_user_a1).get(f"{API}{d.pk}/").data
    assert (body["status"], body["channel"], body["item_name"], body["version"]) == (
        APPLIED,
        "portal",
        "研发费用补贴",
        2,
    )
    assert [e["to_status"] for e in body["events"]] == [PUSHED, APPLIED]
    assert body["applied_on_behalf"] is False and body["overdue"] is False
    for user in (
        other_enterprise_user(cast),
        cast.steward_b,
        cast.steward_a2,
        other_department_handler(cast),
    ):
        assert api(user).get(f"{API}{d.pk}/").status_code == 404, user
    for user in (cast.promoter_a, cast.sysadmin, cast.outsider):
        assert api(user).get(API).status_code == 403, user


# --- pushing --------------------------------------------------------------------------------------------


def test_the_steward_pushes_and_a_second_push_is_refused(cast, item):
    response = api(cast.steward_a).post(API, {"item": item.pk, "enterprise": cast.ent_a1.pk}, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["status"], response.data["channel"]) == (PUSHED, "steward")
    again = api(cast.handler_a).post(API, {"item": item.pk, "enterprise": cast.ent_a1.pk}, format="json")
    assert again.status_code == 400
    assert "不能重复推送" in again.data["detail"]


def test_who_may_not_push_through_the_api(cast, item):
    body = {"item": item.pk, "enterprise": cast.ent_a1.pk}
    assert api(cast.leader_a).post(API, body, format="json").status_code == 403
    assert api(cast.ent_user_a1).post(API, body, format="json").status_code == 403
    # An enterprise it does not serve does not exist for a steward; a policy out of reach neither.
    refused = api(cast.steward_a2).post(API, body, format="json")
    assert refused.status_code == 400 and "enterprise" in refused.data
    assert "item" in api(cast.steward_b).post(API, body, format="json").data
    handler = api(other_department_handler(cast)).post(API, body, format="json")
    assert handler.status_code == 400 and "enterprise" in handler.data
    assert not Delivery.objects.exists()


def test_an_enterprise_that_does_not_qualify_is_refused(cast, policy):
    chemicals = subsidy(policy, divisions=["26"])
    response = api(cast.steward_a).post(
        API, {"item": chemicals.pk, "enterprise": cast.ent_a1.pk}, format="json"
    )
    assert response.status_code == 400 and "不符合" in response.data["detail"]


# --- the steps ------------------------------------------------------------------------------------------


def test_the_whole_way_through_the_api(cast, item):
    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    applied = step(cast.ent_user_a1, d, "apply", note="请审核")
    assert applied.status_code == 200 and applied.data["status"] == APPLIED
    approved = step(cast.handler_a, fresh(d), "approve")
    assert approved.status_code == 200 and approved.data["disburse_due"] is not None
    paid = step(
        cast.handler_a, fresh(d), "disburse", amount="20.5", disbursed_on=delivery.today().isoformat()
    )
    assert paid.status_code == 200, paid.data
    assert (paid.data["status"], paid.data["amount"]) == (DISBURSED, "20.50")


def test_skipping_a_state_is_refused_naming_both(cast, item):
    d = walked(cast, item, PUSHED)
    response = step(cast.handler_a, d, "disburse", amount="1", disbursed_on=delivery.today().isoformat())
    assert response.status_code == 400
    assert response.data["detail"] == "该兑现事项当前为“已推送”，不能改为“已兑现”"
    assert step(cast.handler_a, d, "approve").status_code == 400
    assert step(cast.handler_a, d, "reject", reason="不符合").status_code == 400
    assert fresh(d).status == PUSHED


@pytest.mark.parametrize(("amount", "field"), [("-1", "amount"), ("-0.01", "amount"), ("1.001", "amount")])
def test_a_negative_or_malformed_amount_is_refused(cast, item, amount, field):
    d = walked(cast, item, APPROVED)
    response = step(cast.handler_a, d, "disburse", amount=amount, disbursed_on=delivery.today().isoformat())
    assert response.status_code == 400 and field in response.data
    assert fresh(d).status == APPROVED


def test_an_amount_over_the_maximum_is_refused(cast, item):
    d = walked(cast, item, APPROVED)
    response = step(cast.handler_a, d, "disburse", amount="50.01", disbursed_on=delivery.today().isoformat())
    assert response.status_code == 400
    assert "不能超过该事项的最高金额 50 万元" in response.data["detail"]


def test_a_stale_version_is_409(cast, item):
    d = walked(cast, item, APPLIED)
    response = api(cast.handler_a).post(f"{API}{d.pk}/approve/", {"version": d.version - 1}, format="json")
    assert response.status_code == 409
    assert fresh(d).status == APPLIED


def test_a_rejection_needs_its_reason(cast, item):
    d = walked(cast, item, APPLIED)
    assert "reason" in step(cast.handler_a, d, "reject").data
    assert step(cast.handler_a, d, "reject", reason="  ").status_code == 400
    assert step(cast.handler_a, d, "reject", reason="不属于支持范围").data["status"] == REJECTED


def test_who_may_not_take_the_steps(cast, item):
    pushed = walked(cast, item, PUSHED)
    assert step(other_enterprise_user(cast), pushed, "apply").status_code == 404
    assert step(cast.leader_a, pushed, "apply").status_code == 403
    assert step(cast.handler_a, pushed, "apply").status_code == 403
    assert step(cast.steward_b, pushed, "apply").status_code == 404
    assert step(cast.steward_a, pushed, "apply").data["applied_on_behalf"] is True
    applied = fresh(pushed)
    assert step(cast.leader_a, applied, "approve").status_code == 403
    assert step(cast.steward_a, applied, "approve").status_code == 403
    assert step(cast.ent_user_a1, applied, "approve").status_code == 403
    assert step(other_department_handler(cast), applied, "approve").status_code == 404
    assert step(cast.supervisor_a, applied, "reject", reason="x").status_code == 403
    assert fresh(applied).status == APPLIED


# --- totals -------------------------------------------------------------------------------------------------


def test_the_totals_per_policy_and_per_zone(cast, item, policy):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        walked(cast, item, DISBURSED)
        walked(cast, item, APPROVED, enterprise=cast.ent_a2)
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=BEIJING), tick=False):
        response = api(cast.leader_a).get(f"{API}totals/")
    assert response.status_code == 200
    body = response.data
    [row] = body["by_policy"]
    assert (row["id"], row["approved"], row["disbursed"], row["total"]) == (policy.pk, 1, 1, 2)
    assert (row["disbursed_amount"], row["overdue"]) == ("30.00", 1)
    assert body["by_zone"][0]["id"] == cast.zone_a.pk
    assert body["overall"]["id"] is None and body["overall"]["total"] == 2
    assert api(cast.steward_b).get(f"{API}totals/").data["overall"]["total"] == 0
    assert api(cast.promoter_a).get(f"{API}totals/").status_code == 403


def test_the_list_reads_in_a_few_queries_however_long(cast, policy, django_assert_max_num_queries):
    for n in range(6):
        walked(cast, subsidy(policy, name=f"兑现事项 {n}"), APPLIED)
    client = api(cast.handler_a)
    with django_assert_max_num_queries(8):
        response = client.get(API)
    assert response.data["count"] == 6
    assert all(row["applied_on_behalf"] is False for row in response.data["results"])
