"""Booking a slot at a window (预约服务) and asking for service outside the hours (延时服务): the rules of the
slots, the seats, and who may move an appointment on."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, Notification
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import build_cast, make_user
from guanjia.windows import appointments
from guanjia.windows.models import Appointment, AppointmentKind, AppointmentState, WindowService
from guanjia.windows.tests.appointment_helpers import (
    MONDAY,
    NOON,
    NOW,
    TUESDAY,
    booked,
    build_scene,
    make_window,
    requested,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock):
    return build_scene(build_cast())


# --- the slots ----------------------------------------------------------------------------------------


def test_slots_cover_the_day_with_noon_when_the_unit_does_not_close_for_lunch(scene):
    slots = appointments.available_slots(scene.window, TUESDAY)

    assert [s.value for s in slots][:2] == ["09:00", "09:30"]
    assert slots[-1].value == "16:30"
    noon = next(s for s in slots if s.start == NOON)
    assert noon.noon and noon.free == 1 and noon.end == time(12, 30)


def test_a_unit_that_closes_for_lunch_has_no_noon_slot(clock):
    scene = build_scene(build_cast(), no_lunch_break=False)

    values = [s.value for s in appointments.available_slots(scene.window, TUESDAY)]

    assert "11:00" in values and "13:30" in values
    assert not {"11:30", "12:00", "13:00"} & set(values)


def test_no_slots_on_a_holiday_in_the_past_or_beyond_the_booking_days(scene):
    assert appointments.available_slots(scene.window, MONDAY - timedelta(days=1)) == []
    assert appointments.available_slots(scene.window, MONDAY + timedelta(days=5)) == []  # Saturday
    assert appointments.available_slots(scene.window, MONDAY + timedelta(days=11)) == []  # > 10 days
    assert appointments.available_slots(scene.window, MONDAY + timedelta(days=10))


def test_slots_already_begun_today_are_not_offered(scene, clock):
    clock.move_to(datetime(2026, 11, 16, 12, 10, tzinfo=BEIJING))

    values = [s.value for s in appointments.available_slots(scene.window, MONDAY)]

    assert values[0] == "12:30"


def test_a_booking_takes_a_seat_of_its_slot(scene):
    booked(scene, start=time(10, 0))

    slot = next(s for s in appointments.available_slots(scene.window, TUESDAY) if s.value == "10:00")
    assert slot.free == 0


# --- booking ------------------------------------------------------------------------------------------


def test_an_enterprise_user_books_noon_where_the_unit_stays_open(scene):
    appointment = booked(scene, start=NOON)

    assert appointment.kind == AppointmentKind.BOOKED
    assert appointment.state == AppointmentState.BOOKED
    assert (appointment.starts_at, appointment.ends_at, appointment.seat) == (NOON, time(12, 30), 1)
    assert appointment.on_behalf is False
    assert appointment.unit == scene.unit and appointment.service == scene.service
    assert AuditRecord.objects.filter(
        action="windows.appointment_book", object_id=str(appointment.pk)
    ).exists()


def test_noon_is_refused_where_the_unit_closes_for_lunch(clock):
    scene = build_scene(build_cast(), no_lunch_break=False)

    with pytest.raises(ServiceError, match="该时段不在办公时间内，可申请延时服务"):
        booked(scene, start=NOON)
    assert not Appointment.objects.exists()


def test_a_time_off_the_slots_is_refused(scene):
    with pytest.raises(ServiceError, match="不在办公时间内"):
        booked(scene, start=time(10, 10))
    with pytest.raises(ServiceError, match="不在办公时间内"):
        booked(scene, start=time(17, 0))


def test_the_official_calendar_closes_national_day_and_opens_its_working_saturday():
    with time_machine.travel(datetime(2026, 9, 28, 8, 0, tzinfo=BEIJING), tick=False):
        scene = build_scene(build_cast())
        with pytest.raises(ServiceError, match="法定节假日"):
            booked(scene, day=date(2026, 10, 1))
        assert appointments.available_slots(scene.window, date(2026, 10, 1)) == []
        # 2026-10-10 is a Saturday worked in exchange (调休上班), but 12 days ahead: beyond booking_days.
        assert booked(scene, day=date(2026, 9, 30)).state == AppointmentState.BOOKED


def test_a_slot_in_the_past_is_refused(scene, clock):
    clock.move_to(datetime(2026, 11, 16, 10, 5, tzinfo=BEIJING))

    with pytest.raises(ServiceError, match="该时段已过"):
        booked(scene, day=MONDAY, start=time(10, 0))
    assert booked(scene, day=MONDAY, start=time(10, 30)).state == AppointmentState.BOOKED


def test_beyond_the_booking_days_is_refused(scene):
    with pytest.raises(ServiceError, match="只能预约 10 天内"):
        booked(scene, day=MONDAY + timedelta(days=14))


def test_a_service_of_another_window_or_not_bookable_is_refused(scene):
    other = make_window(scene.unit, "2", name="变更注销")
    elsewhere = WindowService.objects.create(window=other, name="注销登记")
    closed = WindowService.objects.create(window=scene.window, name="现场核验", bookable=False)

    with pytest.raises(ServiceError, match="不是该窗口的服务事项"):
        booked(scene, service=elsewhere)
    with pytest.raises(ServiceError, match="不接受预约"):
        booked(scene, service=closed)


def test_an_inactive_window_or_unpublished_unit_takes_no_booking(scene):
    scene.unit.is_published = False
    scene.unit.save()
    with pytest.raises(ServiceError, match="暂不接受预约"):
        booked(scene)


def test_the_contact_phone_must_be_a_phone(scene):
    with pytest.raises(ServiceError, match="联系电话"):
        booked(scene, contact_phone="12345")
    with pytest.raises(ServiceError, match="联系人：请填写"):
        booked(scene, contact_name=" ")
    assert booked(scene, contact_phone="0512-66668888").contact_phone == "0512-66668888"


def test_a_steward_books_on_behalf_of_its_enterprise(scene):
    appointment = booked(scene, by=scene.cast.steward_a)

    assert appointment.on_behalf is True
    assert appointment.booked_by == scene.cast.steward_a


def test_a_user_of_another_enterprise_or_a_steward_of_another_may_not_book(scene):
    cast = scene.cast
    with pytest.raises(NotAllowed):
        booked(scene, enterprise=cast.ent_a2)  # ent_user_a1 is not a user of ent_a2
    with pytest.raises(NotAllowed):
        booked(scene, by=cast.steward_a2)  # serves ent_a2, not ent_a1
    for outsider in (cast.leader_a, cast.handler_a, cast.dispatcher_a, scene.head):
        with pytest.raises(NotAllowed):
            booked(scene, by=outsider)
    assert not Appointment.objects.exists()


def test_the_same_enterprise_may_not_hold_a_slot_twice(clock):
    scene = build_scene(build_cast(), seats=3)
    booked(scene)

    with pytest.raises(Conflict, match="贵企业已预约该时段"):
        booked(scene, by=scene.cast.steward_a)
    assert Appointment.objects.count() == 1


def test_seats_fill_one_by_one_and_then_the_slot_is_full(clock):
    scene = build_scene(build_cast(), seats=2)
    first = booked(scene)
    second = booked(scene, enterprise=scene.cast.ent_a2, by=scene.cast.steward_a2)

    with pytest.raises(Conflict, match="该时段已约满，请选择其他时段"):
        booked(scene, enterprise=scene.cast.ent_b1, by=scene.cast.steward_b)
    assert (first.seat, second.seat) == (1, 2)


def test_cancelling_frees_the_seat(scene):
    mine = booked(scene)
    appointments.cancel(mine, by=scene.cast.ent_user_a1, version=mine.version)

    theirs = booked(scene, enterprise=scene.cast.ent_a2, by=scene.cast.steward_a2)

    assert theirs.seat == 1
    mine.refresh_from_db()
    assert mine.state == AppointmentState.CANCELLED


# --- cancelling ---------------------------------------------------------------------------------------


def test_the_enterprise_may_not_cancel_once_the_time_has_come_but_the_keeper_may(scene, clock):
    appointment = booked(scene, day=MONDAY, start=time(9, 0))
    clock.move_to(datetime(2026, 11, 16, 9, 5, tzinfo=BEIJING))

    with pytest.raises(ServiceError, match="不能再取消"):
        appointments.cancel(appointment, by=scene.cast.ent_user_a1)
    appointments.cancel(appointment, by=scene.head, reason="系统故障暂停办理")

    assert appointment.state == AppointmentState.CANCELLED
    notice = Notification.objects.get(user=scene.cast.ent_user_a1)
    assert "已被服务单位取消" in notice.title


def test_others_may_not_cancel(scene):
    appointment = booked(scene)
    for outsider in (scene.cast.leader_a, scene.cast.steward_a2, scene.staff, scene.cast.dispatcher_a):
        with pytest.raises(NotAllowed):
            appointments.cancel(appointment, by=outsider)


def test_a_stale_version_is_refused(scene):
    appointment = booked(scene)
    with pytest.raises(Conflict, match="刚被他人处理"):
        appointments.cancel(appointment, by=scene.cast.ent_user_a1, version=appointment.version + 1)


# --- 延时服务 -------------------------------------------------------------------------------------------


def test_an_extended_request_waits_for_the_keeper(scene):
    appointment = requested(scene)

    assert appointment.kind == AppointmentKind.EXTENDED
    assert appointment.state == AppointmentState.REQUESTED
    assert appointment.seat is None and appointment.staff is None


def test_an_extended_request_on_a_closed_day_or_at_noon_where_the_unit_closes(clock):
    scene = build_scene(build_cast(), no_lunch_break=False)
    saturday = MONDAY + timedelta(days=5)

    assert requested(scene, day=saturday, start=time(10, 0), end=time(11, 0)).state == "requested"
    assert requested(scene, start=time(12, 0), end=time(13, 0)).state == "requested"


def test_an_extended_request_in_hours_is_refused(scene):
    with pytest.raises(ServiceError, match="该时段在办公时间内，请直接预约"):
        requested(scene, start=time(10, 0), end=time(11, 0))
    with pytest.raises(ServiceError, match="在办公时间内"):
        requested(scene, start=time(16, 30), end=time(17, 30))  # reaches into the last slot


def test_an_extended_request_needs_a_reason_a_later_end_and_a_day_within_reach(scene):
    cast = scene.cast
    common = {
        "enterprise": cast.ent_a1,
        "by": cast.ent_user_a1,
        "contact_name": "王经理",
        "contact_phone": "13812345678",
    }
    with pytest.raises(ServiceError, match="事项说明：请填写"):
        appointments.request_extended(
            scene.window, day=TUESDAY, start=time(18, 0), end=time(19, 0), note="", **common
        )
    with pytest.raises(ServiceError, match="结束时间：应晚于开始时间"):
        appointments.request_extended(
            scene.window, day=TUESDAY, start=time(18, 0), end=time(18, 0), note="办理", **common
        )
    with pytest.raises(ServiceError, match="10 天内"):
        requested(scene, day=MONDAY + timedelta(days=20))
    with pytest.raises(NotAllowed):
        requested(scene, by=cast.leader_a)


def test_the_keeper_arranges_a_request_with_its_staff_and_the_enterprise_is_told(scene):
    appointment = requested(scene)

    appointments.arrange(appointment, staff=scene.staff, by=scene.head, version=appointment.version)

    appointment.refresh_from_db()
    assert (appointment.state, appointment.staff) == (AppointmentState.BOOKED, scene.staff)
    assert "延时服务已安排" in Notification.objects.get(user=scene.cast.ent_user_a1).title


def test_only_the_keeper_arranges_and_only_with_the_unit_staff(scene):
    appointment = requested(scene)
    for outsider in (scene.cast.leader_a, scene.staff, scene.cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            appointments.arrange(appointment, staff=scene.staff, by=outsider)
    stranger = make_user("handler_elsewhere", scene.cast.market_a, Role.HANDLER)
    with pytest.raises(ServiceError, match="不是该服务单位在岗的工作人员"):
        appointments.arrange(appointment, staff=stranger, by=scene.head)


def test_one_person_is_not_arranged_twice_at_the_same_time(scene):
    first = requested(scene)
    second = appointments.request_extended(
        scene.window,
        enterprise=scene.cast.ent_a2,
        day=TUESDAY,
        start=time(18, 0),
        end=time(19, 0),
        by=scene.cast.steward_a2,
        contact_name="李经理",
        contact_phone="13912345678",
        note="晚间领取证照",
    )
    appointments.arrange(first, staff=scene.staff, by=scene.head)

    with pytest.raises(ServiceError, match="已有延时服务安排"):
        appointments.arrange(second, staff=scene.staff, by=scene.head)
    second.refresh_from_db()
    assert second.state == AppointmentState.REQUESTED


def test_the_keeper_declines_with_a_reason(scene):
    appointment = requested(scene)
    with pytest.raises(ServiceError, match="未安排原因：请填写"):
        appointments.decline(appointment, reason=" ", by=scene.head)
    with pytest.raises(NotAllowed):
        appointments.decline(appointment, reason="人手不足", by=scene.cast.leader_a)

    appointments.decline(appointment, reason="当晚无人值守，请改约次日", by=scene.head)

    assert appointment.state == AppointmentState.DECLINED
    assert "延时服务未能安排" in Notification.objects.get(user=scene.cast.ent_user_a1).title


def test_a_booking_is_not_arranged_and_a_declined_request_does_not_come_back(scene):
    appointment = booked(scene)
    with pytest.raises(ServiceError, match="只有延时服务"):
        appointments.arrange(appointment, staff=scene.staff, by=scene.head)
    request = requested(scene)
    appointments.decline(request, reason="无法安排", by=scene.head)
    with pytest.raises(ServiceError, match="不能改为"):
        appointments.arrange(request, staff=scene.staff, by=scene.head)


# --- serving ------------------------------------------------------------------------------------------


def test_the_rostered_staff_marks_a_booking_served_once_its_time_has_come(scene, clock):
    appointment = booked(scene, day=MONDAY, start=time(10, 0))

    with pytest.raises(ServiceError, match="预约时间未到"):
        appointments.serve(appointment, by=scene.staff)
    clock.move_to(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING))
    appointments.serve(appointment, by=scene.staff, version=appointment.version)

    assert appointment.state == AppointmentState.SERVED
    with pytest.raises(ServiceError, match="不能改为"):
        appointments.miss(appointment, by=scene.staff)


def test_the_keeper_marks_a_no_show(scene, clock):
    appointment = booked(scene, day=MONDAY, start=time(9, 0))
    clock.move_to(datetime(2026, 11, 16, 9, 40, tzinfo=BEIJING))

    appointments.miss(appointment, by=scene.head)

    assert appointment.state == AppointmentState.MISSED


def test_who_may_not_mark_served(scene, clock):
    appointment = booked(scene, day=MONDAY, start=time(9, 0))
    clock.move_to(datetime(2026, 11, 16, 9, 40, tzinfo=BEIJING))
    not_rostered = make_user("handler_not_rostered", scene.cast.market_a, Role.HANDLER)
    for outsider in (scene.cast.leader_a, not_rostered, scene.cast.ent_user_a1, scene.cast.supervisor_a):
        with pytest.raises(NotAllowed):
            appointments.serve(appointment, by=outsider)
    assert Appointment.objects.get(pk=appointment.pk).state == AppointmentState.BOOKED


def test_an_arranged_extended_service_is_served_by_its_staff(scene, clock):
    appointment = requested(scene, day=MONDAY, start=time(17, 30), end=time(18, 0))
    appointments.arrange(appointment, staff=scene.staff, by=scene.head)
    clock.move_to(datetime(2026, 11, 16, 17, 45, tzinfo=BEIJING))

    appointments.serve(appointment, by=scene.staff)

    assert appointment.state == AppointmentState.SERVED


# --- what the staff see --------------------------------------------------------------------------------


def test_the_rostered_staff_sees_the_bookings_of_its_windows_and_days(scene):
    noon = booked(scene, start=NOON)
    other_window = make_window(scene.unit, "2", name="变更注销")
    elsewhere = appointments.book(
        other_window,
        enterprise=scene.cast.ent_a1,
        day=TUESDAY,
        start=time(9, 0),
        by=scene.cast.ent_user_a1,
        contact_name="王经理",
        contact_phone="13812345678",
    )
    extended = requested(scene)
    appointments.arrange(extended, staff=scene.staff, by=scene.head)

    mine = list(appointments.bookings_of_staff(scene.staff))

    assert noon in mine and extended in mine
    assert elsewhere not in mine
    assert list(appointments.bookings_of_staff(scene.cast.leader_a)) == []


def test_what_each_sees(scene):
    appointment = booked(scene)
    cast = scene.cast
    for reader in (
        cast.ent_user_a1,
        cast.steward_a,
        scene.head,
        scene.staff,
        cast.leader_a,
        cast.dispatcher_a,
    ):
        assert Appointment.objects.visible_to(reader).filter(pk=appointment.pk).exists(), reader
    for outsider in (cast.steward_b, cast.steward_a2, cast.promoter_a, cast.sysadmin, cast.outsider):
        assert not Appointment.objects.visible_to(outsider).filter(pk=appointment.pk).exists(), outsider
