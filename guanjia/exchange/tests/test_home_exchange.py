"""The home page's exchange cards: a seconded cadre's own notes, activities and leads; the practices of a
supervisor's or leader's zones by stage; the cadres' leads waiting for a promoter of the zone; nothing
for anyone else."""

from __future__ import annotations

from datetime import date

import pytest

from guanjia.exchange import home
from guanjia.exchange.models import Adoption, AdoptionStage, Practice, SourcedLeadStatus
from guanjia.exchange.tests.helpers import (
    make_activity,
    make_cadre,
    make_note,
    make_pairing,
    make_secondment,
    make_sourced_lead,
    make_supervisor,
)
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def _cards(user) -> dict[str, dict[str, int]]:
    return {
        section.title: {card["label"]: card["count"] for card in section.context["cards"]}
        for section in home.sections(user)
    }


def _adopt(practice: Practice, unit, stage: str, by) -> Adoption:
    return Adoption.objects.create(
        practice=practice,
        unit=unit,
        stage=stage,
        referenced_on=date(2026, 1, 5),
        trial_on=date(2026, 2, 2) if stage != AdoptionStage.REFERENCE else None,
        rollout_on=date(2026, 6, 1) if stage == AdoptionStage.ROLLOUT else None,
        kpi="first_satisfaction",
        created_by=by,
    )


def _practice(zone, by, title: str) -> Practice:
    return Practice.objects.create(
        zone=zone,
        title=title,
        description="窗口连续服务",
        seen_at="昆山高新区",
        learned_by="张三",
        created_by=by,
    )


@pytest.fixture
def world(cast):
    """Zone A: two cadres' secondments with notes, activities and leads, practices at every stage;
    zone B: a secondment with a waiting lead and a practice on trial."""
    supervisor_b = make_supervisor("supervisor_b", cast.zone_b)
    cadre = make_cadre("cadre_a", cast.zone_a)
    colleague = make_cadre("cadre_a2", cast.centre_a)
    cadre_b = make_cadre("cadre_b", cast.zone_b)
    pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    mine = make_secondment(pairing, cadre, cast.supervisor_a)
    theirs = make_secondment(pairing, colleague, cast.supervisor_a, host_unit="昆山高新区政务服务中心")
    for title in ("一窗通办见闻", "链主招商见闻"):
        make_note(mine, title=title)
    make_activity(mine)
    make_sourced_lead(mine)  # waiting for a promoter
    make_sourced_lead(mine, company_name="示例负极材料有限公司", status=SourcedLeadStatus.TAKEN)
    make_note(theirs)
    make_activity(theirs)
    make_sourced_lead(theirs, status=SourcedLeadStatus.DECLINED, decline_reason="能耗不符合准入要求")
    other = make_secondment(
        make_pairing(cast.zone_b, supervisor_b, partner_unit="苏州工业园区"), cadre_b, supervisor_b
    )
    make_note(other)
    make_sourced_lead(other, company_name="示例生物医药有限公司")
    first = _practice(cast.zone_a, cast.supervisor_a, "早九晚五中午不下班")
    _adopt(first, cast.market_a, AdoptionStage.TRIAL, cast.supervisor_a)
    _adopt(first, cast.centre_a, AdoptionStage.REFERENCE, cast.supervisor_a)
    second = _practice(cast.zone_a, cast.supervisor_a, "一窗通办")
    _adopt(second, cast.zone_a, AdoptionStage.ROLLOUT, cast.supervisor_a)
    _adopt(second, cast.market_a, AdoptionStage.TRIAL, cast.supervisor_a)
    _practice(cast.zone_a, cast.supervisor_a, "链长制")  # learned, not adopted
    _adopt(_practice(cast.zone_b, supervisor_b, "首接负责"), cast.zone_b, AdoptionStage.TRIAL, supervisor_b)
    return cadre, colleague, supervisor_b


def test_each_reader_counts_its_own_and_nobody_elses(cast, world):
    cadre, colleague, supervisor_b = world
    assert _cards(cadre) == {"我的挂职": {"挂职见闻": 2, "对接活动": 1, "推荐线索": 2, "已转招商线索": 1}}
    assert _cards(colleague) == {"我的挂职": {"挂职见闻": 1, "对接活动": 1, "推荐线索": 1, "已转招商线索": 0}}
    zone_a = {"经验做法": {"借鉴中": 1, "试行中": 2, "已推广": 1}}
    assert _cards(cast.supervisor_a) == zone_a
    assert _cards(cast.leader_a) == zone_a
    assert _cards(supervisor_b) == {"经验做法": {"借鉴中": 0, "试行中": 1, "已推广": 0}}
    assert _cards(cast.leader_city) == {"经验做法": {"借鉴中": 1, "试行中": 3, "已推广": 1}}
    assert _cards(cast.promoter_a) == {"挂职干部推荐线索": {"待接收": 1}}
    for user in (
        cast.steward_a,
        cast.dispatcher_a,
        cast.handler_a,
        cast.ent_user_a1,
        cast.sysadmin,
        cast.auditor,
        cast.outsider,
    ):
        assert home.sections(user) == [], user


def test_a_cadre_without_a_secondment_sees_zeros(cast, world):
    assert _cards(make_cadre("cadre_new", cast.zone_a)) == {
        "我的挂职": {"挂职见闻": 0, "对接活动": 0, "推荐线索": 0, "已转招商线索": 0}
    }
    # A promoter without a zone has no leads to take.
    assert home.sections(make_user("promoter_nowhere", None, "promoter")) == []


def test_the_home_page_links_each_card_to_where_it_is_acted_on(cast, world, login):
    cadre, _colleague, _supervisor_b = world
    for user, title, link in (
        (cadre, "我的挂职", "/exchange/mine/"),
        (cast.supervisor_a, "经验做法", "/exchange/practices/"),
        (cast.promoter_a, "挂职干部推荐线索", "/exchange/sourced-leads/"),
    ):
        response = login(user).get("/")
        page = response.content.decode()
        assert response.status_code == 200 and title in page and link in page, user
