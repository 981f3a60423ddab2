"""The home page's campaign cards: a running campaign's coverage; a steward sees its own targets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.campaigns import home, services
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.visits import services as visits
from guanjia.visits.models import Mode

pytestmark = pytest.mark.django_db


def _cards(user) -> dict[str, dict[str, int]]:
    return {
        section.title: {card["label"]: card["count"] for card in section.context["cards"]}
        for section in home.sections(user)
    }


def test_running_campaigns_show_coverage_whole_for_overseers_and_own_for_stewards(cast, login):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign,
        [(cast.ent_a1.pk, cast.steward_a.pk), (cast.ent_a2.pk, cast.steward_a2.pk)],
        by=cast.dispatcher_a,
        source="test",
    )
    visits.record_visit(
        cast.ent_a1,
        by=cast.steward_a,
        visited_on=services.today() - timedelta(days=1),
        mode=Mode.PHONE,
        our_side="张管家",
        their_side="王经理",
        summary="了解经营情况",
    )
    make_campaign(cast, starts_ago=40, ends_in=-20)  # ended: no card
    title = f"专项行动：新春访万企（至 {campaign.ends_on}）"
    assert _cards(cast.supervisor_a) == {title: {"目标企业": 2, "已走访": 1, "待走访": 1}}
    assert _cards(cast.steward_a) == {title: {"我的目标企业": 1, "已走访": 1, "待走访": 0}}
    assert _cards(cast.steward_a2) == {title: {"我的目标企业": 1, "已走访": 0, "待走访": 1}}
    # Out of the campaign: another zone's steward, an enterprise user, a handler.
    for user in (cast.steward_b, cast.ent_user_a1, cast.handler_a):
        assert home.sections(user) == [], user
    assert "新春访万企" in login(cast.steward_a2).get("/").content.decode()
