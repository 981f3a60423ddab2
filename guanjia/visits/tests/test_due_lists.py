"""The steward's visit calendar: overdue, this week, this month; and who may see whose."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from guanjia.core.workcalendar import BEIJING
from guanjia.visits import services
from guanjia.visits.models import VisitSchedule

pytestmark = pytest.mark.django_db

# Wednesday 11 November 2026: the week ends on Sunday 15 November, the month on the 30th.
TODAY = datetime(2026, 11, 11, 9, tzinfo=BEIJING)


def _due(enterprise, day: date) -> None:
    services.refresh_schedule(enterprise)
    VisitSchedule.objects.filter(enterprise=enterprise).update(next_due=day)


@time_machine.travel(TODAY, tick=False)
def test_due_lists_split_by_beijing_dates(cast):
    from guanjia.testing import make_enterprise

    week = make_enterprise("91320500MA1WEEK00X", "本周企业", cast.zone_a, cast.steward_a)
    month = make_enterprise("91320500MA1MNTH00X", "本月企业", cast.zone_a, cast.steward_a)
    later = make_enterprise("91320500MA1LATR00X", "下月企业", cast.zone_a, cast.steward_a)
    _due(cast.ent_a1, date(2026, 11, 10))
    _due(week, date(2026, 11, 15))
    _due(month, date(2026, 11, 16))
    _due(later, date(2026, 12, 1))
    _due(cast.ent_a2, date(2026, 11, 1))  # another steward's
    lists = services.due_lists(cast.steward_a)
    assert [r.enterprise for r in lists.overdue] == [cast.ent_a1]
    assert [r.enterprise for r in lists.this_week] == [week]
    assert [r.enterprise for r in lists.this_month] == [month]


@time_machine.travel(TODAY, tick=False)
def test_calendar_page_for_the_steward_and_its_overseers(cast, login):
    _due(cast.ent_a1, date(2026, 11, 10))
    page = login(cast.steward_a).get("/visits/")
    assert page.status_code == 200
    assert cast.ent_a1.name in page.content.decode()
    assert f"/visits/new/{cast.ent_a1.pk}/" in page.content.decode()
    # The zone's supervisor picks steward_a and sees the same list, without the record buttons.
    page = login(cast.supervisor_a).get("/visits/", {"steward": cast.steward_a.pk})
    assert page.status_code == 200
    assert cast.ent_a1.name in page.content.decode()
    assert "/visits/new/" not in page.content.decode()
    # Another zone's steward is out of the supervisor's scope; other roles are refused.
    assert login(cast.supervisor_a).get("/visits/", {"steward": cast.steward_b.pk}).status_code == 404
    assert login(cast.handler_a).get("/visits/").status_code == 403
    assert login(cast.ent_user_a1).get("/visits/").status_code == 403
    # A steward cannot look at a colleague's list through the parameter: it sees its own.
    page = login(cast.steward_b).get("/visits/", {"steward": cast.steward_a.pk})
    assert cast.ent_a1.name not in page.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_schedule_api_lists_overdue_in_scope(cast, login):
    _due(cast.ent_a1, date(2026, 11, 10))
    _due(cast.ent_a2, date(2026, 11, 1))
    rows = login(cast.steward_a).get("/api/visit-schedule/", {"overdue": "true"}).json()["results"]
    assert [r["enterprise"] for r in rows] == [cast.ent_a1.pk]
    assert rows[0]["overdue"] is True
    rows = (
        login(cast.dispatcher_a).get("/api/visit-schedule/", {"due_before": "2026-11-10"}).json()["results"]
    )
    assert {r["enterprise"] for r in rows} == {cast.ent_a1.pk, cast.ent_a2.pk}
    rows = login(cast.steward_b).get("/api/visit-schedule/", {"overdue": "true"}).json()["results"]
    assert rows == []
    # Without the filter, overdue or not; a value that is not a boolean is refused.
    rows = login(cast.steward_a).get("/api/visit-schedule/").json()["results"]
    assert [r["enterprise"] for r in rows] == [cast.ent_a1.pk]
    rows = login(cast.steward_a).get("/api/visit-schedule/", {"overdue": "false"}).json()["results"]
    assert rows == []
    assert login(cast.steward_a).get("/api/visit-schedule/", {"overdue": "null"}).status_code == 400
