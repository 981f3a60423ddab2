"""The chain pages: who reads and who writes them, what the map shows, and what they cost in queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.investment import chains
from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement, Segment
from guanjia.investment.tests.helpers import make_target
from guanjia.investment.tests.test_chains import build_battery

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_chain_page_shows_map_table_gaps_and_thin_links(cast, login):
    battery = build_battery(cast)
    nodes = battery.nodes
    target = make_target(cast.zone_a, "回收乙公司", nodes["回收"])
    response = login(cast.promoter_a).get(reverse("investment:chain", args=[battery.chain.pk]))
    html = response.content.decode()
    assert 'data-testid="chain-map"' in html and 'data-testid="gap-list"' in html
    # Every node in the table with its figures, readable without the chart.
    for node in nodes.values():
        assert f'data-testid="node-{node.pk}"' in html
    # The gaps, each with its targets and the two links.
    for name in ("电解液", "回收", "负极材料", "储能系统", "隔膜"):
        assert f'data-testid="gap-{nodes[name].pk}"' in html
    for name in ("材料", "正极材料", "电芯"):
        assert f'data-testid="gap-{nodes[name].pk}"' not in html
    assert f"{reverse('investment:targets')}?node={nodes['回收'].pk}" in html
    assert f"{reverse('investment:lead-new')}?node={nodes['回收'].pk}" in html
    for name in ("正极材料", "材料", "储能系统"):
        assert f'data-testid="thin-{nodes[name].pk}"' in html
    # The chart's data: chain → three segments → nodes, coloured by strength, each with its page.
    tree = response.context["tree"]
    assert tree["name"] == "新能源"
    assert [s["name"] for s in tree["children"]] == ["上游", "中游", "下游"]
    materials = tree["children"][0]["children"][0]
    assert (materials["name"], materials["strength"], materials["score"]) == ("材料", "strong", "22")
    assert [c["name"] for c in materials["children"]] == ["正极材料", "负极材料", "隔膜", "电解液"]
    assert materials["children"][2]["score"] == "7.5"
    assert materials["url"] == reverse("investment:chain-node", args=[nodes["材料"].pk])
    assert '<script id="chain-tree" type="application/json">' in html  # data, not inline script
    assert target.name not in html  # the chain page counts targets; the node page names them


def test_the_leader_reads_but_does_not_write(cast, login):
    battery = build_battery(cast)
    client = login(cast.leader_a)
    node = battery.nodes["电芯"]
    html = client.get(reverse("investment:chain", args=[battery.chain.pk])).content.decode()
    assert (
        reverse("investment:lead-new") not in html
        and reverse("investment:chain-edit", args=[battery.chain.pk]) not in html
    )
    assert client.get(reverse("investment:chain-node", args=[node.pk])).status_code == 200
    assert client.get(reverse("investment:chains")).status_code == 200
    for url in (
        reverse("investment:chain-new"),
        reverse("investment:chain-edit", args=[battery.chain.pk]),
        reverse("investment:node-new", args=[battery.chain.pk]),
        reverse("investment:node-edit", args=[node.pk]),
    ):
        assert client.get(url).status_code == 403, url
    placement = NodePlacement.objects.filter(node=node).first()
    assert placement is not None
    for url, data in (
        (reverse("investment:node-place", args=[node.pk]), {"enterprise": cast.ent_a1.pk}),
        (reverse("investment:node-delete", args=[battery.nodes["电解液"].pk]), {}),
        (reverse("investment:placement-leader", args=[placement.pk]), {"is_leader": "on"}),
        (reverse("investment:node-unplace", args=[placement.pk]), {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert ChainNode.objects.filter(pk=battery.nodes["电解液"].pk).exists()
    assert NodePlacement.objects.filter(pk=placement.pk, is_leader=False).exists()


def test_another_zones_promoter_gets_404_and_other_roles_403(cast, login, promoter_b):
    battery = build_battery(cast)
    node = battery.nodes["电芯"]
    placement = NodePlacement.objects.filter(node=node).first()
    assert placement is not None
    client = login(promoter_b)
    assert battery.chain.name not in client.get(reverse("investment:chains")).content.decode()
    for url in (
        reverse("investment:chain", args=[battery.chain.pk]),
        reverse("investment:chain-edit", args=[battery.chain.pk]),
        reverse("investment:node-new", args=[battery.chain.pk]),
        reverse("investment:chain-node", args=[node.pk]),
        reverse("investment:node-edit", args=[node.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("investment:node-place", args=[node.pk]), {"enterprise": cast.ent_a1.pk}
        ).status_code
        == 404
    )
    assert client.post(reverse("investment:node-unplace", args=[placement.pk])).status_code == 404
    for user in (cast.steward_a, cast.ent_user_a1, cast.dispatcher_a, cast.sysadmin):
        other = login(user)
        for url in (reverse("investment:chains"), reverse("investment:chain", args=[battery.chain.pk])):
            assert other.get(url).status_code == 403, (user, url)
    assert NodePlacement.objects.filter(pk=placement.pk).exists()


def test_a_promoter_builds_a_chain_through_the_pages(cast, login):
    client = login(cast.promoter_a)
    response = client.post(
        reverse("investment:chain-new"), {"zone": cast.zone_a.pk, "name": "新能源", "description": ""}
    )
    chain = IndustryChain.objects.get(name="新能源")
    assert response.status_code == 302 and response["Location"] == reverse(
        "investment:chain", args=[chain.pk]
    )
    new_node = reverse("investment:node-new", args=[chain.pk])
    client.post(new_node, {"name": "材料", "segment": Segment.UPSTREAM})
    materials = ChainNode.objects.get(name="材料")
    # Under a parent the segment follows the parent's, whatever the select says.
    client.post(new_node, {"name": "正极材料", "parent": materials.pk, "segment": Segment.DOWNSTREAM})
    cathode = ChainNode.objects.get(name="正极材料")
    assert (cathode.parent_id, cathode.segment) == (materials.pk, Segment.UPSTREAM)
    # Without a parent the segment is required, named in the form's error.
    response = client.post(new_node, {"name": "电芯"})
    assert (
        response.status_code == 200 and "没有上级环节时，请选择上游、中游或下游" in response.content.decode()
    )
    # A parent may not be the node's own descendant: the form does not offer it, the service refuses it.
    chain.refresh_from_db()
    response = client.post(
        reverse("investment:node-edit", args=[materials.pk]),
        {"name": "材料", "parent": cathode.pk, "segment": "", "version": chain.version},
    )
    assert response.status_code == 200 and ChainNode.objects.get(pk=materials.pk).parent_id is None
    # Place, flag, search, unplace.
    node_url = reverse("investment:chain-node", args=[cathode.pk])
    html = client.get(node_url, {"q": "智能制造"}).content.decode()
    assert "示例智能制造有限公司" in html and 'data-testid="search-results"' in html
    client.post(
        reverse("investment:node-place", args=[cathode.pk]), {"enterprise": cast.ent_a1.pk, "is_leader": "on"}
    )
    placement = NodePlacement.objects.get(node=cathode, enterprise=cast.ent_a1)
    assert placement.is_leader
    html = client.get(node_url).content.decode()
    assert (
        'data-testid="leader-badge"' in html and reverse("enterprises:detail", args=[cast.ent_a1.pk]) in html
    )
    client.post(reverse("investment:placement-leader", args=[placement.pk]), {})
    assert not NodePlacement.objects.get(pk=placement.pk).is_leader
    # Another zone's enterprise: refused with the message, nothing written.
    response = client.post(
        reverse("investment:node-place", args=[cathode.pk]), {"enterprise": cast.ent_b1.pk}, follow=True
    )
    assert NodePlacement.objects.filter(enterprise=cast.ent_b1).count() == 0
    assert any("企业" in str(m) for m in response.context["messages"])
    # A node with an enterprise is not removed; the message names the enterprise.
    response = client.post(reverse("investment:node-delete", args=[cathode.pk]), follow=True)
    assert ChainNode.objects.filter(pk=cathode.pk).exists()
    assert "链上企业 示例智能制造有限公司" in response.content.decode()
    client.post(reverse("investment:node-unplace", args=[placement.pk]))
    response = client.post(reverse("investment:node-delete", args=[cathode.pk]))
    assert response["Location"] == reverse("investment:chain", args=[chain.pk])
    assert not ChainNode.objects.filter(pk=cathode.pk).exists()


def test_the_city_promoter_is_told_the_enterprise_is_not_of_the_chains_zone(cast, login):
    from guanjia.investment.tests.helpers import make_promoter

    city_promoter = make_promoter("promoter_city", cast.city)
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=city_promoter)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=city_promoter)
    response = login(city_promoter).post(
        reverse("investment:node-place", args=[node.pk]), {"enterprise": cast.ent_b1.pk}, follow=True
    )
    assert "企业：不属于本产业链所在园区" in [str(m) for m in response.context["messages"]]
    assert not NodePlacement.objects.exists()


def test_the_chain_page_costs_the_same_queries_for_a_small_or_a_big_chain(
    cast, login, django_assert_max_num_queries
):
    client = login(cast.promoter_a)
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    top = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=cast.promoter_a)
    chains.place_enterprise(top, cast.ent_a1, by=cast.promoter_a, is_leader=True)
    url = reverse("investment:chain", args=[chain.pk])
    small = _queries(client, url)
    parent = top
    for n in range(12):
        parent = chains.add_node(chain, name=f"环节{n}", parent=parent if n % 3 else top, by=cast.promoter_a)
        make_target(cast.zone_a, f"目标{n}", parent)
        if n % 2:
            chains.place_enterprise(parent, cast.ent_a2, by=cast.promoter_a)
    assert _queries(client, url) == small
    # 13: the page's own, the session and user, and the navigation's (unread notices; service-unit staff).
    with django_assert_max_num_queries(13):
        client.get(url)


def test_the_list_and_node_pages_do_not_grow_with_chains_or_placements(cast, login):
    client = login(cast.leader_a)
    battery = build_battery(cast)
    one = _queries(client, reverse("investment:chains"))
    for n in range(4):
        other = chains.create_chain(zone=cast.zone_a, name=f"产业链{n}", by=cast.promoter_a)
        chains.add_node(other, name="环节", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    assert _queries(client, reverse("investment:chains")) == one
    node_url = reverse("investment:chain-node", args=[battery.nodes["电芯"].pk])
    before = _queries(client, node_url)
    make_target(cast.zone_a, "电芯甲", battery.nodes["电芯"])
    make_target(cast.zone_a, "电芯乙", battery.nodes["电芯"])
    chains.place_enterprise(battery.nodes["电芯"], battery.firms["E1"], by=cast.promoter_a)
    assert _queries(client, node_url) == before
