"""Talent figures per enterprise and per chain (services.counts): worked out by hand on a small scene."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement
from guanjia.talent import services
from guanjia.talent.models import ServiceKind
from guanjia.talent.tests.scene import ID_3, build_scene

pytestmark = pytest.mark.django_db


def test_counts_per_enterprise_and_per_chain(cast):
    scene = build_scene(cast)
    # ent_a2: one rejected application and one open need; ent_a1: approved + submitted, two services.
    other = services.submit_application(
        cast.ent_a2,
        by=cast.steward_a2,
        person_name="赵一",
        id_number=ID_3,
        phone="13951230009",
        tier=scene.tiers["E"],
    )
    services.decide_application(other, by=scene.talent_handler, approve=False, reason="不符合条件")
    later = date.today() + timedelta(days=20)
    services.add_need(cast.ent_a2, by=cast.steward_a2, post="研发工程师", count=2, by_date=later)
    withdrawn = services.add_need(cast.ent_a1, by=cast.ent_user_a1, post="销售", count=1, by_date=later)
    services.close_need(withdrawn, status="withdrawn", by=cast.ent_user_a1)
    housing = services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    services.decide_service(housing, by=cast.handler_a, grant=True, result="人才公寓 3-201")
    services.request_service(scene.approved, kind=ServiceKind.MEDICAL, by=cast.ent_user_a1)
    # A chain holding both enterprises, ent_a1 on two of its nodes (counted once), and one with ent_a2 only.
    chain = IndustryChain.objects.create(zone=cast.zone_a, name="新材料", created_by=cast.promoter_a)
    up = ChainNode.objects.create(chain=chain, name="原材料", segment="up")
    mid = ChainNode.objects.create(chain=chain, name="改性加工", segment="mid")
    for node, enterprise in ((up, cast.ent_a1), (mid, cast.ent_a1), (mid, cast.ent_a2)):
        NodePlacement.objects.create(node=node, enterprise=enterprise)
    solo = IndustryChain.objects.create(zone=cast.zone_a, name="智能装备", created_by=cast.promoter_a)
    NodePlacement.objects.create(
        node=ChainNode.objects.create(chain=solo, name="整机", segment="down"), enterprise=cast.ent_a2
    )

    per, chains = services.counts(cast.leader_a)

    a1, a2 = per[cast.ent_a1.pk].as_dict(), per[cast.ent_a2.pk].as_dict()
    assert a1["applications"] == {"submitted": 1, "approved": 1, "rejected": 0}
    assert a1["services"]["housing"] == {"requested": 0, "granted": 1, "declined": 0}
    assert a1["services"]["medical"] == {"requested": 1, "granted": 0, "declined": 0}
    assert a1["open_needs"] == 0
    assert a2["applications"] == {"submitted": 0, "approved": 0, "rejected": 1}
    assert a2["open_needs"] == 1
    both, alone = chains[chain.pk].as_dict(), chains[solo.pk].as_dict()
    assert both["applications"] == {"submitted": 1, "approved": 1, "rejected": 1}
    assert both["services"]["housing"]["granted"] == 1 and both["open_needs"] == 1
    assert alone["applications"] == {"submitted": 0, "approved": 0, "rejected": 1}
    assert alone["services"]["housing"]["granted"] == 0
    # Zone B's leader-in-scope sees none of it; the city's leader sees the same.
    assert services.counts(cast.leader_city)[0].keys() == per.keys()
    assert services.counts(cast.leader_a, zone=cast.zone_b) == ({}, {})
