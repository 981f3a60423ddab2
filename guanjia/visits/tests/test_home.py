"""The home page's visit cards: a steward's visits due, the zone's overdue visits for its overseers."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from guanjia.core.workcalendar import BEIJING
from guanjia.testing import make_enterprise
from guanjia.visits import home, services
from guanjia.visits.models import VisitSchedule

pytestmark = pytest.mark.django_db

# Wednesday 11 November 2026; the week ends on Sunday the 15th.
TODAY = datetime(2026, 11, 11, 9, tzinfo=BEIJING)


def _due(enterprise, day: date) -> None:
    services.refresh_schedule(enterprise)
    VisitSchedule.objects.filter(enterprise=enterprise).update(next_due=day)


def _cards(user) -> dict[str, dict[str, int]]:
    return {
        section.title: {card["label"]: card["count"] for card in section.context["cards"]}
        for section in home.sections(user)
    }


@time_machine.travel(TODAY, tick=False)
def test_a_steward_sees_its_own_overdue_today_and_week_counts_and_plans(cast, login):
    today_ent = make_enterprise("91320500MA1TODY00X", "今天企业", cast.zone_a, cast.steward_a)
    week_ent = make_enterprise("91320500MA1WEEK00X", "本周企业", cast.zone_a, cast.steward_a)
    _due(cast.ent_a1, date(2026, 11, 10))
    _due(today_ent, date(2026, 11, 11))
    _due(week_ent, date(2026, 11, 15))
    _due(cast.ent_a2, date(2026, 11, 1))  # steward_a2's: not counted for steward_a
    services.plan_visit(week_ent, on=date(2026, 11, 13), by=cast.steward_a)
    cards = _cards(cast.steward_a)["我的走访"]
    assert cards == {"已逾期": 1, "今天应走访": 1, "本周应走访": 2, "本周计划": 1}
    page = login(cast.steward_a).get("/").content.decode()
    assert "我的走访" in page and 'href="/visits/"' in page


@time_machine.travel(TODAY, tick=False)
def test_overseers_see_their_zones_overdue_and_others_see_no_visit_card(cast):
    _due(cast.ent_a1, date(2026, 11, 10))
    _due(cast.ent_a2, date(2026, 11, 20))
    _due(cast.ent_b1, date(2026, 11, 1))  # zone B
    for user in (cast.dispatcher_a, cast.supervisor_a, cast.leader_a):
        assert _cards(user)["走访督查"]["走访逾期"] == 1, user
    assert _cards(cast.leader_city)["走访督查"]["走访逾期"] == 2
    for user in (cast.handler_a, cast.ent_user_a1, cast.promoter_a):
        assert home.sections(user) == [], user
