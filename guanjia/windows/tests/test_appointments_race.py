"""Bookings at the same moment: the last seat of a slot goes to one enterprise only, an enterprise holds a
slot once however often it clicks, and one member of staff is not arranged twice at the same time. The
threads meet at a barrier, each with its own connection (file SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine

from guanjia.core.errors import Conflict, ServiceError
from guanjia.testing import build_cast, run_concurrently
from guanjia.windows import appointments
from guanjia.windows.models import Appointment, AppointmentState
from guanjia.windows.tests.appointment_helpers import NOW, TUESDAY, booked, build_scene, requested

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def clock():
    # tick=True: the threads need a clock that moves (time_machine patches it for every thread).
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def test_two_enterprises_booking_the_last_seat_at_once_one_wins():
    scene = build_scene(build_cast(), seats=2)
    booked(scene, enterprise=scene.cast.ent_b1, by=scene.cast.steward_b)  # one seat left

    results = run_concurrently(
        lambda: booked(scene),
        lambda: booked(scene, enterprise=scene.cast.ent_a2, by=scene.cast.steward_a2),
    )

    won = [r for r in results if isinstance(r, Appointment)]
    lost = [r for r in results if not isinstance(r, Appointment)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and "该时段已约满" in str(lost[0]), lost
    holding = Appointment.objects.filter(window=scene.window, date=TUESDAY, state=AppointmentState.BOOKED)
    assert sorted(seat or 0 for seat in holding.values_list("seat", flat=True)) == [1, 2]


def test_many_enterprises_at_once_fill_the_seats_and_no_more():
    scene = build_scene(build_cast(), seats=2)
    cast = scene.cast
    callers = [
        (cast.ent_a1, cast.ent_user_a1),
        (cast.ent_a2, cast.steward_a2),
        (cast.ent_b1, cast.steward_b),
    ]

    results = run_concurrently(
        *[lambda e=e, by=by: booked(scene, enterprise=e, by=by, start=time(12, 0)) for e, by in callers]
    )

    assert sum(isinstance(r, Appointment) for r in results) == 2, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert Appointment.objects.filter(window=scene.window, starts_at=time(12, 0)).count() == 2


def test_the_same_enterprise_twice_at_once_books_once():
    scene = build_scene(build_cast(), seats=3)

    results = run_concurrently(lambda: booked(scene), lambda: booked(scene, by=scene.cast.steward_a))

    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    [refused] = [r for r in results if not isinstance(r, Appointment)]
    assert isinstance(refused, Conflict) and "贵企业已预约该时段" in str(refused), refused
    assert Appointment.objects.filter(enterprise=scene.cast.ent_a1).count() == 1


def test_two_arrangements_of_one_staff_member_at_the_same_time_one_wins():
    scene = build_scene(build_cast())
    first = requested(scene)
    second = appointments.request_extended(
        scene.window,
        enterprise=scene.cast.ent_a2,
        day=TUESDAY,
        start=first.starts_at,
        end=first.ends_at,
        by=scene.cast.steward_a2,
        contact_name="李经理",
        contact_phone="13912345678",
        note="晚间领取证照",
    )

    results = run_concurrently(
        lambda: appointments.arrange(first, staff=scene.staff, by=scene.head),
        lambda: appointments.arrange(second, staff=scene.staff, by=scene.head),
    )

    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    [refused] = [r for r in results if not isinstance(r, Appointment)]
    # Serialised (SQLite), the second sees the first's arrangement; at once (PostgreSQL), the constraint.
    assert isinstance(refused, ServiceError) and "已有延时服务安排" in str(refused), refused
    assert Appointment.objects.filter(staff=scene.staff, state=AppointmentState.BOOKED).count() == 1


def test_a_cancellation_and_an_arrangement_at_once_do_not_both_happen():
    scene = build_scene(build_cast())
    request = requested(scene)
    mine, theirs = Appointment.objects.get(pk=request.pk), Appointment.objects.get(pk=request.pk)

    results = run_concurrently(
        lambda: appointments.cancel(mine, by=scene.cast.ent_user_a1, version=mine.version),
        lambda: appointments.arrange(theirs, staff=scene.staff, by=scene.head, version=theirs.version),
    )

    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = Appointment.objects.get(pk=request.pk)
    assert stored.version == request.version + 1
