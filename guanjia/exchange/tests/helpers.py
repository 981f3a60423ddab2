"""Builders for exchange tests: rows written straight to the tables, for tests that need them to exist.

Tests of a service call the service itself; these only set the scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.exchange.models import (
    LearningNote,
    LiaisonActivity,
    Pairing,
    Secondment,
    SecondmentKind,
    SourcedLead,
)
from guanjia.testing import Cast, make_user


def make_cadre(username: str, unit: OrgUnit, phone: str = "") -> User:
    """A seconded cadre (挂职干部) whose unit is `unit` (a zone or one of its departments)."""
    return make_user(username, unit, Role.SECONDED_CADRE, phone=phone)


def make_pairing(zone: OrgUnit, by: User, **kw: Any) -> Pairing:
    """A pairing of `zone` (its local unit the zone itself unless `local_unit` is given) with
    昆山高新区 in 苏州市, 江苏省, since 2026-03-01."""
    kw.setdefault("local_unit", zone)
    kw.setdefault("partner_unit", "昆山高新区")
    kw.setdefault("partner_city", "苏州市")
    kw.setdefault("partner_province", "江苏省")
    kw.setdefault("started_on", date(2026, 3, 1))
    kw.setdefault("focus", "产业链招商、营商环境")
    return Pairing.objects.create(zone=zone, created_by=by, **kw)


def make_secondment(pairing: Pairing, cadre: User, by: User, **kw: Any) -> Secondment:
    """`cadre` posted (挂职) to 昆山高新区管委会 as 招商局副局长 from 2026-03-01 to 2026-08-31."""
    kw.setdefault("host_unit", "昆山高新区管委会")
    kw.setdefault("post", "招商局副局长")
    kw.setdefault("kind", SecondmentKind.POSTED)
    kw.setdefault("starts_on", date(2026, 3, 1))
    kw.setdefault("ends_on", date(2026, 8, 31))
    kw.setdefault("tasks", "学习产业链招商经验")
    return Secondment.objects.create(pairing=pairing, cadre=cadre, created_by=by, **kw)


def make_note(secondment: Secondment, **kw: Any) -> LearningNote:
    kw.setdefault("title", "一窗通办见闻")
    kw.setdefault("body", "昆山高新区企业开办一日办结。")
    kw.setdefault("observed_on", date(2026, 4, 1))
    return LearningNote.objects.create(secondment=secondment, **kw)


def make_activity(secondment: Secondment, **kw: Any) -> LiaisonActivity:
    kw.setdefault("title", "新能源产业对接会")
    kw.setdefault("held_on", date(2026, 4, 15))
    kw.setdefault("place", "昆山")
    return LiaisonActivity.objects.create(secondment=secondment, **kw)


def make_sourced_lead(secondment: Secondment, **kw: Any) -> SourcedLead:
    kw.setdefault("company_name", "示例储能科技有限公司")
    kw.setdefault("summary", "拟在中西部新建储能电池生产基地。")
    kw.setdefault("contact_name", "李总")
    kw.setdefault("contact_phone", "13912345678")
    return SourcedLead.objects.create(secondment=secondment, **kw)


def make_supervisor(username: str, zone: OrgUnit) -> User:
    """效能督查 of `zone`: keeps its programme."""
    return make_user(username, zone, Role.SUPERVISOR)


@dataclass
class Scene:
    """Zone A's programme as the programme tests find it: a pairing with 昆山高新区, cadre_a seconded on it
    (2026-03-01 to 2026-08-31) and cadre_a2 on another secondment of it; zone B's supervisor and cadre."""

    pairing: Pairing
    cadre: User
    secondment: Secondment
    cadre2: User
    secondment2: Secondment
    supervisor_b: User
    cadre_b: User


def build_scene(cast: Cast) -> Scene:
    pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    cadre = make_cadre("cadre_a", cast.market_a, phone="13700000001")
    cadre2 = make_cadre("cadre_a2", cast.zone_a)
    return Scene(
        pairing=pairing,
        cadre=cadre,
        secondment=make_secondment(pairing, cadre, cast.supervisor_a),
        cadre2=cadre2,
        secondment2=make_secondment(
            pairing, cadre2, cast.supervisor_a, host_unit="昆山市商务局", post="科员"
        ),
        supervisor_b=make_supervisor("supervisor_b", cast.zone_b),
        cadre_b=make_cadre("cadre_b", cast.zone_b),
    )
