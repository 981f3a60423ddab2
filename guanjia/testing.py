"""The named cast every test can use: who may, and who may not.

cast.steward_a        steward of zone A, serves ent_a1
cast.steward_a2       another steward of zone A, serves ent_a2
cast.steward_b        steward of zone B, serves ent_b1
cast.dispatcher_a     zone A's service centre (keeps zone A's registry)
cast.supervisor_a     效能督查 of zone A
cast.leader_a         leader of zone A;  cast.leader_city  leader of the whole city
cast.promoter_a       招商专员 of zone A
cast.handler_a        handler in zone A's 市场监管局
cast.ent_user_a1      enterprise user of ent_a1
cast.sysadmin, cast.secadmin, cast.auditor   三员
cast.outsider         an account with no role at all
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import (
    Contact,
    Enterprise,
    EnterpriseMembership,
    Scale,
    StewardAssignment,
    Tier,
)

PASSWORD = "Guanjia-test-2026"

# Real, valid codes (GB 32100 check digits) used across the tests.
USCC_A1 = "914403001922038216"
USCC_A2 = "91440300708461136T"
USCC_B1 = "91310000631696382C"


@dataclass
class Cast:
    city: OrgUnit
    zone_a: OrgUnit
    zone_b: OrgUnit
    centre_a: OrgUnit
    centre_b: OrgUnit
    market_a: OrgUnit
    steward_a: User
    steward_a2: User
    steward_b: User
    dispatcher_a: User
    supervisor_a: User
    leader_a: User
    leader_city: User
    promoter_a: User
    handler_a: User
    ent_user_a1: User
    sysadmin: User
    secadmin: User
    auditor: User
    outsider: User
    ent_a1: Enterprise
    ent_a2: Enterprise
    ent_b1: Enterprise


def make_user(username: str, unit: OrgUnit | None, *roles: str, phone: str = "") -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, full_name=username, unit=unit, phone=phone
    )
    for role in roles:
        RoleGrant.objects.create(user=user, role=role)
    return user


def make_enterprise(uscc: str, name: str, zone: OrgUnit, steward: User | None, **fields) -> Enterprise:
    fields.setdefault("tier", Tier.GENERAL)
    fields.setdefault("scale", Scale.SMALL)
    enterprise = Enterprise.objects.create(uscc=uscc, name=name, zone=zone, steward=steward, **fields)
    if steward is not None:
        StewardAssignment.objects.create(enterprise=enterprise, steward=steward, reason="初始分配")
    Contact.objects.create(
        enterprise=enterprise, name="王经理", position="总经理", phone="13812345678", is_primary=True
    )
    return enterprise


def build_cast() -> Cast:
    city = OrgUnit.objects.create(name="示例市", code="city", kind=OrgUnit.Kind.CITY)
    zone_a = OrgUnit.objects.create(name="高新区", code="zone-a", kind=OrgUnit.Kind.ZONE, parent=city)
    zone_b = OrgUnit.objects.create(name="经开区", code="zone-b", kind=OrgUnit.Kind.ZONE, parent=city)
    centre_a = OrgUnit.objects.create(
        name="高新区企业服务中心",
        code="zone-a-centre",
        kind=OrgUnit.Kind.DEPARTMENT,
        parent=zone_a,
        is_dispatch_desk=True,
    )
    centre_b = OrgUnit.objects.create(
        name="经开区企业服务中心",
        code="zone-b-centre",
        kind=OrgUnit.Kind.DEPARTMENT,
        parent=zone_b,
        is_dispatch_desk=True,
    )
    market_a = OrgUnit.objects.create(
        name="高新区市场监管局", code="zone-a-market", kind=OrgUnit.Kind.DEPARTMENT, parent=zone_a
    )
    steward_a = make_user("steward_a", centre_a, Role.STEWARD, phone="13900000001")
    steward_a2 = make_user("steward_a2", centre_a, Role.STEWARD, phone="13900000002")
    steward_b = make_user("steward_b", centre_b, Role.STEWARD, phone="13900000003")
    ent_a1 = make_enterprise(
        USCC_A1,
        "示例智能制造有限公司",
        zone_a,
        steward_a,
        tier=Tier.KEY,
        founded_on=date(2015, 3, 1),
        registered_capital=Decimal("5000"),
        industry_section="C",
        industry_division="39",
    )
    ent_a2 = make_enterprise(
        USCC_A2, "示例新材料科技有限公司", zone_a, steward_a2, industry_section="C", industry_division="26"
    )
    ent_b1 = make_enterprise(
        USCC_B1, "示例物流有限公司", zone_b, steward_b, industry_section="G", industry_division="54"
    )
    ent_user_a1 = make_user("ent_user_a1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=ent_user_a1, enterprise=ent_a1)
    return Cast(
        city=city,
        zone_a=zone_a,
        zone_b=zone_b,
        centre_a=centre_a,
        centre_b=centre_b,
        market_a=market_a,
        steward_a=steward_a,
        steward_a2=steward_a2,
        steward_b=steward_b,
        dispatcher_a=make_user("dispatcher_a", centre_a, Role.DISPATCHER),
        supervisor_a=make_user("supervisor_a", centre_a, Role.SUPERVISOR),
        leader_a=make_user("leader_a", zone_a, Role.LEADER),
        leader_city=make_user("leader_city", city, Role.LEADER),
        promoter_a=make_user("promoter_a", zone_a, Role.PROMOTER),
        handler_a=make_user("handler_a", market_a, Role.HANDLER),
        ent_user_a1=ent_user_a1,
        sysadmin=make_user("sysadmin", None, Role.SYSADMIN),
        secadmin=make_user("secadmin", None, Role.SECADMIN),
        auditor=make_user("auditor", None, Role.AUDITOR),
        outsider=make_user("outsider", centre_a),
        ent_a1=ent_a1,
        ent_a2=ent_a2,
        ent_b1=ent_b1,
    )


def run_concurrently(*calls, timeout: float = 30.0) -> list:
    """Run each callable in its own thread, released together at a barrier; return results or exceptions.

    Each thread uses its own database connection (Django's connections are
    per thread) and closes it at the end, so that the race is a real one on a
    file SQLite database or PostgreSQL.
    """
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def runner(index: int, call) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
