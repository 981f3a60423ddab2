"""Fixtures of the investment tests: another zone's promoter, zone A's chain and a target on it, a lead
with a contact, the approval templates, and the clock of the project tests."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanjia.investment.models import LeadContact
from guanjia.investment.tests.helpers import (
    make_chain,
    make_lead,
    make_promoter,
    make_target,
    node,
    seed_approval_templates,
)


@pytest.fixture
def promoter_b(cast):
    """招商专员 of zone B: sees nothing of zone A's investment data."""
    return make_promoter("promoter_b", cast.zone_b)


@pytest.fixture
def chain(cast):
    """Zone A's 新能源 chain (make_chain: 材料 with 正极材料 and 负极材料, 电芯, 储能系统)."""
    return make_chain(cast.zone_a, cast.promoter_a)


@pytest.fixture
def target(cast, chain):
    """A target of zone A's library that covers one link, 电芯."""
    return make_target(cast.zone_a, "示例电池股份有限公司", node(chain, "电芯"))


@pytest.fixture
def lead(cast, chain, target):
    """Zone A's promoter's lead on the target's 电芯 line, with one contact and a full phone number."""
    lead = make_lead(target, cast.promoter_a, summary="拟建电芯产线", node=node(chain, "电芯"))
    LeadContact.objects.create(lead=lead, name="李总", position="投资总监", phone="13912345678")
    return lead


@pytest.fixture
def approval_templates(db):
    """The approval templates of migration 0002 (a transactional test elsewhere may have flushed them)."""
    return seed_approval_templates()


@pytest.fixture
def frozen_2026_11_20():
    """The clock stopped at Friday 2026-11-20, 10:00 Beijing time."""
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield
