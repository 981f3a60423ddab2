"""The appointment pages: booking on the portal (noon included), the slot list, 延时服务, the enterprise's and
the staff's lists, a unit's bookings, the detail page with its steps, and who may not."""

from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.core.workcalendar import BEIJING
from guanjia.testing import build_cast
from guanjia.windows import appointments
from guanjia.windows.models import Appointment, AppointmentState
from guanjia.windows.tests.appointment_helpers import MONDAY, NOW, TUESDAY, booked, build_scene, requested

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock):
    return build_scene(build_cast())


def _book_url(scene) -> str:
    return f"{reverse('windows:book')}?window={scene.window.pk}"


def _form(scene, **changes):
    data = {
        "window": scene.window.pk,
        "enterprise": scene.cast.ent_a1.pk,
        "service": scene.service.pk,
        "date": TUESDAY.isoformat(),
        "start": "12:00",
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "note": "",
    }
    data.update(changes)
    return data


def test_the_booking_page_lists_the_windows_then_the_slots_with_noon_marked(scene, login):
    client = login(scene.cast.ent_user_a1)

    choose = client.get(reverse("windows:book"))
    assert choose.status_code == 200
    assert f"?window={scene.window.pk}" in choose.content.decode()

    page = client.get(_book_url(scene)).content.decode()
    assert 'data-testid="slot-12:00"' in page and "午间" in page
    assert 'hx-get="/portal/appointments/slots/"' in page
    assert "style=" not in page and "onclick" not in page


def test_an_enterprise_user_books_noon_and_lands_on_its_appointment(scene, login):
    client = login(scene.cast.ent_user_a1)

    response = client.post(_book_url(scene), _form(scene), follow=True)

    appointment = Appointment.objects.get()
    assert response.redirect_chain[-1][0] == reverse("windows:appointment", args=[appointment.pk])
    assert appointment.starts_at == time(12, 0) and appointment.on_behalf is False
    assert "预约成功" in response.content.decode()


def test_a_refused_booking_names_the_field_and_writes_nothing(scene, login):
    client = login(scene.cast.ent_user_a1)

    response = client.post(_book_url(scene), _form(scene, contact_phone="12345"))

    assert response.status_code == 200
    assert "联系电话：" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_full_slot_is_refused_on_the_page(scene, login):
    booked(scene, enterprise=scene.cast.ent_a2, by=scene.cast.steward_a2, start=time(12, 0))

    response = login(scene.cast.ent_user_a1).post(_book_url(scene), _form(scene))

    assert "该时段已约满，请选择其他时段" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_the_slot_list_follows_the_day(scene, login):
    client = login(scene.cast.ent_user_a1)
    url = reverse("windows:book-slots")

    fragment = client.get(url, {"window": scene.window.pk, "date": TUESDAY.isoformat()}).content.decode()
    saturday = client.get(url, {"window": scene.window.pk, "date": "2026-11-21"}).content.decode()

    assert 'value="09:00"' in fragment and "<html" not in fragment
    assert 'data-testid="no-slots"' in saturday


def test_a_steward_picks_the_enterprise_and_books_on_its_behalf(scene, login):
    client = login(scene.cast.steward_a)
    page = client.get(_book_url(scene)).content.decode()
    assert scene.cast.ent_a1.name in page

    client.post(_book_url(scene), _form(scene))

    assert Appointment.objects.get().on_behalf is True


def test_booking_for_another_enterprise_is_refused(scene, login):
    client = login(scene.cast.ent_user_a1)

    response = client.post(_book_url(scene), _form(scene, enterprise=scene.cast.ent_a2.pk))

    assert response.status_code == 200 and not Appointment.objects.exists()


def test_staff_roles_may_not_open_the_booking_pages(scene, login):
    for user in (scene.cast.leader_a, scene.cast.handler_a, scene.head):
        client = login(user)
        assert client.get(_book_url(scene)).status_code == 403
        assert client.get(reverse("windows:book-extended")).status_code == 403
        assert client.get(reverse("windows:my-appointments")).status_code == 403


def test_an_extended_request_from_the_portal(scene, login):
    client = login(scene.cast.ent_user_a1)
    data = {
        "enterprise": scene.cast.ent_a1.pk,
        "window": scene.window.pk,
        "date": TUESDAY.isoformat(),
        "start": "17:30",
        "end": "18:30",
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "note": "下班后办理变更登记",
    }

    assert client.get(reverse("windows:book-extended")).status_code == 200
    refused = client.post(reverse("windows:book-extended"), {**data, "start": "10:00", "end": "11:00"})
    assert "该时段在办公时间内，请直接预约" in refused.content.decode()
    client.post(reverse("windows:book-extended"), data)

    assert Appointment.objects.get().state == AppointmentState.REQUESTED


def test_the_enterprise_lists_its_appointments_and_cancels_one(scene, login):
    appointment = booked(scene)
    client = login(scene.cast.ent_user_a1)

    listed = client.get(reverse("windows:my-appointments")).content.decode()
    assert reverse("windows:appointment", args=[appointment.pk]) in listed

    client.post(
        reverse("windows:appointment-cancel", args=[appointment.pk]), {"version": appointment.version}
    )

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED


def test_the_rostered_staff_sees_a_noon_booking_and_marks_it_served(scene, clock, login):
    appointment = booked(scene, day=MONDAY, start=time(12, 0))
    client = login(scene.staff)

    page = client.get(reverse("windows:my-bookings")).content.decode()
    assert reverse("windows:appointment", args=[appointment.pk]) in page
    assert "13812345678" in page  # the staff call the enterprise
    assert reverse("windows:appointment-serve", args=[appointment.pk]) not in page  # not yet due

    clock.move_to(datetime(2026, 11, 16, 12, 5, tzinfo=BEIJING))
    client = login(scene.staff)  # a new session: four hours idle end the first one
    page = client.get(reverse("windows:my-bookings")).content.decode()
    assert reverse("windows:appointment-serve", args=[appointment.pk]) in page
    client.post(reverse("windows:appointment-serve", args=[appointment.pk]), {"version": appointment.version})

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.SERVED


def test_my_bookings_is_for_staff_only(scene, login):
    assert login(scene.cast.leader_a).get(reverse("windows:my-bookings")).status_code == 403
    assert login(scene.cast.ent_user_a1).get(reverse("windows:my-bookings")).status_code == 403


def test_the_unit_bookings_page_filters_and_shows_requests_to_the_keeper(scene, login):
    noon = booked(scene, start=time(12, 0))
    request = requested(scene)
    url = reverse("windows:unit-bookings", args=[scene.unit.pk])

    keeper_page = login(scene.head).get(url).content.decode()
    assert 'data-testid="requests"' in keeper_page
    assert reverse("windows:appointment", args=[request.pk]) in keeper_page
    filtered = login(scene.head).get(url, {"kind": "booked"}).content.decode()
    assert reverse("windows:appointment", args=[noon.pk]) in filtered
    assert (
        reverse("windows:appointment", args=[request.pk])
        not in filtered.split('data-testid="unit-bookings"')[1]
    )

    leader_page = login(scene.cast.leader_a).get(url).content.decode()
    assert 'data-testid="requests"' not in leader_page
    assert "13812345678" not in leader_page and "138****5678" in leader_page


def test_the_unit_bookings_page_is_404_out_of_scope_and_403_without_the_role(scene, login):
    url = reverse("windows:unit-bookings", args=[scene.unit.pk])
    assert login(scene.cast.steward_b).get(url).status_code == 404  # a reader role, not its unit
    assert login(scene.cast.promoter_a).get(url).status_code == 403


def test_the_keeper_arranges_from_the_detail_page(scene, login):
    request = requested(scene)
    client = login(scene.head)
    url = reverse("windows:appointment", args=[request.pk])

    page = client.get(url).content.decode()
    assert reverse("windows:appointment-arrange", args=[request.pk]) in page
    client.post(
        reverse("windows:appointment-arrange", args=[request.pk]),
        {"staff": scene.staff.pk, "version": request.version},
    )

    request.refresh_from_db()
    assert (request.state, request.staff) == (AppointmentState.BOOKED, scene.staff)


def test_the_keeper_declines_from_the_detail_page(scene, login):
    request = requested(scene)
    client = login(scene.head)

    client.post(
        reverse("windows:appointment-decline", args=[request.pk]),
        {"reason": "当晚无人值守", "version": request.version},
    )

    request.refresh_from_db()
    assert request.state == AppointmentState.DECLINED


def test_a_stale_step_shows_the_refusal(scene, login):
    request = requested(scene)
    appointments.cancel(request, by=scene.cast.ent_user_a1)

    response = login(scene.head).post(
        reverse("windows:appointment-decline", args=[request.pk]),
        {"reason": "无法安排", "version": request.version - 1},
        follow=True,
    )

    assert "刚被他人处理" in response.content.decode()


def test_the_detail_page_masks_the_phone_for_a_leader_and_hides_it_from_other_zones(scene, login):
    appointment = booked(scene)
    url = reverse("windows:appointment", args=[appointment.pk])

    assert "138****5678" in login(scene.cast.leader_a).get(url).content.decode()
    assert "13812345678" in login(scene.cast.steward_a).get(url).content.decode()
    assert login(scene.cast.steward_b).get(url).status_code == 404
    assert login(scene.cast.steward_a2).get(url).status_code == 404
    assert login(scene.cast.promoter_a).get(url).status_code == 403
    assert login(scene.cast.sysadmin).get(url).status_code == 403


def test_steps_are_post_only_and_refused_to_a_leader(scene, login):
    appointment = booked(scene)
    client = login(scene.cast.leader_a)
    for name in ("cancel", "arrange", "decline", "serve", "miss"):
        url = reverse(f"windows:appointment-{name}", args=[appointment.pk])
        assert client.get(url).status_code == 405
        assert client.post(url, {"version": appointment.version}).status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).state == AppointmentState.BOOKED


def test_the_lists_do_not_query_per_row(scene, login):
    pages = [
        (scene.head, reverse("windows:unit-bookings", args=[scene.unit.pk])),
        (scene.staff, reverse("windows:my-bookings")),
        (scene.cast.ent_user_a1, reverse("windows:my-appointments")),
    ]

    def counts() -> list[int]:
        found = []
        for user, url in pages:
            client = login(user)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    booked(scene, start=time(9, 0))
    few = counts()
    for start in (time(9, 30), time(10, 0), time(10, 30), time(11, 0)):
        booked(scene, start=start)
    assert counts() == few


def test_late_in_the_day_the_booking_page_opens_on_the_next_day_with_free_slots(scene, clock, login):
    clock.move_to(datetime(2026, 11, 16, 16, 40, tzinfo=BEIJING))  # Monday's last slot has begun

    page = login(scene.cast.ent_user_a1).get(_book_url(scene)).content.decode()

    assert f'<option value="{TUESDAY.isoformat()}" selected>' in page
    assert 'data-testid="slot-12:00"' in page
