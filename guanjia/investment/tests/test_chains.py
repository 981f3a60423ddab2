"""Industry chains: node strength, gaps (补链) and thin supply (强链延链) on a hand-built chain, and the
services that write chains, nodes and placements (who may, what is refused, what is audited)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import Enterprise, Scale, Tier
from guanjia.enterprises.uscc import with_check_digit
from guanjia.investment import chains
from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement, Segment, Strength
from guanjia.investment.tests.helpers import make_lead, make_project, make_target
from guanjia.testing import make_enterprise

pytestmark = pytest.mark.django_db


def firm(cast, n: int, scale: str, tier: str, zone=None) -> Enterprise:
    return make_enterprise(
        with_check_digit(f"91320591MA00071{n:02d}"),
        f"链上企业{n}",
        zone or cast.zone_a,
        None,
        scale=scale,
        tier=tier,
    )


@dataclass
class Battery:
    """新能源, hand-built through the services:

    上游 材料 ─┬ 正极材料   E1 大型·重点·龙头 (4+2+4=10), E2 中型·规上 (2+1=3)        → 13 强, 1 supplier
              ├ 负极材料   E3 小型·一般 (1), E4 微型·一般 (0.5)                    → 1.5 弱
              ├ 隔膜       E9 大型·规上 (5), E10 小型·规上 (2), E11 微型·一般 (0.5) → 7.5 弱 (just below 8)
              └ 电解液     nobody                                                  → 缺失
         材料 itself holds E2 again (direct 1): distinct E1 E2 E3 E4 E9 E10 E11 = 10+3+1+0.5+5+2+0.5 = 22 强
    中游 电芯             E5 中型·重点 (4), E6 中型·重点 (4)                        → 8 强 (exactly STRONG_SCORE)
    下游 储能系统         E8 中型·一般·龙头 (2+0+4=6)                               → 6 弱, a 龙头 with no supplier
         回收             nobody                                                  → 缺失
    """

    chain: IndustryChain
    nodes: dict[str, ChainNode]
    firms: dict[str, Enterprise]


def build_battery(cast) -> Battery:
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    nodes: dict[str, ChainNode] = {}
    nodes["材料"] = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=by)
    for name in ("正极材料", "负极材料", "隔膜", "电解液"):
        nodes[name] = chains.add_node(chain, name=name, parent=nodes["材料"], by=by)
    nodes["电芯"] = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=by)
    nodes["储能系统"] = chains.add_node(chain, name="储能系统", segment=Segment.DOWNSTREAM, by=by)
    nodes["回收"] = chains.add_node(chain, name="回收", segment=Segment.DOWNSTREAM, by=by)
    spec = {
        "E1": (Scale.LARGE, Tier.KEY),
        "E2": (Scale.MEDIUM, Tier.ABOVE_SCALE),
        "E3": (Scale.SMALL, Tier.GENERAL),
        "E4": (Scale.MICRO, Tier.GENERAL),
        "E5": (Scale.MEDIUM, Tier.KEY),
        "E6": (Scale.MEDIUM, Tier.KEY),
        "E8": (Scale.MEDIUM, Tier.GENERAL),
        "E9": (Scale.LARGE, Tier.ABOVE_SCALE),
        "E10": (Scale.SMALL, Tier.ABOVE_SCALE),
        "E11": (Scale.MICRO, Tier.GENERAL),
    }
    firms = {key: firm(cast, int(key[1:]), scale, tier) for key, (scale, tier) in spec.items()}
    placements = [
        ("正极材料", "E1", True),
        ("正极材料", "E2", False),
        ("材料", "E2", False),
        ("负极材料", "E3", False),
        ("负极材料", "E4", False),
        ("隔膜", "E9", False),
        ("隔膜", "E10", False),
        ("隔膜", "E11", False),
        ("电芯", "E5", False),
        ("电芯", "E6", False),
        ("储能系统", "E8", True),
    ]
    for node, key, leader in placements:
        chains.place_enterprise(nodes[node], firms[key], by=by, is_leader=leader)
    chain.refresh_from_db()
    return Battery(chain=chain, nodes=nodes, firms=firms)


def figures(strengths, name):
    s = next(s for s in strengths.values() if s.node.name == name)
    return (s.count, s.leaders, s.direct, s.score, s.strength)


# --- strength ---------------------------------------------------------------------------------------------


def test_each_node_is_scored_from_the_enterprises_on_it_and_below(cast):
    battery = build_battery(cast)
    strengths = chains.node_strengths(battery.chain)
    assert figures(strengths, "正极材料") == (2, 1, 2, Decimal("13"), Strength.STRONG)
    assert figures(strengths, "负极材料") == (2, 0, 2, Decimal("1.5"), Strength.WEAK)
    assert figures(strengths, "隔膜") == (3, 0, 3, Decimal("7.5"), Strength.WEAK)
    assert figures(strengths, "电解液") == (0, 0, 0, Decimal("0"), Strength.MISSING)
    # The parent aggregates its children; E2, on the parent and on a child, counts once.
    assert figures(strengths, "材料") == (7, 1, 1, Decimal("22"), Strength.STRONG)
    assert figures(strengths, "储能系统") == (1, 1, 1, Decimal("6"), Strength.WEAK)
    assert figures(strengths, "回收") == (0, 0, 0, Decimal("0"), Strength.MISSING)


def test_a_score_of_exactly_strong_score_is_strong_and_half_a_point_less_is_weak(cast):
    battery = build_battery(cast)
    strengths = chains.node_strengths(battery.chain)
    assert Decimal("8") == chains.STRONG_SCORE
    assert figures(strengths, "电芯")[3:] == (Decimal("8"), Strength.STRONG)
    assert figures(strengths, "隔膜")[3:] == (Decimal("7.5"), Strength.WEAK)
    # One more micro enterprise (0.5) lifts 隔膜 to the line.
    chains.place_enterprise(
        battery.nodes["隔膜"], firm(cast, 12, Scale.MICRO, Tier.GENERAL), by=cast.promoter_a
    )
    assert figures(chains.node_strengths(battery.chain), "隔膜")[3:] == (Decimal("8"), Strength.STRONG)


def test_a_leader_flag_counts_once_per_enterprise_however_often_it_is_placed(cast):
    battery = build_battery(cast)
    # E1 also placed on the parent, not as 龙头: the parent still has one 龙头 and scores E1 once as one.
    chains.place_enterprise(battery.nodes["材料"], battery.firms["E1"], by=cast.promoter_a)
    assert figures(chains.node_strengths(battery.chain), "材料") == (7, 1, 2, Decimal("22"), Strength.STRONG)


def test_strength_costs_two_queries_however_big_the_chain(cast, django_assert_num_queries):
    battery = build_battery(cast)
    with django_assert_num_queries(2):
        chains.node_strengths(battery.chain)
    other = chains.create_chain(zone=cast.zone_a, name="集成电路", by=cast.promoter_a)
    with django_assert_num_queries(2):
        by_chain = chains.strengths_by_chain([battery.chain, other])
    assert len(by_chain[battery.chain.pk]) == 8 and by_chain[other.pk] == {}


def test_the_chain_list_counts_nodes_by_strength(cast):
    battery = build_battery(cast)
    [summary] = chains.chain_summaries([battery.chain])
    assert (summary.nodes, summary.strong, summary.weak, summary.missing) == (8, 3, 3, 2)


# --- gaps and thin supply -----------------------------------------------------------------------------------


def test_gaps_are_the_missing_or_weak_leaves_with_the_targets_covering_them(cast):
    battery = build_battery(cast)
    nodes = battery.nodes
    make_target(cast.zone_a, "负极甲公司", nodes["负极材料"])
    make_target(cast.zone_a, "回收乙公司", nodes["负极材料"], nodes["回收"])
    make_target(cast.zone_a, "电芯丙公司", nodes["电芯"])  # covers a strong node: not a gap
    found = [(g.node.name, g.strength.strength, g.targets) for g in chains.gaps(battery.chain)]
    assert found == [
        ("电解液", Strength.MISSING, 0),
        ("回收", Strength.MISSING, 1),
        ("负极材料", Strength.WEAK, 2),
        ("储能系统", Strength.WEAK, 0),
        ("隔膜", Strength.WEAK, 0),
    ]
    # 材料 has children: never a gap itself, whatever its figures.


def test_thin_supply_names_leaders_with_few_suppliers_or_a_missing_child(cast):
    battery = build_battery(cast)
    thin = {link.node.name: link for link in chains.thin_supply(battery.chain)}
    assert set(thin) == {"正极材料", "材料", "储能系统"}
    assert thin["正极材料"].few_suppliers and thin["正极材料"].strength.suppliers == 1
    assert thin["储能系统"].few_suppliers and thin["储能系统"].strength.suppliers == 0
    # 材料 has six suppliers but its child 电解液 is missing (延链).
    assert not thin["材料"].few_suppliers
    assert [c.name for c in thin["材料"].missing_children] == ["电解液"]
    # Three suppliers on 正极材料 are enough: it leaves the list.
    for n in (13, 14):
        chains.place_enterprise(
            battery.nodes["正极材料"], firm(cast, n, Scale.SMALL, Tier.GENERAL), by=cast.promoter_a
        )
    assert "正极材料" not in {link.node.name for link in chains.thin_supply(battery.chain)}


def test_the_map_reads_segment_by_segment_depth_first(cast):
    battery = build_battery(cast)
    found = chains.chain_map(battery.chain)
    assert [(r.node.name, r.depth) for r in found.rows] == [
        ("材料", 0),
        ("正极材料", 1),
        ("负极材料", 1),
        ("隔膜", 1),
        ("电解液", 1),
        ("电芯", 0),
        ("储能系统", 0),
        ("回收", 0),
    ]


# --- writing chains and nodes -----------------------------------------------------------------------------


def test_a_promoter_creates_and_renames_a_chain_and_both_are_audited(cast):
    chain = chains.create_chain(zone=cast.zone_a, name=" 新能源 ", by=cast.promoter_a, description="主导产业")
    assert (chain.name, chain.version) == ("新能源", 1)
    chains.update_chain(chain, by=cast.promoter_a, version=1, name="新能源汽车")
    chain.refresh_from_db()
    assert (chain.name, chain.version) == ("新能源汽车", 2)
    records = AuditRecord.objects.filter(object_type="investment.industrychain", object_id=str(chain.pk))
    actions = list(records.order_by("pk").values_list("action", flat=True))
    assert actions == ["investment.chain_create", "investment.chain_update"]


def test_a_chain_name_is_unique_in_its_zone_only(cast, promoter_b):
    chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    with pytest.raises(ServiceError, match="产业链名称：本园区已有“新能源”"):
        chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    chains.create_chain(zone=cast.zone_b, name="新能源", by=promoter_b)


def test_a_stale_rename_loses(cast):
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    chains.update_chain(chain, by=cast.promoter_a, version=1, description="第一次")
    with pytest.raises(Conflict):
        chains.update_chain(
            IndustryChain.objects.get(pk=chain.pk), by=cast.promoter_a, version=1, name="旧稿"
        )


def test_only_the_zones_promoters_write(cast, promoter_b):
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    for who in (cast.leader_a, cast.steward_a, promoter_b, cast.dispatcher_a):
        with pytest.raises(NotAllowed):
            chains.create_chain(zone=cast.zone_a, name="集成电路", by=who)
        with pytest.raises(NotAllowed):
            chains.add_node(chain, name="正极", segment=Segment.UPSTREAM, by=who)
        with pytest.raises(NotAllowed):
            chains.place_enterprise(node, cast.ent_a1, by=who)
        with pytest.raises(NotAllowed):
            chains.remove_node(node, by=who)
    assert ChainNode.objects.filter(chain=chain).count() == 1


def test_node_rules_name_parent_segment(cast):
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    other = chains.create_chain(zone=cast.zone_a, name="集成电路", by=by)
    materials = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=by)
    foreign = chains.add_node(other, name="晶圆", segment=Segment.MIDSTREAM, by=by)
    with pytest.raises(ServiceError, match="环节名称：本产业链已有“材料”"):
        chains.add_node(chain, name="材料", segment=Segment.MIDSTREAM, by=by)
    with pytest.raises(ServiceError, match="上级环节：“晶圆”不属于本产业链"):
        chains.add_node(chain, name="正极", parent=foreign, by=by)
    with pytest.raises(ServiceError, match="链段：须与上级环节“材料”一致"):
        chains.add_node(chain, name="正极", parent=materials, segment=Segment.DOWNSTREAM, by=by)
    with pytest.raises(ServiceError, match="链段：请选择"):
        chains.add_node(chain, name="正极", by=by)
    child = chains.add_node(chain, name="正极", parent=materials, by=by)
    assert child.segment == Segment.UPSTREAM and child.position == materials.position + 1
    chains.add_node(other, name="材料", segment=Segment.UPSTREAM, by=by)  # unique per chain only


def test_a_parent_may_not_create_a_cycle(cast):
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    a = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=by)
    b = chains.add_node(chain, name="正极", parent=a, by=by)
    c = chains.add_node(chain, name="前驱体", parent=b, by=by)
    for parent in (a, c):
        with pytest.raises(ServiceError, match="上级环节：.*是本环节或其下级环节"):
            chains.update_node(ChainNode.objects.get(pk=a.pk), parent=parent, by=by)
    assert ChainNode.objects.get(pk=a.pk).parent_id is None


def test_a_top_node_changing_segment_takes_its_subtree_along(cast):
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    a = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=by)
    b = chains.add_node(chain, name="正极", parent=a, by=by)
    c = chains.add_node(chain, name="前驱体", parent=b, by=by)
    chains.update_node(ChainNode.objects.get(pk=a.pk), segment=Segment.MIDSTREAM, by=by)
    assert set(ChainNode.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("segment", flat=True)) == {
        Segment.MIDSTREAM
    }
    # Moved to the top, a node keeps its segment unless told otherwise; under a parent, it takes the parent's.
    chains.update_node(ChainNode.objects.get(pk=c.pk), parent=None, by=by)
    assert ChainNode.objects.get(pk=c.pk).segment == Segment.MIDSTREAM
    d = chains.add_node(chain, name="储能", segment=Segment.DOWNSTREAM, by=by)
    chains.update_node(ChainNode.objects.get(pk=c.pk), parent=d, by=by)
    assert ChainNode.objects.get(pk=c.pk).segment == Segment.DOWNSTREAM


def test_a_stale_node_edit_loses(cast):
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=by)
    read = IndustryChain.objects.get(pk=chain.pk).version
    chains.update_node(ChainNode.objects.get(pk=node.pk), name="电池", by=by, version=read)
    with pytest.raises(Conflict):
        chains.update_node(ChainNode.objects.get(pk=node.pk), name="电芯模组", by=by, version=read)
    assert ChainNode.objects.get(pk=node.pk).name == "电池"


def test_removing_a_node_that_holds_something_is_refused_naming_it(cast):
    by = cast.promoter_a
    battery = build_battery(cast)
    nodes = battery.nodes
    with pytest.raises(ServiceError) as refused:
        chains.remove_node(nodes["材料"], by=by)
    message = str(refused.value)
    assert "不能删除环节“材料”" in message
    assert "下级环节 正极材料、负极材料、隔膜 等 4 个" in message
    assert "链上企业 链上企业2" in message
    target = make_target(cast.zone_a, "回收乙公司", nodes["回收"])
    make_lead(target, by, node=nodes["回收"])
    make_project(cast.zone_a, by, name="电池回收项目", node=nodes["回收"])
    with pytest.raises(ServiceError) as refused:
        chains.remove_node(nodes["回收"], by=by)
    message = str(refused.value)
    for phrase in ("招商线索 回收乙公司", "招商项目 电池回收项目", "目标企业 回收乙公司"):
        assert phrase in message
    assert ChainNode.objects.filter(pk__in=[nodes["材料"].pk, nodes["回收"].pk]).count() == 2


def test_an_empty_node_is_removed_and_audited(cast):
    battery = build_battery(cast)
    node = battery.nodes["电解液"]
    chains.remove_node(node, by=cast.promoter_a)
    assert not ChainNode.objects.filter(pk=node.pk).exists()
    assert AuditRecord.objects.filter(action="investment.node_delete", object_id=str(node.pk)).exists()


# --- placements -------------------------------------------------------------------------------------------


def test_an_enterprise_of_another_zone_is_refused(cast):
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="企业：不属于本产业链所在园区"):
        chains.place_enterprise(node, cast.ent_b1, by=cast.promoter_a)
    assert not NodePlacement.objects.exists()


def test_placing_twice_gives_a_clear_message(cast):
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    chains.place_enterprise(node, cast.ent_a1, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="企业：“示例智能制造有限公司”已在环节“电芯”上"):
        chains.place_enterprise(node, cast.ent_a1, by=cast.promoter_a, is_leader=True)
    assert NodePlacement.objects.get().is_leader is False


def test_the_leader_flag_is_set_and_cleared_and_the_enterprise_removed(cast):
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    placement = chains.place_enterprise(node, cast.ent_a1, by=cast.promoter_a)
    chains.set_leader(placement, is_leader=True, by=cast.promoter_a)
    assert NodePlacement.objects.get(pk=placement.pk).is_leader
    stale = NodePlacement.objects.get(pk=placement.pk)
    chains.set_leader(placement, is_leader=False, by=cast.promoter_a)
    with pytest.raises(Conflict):
        chains.set_leader(stale, is_leader=False, by=cast.promoter_a)  # read as 龙头, changed meanwhile
    with pytest.raises(NotAllowed):
        chains.unplace(placement, by=cast.leader_a)
    chains.unplace(placement, by=cast.promoter_a)
    assert not NodePlacement.objects.exists()
    with pytest.raises(Conflict):
        chains.unplace(placement, by=cast.promoter_a)
    actions = set(
        AuditRecord.objects.filter(action__startswith="investment.placement").values_list("action", flat=True)
    )
    assert actions == {
        "investment.placement_create",
        "investment.placement_leader",
        "investment.placement_delete",
    }
