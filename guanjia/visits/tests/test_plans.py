"""Planned visits: a Visit with planned_on and no visited_on, planned by the enterprise's steward,
recorded once (filling the planned row in), cancelled, shown on the calendar and kept out of the visit lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.core.workcalendar import BEIJING
from guanjia.visits import services
from guanjia.visits.models import Mode, Visit, VisitSchedule

pytestmark = pytest.mark.django_db

# Wednesday 11 November 2026: the week ends on Sunday 15 November, the month on the 30th.
TODAY = datetime(2026, 11, 11, 9, tzinfo=BEIJING)
travel = time_machine.travel(TODAY, tick=False)


def _record(enterprise, by, **extra):
    values: dict[str, Any] = {
        "visited_on": services.today(),
        "mode": Mode.ONSITE,
        "our_side": "张管家",
        "their_side": "王经理",
        "summary": "了解经营情况",
    }
    values.update(extra)
    return services.record_visit(enterprise, by=by, **values)


@travel
def test_the_steward_plans_a_visit_and_only_one_is_open(cast):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=cast.steward_a, note=" 宣讲政策 ")
    assert (plan.planned_on, plan.visited_on, plan.plan_note, plan.steward) == (
        date(2026, 11, 13),
        None,
        "宣讲政策",
        cast.steward_a,
    )
    assert plan.is_plan
    assert AuditRecord.objects.filter(action="visit.plan", object_id=str(plan.pk)).exists()
    with pytest.raises(ServiceError, match="已有 2026-11-13 的走访计划"):
        services.plan_visit(cast.ent_a1, on=date(2026, 11, 20), by=cast.steward_a)
    assert Visit.objects.plans().filter(enterprise=cast.ent_a1).count() == 1


@travel
def test_who_may_not_plan_and_which_days_are_refused(cast):
    for other in (cast.steward_a2, cast.steward_b, cast.dispatcher_a, cast.supervisor_a):
        with pytest.raises(NotAllowed):
            services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=other)
    with pytest.raises(ServiceError, match="不能早于今天"):
        services.plan_visit(cast.ent_a1, on=date(2026, 11, 10), by=cast.steward_a)
    services.plan_visit(cast.ent_a1, on=date(2026, 11, 11), by=cast.steward_a)  # today is fine
    assert Visit.objects.count() == 1


@travel
def test_the_partial_unique_index_holds_when_the_service_is_skipped(cast):
    from django.db import IntegrityError, transaction

    services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=cast.steward_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            zone=cast.zone_a, enterprise=cast.ent_a1, steward=cast.steward_a, planned_on=date(2026, 11, 14)
        )


@travel
def test_recording_from_a_plan_fills_that_row_once(cast):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=cast.steward_a)
    visit = _record(cast.ent_a1, cast.steward_a, plan=plan)
    assert visit.pk == plan.pk
    assert (visit.planned_on, visit.visited_on) == (date(2026, 11, 13), date(2026, 11, 11))
    assert Visit.objects.count() == 1
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).last_visit_on == date(2026, 11, 11)
    with pytest.raises(Conflict):
        _record(cast.ent_a1, cast.steward_a, plan=plan)  # the page opened before it was done
    assert Visit.objects.count() == 1
    # A plan can be made again once the last one is done.
    services.plan_visit(cast.ent_a1, on=date(2026, 12, 1), by=cast.steward_a)


@travel
def test_a_visit_recorded_without_the_plan_still_completes_it(cast):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 20), by=cast.steward_a)
    visit = _record(cast.ent_a1, cast.steward_a)
    assert visit.pk == plan.pk and not Visit.objects.plans().exists()


@travel
def test_a_plan_of_another_enterprise_is_refused(cast):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 20), by=cast.steward_a)
    with pytest.raises(ServiceError, match="不属于"):
        _record(cast.ent_a2, cast.steward_a2, plan=plan)


@travel
def test_cancel_a_plan(cast, login):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 20), by=cast.steward_a)
    with pytest.raises(NotAllowed):
        services.cancel_plan(plan, by=cast.steward_a2)
    assert login(cast.steward_a2).post(f"/visits/{plan.pk}/cancel/").status_code == 404
    assert login(cast.dispatcher_a).post(f"/visits/{plan.pk}/cancel/").status_code == 403
    response = login(cast.steward_a).post(f"/visits/{plan.pk}/cancel/")
    assert response.status_code == 302
    assert not Visit.objects.exists()
    assert AuditRecord.objects.filter(action="visit.cancel_plan", object_id=str(plan.pk)).exists()
    with pytest.raises(Conflict):
        services.cancel_plan(plan, by=cast.steward_a)


@travel
def test_a_done_visit_cannot_be_cancelled(cast, login):
    visit = _record(cast.ent_a1, cast.steward_a)
    assert login(cast.steward_a).post(f"/visits/{visit.pk}/cancel/").status_code == 404
    with pytest.raises(Conflict):
        services.cancel_plan(visit, by=cast.steward_a)
    assert Visit.objects.filter(pk=visit.pk).exists()


@travel
def test_calendar_shows_plans_and_marks_the_due_rows_that_have_one(cast, login):
    from guanjia.testing import make_enterprise

    later = make_enterprise("91320500MA1PLAN00X", "月底企业", cast.zone_a, cast.steward_a)
    VisitSchedule.objects.filter(enterprise=cast.ent_a1).update(next_due=date(2026, 11, 10))
    VisitSchedule.objects.filter(enterprise=later).update(next_due=date(2026, 11, 12))
    week = services.plan_visit(cast.ent_a1, on=date(2026, 11, 13), by=cast.steward_a, note="用工")
    month = services.plan_visit(later, on=date(2026, 11, 25), by=cast.steward_a)
    lists = services.due_lists(cast.steward_a)
    assert lists.plans_week == [week] and lists.plans_month == [month]
    assert getattr(lists.overdue[0], "plan") == week and getattr(lists.this_week[0], "plan") == month  # noqa: B009
    page = login(cast.steward_a).get("/visits/").content.decode()
    assert 'data-testid="plans-week"' in page and 'data-testid="plans-month"' in page
    assert f"/visits/new/{cast.ent_a1.pk}/?plan={week.pk}" in page
    assert page.count('data-testid="planned-mark"') == 2
    assert f"/visits/plan/{cast.ent_a1.pk}/" not in page  # already planned: no second "安排走访"
    # The supervisor sees the plans without the buttons.
    page = login(cast.supervisor_a).get("/visits/", {"steward": cast.steward_a.pk}).content.decode()
    assert "月底企业" in page and "?plan=" not in page


@travel
def test_plan_page_and_record_from_it(cast, login):
    client = login(cast.steward_a)
    assert client.get(f"/visits/plan/{cast.ent_a1.pk}/").status_code == 200
    page = client.post(f"/visits/plan/{cast.ent_a1.pk}/", {"planned_on": "2026-11-10"})
    assert "计划走访日期：计划走访日期不能早于今天" in page.content.decode()
    response = client.post(
        f"/visits/plan/{cast.ent_a1.pk}/", {"planned_on": "2026-11-16", "plan_note": "回访"}
    )
    assert response.status_code == 302
    plan = Visit.objects.plans().get()
    page = client.get(f"/visits/{plan.pk}/").content.decode()
    assert 'data-testid="plan-badge"' in page and f"/visits/{plan.pk}/cancel/" in page
    form = client.get(f"/visits/new/{cast.ent_a1.pk}/?plan={plan.pk}").content.decode()
    assert f'name="plan" value="{plan.pk}"' in form and 'data-testid="from-plan"' in form
    response = client.post(
        f"/visits/new/{cast.ent_a1.pk}/",
        {
            "plan": plan.pk,
            "visited_on": "2026-11-11",
            "mode": "onsite",
            "our_side": "张管家",
            "their_side": "王经理",
            "summary": "按计划走访",
            "problems-TOTAL_FORMS": "1",
            "problems-INITIAL_FORMS": "0",
            "problems-0-title": "",
            "problems-0-body": "",
        },
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.visited_on == date(2026, 11, 11) and plan.summary == "按计划走访"
    # Another steward, and a dispatcher, cannot plan for ent_a1.
    assert login(cast.steward_a2).get(f"/visits/plan/{cast.ent_a1.pk}/").status_code == 404
    assert login(cast.dispatcher_a).get(f"/visits/plan/{cast.ent_a1.pk}/").status_code == 403


@travel
def test_plans_stay_out_of_the_visit_lists(cast, login):
    plan = services.plan_visit(cast.ent_a1, on=date(2026, 11, 20), by=cast.steward_a)
    visit = _record(cast.ent_a2, cast.steward_a2)
    assert list(Visit.objects.done()) == [visit]
    rows = login(cast.dispatcher_a).get("/api/visits/").json()["results"]
    assert [r["id"] for r in rows] == [visit.pk]
    assert login(cast.steward_a).get(f"/api/visits/{plan.pk}/").status_code == 404
    page = login(cast.steward_a).get("/visits/").content.decode()
    assert f"#{plan.pk} " not in page.split('id="recent"')[1]


@travel
def test_plan_api_list_create_cancel(cast, login):
    client = login(cast.steward_a)
    response = client.post(
        "/api/visit-plans/",
        {"enterprise": cast.ent_a1.pk, "planned_on": "2026-11-18", "plan_note": "政策宣讲"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["planned_on"], body["plan_note"], body["steward"]) == (
        "2026-11-18",
        "政策宣讲",
        cast.steward_a.pk,
    )
    again = client.post(
        "/api/visit-plans/",
        {"enterprise": cast.ent_a1.pk, "planned_on": "2026-11-19"},
        content_type="application/json",
    )
    assert again.status_code == 400 and "已有" in again.json()["detail"]
    # Another zone's steward: the enterprise "does not exist" for it; the plan is out of its scope.
    other = login(cast.steward_b).post(
        "/api/visit-plans/",
        {"enterprise": cast.ent_a1.pk, "planned_on": "2026-11-19"},
        content_type="application/json",
    )
    assert other.status_code == 400 and "enterprise" in other.json()
    assert login(cast.steward_b).get(f"/api/visit-plans/{body['id']}/").status_code == 404
    assert [p["id"] for p in login(cast.dispatcher_a).get("/api/visit-plans/").json()["results"]] == [
        body["id"]
    ]
    assert login(cast.dispatcher_a).delete(f"/api/visit-plans/{body['id']}/").status_code == 403
    past = client.post(
        "/api/visit-plans/",
        {"enterprise": cast.ent_a1.pk, "planned_on": "2026-11-01"},
        content_type="application/json",
    )
    assert past.status_code == 400
    # Recording through the API with the plan fills it; a second time it is a 409.
    record = {
        "enterprise": cast.ent_a1.pk,
        "plan": body["id"],
        "visited_on": "2026-11-11",
        "mode": "phone",
        "our_side": "a",
        "their_side": "b",
        "summary": "c",
    }
    done = client.post("/api/visits/", record, content_type="application/json")
    assert done.status_code == 201 and done.json()["id"] == body["id"]
    assert done.json()["planned_on"] == "2026-11-18"
    assert (
        client.post("/api/visits/", record, content_type="application/json").status_code == 400
    )  # no open plan
    assert client.delete(f"/api/visit-plans/{body['id']}/").status_code == 404  # done: no longer a plan
    plan = client.post(
        "/api/visit-plans/",
        {"enterprise": cast.ent_a1.pk, "planned_on": "2026-11-30"},
        content_type="application/json",
    ).json()
    assert client.delete(f"/api/visit-plans/{plan['id']}/").status_code == 204
    assert not Visit.objects.plans().exists()


@pytest.mark.django_db(transaction=True)
def test_two_recordings_of_one_plan_fill_it_once():
    from guanjia.testing import build_cast, run_concurrently

    cast = build_cast()
    plan = services.plan_visit(cast.ent_a1, on=services.today(), by=cast.steward_a)

    def record():
        return _record(cast.ent_a1, cast.steward_a, plan=plan)

    results = run_concurrently(record, record)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Visit"], results
    assert Visit.objects.filter(enterprise=cast.ent_a1).count() == 1
    assert Visit.objects.get().visited_on == services.today()


@pytest.mark.django_db(transaction=True)
def test_two_plans_made_at_once_leave_one():
    from guanjia.testing import build_cast, run_concurrently

    cast = build_cast()

    def plan():
        return services.plan_visit(cast.ent_a1, on=services.today(), by=cast.steward_a)

    results = run_concurrently(plan, plan)
    assert sum(isinstance(r, Visit) for r in results) == 1, results
    assert all(isinstance(r, Visit | ServiceError) for r in results), results
    assert Visit.objects.plans().count() == 1
