"""Builders for investment tests: rows written straight to the tables, for tests that need them to exist,
and projects made through the project services where a test needs one as the services leave it.

Tests of a service call the service itself; these only set the scene.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.investment import projects
from guanjia.investment.access import today
from guanjia.investment.models import (
    ApprovalTemplateItem,
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
from guanjia.testing import Cast, make_user


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


def seed_approval_templates() -> dict[str, list[tuple[str, int, int]]]:
    """The approval templates of migration 0002, put back where a transactional test flushed them;
    returns them by project type: (name, statutory days, promised days)."""
    seeded = importlib.import_module("guanjia.investment.migrations.0002_approval_templates")
    for project_type, rows in seeded.TEMPLATES.items():
        for position, (name, statutory, promised) in enumerate(rows, start=1):
            ApprovalTemplateItem.objects.get_or_create(
                project_type=project_type,
                name=name,
                defaults={"statutory_days": statutory, "promised_days": promised, "position": position},
            )
    return seeded.TEMPLATES


def new_project(
    cast: Cast,
    name: str = "储能电站项目",
    *,
    zone: OrgUnit | None = None,
    by: User | None = None,
    **fields: Any,
) -> Project:
    """A project created through the service by `by` (zone A's promoter) in `zone` (zone A), who owns
    it: 50,000 万元 planned, in 谋划 since 2026-09-01, unless `fields` say otherwise."""
    by = by or cast.promoter_a
    fields.setdefault("investment_planned", Decimal("50000"))
    fields.setdefault("on", date(2026, 9, 1))
    return projects.create_project(zone=zone or cast.zone_a, name=name, owner=by, by=by, **fields)


def signed_project(
    cast: Cast,
    name: str = "储能电站项目",
    *,
    by: User | None = None,
    signed_on: date = date(2026, 10, 10),
    event: str = "",
    **fields: Any,
) -> Project:
    """new_project moved by its owner to 签约 on `signed_on` (at `event`, else 直接签约), which gives it
    its signing and its approval checklist."""
    by = by or cast.promoter_a
    project = new_project(cast, name, by=by, **fields)
    return projects.advance_project(project, to=Stage.SIGNED, on=signed_on, by=by, event=event)


def need_fields(**fields: Any) -> dict[str, Any]:
    """A financing need as an enterprise fills it in, on the form or through the API: 800 万元 of equity
    at the early stage for a research centre, needed in 30 days; `fields` add to it or replace."""
    return {
        "amount": "800",
        "kind": "equity",
        "stage": "early",
        "purpose": "研发中心建设",
        "needed_by": (today() + timedelta(days=30)).isoformat(),
        **fields,
    }
