"""Per-enterprise cadence override (page and API): the zone's dispatcher or supervisor; conflict-safe."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict
from guanjia.visits import services
from guanjia.visits.models import VisitSchedule

pytestmark = pytest.mark.django_db


def test_the_page_sets_and_resets_the_interval(cast, login):
    client = login(cast.dispatcher_a)
    page = client.get(f"/visits/schedule/{cast.ent_a1.pk}/")
    assert page.status_code == 200 and 'data-testid="next-due"' in page.content.decode()
    response = client.post(f"/visits/schedule/{cast.ent_a1.pk}/", {"interval_days": "14", "seen": ""})
    assert response.status_code == 302
    row = VisitSchedule.objects.get(enterprise=cast.ent_a1)
    assert row.interval_days == 14
    assert row.next_due == services.next_due(services.today(), 14)
    response = client.post(f"/visits/schedule/{cast.ent_a1.pk}/", {"interval_days": "", "seen": "14"})
    assert response.status_code == 302
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).interval_days is None
    page = client.post(f"/visits/schedule/{cast.ent_a1.pk}/", {"interval_days": "400", "seen": ""})
    assert page.status_code == 200 and "走访周期（天）：" in page.content.decode()


def test_a_stale_form_does_not_overwrite_a_newer_change(cast, login):
    services.set_interval(cast.ent_a1, 20, by=cast.supervisor_a)
    page = login(cast.dispatcher_a).post(
        f"/visits/schedule/{cast.ent_a1.pk}/", {"interval_days": "7", "seen": ""}
    )
    assert page.status_code == 200 and "刚被他人调整为 20" in page.content.decode()
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).interval_days == 20
    with pytest.raises(Conflict):
        services.set_interval(cast.ent_a1, 7, by=cast.dispatcher_a, was=None)


def test_who_may_not_override(cast, login):
    for user in (cast.steward_a, cast.leader_a, cast.handler_a, cast.ent_user_a1):
        assert login(user).get(f"/visits/schedule/{cast.ent_a1.pk}/").status_code == 403
    # Another zone's enterprise does not exist for zone A's dispatcher.
    assert login(cast.dispatcher_a).get(f"/visits/schedule/{cast.ent_b1.pk}/").status_code == 404
    assert (
        login(cast.dispatcher_a)
        .post(f"/visits/schedule/{cast.ent_b1.pk}/", {"interval_days": "7"})
        .status_code
        == 404
    )
    assert VisitSchedule.objects.get(enterprise=cast.ent_b1).interval_days is None


def test_the_api_patches_the_interval(cast, login):
    client = login(cast.supervisor_a)
    response = client.patch(
        f"/api/visit-schedule/{cast.ent_a1.pk}/", {"interval_days": 10}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["interval_days"] == 10 and response.json()["interval"] == 10
    assert response.json()["next_due"] == services.next_due(services.today(), 10).isoformat()
    stale = client.patch(
        f"/api/visit-schedule/{cast.ent_a1.pk}/",
        {"interval_days": 5, "was": None},
        content_type="application/json",
    )
    assert stale.status_code == 409
    reset = client.patch(
        f"/api/visit-schedule/{cast.ent_a1.pk}/",
        {"interval_days": None, "was": 10},
        content_type="application/json",
    )
    assert reset.status_code == 200 and reset.json()["interval_days"] is None
    bad = client.patch(
        f"/api/visit-schedule/{cast.ent_a1.pk}/", {"interval_days": 0}, content_type="application/json"
    )
    assert bad.status_code == 400 and "interval_days" in bad.json()
    body = {"interval_days": 7}
    assert (
        login(cast.steward_a)
        .patch(f"/api/visit-schedule/{cast.ent_a1.pk}/", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        login(cast.leader_a)
        .patch(f"/api/visit-schedule/{cast.ent_a1.pk}/", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/visit-schedule/{cast.ent_b1.pk}/", body, content_type="application/json"
        ).status_code
        == 404
    )
    assert VisitSchedule.objects.get(enterprise=cast.ent_a1).interval_days is None
