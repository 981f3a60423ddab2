"""The home page's investment cards: a promoter's own leads, overdue milestones and agency items; a
leader's zone figures; an enterprise user's open financing needs; nothing for anyone else."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from guanjia.investment import home
from guanjia.investment.access import today
from guanjia.investment.models import (
    ApprovalItem,
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    LeadStatus,
    ProjectMilestone,
    Stage,
)
from guanjia.investment.tests.helpers import make_lead, make_project, make_promoter, make_target

pytestmark = pytest.mark.django_db


def _cards(user) -> dict[str, dict[str, int]]:
    return {
        section.title: {card["label"]: card["count"] for card in section.context["cards"]}
        for section in home.sections(user)
    }


def _need(enterprise, by, status=FinancingNeedStatus.OPEN) -> FinancingNeed:
    return FinancingNeed.objects.create(
        enterprise=enterprise,
        amount=Decimal("500"),
        kind=FinancingKind.LOAN,
        purpose="流动资金",
        needed_by=today() + timedelta(days=30),
        status=status,
        created_by=by,
    )


def test_cards_count_each_readers_own_work_and_nobody_elses(cast, login, promoter_b):
    colleague = make_promoter("promoter_a2", cast.zone_a)
    target = make_target(cast.zone_a)
    make_lead(target, cast.promoter_a)
    make_lead(target, cast.promoter_a, status=LeadStatus.CONTACTING)
    make_lead(target, colleague)
    make_lead(target, cast.promoter_a, status=LeadStatus.ABANDONED, abandon_reason="投资方暂缓")  # closed
    make_lead(make_target(promoter_b.unit, "乙区目标企业"), promoter_b)  # zone B
    mine = make_project(cast.zone_a, cast.promoter_a, stage=Stage.SIGNED, agent=cast.promoter_a)
    ProjectMilestone.objects.create(
        project=mine, stage=Stage.STARTED, promised_on=today() - timedelta(days=3)
    )
    theirs = make_project(cast.zone_a, colleague, name="同事的项目")
    ProjectMilestone.objects.create(
        project=theirs, stage=Stage.NEGOTIATING, promised_on=today() - timedelta(days=1)
    )
    # Promised for today: not overdue yet.
    ProjectMilestone.objects.create(project=theirs, stage=Stage.SIGNED, promised_on=today())
    started = today() - timedelta(days=20)
    for name, promised_by in (("环评", today() - timedelta(days=1)), ("能评", today() + timedelta(days=5))):
        ApprovalItem.objects.create(
            project=mine,
            name=name,
            statutory_days=20,
            promised_days=10,
            started_on=started,
            promised_by=promised_by,
        )
    ApprovalItem.objects.create(
        project=mine, name="备案", statutory_days=3, promised_days=1, started_on=started, finished_on=started
    )
    _need(cast.ent_a1, cast.ent_user_a1)
    _need(cast.ent_a1, cast.ent_user_a1, status=FinancingNeedStatus.WITHDRAWN)
    _need(cast.ent_a2, cast.promoter_a)

    assert _cards(cast.promoter_a) == {
        "产业链招商": {
            "我在跟进的线索": 2,
            "我的项目逾期节点": 1,
            "我代办中的审批事项": 2,
            "超过承诺时限的代办事项": 1,
        }
    }
    assert _cards(cast.leader_a) == {"产业链招商": {"在跟进的招商线索": 3, "项目逾期节点": 2}}
    assert _cards(promoter_b) == {
        "产业链招商": {
            "我在跟进的线索": 1,
            "我的项目逾期节点": 0,
            "我代办中的审批事项": 0,
            "超过承诺时限的代办事项": 0,
        }
    }
    assert _cards(cast.ent_user_a1) == {"融资需求": {"对接中的融资需求": 1}}
    for user in (cast.steward_a, cast.dispatcher_a, cast.handler_a, cast.sysadmin, cast.outsider):
        assert home.sections(user) == [], user
    page = login(cast.promoter_a).get("/").content.decode()
    assert "产业链招商" in page and "我在跟进的线索" in page
