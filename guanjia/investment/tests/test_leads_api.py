"""The lead API: scoped reads, writes through the services, refusals as 400/403/404/409, masked phones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.investment.access import today
from guanjia.investment.models import Lead, LeadContact, LeadLog, LeadSource, LeadStatus, LeadTransition
from guanjia.investment.tests.helpers import make_chain, make_lead, make_promoter, make_target, node

S = LeadStatus
LEADS = "/api/investment/leads/"


def url(lead: Lead, tail: str = "") -> str:
    return f"{LEADS}{lead.pk}/{tail}"


def test_the_zones_promoter_and_leader_list_and_read_with_contacts_logs_and_history(cast, login, lead):
    LeadLog.objects.create(
        lead=lead, happened_on=today(), mode="phone", summary="电话沟通", by=cast.promoter_a
    )
    for who, phone in ((cast.promoter_a, "13912345678"), (cast.leader_a, "139****5678")):
        client = login(who)
        listing = client.get(LEADS).json()
        assert [row["id"] for row in listing["results"]] == [lead.pk]
        body = client.get(url(lead)).json()
        assert body["contacts"][0]["phone"] == phone
        assert [log["summary"] for log in body["logs"]] == ["电话沟通"]
        assert body["allowed_moves"] == [S.CONTACTING, S.ABANDONED]
        assert body["chain"] == lead.node.chain_id and body["project"] is None


def test_another_zones_promoter_sees_nothing(cast, login, lead, promoter_b):
    client = login(promoter_b)
    assert client.get(LEADS).json()["count"] == 0
    assert client.get(url(lead)).status_code == 404
    assert (
        client.patch(url(lead), {"summary": "x", "version": 1}, content_type="application/json").status_code
        == 404
    )
    assert (
        client.post(
            url(lead, "move/"), {"to": S.CONTACTING, "version": 1}, content_type="application/json"
        ).status_code
        == 404
    )
    assert Lead.objects.get(pk=lead.pk).status == S.NEW


@pytest.mark.parametrize("who", ["steward_a", "ent_user_a1", "outsider", "dispatcher_a", "sysadmin"])
def test_roles_without_investment_get_403(cast, login, lead, who):
    client = login(getattr(cast, who))
    assert client.get(LEADS).status_code == 403
    assert client.get(url(lead)).status_code == 403


def test_the_leader_gets_403_on_every_write(cast, login, target, lead):
    client = login(cast.leader_a)
    writes = [
        ("post", LEADS, {"target": target.pk, "source": LeadSource.EXPO}),
        ("patch", url(lead), {"summary": "x", "version": 1}),
        ("post", url(lead, "move/"), {"to": S.CONTACTING, "version": 1}),
        ("post", url(lead, "contacts/"), {"name": "王经理"}),
        ("post", url(lead, "logs/"), {"happened_on": today().isoformat(), "mode": "phone", "summary": "x"}),
        ("post", url(lead, "reassign/"), {"owner": cast.promoter_a.pk, "version": 1}),
        ("delete", url(lead, f"contacts/{lead.contacts.get().pk}/"), None),
    ]
    for method, path, body in writes:
        response = getattr(client, method)(path, body, content_type="application/json")
        assert response.status_code == 403, (method, path, response.content)
    assert Lead.objects.count() == 1 and LeadContact.objects.count() == 1


def test_a_promoter_creates_a_lead(cast, login, chain, target):
    response = login(cast.promoter_a).post(
        LEADS,
        {
            "target": target.pk,
            "source": LeadSource.SECONDED_CADRE,
            "source_detail": "挂职干部引荐",
            "contacts": [{"name": "李总", "phone": "13912345678"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["node"], body["owner"]) == (
        S.NEW,
        node(chain, "电芯").pk,
        cast.promoter_a.pk,
    )
    assert body["contacts"][0]["phone"] == "13912345678"


def test_a_target_or_node_of_another_zone_does_not_exist_in_the_body(cast, login, target, promoter_b):
    chain_b = make_chain(cast.zone_b, promoter_b, name="生物医药")
    target_b = make_target(cast.zone_b, "示例医药股份有限公司")
    client = login(cast.promoter_a)
    other_target = client.post(
        LEADS, {"target": target_b.pk, "source": "expo"}, content_type="application/json"
    )
    assert other_target.status_code == 400 and "target" in other_target.json()
    other_node = client.post(
        LEADS,
        {"target": target.pk, "node": node(chain_b, "电芯").pk, "source": "expo"},
        content_type="application/json",
    )
    assert other_node.status_code == 400 and "node" in other_node.json()
    assert not Lead.objects.exists()


def test_an_edit_with_a_stale_version_is_409(cast, login, lead):
    client = login(cast.promoter_a)
    ok = client.patch(url(lead), {"summary": "对方来访", "version": 1}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url(lead), {"summary": "覆盖", "version": 1}, content_type="application/json")
    assert stale.status_code == 409 and "刷新" in stale.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).summary == "对方来访"


def test_moves_through_the_api(cast, login, lead):
    client = login(cast.promoter_a)

    def move(to: str, version: int, reason: str = ""):
        return client.post(
            url(lead, "move/"),
            {"to": to, "version": version, "reason": reason},
            content_type="application/json",
        )

    refused = move(S.NEGOTIATING, 1)
    assert refused.status_code == 400
    assert "新线索" in refused.json()["detail"] and "洽谈中" in refused.json()["detail"]
    assert move(S.CONVERTED, 1).status_code == 400
    assert move(S.ABANDONED, 1).status_code == 400  # no reason
    moved = move(S.CONTACTING, 1)
    assert moved.status_code == 200 and moved.json()["status"] == S.CONTACTING
    assert moved.json()["transitions"][0]["to_status"] == S.CONTACTING
    assert move(S.NEGOTIATING, 1).status_code == 409
    assert move("bogus", 2).status_code == 400
    assert LeadTransition.objects.filter(lead=lead).count() == 1


def test_contacts_logs_and_reassignment_through_the_api(cast, login, lead):
    client = login(cast.promoter_a)
    added = client.post(
        url(lead, "contacts/"), {"name": "王经理", "phone": "0512-66881234"}, content_type="application/json"
    )
    assert added.status_code == 201 and added.json()["phone"] == "0512-66881234"
    bad = client.post(
        url(lead, "contacts/"), {"name": "王经理", "phone": "call me"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "联系电话" in bad.json()["detail"]
    removed = client.delete(url(lead, f"contacts/{added.json()['id']}/"))
    assert removed.status_code == 204
    assert client.delete(url(lead, f"contacts/{added.json()['id']}/")).status_code == 404

    logged = client.post(
        url(lead, "logs/"),
        {"happened_on": today().isoformat(), "mode": "visit", "summary": "上门拜访"},
        content_type="application/json",
    )
    assert logged.status_code == 201 and logged.json()["mode"] == "visit"
    future = client.post(
        url(lead, "logs/"),
        {"happened_on": (today() + timedelta(days=1)).isoformat(), "mode": "visit", "summary": "x"},
        content_type="application/json",
    )
    assert future.status_code == 400 and "日期" in future.json()["detail"]

    colleague = make_promoter("promoter_a2", cast.zone_a)
    handed = client.post(
        url(lead, "reassign/"), {"owner": colleague.pk, "version": 1}, content_type="application/json"
    )
    assert handed.status_code == 200 and handed.json()["owner"] == colleague.pk


def test_the_list_filters(cast, login, chain, target, lead):
    other = make_lead(make_target(cast.zone_a, "示例储能集团"), cast.promoter_a, source=LeadSource.FUND)
    client = login(cast.promoter_a)

    def ids(**query) -> set[int]:
        return {row["id"] for row in client.get(LEADS, query).json()["results"]}

    assert ids(source="fund") == {other.pk}
    assert ids(node=node(chain, "电芯").pk) == {lead.pk}
    assert ids(chain=chain.pk) == {lead.pk}
    assert ids(owner="mine") == {lead.pk, other.pk}
    assert ids(search="储能") == {other.pk}
    assert client.get(LEADS, {"owner": "someone"}).status_code == 400
    assert client.get(LEADS, {"status": "signed"}).status_code == 400
