"""The talent part of `guanjia demo-data`: in 高新区, tiers A–E, the recognition and the four services
routed to 人力资源和社会保障局 (住房保障 to 住房和城乡建设局), the demo enterprise user's needs, and
applications (approved, submitted, rejected) with services (one overdue, one granted).

Everything goes through the services (guanjia/talent/services.py) as its people would do it: the zone's
leader sets tiers and routes, gj_enterprise applies and asks, gj_handler_hr decides. The overdue service
was asked for ten days ago (its deadline counted from then).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.talent import services
from guanjia.talent.models import RouteKind, ServiceKind, TalentTier

DEMO_ENTERPRISE_USER = "gj_enterprise"
DEMO_LEADER = "gj_leader"
DEMO_HANDLER = "gj_handler_hr"

TIERS = (
    ("A", "顶尖人才", "诺贝尔奖获得者、两院院士等国内外顶尖人才"),
    ("B", "领军人才", "国家级人才计划入选者、国家重点实验室负责人等"),
    ("C", "拔尖人才", "省级人才计划入选者、正高级职称的技术带头人等"),
    ("D", "骨干人才", "博士学位或副高级职称、在区内企业任核心技术岗位"),
    ("E", "基础人才", "硕士学位或中级职称、高级技师等"),
)
ROUTES = (
    (RouteKind.RECOGNITION, "hr", 10),
    (RouteKind.HOUSING, "housing", 5),
    (RouteKind.SCHOOLING, "hr", 5),
    (RouteKind.MEDICAL, "hr", 3),
    (RouteKind.SETTLEMENT, "hr", 5),
)


def id_number(seventeen: str) -> str:
    """A resident ID number with its right check character (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(seventeen, services._ID_WEIGHTS, strict=True))
    return seventeen + services._ID_CHECKS[total % 11]


def add_demo_talent(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: tiers, routes, needs, applications and services of 高新区, in the demo's transaction."""
    cities = [unit for unit in units.values() if unit.kind == OrgUnit.Kind.CITY]
    leader = User.objects.filter(username=DEMO_LEADER).first()
    handler = User.objects.filter(username=DEMO_HANDLER).first()
    member = EnterpriseMembership.objects.filter(user__username=DEMO_ENTERPRISE_USER).select_related(
        "enterprise", "user"
    )
    membership = member.first()
    if not cities or leader is None or handler is None or membership is None:
        return
    zone = units.get(f"{cities[0].code}-gx")
    if zone is None:
        return
    for position, (code, name, description) in enumerate(TIERS, start=1):
        services.save_tier(zone, by=leader, code=code, name=name, description=description, position=position)
    for kind, department, workdays in ROUTES:
        services.set_route(
            zone, kind=kind, department=units[f"{zone.code}-{department}"], workdays=workdays, by=leader
        )
    user, enterprise = membership.user, membership.enterprise
    today = timezone.localdate()
    services.add_need(
        enterprise,
        by=user,
        post="嵌入式软件工程师",
        count=3,
        by_date=today + timedelta(days=60),
        note="硕士及以上",
    )
    services.add_need(enterprise, by=user, post="工艺主管", count=1, by_date=today + timedelta(days=30))
    tier = {tier.code: tier for tier in TalentTier.objects.filter(zone=zone)}
    approved = services.submit_application(
        enterprise,
        by=user,
        person_name="张博文",
        id_number=id_number("32058219850312401"),
        phone="13951230001",
        tier=tier["B"],
    )
    services.decide_application(approved, by=handler, approve=True)
    second = services.submit_application(
        enterprise,
        by=user,
        person_name="陈思远",
        id_number=id_number("32058219900718202"),
        phone="13951230002",
        tier=tier["D"],
    )
    services.decide_application(second, by=handler, approve=True)
    services.submit_application(
        enterprise,
        by=user,
        person_name="李明哲",
        id_number=id_number("32058219920205303"),
        phone="13951230003",
        tier=tier["C"],
    )
    rejected = services.submit_application(
        enterprise,
        by=user,
        person_name="王振宇",
        id_number=id_number("32058219950923104"),
        phone="13951230004",
        tier=tier["C"],
    )
    services.decide_application(
        rejected, by=handler, approve=False, reason="未提供省级人才计划入选证明，可补齐材料后按 D 类重新申请"
    )
    services.request_service(
        approved,
        kind=ServiceKind.SCHOOLING,
        by=user,
        note="子女入读区实验小学一年级",
        at=timezone.now() - timedelta(days=10),
    )
    granted = services.request_service(approved, kind=ServiceKind.MEDICAL, by=user, note="家属就医绿色通道")
    services.decide_service(
        granted, by=handler, grant=True, result="已办理区人民医院人才就医绿卡，凭卡优先挂号"
    )
    services.request_service(second, kind=ServiceKind.HOUSING, by=user, note="申请人才公寓一套（两居室）")
