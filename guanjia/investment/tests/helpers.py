"""Builders for investment tests: rows written straight to the tables, for tests that need them to exist.

Tests of a service call the service itself; these only set the scene.
"""

from __future__ import annotations

from decimal import Decimal

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.investment.models import (
    ChainNode,
    IndustryChain,
    Lead,
    LeadSource,
    Project,
    ProjectMilestone,
    Segment,
    Stage,
    Target,
)
from guanjia.testing import make_user


def make_promoter(username: str, zone: OrgUnit) -> User:
    return make_user(username, zone, Role.PROMOTER)


def make_chain(zone: OrgUnit, by: User, name: str = "新能源") -> IndustryChain:
    """A small chain: 上游 材料 (with 正极材料, 负极材料), 中游 电芯, 下游 储能系统."""
    chain = IndustryChain.objects.create(zone=zone, name=name, created_by=by)
    materials = ChainNode.objects.create(chain=chain, name="材料", segment=Segment.UPSTREAM, position=1)
    ChainNode.objects.create(
        chain=chain, parent=materials, name="正极材料", segment=Segment.UPSTREAM, position=2
    )
    ChainNode.objects.create(
        chain=chain, parent=materials, name="负极材料", segment=Segment.UPSTREAM, position=3
    )
    ChainNode.objects.create(chain=chain, name="电芯", segment=Segment.MIDSTREAM, position=4)
    ChainNode.objects.create(chain=chain, name="储能系统", segment=Segment.DOWNSTREAM, position=5)
    return chain


def node(chain: IndustryChain, name: str) -> ChainNode:
    return ChainNode.objects.get(chain=chain, name=name)


def make_target(zone: OrgUnit, name: str = "示例锂电股份有限公司", *nodes: ChainNode, **fields) -> Target:
    target = Target.objects.create(zone=zone, name=name, **fields)
    if nodes:
        target.nodes.set(nodes)
    return target


def make_lead(target: Target, owner: User, **fields) -> Lead:
    fields.setdefault("source", LeadSource.EXPO)
    return Lead.objects.create(zone=target.zone, target=target, owner=owner, created_by=owner, **fields)


def make_project(zone: OrgUnit, owner: User, name: str = "示例储能项目", **fields) -> Project:
    """A project in 谋划 (or the given stage), with a reached milestone for each stage up to it."""
    fields.setdefault("investment_planned", Decimal("10000"))
    project = Project.objects.create(zone=zone, name=name, owner=owner, created_by=owner, **fields)
    reached = project.created_at.date()
    for stage in Stage.values[: Stage.values.index(project.stage) + 1]:
        ProjectMilestone.objects.create(project=project, stage=stage, reached_on=reached)
    return project
