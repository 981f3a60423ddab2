"""A project that registers as an enterprise fills the link it was brought in for: the new enterprise
is placed on the project's node, and the chain map counts it."""

from __future__ import annotations

from guanjia.investment import chains, projects
from guanjia.investment.models import NodePlacement, Stage, Strength
from guanjia.investment.tests.helpers import make_chain, make_project, node

NEW_USCC = "91110000802100433B"


def test_registration_places_the_new_enterprise_on_the_projects_node(cast):
    chain = make_chain(cast.zone_a, cast.promoter_a)
    cathode = node(chain, "正极材料")
    assert chains.node_strengths(chain)[cathode.pk].strength == Strength.MISSING
    project = make_project(cast.zone_a, cast.promoter_a, stage=Stage.SIGNED, chain=chain, node=cathode)

    enterprise = projects.register_project_enterprise(
        project, uscc=NEW_USCC, name="示例正极材料（高新区）有限公司", by=cast.promoter_a
    )

    placement = NodePlacement.objects.get(enterprise=enterprise)
    assert placement.node == cathode and not placement.is_leader
    assert chains.node_strengths(chain)[cathode.pk].count == 1
    assert chains.node_strengths(chain)[cathode.pk].strength != Strength.MISSING


def test_a_project_without_a_node_registers_without_a_placement(cast):
    project = make_project(cast.zone_a, cast.promoter_a, stage=Stage.SIGNED)

    enterprise = projects.register_project_enterprise(
        project, uscc=NEW_USCC, name="示例新材料（高新区）有限公司", by=cast.promoter_a
    )

    assert not NodePlacement.objects.filter(enterprise=enterprise).exists()
