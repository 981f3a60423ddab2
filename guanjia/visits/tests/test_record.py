"""Recording a visit: scope, validation, appeals raised from it (linked both ways), all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Channel
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.visits import services
from guanjia.visits.models import Mode, Visit, VisitAppeal, VisitSchedule

pytestmark = pytest.mark.django_db


def _form(**extra):
    data = {
        "visited_on": services.today().isoformat(),
        "mode": Mode.ONSITE,
        "our_side": "张管家",
        "their_side": "王经理",
        "summary": "了解经营情况",
        "explained": "研发费用加计扣除",
        "problems-TOTAL_FORMS": "1",
        "problems-INITIAL_FORMS": "0",
        "problems-MIN_NUM_FORMS": "0",
        "problems-MAX_NUM_FORMS": "10",
        "problems-0-title": "",
        "problems-0-body": "",
    }
    data.update(extra)
    return data


def test_steward_records_a_visit_that_raises_an_appeal_linked_both_ways(cast, login):
    client = login(cast.steward_a)
    response = client.post(
        f"/visits/new/{cast.ent_a1.pk}/",
        _form(**{"problems-0-title": "用电增容", "problems-0-body": "新产线需要增容。"}),
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    appeal = Appeal.objects.get(visit_link__visit=visit)
    assert appeal.channel == Channel.STEWARD
    assert appeal.submitted_by == cast.steward_a
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).last_visit_on == visit.visited_on
    assert AuditRecord.objects.filter(action="visit.record", object_id=str(visit.pk)).exists()
    # the visit page lists its appeal; the appeal page names its visit
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert f"/appeals/{appeal.pk}/" in page
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert visit.visited_on is not None
    assert f"来自走访 #{visit.pk}（{visit.visited_on.isoformat()}）" in page
    assert f"/visits/{visit.pk}/" in page
    # the enterprise user sees the appeal, but not the visit behind it
    page = login(cast.ent_user_a1).get(f"/appeals/{appeal.pk}/").content.decode()
    assert "来自走访" not in page
    assert login(cast.ent_user_a1).get(f"/visits/{visit.pk}/").status_code == 403


def test_add_another_problem_keeps_what_was_typed_and_saves_nothing(cast, login):
    page = login(cast.steward_a).post(
        f"/visits/new/{cast.ent_a1.pk}/", _form(more="1", **{"problems-0-title": "用电"})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="problems-1-title"' in html
    assert 'value="用电"' in html
    assert not Visit.objects.exists()


def test_a_steward_cannot_log_a_visit_for_an_enterprise_it_does_not_serve(cast, login):
    assert login(cast.steward_a2).get(f"/visits/new/{cast.ent_a1.pk}/").status_code == 404
    assert login(cast.steward_b).post(f"/visits/new/{cast.ent_a1.pk}/", _form()).status_code == 404
    assert login(cast.dispatcher_a).get(f"/visits/new/{cast.ent_a1.pk}/").status_code == 403
    response = login(cast.steward_b).post(
        "/api/visits/",
        {
            "enterprise": cast.ent_a1.pk,
            "visited_on": services.today().isoformat(),
            "mode": "onsite",
            "our_side": "a",
            "their_side": "b",
            "summary": "c",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "enterprise" in response.json()
    with pytest.raises(NotAllowed):
        services.record_visit(
            cast.ent_a1,
            by=cast.steward_a2,
            visited_on=services.today(),
            mode=Mode.PHONE,
            our_side="a",
            their_side="b",
            summary="c",
        )
    assert not Visit.objects.exists()


def test_bad_input_names_the_field(cast, login):
    tomorrow = (services.today() + timedelta(days=1)).isoformat()
    page = login(cast.steward_a).post(
        f"/visits/new/{cast.ent_a1.pk}/",
        _form(visited_on=tomorrow, summary="", **{"problems-0-title": "只有标题"}),
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "走访日期：走访日期不能晚于今天" in html
    assert "走访情况：" in html
    assert "请同时填写诉求标题和诉求内容" in html
    assert not Visit.objects.exists()


def test_a_failing_appeal_leaves_no_visit(cast, monkeypatch):
    calls = []
    real = lifecycle.submit_appeal

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ServiceError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "submit_appeal", second_fails)
    with pytest.raises(ServiceError, match="第 2 项诉求"):
        services.record_visit(
            cast.ent_a1,
            by=cast.steward_a,
            visited_on=services.today(),
            mode=Mode.ONSITE,
            our_side="a",
            their_side="b",
            summary="c",
            problems=[services.Problem("一", "一"), services.Problem("二", "二")],
        )
    assert not Visit.objects.exists()
    assert not Appeal.objects.exists()
    assert not VisitAppeal.objects.exists()
    assert not AuditRecord.objects.filter(action="visit.record").exists()
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).last_visit_on is None


def test_api_records_with_appeals_and_lists_in_scope(cast, login):
    client = login(cast.steward_a)
    response = client.post(
        "/api/visits/",
        {
            "enterprise": cast.ent_a1.pk,
            "visited_on": services.today().isoformat(),
            "mode": "video",
            "our_side": "张管家",
            "their_side": "王经理",
            "summary": "视频走访",
            "appeals": [{"title": "招工难", "body": "普工缺口 30 人。"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    appeal = Appeal.objects.get(pk=body["appeals"][0])
    assert appeal.visit_link.visit_id == body["id"]
    assert client.get(f"/api/visits/{body['id']}/").status_code == 200
    assert [v["id"] for v in login(cast.dispatcher_a).get("/api/visits/").json()["results"]] == [body["id"]]
    assert login(cast.steward_b).get(f"/api/visits/{body['id']}/").status_code == 404
    assert login(cast.handler_a).get("/api/visits/").status_code == 403
    future = (services.today() + timedelta(days=1)).isoformat()
    response = client.post(
        "/api/visits/",
        {
            "enterprise": cast.ent_a1.pk,
            "visited_on": future,
            "mode": "x",
            "our_side": "",
            "their_side": "b",
            "summary": "c",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert {"visited_on", "mode", "our_side"} <= set(response.json())


@pytest.mark.django_db(transaction=True)
def test_two_visits_recorded_at_once_keep_the_later_date():
    from guanjia.testing import build_cast, run_concurrently

    cast = build_cast()
    earlier, later = services.today() - timedelta(days=9), services.today() - timedelta(days=2)

    def record(day):
        def call():
            return services.record_visit(
                cast.ent_a1,
                by=cast.steward_a,
                visited_on=day,
                mode=Mode.PHONE,
                our_side="张管家",
                their_side="王经理",
                summary=f"回访 {day}",
            )

        return call

    results = run_concurrently(record(later), record(earlier), record(later - timedelta(days=1)))
    assert not [r for r in results if isinstance(r, Exception)], results
    row = VisitSchedule.objects.get(enterprise=cast.ent_a1)
    assert row.last_visit_on == later
    assert Visit.objects.filter(enterprise=cast.ent_a1).count() == 3
