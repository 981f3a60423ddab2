"""The chain API: reads with strength and the map, the promoters' writes, and who gets 403/404/400/409."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from guanjia.investment import chains
from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement
from guanjia.investment.tests.helpers import make_target
from guanjia.investment.tests.test_chains import build_battery

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_and_detail_carry_the_strength_figures(cast):
    battery = build_battery(cast)
    client = api(cast.leader_a)
    [row] = client.get("/api/investment/chains/").json()["results"]
    assert (row["name"], row["node_count"], row["strong_count"], row["weak_count"], row["missing_count"]) == (
        "新能源",
        8,
        3,
        3,
        2,
    )
    detail = client.get(f"/api/investment/chains/{battery.chain.pk}/").json()
    by_name = {n["name"]: n for n in detail["nodes"]}
    assert (by_name["材料"]["count"], by_name["材料"]["score"], by_name["材料"]["strength"]) == (
        7,
        22.0,
        "strong",
    )
    assert (by_name["隔膜"]["score"], by_name["隔膜"]["strength"], by_name["隔膜"]["depth"]) == (
        7.5,
        "weak",
        1,
    )
    assert by_name["正极材料"]["parent"] == battery.nodes["材料"].pk


def test_the_map_lists_gaps_and_thin_links(cast):
    battery = build_battery(cast)
    make_target(cast.zone_a, "回收乙公司", battery.nodes["回收"])
    body = api(cast.promoter_a).get(f"/api/investment/chains/{battery.chain.pk}/map/").json()
    assert body["strong_score"] == 8.0 and body["thin_supply"] == 3
    assert [(g["name"], g["targets"]) for g in body["gaps"]] == [
        ("电解液", 0),
        ("回收", 1),
        ("负极材料", 0),
        ("储能系统", 0),
        ("隔膜", 0),
    ]
    thin = {t["name"]: t for t in body["thin"]}
    assert thin["材料"]["missing_children"] == [battery.nodes["电解液"].pk]
    assert thin["储能系统"]["few_suppliers"] and thin["储能系统"]["suppliers"] == 0
    assert len(body["nodes"]) == 8


def test_a_promoter_writes_through_the_api(cast):
    client = api(cast.promoter_a)
    created = client.post("/api/investment/chains/", {"name": "新能源"}, format="json")
    assert created.status_code == 201, created.json()
    chain = created.json()
    assert chain["zone"] == cast.zone_a.pk and chain["nodes"] == []
    renamed = client.patch(
        f"/api/investment/chains/{chain['id']}/",
        {"name": "新能源汽车", "version": chain["version"]},
        format="json",
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "新能源汽车"
    stale = client.patch(
        f"/api/investment/chains/{chain['id']}/", {"name": "旧稿", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    top = client.post(
        "/api/investment/chain-nodes/", {"chain": chain["id"], "name": "材料", "segment": "up"}, format="json"
    )
    assert top.status_code == 201, top.json()
    child = client.post(
        "/api/investment/chain-nodes/",
        {"chain": chain["id"], "name": "正极材料", "parent": top.json()["id"]},
        format="json",
    ).json()
    assert (child["segment"], child["parent"], child["strength"]) == ("up", top.json()["id"], "missing")
    cycle = client.patch(
        f"/api/investment/chain-nodes/{top.json()['id']}/",
        {"parent": child["id"], "chain_version": child["chain_version"]},
        format="json",
    )
    assert cycle.status_code == 400 and "上级环节" in cycle.json()["detail"]
    placed = client.post(
        "/api/investment/placements/",
        {"node": child["id"], "enterprise": cast.ent_a1.pk, "is_leader": True},
        format="json",
    )
    assert placed.status_code == 201, placed.json()
    again = client.post(
        "/api/investment/placements/", {"node": child["id"], "enterprise": cast.ent_a1.pk}, format="json"
    )
    assert again.status_code == 400 and "已在环节" in again.json()["detail"]
    listed = client.get("/api/investment/placements/", {"node": child["id"]}).json()["results"]
    assert [(p["enterprise_name"], p["is_leader"]) for p in listed] == [("示例智能制造有限公司", True)]
    assert client.get("/api/investment/placements/", {"enterprise": cast.ent_a2.pk}).json()["results"] == []
    flag = client.patch(
        f"/api/investment/placements/{placed.json()['id']}/", {"is_leader": False}, format="json"
    )
    assert flag.status_code == 200 and flag.json()["is_leader"] is False
    node = client.get(f"/api/investment/chain-nodes/{child['id']}/").json()
    assert (node["count"], node["score"], node["strength"]) == (1, 3.0, "weak")  # small 1 + 重点 2
    refused = client.delete(f"/api/investment/chain-nodes/{child['id']}/")
    assert refused.status_code == 400 and "链上企业 示例智能制造有限公司" in refused.json()["detail"]
    assert client.delete(f"/api/investment/placements/{placed.json()['id']}/").status_code == 204
    assert client.delete(f"/api/investment/chain-nodes/{child['id']}/").status_code == 204
    assert not ChainNode.objects.filter(pk=child["id"]).exists()


def test_another_zones_enterprise_is_refused(cast, promoter_b):
    from guanjia.investment.tests.helpers import make_promoter

    battery = build_battery(cast)
    node = battery.nodes["电芯"].pk
    # Zone A's promoter cannot even name zone B's enterprise (it does not exist for it) ...
    response = api(cast.promoter_a).post(
        "/api/investment/placements/", {"node": node, "enterprise": cast.ent_b1.pk}, format="json"
    )
    assert response.status_code == 400 and "enterprise" in response.json()
    # ... and a city promoter, who sees both zones, is told why.
    city = make_promoter("promoter_city", cast.city)
    response = api(city).post(
        "/api/investment/placements/", {"node": node, "enterprise": cast.ent_b1.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["detail"] == "企业：不属于本产业链所在园区"
    assert not NodePlacement.objects.filter(enterprise=cast.ent_b1).exists()


def test_leaders_read_only_other_zones_see_nothing_other_roles_are_refused(cast, promoter_b):
    battery = build_battery(cast)
    chain, node = battery.chain.pk, battery.nodes["电芯"].pk
    placement = NodePlacement.objects.filter(node_id=node).first()
    assert placement is not None
    leader = api(cast.leader_a)
    assert leader.get(f"/api/investment/chains/{chain}/map/").status_code == 200
    for method, url, body in (
        ("post", "/api/investment/chains/", {"name": "集成电路", "zone": cast.zone_a.pk}),
        ("patch", f"/api/investment/chains/{chain}/", {"name": "x", "version": 1}),
        ("post", "/api/investment/chain-nodes/", {"chain": chain, "name": "x", "segment": "up"}),
        ("patch", f"/api/investment/chain-nodes/{node}/", {"name": "x", "chain_version": 1}),
        ("delete", f"/api/investment/chain-nodes/{node}/", None),
        ("post", "/api/investment/placements/", {"node": node, "enterprise": cast.ent_a1.pk}),
        ("patch", f"/api/investment/placements/{placement.pk}/", {"is_leader": True}),
        ("delete", f"/api/investment/placements/{placement.pk}/", None),
    ):
        assert getattr(leader, method)(url, body, format="json").status_code == 403, (method, url)
    other = api(promoter_b)
    assert other.get("/api/investment/chains/").json()["results"] == []
    assert other.get("/api/investment/placements/").json()["results"] == []
    for url in (
        f"/api/investment/chains/{chain}/",
        f"/api/investment/chains/{chain}/map/",
        f"/api/investment/chain-nodes/{node}/",
    ):
        assert other.get(url).status_code == 404, url
    assert other.delete(f"/api/investment/placements/{placement.pk}/").status_code == 404
    assert (
        other.patch(
            f"/api/investment/chain-nodes/{node}/", {"name": "x", "chain_version": 1}, format="json"
        ).status_code
        == 404
    )
    named = other.post(
        "/api/investment/chain-nodes/", {"chain": chain, "name": "x", "segment": "up"}, format="json"
    )
    assert named.status_code == 400 and "chain" in named.json()
    for user in (cast.steward_a, cast.ent_user_a1, cast.sysadmin, cast.dispatcher_a):
        assert api(user).get("/api/investment/chains/").status_code == 403
        assert api(user).get("/api/investment/placements/").status_code == 403
    assert IndustryChain.objects.count() == 1 and NodePlacement.objects.filter(pk=placement.pk).exists()


def test_a_city_promoter_names_the_zone(cast):
    from guanjia.investment.tests.helpers import make_promoter

    city = make_promoter("promoter_city", cast.city)
    response = api(city).post("/api/investment/chains/", {"name": "新能源"}, format="json")
    assert response.status_code == 400 and "zone" in response.json()
    response = api(city).post(
        "/api/investment/chains/", {"name": "新能源", "zone": cast.zone_b.pk}, format="json"
    )
    assert response.status_code == 201 and response.json()["zone"] == cast.zone_b.pk
    assert chains.node_strengths(IndustryChain.objects.get()) == {}
