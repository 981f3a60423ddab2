"""Overdue supervision (督查): counts by zone and by steward, the lists behind them, and who may see them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.core.workcalendar import BEIJING
from guanjia.testing import make_enterprise
from guanjia.visits import supervision
from guanjia.visits.models import VisitSchedule

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 11)


def _due(enterprise, day: date) -> None:
    VisitSchedule.objects.filter(enterprise=enterprise).update(next_due=day)


@pytest.fixture
def world(cast):
    """Zone A: steward_a serves ent_a1 (overdue since 1 Nov) and a3 (due today, not overdue);
    steward_a2 serves ent_a2 (overdue since 20 Oct); a4 has no steward (overdue since 5 Nov).
    Zone B: ent_b1 overdue since 1 Oct."""
    a3 = make_enterprise("91320500MA1TDAY00X", "今日企业", cast.zone_a, cast.steward_a)
    a4 = make_enterprise("91320500MA1NOST00X", "无管家企业", cast.zone_a, None)
    _due(cast.ent_a1, date(2026, 11, 1))
    _due(a3, DAY)
    _due(cast.ent_a2, date(2026, 10, 20))
    _due(a4, date(2026, 11, 5))
    _due(cast.ent_b1, date(2026, 10, 1))
    cast.a3, cast.a4 = a3, a4
    return cast


def test_overdue_by_zone_counts_in_one_query(world):
    zone_ids = [world.zone_a.pk, world.zone_b.pk]
    with CaptureQueriesContext(connection) as queries:
        rows = supervision.overdue_by_zone(zone_ids, on=DAY)
    assert len(queries) == 2  # the GROUP BY, and the zones' names
    assert [(r.zone, r.enterprises, r.overdue, r.oldest_due) for r in rows] == [
        (world.zone_a, 4, 3, date(2026, 10, 20)),
        (world.zone_b, 1, 1, date(2026, 10, 1)),
    ]
    assert rows[0].share == pytest.approx(0.75)
    # One zone only: the other is not counted.
    assert [r.zone for r in supervision.overdue_by_zone([world.zone_a.pk], on=DAY)] == [world.zone_a]
    # A day later the enterprise due today is overdue too.
    later = supervision.overdue_by_zone([world.zone_a.pk], on=date(2026, 11, 12))
    assert later[0].overdue == 4


def test_overdue_by_steward_counts_and_no_steward_comes_last(world):
    rows = supervision.overdue_by_steward([world.zone_a.pk], on=DAY)
    assert [(r.steward, r.enterprises, r.overdue, r.oldest_due) for r in rows] == [
        (world.steward_a2, 1, 1, date(2026, 10, 20)),  # as many overdue, but older
        (world.steward_a, 2, 1, date(2026, 11, 1)),
        (None, 1, 1, date(2026, 11, 5)),
    ]
    assert rows[1].share == pytest.approx(0.5)


def test_overdue_enterprises_narrow_and_order_by_days_overdue(world):
    zone_ids = [world.zone_a.pk, world.zone_b.pk]
    rows = supervision.overdue_enterprises(zone_ids, on=DAY)
    assert [r.enterprise for r in rows] == [world.ent_b1, world.ent_a2, world.ent_a1, world.a4]
    rows = supervision.overdue_enterprises(zone_ids, zone_id=world.zone_a.pk, on=DAY)
    assert world.ent_b1 not in [r.enterprise for r in rows]
    rows = supervision.overdue_enterprises(zone_ids, steward_id=world.steward_a.pk, on=DAY)
    assert [r.enterprise for r in rows] == [world.ent_a1]
    rows = supervision.overdue_enterprises(zone_ids, unassigned=True, on=DAY)
    assert [r.enterprise for r in rows] == [world.a4]
    # Outside the zones nothing is listed, whatever the steward.
    rows = supervision.overdue_enterprises([world.zone_a.pk], steward_id=world.steward_b.pk, on=DAY)
    assert list(rows) == []


def test_the_supervision_page_and_its_lists(world, login):
    import time_machine

    from guanjia.core.workcalendar import BEIJING

    with time_machine.travel(datetime(2026, 11, 11, 9, tzinfo=BEIJING), tick=False):
        for user in (world.supervisor_a, world.dispatcher_a, world.leader_a, world.leader_city):
            page = login(user).get("/visits/overdue/")
            assert page.status_code == 200
        html = login(world.supervisor_a).get("/visits/overdue/").content.decode()
        assert f"/visits/overdue/list/?zone={world.zone_a.pk}" in html
        assert f"/visits/overdue/list/?steward={world.steward_a.pk}" in html
        assert "/visits/overdue/list/?steward=none" in html
        assert world.zone_b.name not in html  # zone A's supervisor sees zone A only
        client = login(world.supervisor_a)
        html = client.get("/visits/overdue/list/", {"zone": world.zone_a.pk}).content.decode()
        order = [html.index(e.name) for e in (world.ent_a2, world.ent_a1, world.a4)]
        assert order == sorted(order)  # most overdue first
        html = client.get(
            "/visits/overdue/list/", {"zone": world.zone_a.pk, "sort": "-days"}
        ).content.decode()
        order = [html.index(e.name) for e in (world.a4, world.ent_a1, world.ent_a2)]
        assert order == sorted(order)
        html = client.get("/visits/overdue/list/", {"steward": "none"}).content.decode()
        assert world.a4.name in html and world.ent_a1.name not in html
        # Another zone's dispatcher gets 404 for zone A's numbers; other roles are refused.
        assert client.get("/visits/overdue/list/", {"zone": world.zone_b.pk}).status_code == 404
        assert client.get("/visits/overdue/list/", {"steward": world.steward_b.pk}).status_code == 404
        for user in (world.ent_user_a1, world.steward_a, world.handler_a, world.promoter_a):
            assert login(user).get("/visits/overdue/").status_code == 403
            assert login(user).get("/visits/overdue/list/").status_code == 403
        city = login(world.leader_city).get("/visits/overdue/").content.decode()
        assert world.zone_a.name in city and world.zone_b.name in city


@time_machine.travel(datetime(2026, 11, 11, 9, tzinfo=BEIJING), tick=False)
def test_the_list_is_paginated(world, login):
    from guanjia.visits import views

    views_per_page = views.OVERDUE_PER_PAGE
    try:
        views.OVERDUE_PER_PAGE = 2
        page = login(world.supervisor_a).get("/visits/overdue/list/", {"zone": world.zone_a.pk})
        assert page.status_code == 200
        html = page.content.decode()
        assert "page=2" in html
    finally:
        views.OVERDUE_PER_PAGE = views_per_page


def test_the_supervision_api(world, login):
    import time_machine

    from guanjia.core.workcalendar import BEIJING

    with time_machine.travel(datetime(2026, 11, 11, 9, tzinfo=BEIJING), tick=False):
        rows = login(world.leader_city).get("/api/visit-overdue/by-zone/").json()
        assert [(r["zone"], r["enterprises"], r["overdue"], r["oldest_due"]) for r in rows] == [
            (world.zone_a.pk, 4, 3, "2026-10-20"),
            (world.zone_b.pk, 1, 1, "2026-10-01"),
        ]
        rows = login(world.dispatcher_a).get("/api/visit-overdue/by-steward/").json()
        assert [(r["steward"], r["overdue"]) for r in rows] == [
            (world.steward_a2.pk, 1),
            (world.steward_a.pk, 1),
            (None, 1),
        ]
        assert rows[1]["share"] == 0.5
        only_b = login(world.leader_city).get("/api/visit-overdue/by-zone/", {"zone": world.zone_b.pk}).json()
        assert [r["zone"] for r in only_b] == [world.zone_b.pk]
        # A zone written as a decimal is not a zone id (DRF's IntegerField alone would take 2.0 for 2).
        for written in (f"{world.zone_b.pk}.0", f"{world.zone_b.pk}.5", "1e1"):
            answer = login(world.leader_city).get("/api/visit-overdue/by-steward/", {"zone": written})
            assert answer.status_code == 400, written
        assert (
            login(world.dispatcher_a)
            .get("/api/visit-overdue/by-zone/", {"zone": world.zone_b.pk})
            .status_code
            == 404
        )
        for user in (world.steward_a, world.ent_user_a1, world.handler_a):
            assert login(user).get("/api/visit-overdue/by-zone/").status_code == 403
            assert login(user).get("/api/visit-overdue/by-steward/").status_code == 403
