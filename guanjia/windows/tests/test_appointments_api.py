"""The appointments API (/api/appointments/, /api/appointment-slots/): booking, 延时服务, the steps with their
versions, scoped reads with their filters, masked phones, and who may not."""

from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from rest_framework.test import APIClient

from guanjia.core.models import User
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import build_cast
from guanjia.windows.models import Appointment, AppointmentState
from guanjia.windows.tests.appointment_helpers import MONDAY, NOW, TUESDAY, booked, build_scene, requested

pytestmark = pytest.mark.django_db
API = "/api/appointments/"
SLOTS = "/api/appointment-slots/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock):
    return build_scene(build_cast())


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _booking(scene, **changes):
    body = {
        "window": scene.window.pk,
        "enterprise": scene.cast.ent_a1.pk,
        "service": scene.service.pk,
        "date": TUESDAY.isoformat(),
        "start": "12:00",
        "contact_name": "王经理",
        "contact_phone": "13812345678",
    }
    body.update(changes)
    return body


def test_an_enterprise_user_books_noon(scene):
    response = api(scene.cast.ent_user_a1).post(API, _booking(scene), format="json")

    assert response.status_code == 201, response.data
    assert response.data["state"] == "booked" and response.data["starts_at"] == "12:00"
    assert response.data["on_behalf"] is False


def test_refusals_are_400_on_the_field_and_409_when_full(scene):
    client = api(scene.cast.ent_user_a1)

    assert client.post(API, _booking(scene, contact_phone="123"), format="json").data["contact_phone"]
    assert client.post(API, _booking(scene, start="12:10"), format="json").status_code == 400
    assert client.post(API, _booking(scene, date="2026-11-21"), format="json").status_code == 400
    assert client.post(API, _booking(scene), format="json").status_code == 201
    again = client.post(API, _booking(scene), format="json")
    assert again.status_code == 409 and "贵企业已预约该时段" in again.data["detail"]
    full = api(scene.cast.steward_a2).post(
        API, _booking(scene, enterprise=scene.cast.ent_a2.pk), format="json"
    )
    assert full.status_code == 409 and "该时段已约满" in full.data["detail"]


def test_another_enterprise_is_a_bad_input_and_staff_may_not_book(scene):
    response = api(scene.cast.ent_user_a1).post(
        API, _booking(scene, enterprise=scene.cast.ent_a2.pk), format="json"
    )
    assert response.status_code == 400 and "enterprise" in response.data
    for user in (scene.cast.leader_a, scene.head, scene.staff):
        assert api(user).post(API, _booking(scene), format="json").status_code == 403
    assert not Appointment.objects.exists()


def test_the_slots_of_a_window(scene):
    response = api(scene.cast.ent_user_a1).get(
        SLOTS, {"window": scene.window.pk, "date": TUESDAY.isoformat()}
    )

    assert response.status_code == 200
    noon = next(slot for slot in response.data if slot["start"] == "12:00")
    assert noon == {"start": "12:00", "end": "12:30", "free": 1, "noon": True}
    assert (
        api(scene.cast.ent_user_a1).get(SLOTS, {"window": "99999", "date": "2026-11-17"}).status_code == 404
    )
    assert api(scene.cast.ent_user_a1).get(SLOTS, {"window": "x", "date": "2026-11-17"}).status_code == 400
    assert (
        api(scene.cast.leader_a).get(SLOTS, {"window": scene.window.pk, "date": "2026-11-17"}).status_code
        == 403
    )


def test_extended_arrange_and_cancel(scene):
    body = {
        **_booking(scene, start="18:00"),
        "end": "19:00",
        "note": "晚间领取证照",
    }
    body.pop("service")
    created = api(scene.cast.steward_a).post(f"{API}extended/", body, format="json")
    assert created.status_code == 201, created.data
    assert (created.data["state"], created.data["on_behalf"]) == ("requested", True)
    pk = created.data["id"]

    assert (
        api(scene.cast.leader_a)
        .post(f"{API}{pk}/arrange/", {"staff": scene.staff.pk, "version": 1}, format="json")
        .status_code
        == 403
    )
    arranged = api(scene.head).post(
        f"{API}{pk}/arrange/", {"staff": scene.staff.pk, "version": 1}, format="json"
    )
    assert arranged.status_code == 200 and arranged.data["staff"] == scene.staff.pk
    stale = api(scene.cast.ent_user_a1).post(f"{API}{pk}/cancel/", {"version": 1}, format="json")
    assert stale.status_code == 409
    cancelled = api(scene.cast.ent_user_a1).post(f"{API}{pk}/cancel/", {"version": 2}, format="json")
    assert cancelled.status_code == 200 and cancelled.data["state"] == "cancelled"


def test_decline(scene):
    request = requested(scene)
    response = api(scene.head).post(
        f"{API}{request.pk}/decline/", {"reason": "无法安排", "version": 1}, format="json"
    )
    assert response.status_code == 200 and response.data["state"] == "declined"


def test_serve_and_miss_once_due(scene, clock):
    early = booked(scene, day=MONDAY, start=time(9, 0))
    later = booked(scene, day=MONDAY, start=time(9, 30))
    client = api(scene.staff)
    assert client.post(f"{API}{early.pk}/serve/", {"version": 1}, format="json").status_code == 400

    clock.move_to(datetime(2026, 11, 16, 9, 45, tzinfo=BEIJING))
    assert client.post(f"{API}{early.pk}/serve/", {"version": 1}, format="json").data["state"] == "served"
    assert client.post(f"{API}{later.pk}/miss/", {"version": 1}, format="json").data["state"] == "missed"
    assert (
        api(scene.cast.leader_a).post(f"{API}{early.pk}/miss/", {"version": 2}, format="json").status_code
        == 403
    )


def test_reads_are_scoped_filtered_and_masked(scene):
    noon = booked(scene, start=time(12, 0))
    request = requested(scene)

    mine = api(scene.cast.ent_user_a1).get(API).data["results"]
    assert {row["id"] for row in mine} == {noon.pk, request.pk}
    assert mine[0]["contact_phone"] == "13812345678"
    leader = api(scene.cast.leader_a).get(API, {"kind": "booked"}).data["results"]
    assert [row["id"] for row in leader] == [noon.pk]
    assert leader[0]["contact_phone"] == "138****5678"
    by_state = api(scene.head).get(API, {"state": AppointmentState.REQUESTED}).data["results"]
    assert [row["id"] for row in by_state] == [request.pk]
    assert (
        api(scene.head).get(API, {"window": scene.window.pk, "date": TUESDAY.isoformat()}).data["count"] == 2
    )
    assert api(scene.head).get(API, {"window": "1.5"}).status_code == 400
    assert api(scene.cast.steward_b).get(API).data["count"] == 0
    assert api(scene.cast.steward_b).get(f"{API}{noon.pk}/").status_code == 404
    assert api(scene.cast.promoter_a).get(API).status_code == 403
    assert api(scene.cast.sysadmin).get(API).status_code == 403


def test_dates_at_the_ends_of_the_calendar_are_refused_not_failed(scene):
    client = api(scene.cast.ent_user_a1)
    for day in ("9999-12-31", "0001-01-01"):
        assert client.post(API, _booking(scene, date=day), format="json").status_code == 400
        body = {**_booking(scene, date=day, start="20:00"), "end": "21:00", "note": "办理"}
        assert client.post(f"{API}extended/", body, format="json").status_code == 400
        assert client.get(SLOTS, {"window": scene.window.pk, "date": day}).data == []
