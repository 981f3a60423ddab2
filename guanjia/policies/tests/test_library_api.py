"""The policy library's API: scoping, who may write, conditions as lists, the rules' messages naming
their field, version conflicts, and the removal of items."""

from __future__ import annotations

from datetime import date

import pytest

from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership, Tag
from guanjia.policies.models import BenefitItem, Delivery, Policy, PushChannel
from guanjia.policies.tests.helpers import make_department, make_head, make_item, make_policy
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

POLICIES = "/api/policies/"
ITEMS = "/api/benefit-items/"
JSON = "application/json"


@pytest.fixture
def policy(cast):
    return make_policy(cast.market_a, title="高新区研发补贴办法", document_number="高新管〔2026〕8号")


@pytest.fixture
def ent_user_b1(cast):
    user = make_user("ent_user_b1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=user, enterprise=cast.ent_b1)
    return user


@pytest.fixture
def handler_b(cast):
    return make_user("handler_b", make_department(cast.zone_b, "zone-b-market"), Role.HANDLER)


@pytest.fixture
def handler_centre(cast):
    return make_user("handler_centre", cast.centre_a, Role.HANDLER)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- policies ---------------------------------------------------------------------------------------


def test_policies_are_listed_and_read_within_the_callers_coverage(cast, login, policy, ent_user_b1):
    city_policy = make_policy(make_department(cast.city, "city-tech"), title="全市政策")
    assert ids(login(cast.ent_user_a1).get(POLICIES)) == {policy.pk, city_policy.pk}
    assert ids(login(ent_user_b1).get(POLICIES)) == {city_policy.pk}
    assert login(ent_user_b1).get(f"{POLICIES}{policy.pk}/").status_code == 404
    assert login(cast.outsider).get(POLICIES).status_code == 403
    assert login(cast.sysadmin).get(POLICIES).status_code == 403

    body = login(cast.steward_a).get(f"{POLICIES}{policy.pk}/").json()
    assert (body["title"], body["department"], body["state"], body["items"], body["attachments"]) == (
        "高新区研发补贴办法",
        cast.market_a.pk,
        "current",
        [],
        [],
    )


def test_the_policy_list_filters(cast, login, policy):
    old = make_policy(
        cast.market_a, title="旧政策", effective_on=date(2018, 1, 1), expires_on=date(2019, 1, 1)
    )
    client = login(cast.steward_a)
    assert ids(client.get(POLICIES)) == {policy.pk}
    assert ids(client.get(POLICIES, {"state": "expired"})) == {old.pk}
    assert ids(client.get(POLICIES, {"state": "all", "search": "8号"})) == {policy.pk}
    assert client.get(POLICIES, {"state": "bogus"}).status_code == 400


def test_a_keeper_creates_and_updates_a_policy(cast, login):
    client = login(cast.handler_a)
    created = client.post(
        POLICIES,
        {
            "title": "新政策",
            "issuer": "高新区管委会",
            "effective_on": "2026-02-01",
            "document_number": "一号",
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["department"], body["version"], body["expires_on"]) == (cast.market_a.pk, 1, None)

    patched = client.patch(
        f"{POLICIES}{body['id']}/", {"expires_on": "2027-01-31", "version": 1}, content_type=JSON
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["expires_on"], patched.json()["version"]) == ("2027-01-31", 2)
    stale = client.patch(f"{POLICIES}{body['id']}/", {"title": "旧页面", "version": 1}, content_type=JSON)
    assert stale.status_code == 409
    assert "刚被他人修改" in stale.json()["detail"]


def test_a_policys_refused_field_is_named(cast, login, policy):
    response = login(cast.handler_a).patch(
        f"{POLICIES}{policy.pk}/", {"expires_on": "2019-12-31", "version": 1}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {"expires_on": ["失效日期：不能早于生效日期"]}


def test_who_may_not_write_policies(cast, login, policy, handler_b, handler_centre):
    body = {"title": "x", "issuer": "y", "effective_on": "2026-01-01"}
    for who in (cast.steward_a, cast.leader_a, cast.ent_user_a1):
        client = login(who)
        assert client.post(POLICIES, body, content_type=JSON).status_code == 403
        assert client.patch(f"{POLICIES}{policy.pk}/", {"version": 1}, content_type=JSON).status_code == 403
    assert (
        login(handler_centre).patch(f"{POLICIES}{policy.pk}/", {"version": 1}, content_type=JSON).status_code
        == 403
    )
    assert (
        login(handler_b).patch(f"{POLICIES}{policy.pk}/", {"version": 1}, content_type=JSON).status_code
        == 404
    )
    assert Policy.objects.count() == 1


# --- benefit items ----------------------------------------------------------------------------------


def test_a_keeper_creates_an_item_with_conditions_as_lists(cast, login, policy):
    tag = Tag.objects.create(name="专精特新")
    response = login(make_head(cast.market_a)).post(
        ITEMS,
        {
            "policy": policy.pk,
            "name": "研发费用补贴",
            "category": "subsidy",
            "max_amount": "50.00",
            "zones": [cast.zone_a.pk],
            "divisions": ["39"],
            "scales": ["small", "medium"],
            "tiers": ["key"],
            "tags": [tag.pk],
            "min_years": 3,
            "capital_min": "100",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["zones"], body["divisions"], body["scales"], body["tiers"], body["tags"]) == (
        [cast.zone_a.pk],
        ["39"],
        ["medium", "small"],
        ["key"],
        [tag.pk],
    )
    assert {"condition": "成立年限", "text": "成立满 3 年"} in body["conditions"]
    assert login(cast.steward_a).get(f"{POLICIES}{policy.pk}/").json()["items"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"min_years": 5, "max_years": 2}, "max_years", "成立不满（年）：应大于成立满（年）（5 年）"),
        (
            {"capital_min": "10", "capital_max": "5"},
            "capital_max",
            "注册资本上限（万元）：不能低于注册资本下限（10 万元）",
        ),
        ({"scales": ["huge"]}, "scales", "企业规模：未知的选项“huge”"),
        ({"tiers": ["vip"]}, "tiers", "企业分级：未知的选项“vip”"),
        ({"tags": [987654]}, "tags", "企业标签（任一）：未知的标签（编号 987654）"),
    ],
)
def test_an_items_refused_field_is_named(cast, login, policy, body, field, message):
    response = login(cast.handler_a).post(
        ITEMS, {"policy": policy.pk, "name": "补贴", **body}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not BenefitItem.objects.exists()


def test_an_items_zone_outside_the_coverage_and_negative_amounts_are_refused(cast, login, policy):
    client = login(cast.handler_a)
    outside = client.post(
        ITEMS, {"policy": policy.pk, "name": "补贴", "zones": [cast.zone_b.pk]}, content_type=JSON
    )
    assert outside.json() == {"zones": ["适用园区：“经开区”不在本政策的覆盖范围内"]}
    negative = client.post(
        ITEMS, {"policy": policy.pk, "name": "补贴", "max_amount": "-1"}, content_type=JSON
    )
    assert negative.status_code == 400 and "max_amount" in negative.json()
    unknown = client.post(
        ITEMS, {"policy": policy.pk, "name": "补贴", "divisions": ["ZZ"]}, content_type=JSON
    )
    assert unknown.status_code == 400 and "divisions" in unknown.json()


def test_items_are_listed_by_policy_and_scoped(cast, login, policy, ent_user_b1, handler_b):
    item = make_item(policy)
    other = make_item(make_policy(cast.market_a, title="另一政策"))
    client = login(cast.ent_user_a1)
    assert ids(client.get(ITEMS)) == {item.pk, other.pk}
    assert ids(client.get(ITEMS, {"policy": policy.pk})) == {item.pk}
    assert ids(login(ent_user_b1).get(ITEMS)) == set()
    assert login(ent_user_b1).get(f"{ITEMS}{item.pk}/").status_code == 404
    # A policy out of the caller's scope "does not exist" in a body.
    refused = login(handler_b).post(ITEMS, {"policy": policy.pk, "name": "补贴"}, content_type=JSON)
    assert refused.status_code == 400 and "policy" in refused.json()


def test_an_item_is_updated_with_its_version(cast, login, policy):
    item = make_item(policy, scales=["small"])
    client = login(cast.handler_a)
    patched = client.patch(
        f"{ITEMS}{item.pk}/", {"scales": [], "auto_grant": True, "version": 1}, content_type=JSON
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["scales"], patched.json()["auto_grant"], patched.json()["version"]) == (
        [],
        True,
        2,
    )
    stale = client.patch(f"{ITEMS}{item.pk}/", {"name": "改名", "version": 1}, content_type=JSON)
    assert stale.status_code == 409
    assert (
        login(cast.steward_a).patch(f"{ITEMS}{item.pk}/", {"version": 2}, content_type=JSON).status_code
        == 403
    )


def test_an_item_is_deleted_unless_it_has_deliveries(cast, login, policy, handler_centre):
    spare, kept = make_item(policy), make_item(policy, name="已兑现")
    Delivery.objects.create(item=kept, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD)
    client = login(cast.handler_a)
    assert login(handler_centre).delete(f"{ITEMS}{spare.pk}/").status_code == 403
    assert login(cast.steward_a).delete(f"{ITEMS}{spare.pk}/").status_code == 403
    refused = client.delete(f"{ITEMS}{kept.pk}/")
    assert refused.status_code == 400
    assert "已有企业兑现记录，不能删除" in refused.json()["detail"]
    assert client.delete(f"{ITEMS}{spare.pk}/").status_code == 204
    assert list(BenefitItem.objects.values_list("pk", flat=True)) == [kept.pk]
