"""The schedule follows the registry through its signals: imports, tier changes, handovers; reads never write."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.core.workcalendar import BEIJING
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.tests.test_import import good_rows, uploaded_job, xlsx_bytes
from guanjia.testing import make_user
from guanjia.visits import services
from guanjia.visits.models import Visit, VisitSchedule

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 11, 11, 9, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _writes(queries) -> list[str]:
    """Writes of the request, but the session's own (its expiry slides with every request)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "django_session" not in q["sql"]
    ]


def test_an_import_creates_the_schedule_rows(cast, login):
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, xlsx_bytes(good_rows()), "企业.xlsx", cast.zone_a)
    assert client.post(reverse("enterprises:import-confirm", args=[job.pk])).status_code == 302
    imported = Enterprise.objects.filter(zone=cast.zone_a).exclude(pk__in=[cast.ent_a1.pk, cast.ent_a2.pk])
    assert imported.count() == 3
    rows = VisitSchedule.objects.filter(enterprise__in=imported).select_related("enterprise")
    assert rows.count() == 3
    for row in rows:  # one interval after the day it joined, on a working day
        joined = services.today()
        assert row.next_due == services.next_due(joined, services.interval_for(row.enterprise.tier))


@time_machine.travel(TODAY, tick=False)
def test_a_get_of_the_calendar_or_the_api_writes_nothing(cast, login):
    # Even a row missing (as a crashed writer might leave it) is not written by a read any more.
    VisitSchedule.objects.filter(enterprise=cast.ent_a2).delete()
    services.plan_visit(cast.ent_a1, on=date(2026, 11, 12), by=cast.steward_a)
    for user, url in (
        (cast.steward_a, "/visits/"),
        (cast.supervisor_a, f"/visits/?steward={cast.steward_a2.pk}"),
        (cast.steward_a, "/api/visit-schedule/"),
        (cast.dispatcher_a, "/api/visit-schedule/?overdue=true"),
        (cast.supervisor_a, "/visits/overdue/"),
    ):
        client = login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert _writes(queries.captured_queries) == [], url
    assert not VisitSchedule.objects.filter(enterprise=cast.ent_a2).exists()


@time_machine.travel(TODAY, tick=False)
def test_the_calendar_costs_a_fixed_number_of_queries(cast, login, django_assert_max_num_queries):
    from guanjia.testing import make_enterprise

    for n in range(8):
        enterprise = make_enterprise(
            f"91320500MA1Q{n:04d}0X"[:17] + "X", f"企业{n}", cast.zone_a, cast.steward_a
        )
        VisitSchedule.objects.filter(enterprise=enterprise).update(next_due=date(2026, 11, 1 + n))
        if n % 2:
            services.plan_visit(enterprise, on=date(2026, 11, 20), by=cast.steward_a)
    client = login(cast.steward_a)
    client.get("/visits/")  # warm the session and the calendar
    with django_assert_max_num_queries(12):
        page = client.get("/visits/")
    assert page.content.decode().count('data-testid="planned-mark"') == 4


@time_machine.travel(TODAY, tick=False)
def test_after_a_handover_the_plans_follow_the_enterprise(cast, login):
    done = services.record_visit(
        cast.ent_a1,
        by=cast.steward_a,
        visited_on=date(2026, 9, 2),
        mode="phone",
        our_side="a",
        their_side="b",
        summary="c",
    )
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=cast.steward_a, note="了解用工")
    VisitSchedule.objects.filter(enterprise=cast.ent_a1).update(next_due=date(2026, 11, 10))
    enterprise_services.handover(cast.steward_a, to=cast.steward_a2, reason="调岗", by=cast.dispatcher_a)
    plan.refresh_from_db()
    assert plan.steward == cast.steward_a2 and plan.is_plan
    # The new steward sees the plan, the overdue enterprise, and may record from the plan.
    lists = services.due_lists(cast.steward_a2)
    assert [p.pk for p in lists.plans_week] == [plan.pk]
    assert [r.enterprise for r in lists.overdue] == [cast.ent_a1]
    page = login(cast.steward_a2).get("/visits/").content.decode()
    assert f"/visits/new/{cast.ent_a1.pk}/?plan={plan.pk}" in page
    # The old one no longer does.
    old = services.due_lists(cast.steward_a)
    assert (old.plans_week, old.overdue) == ([], [])
    assert login(cast.steward_a).get(f"/visits/{plan.pk}/").status_code == 404
    assert plan.pk not in [p["id"] for p in login(cast.steward_a).get("/api/visit-plans/").json()["results"]]
    # A visit already made stays with the steward who made it, and visible to it.
    done.refresh_from_db()
    assert done.steward == cast.steward_a
    assert login(cast.steward_a).get(f"/visits/{done.pk}/").status_code == 200
    # The new steward records the visit; the plan is done.
    cast.ent_a1.refresh_from_db()
    services.record_visit(
        cast.ent_a1,
        by=cast.steward_a2,
        visited_on=date(2026, 11, 11),
        mode="onsite",
        our_side="a",
        their_side="b",
        summary="c",
        plan=plan,
    )
    plan.refresh_from_db()
    assert plan.visited_on == date(2026, 11, 11) and plan.steward == cast.steward_a2


def test_a_handover_to_a_new_steward_moves_only_that_enterprises_plan(cast):
    newcomer = make_user("steward_new", cast.centre_a, "steward")
    tomorrow = services.today() + timedelta(days=1)
    first = services.plan_visit(cast.ent_a1, on=tomorrow, by=cast.steward_a)
    second = services.plan_visit(cast.ent_a2, on=tomorrow, by=cast.steward_a2)
    enterprise_services.assign_steward(cast.ent_a1, newcomer, reason="调整", by=cast.dispatcher_a)
    assert Visit.objects.get(pk=first.pk).steward == newcomer
    assert Visit.objects.get(pk=second.pk).steward == cast.steward_a2
