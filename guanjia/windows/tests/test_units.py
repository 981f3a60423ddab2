"""The units' services: a department head keeps its department's units, windows and services; hours on
slot boundaries with the lunch window inside them; unique names and numbers; stale edits lose; a service
that bookings name stays; and the hours as the portal says them, days ahead by the work calendar."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.services import set_calendar_day
from guanjia.enterprises.models import Enterprise
from guanjia.testing import Cast, make_user
from guanjia.windows import units
from guanjia.windows.models import (
    Appointment,
    AppointmentState,
    ServiceUnit,
    ServiceWindow,
    WindowService,
)

pytestmark = pytest.mark.django_db


def make_head(cast: Cast, username: str = "head_a") -> User:
    """The head of zone A's 市场监管局: the keeper of its units."""
    return make_user(username, cast.market_a, Role.DEPARTMENT_HEAD)


def make_unit(head: User, name: str = "高新区企业服务专区", **fields) -> ServiceUnit:
    return units.create_unit(by=head, name=name, address="高新区创新路 1 号", **fields)


def book(
    window: ServiceWindow,
    service: WindowService | None,
    enterprise: Enterprise,
    by: User,
    *,
    state: str = AppointmentState.BOOKED,
    on: date = date(2026, 10, 12),
    at: time = time(9, 0),
) -> Appointment:
    """A booking written straight to the table (the booking service is another part's)."""
    return Appointment.objects.create(
        unit=window.unit,
        window=window,
        service=service,
        enterprise=enterprise,
        state=state,
        date=on,
        starts_at=at,
        ends_at=time(at.hour, at.minute + 30) if at.minute < 30 else time(at.hour + 1, at.minute - 30),
        seat=1,
        contact_name="王经理",
        contact_phone="13812345678",
        booked_by=by,
    )


@pytest.fixture
def head(cast: Cast) -> User:
    return make_head(cast)


@pytest.fixture
def unit(head: User) -> ServiceUnit:
    return make_unit(head)


# --- units ------------------------------------------------------------------------------------------


def test_a_department_head_creates_a_unit_of_its_department_in_its_zone(cast, head):
    unit = make_unit(head, phone="0512-66668888", no_lunch_break=False)
    assert unit.department == cast.market_a and unit.zone == cast.zone_a
    assert (unit.opens_at, unit.closes_at, unit.slot_minutes) == (time(9, 0), time(17, 0), 30)
    assert not unit.no_lunch_break and unit.is_published
    record = AuditRecord.objects.get(action="windows.unit_create")
    assert record.actor == head and record.object_id == str(unit.pk)


@pytest.mark.parametrize(
    "who", ["handler_a", "leader_a", "dispatcher_a", "steward_a", "ent_user_a1", "sysadmin"]
)
def test_only_a_department_head_creates_units(cast, who):
    with pytest.raises(NotAllowed):
        make_unit(getattr(cast, who))
    assert not ServiceUnit.objects.exists()


def test_a_head_creates_units_of_its_own_department_only(cast, head):
    with pytest.raises(NotAllowed, match="只能为本部门"):
        units.create_unit(by=head, department=cast.centre_a, name="别的部门的单位", address="某路 1 号")
    assert not ServiceUnit.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"opens_at": time(17, 0), "closes_at": time(9, 0)}, "closes_at", "结束办公：应晚于开始办公"),
        ({"closes_at": time(17, 15)}, "closes_at", "时段长度（30 分钟）的整数倍"),
        ({"lunch_from": time(8, 0)}, "lunch_from", "午休时段起：不能早于开始办公（09:00）"),
        ({"lunch_to": time(17, 30)}, "lunch_to", "午休时段止：不能晚于结束办公（17:00）"),
        ({"lunch_from": time(13, 30), "lunch_to": time(11, 30)}, "lunch_to", "应晚于午休时段起"),
        ({"lunch_from": time(11, 45)}, "lunch_from", "午休时段起：应落在时段分界上"),
        (
            {"lunch_from": time(12, 0), "lunch_to": time(12, 30)},
            "lunch_minutes",
            "不能超过午休时段的长度（30 分钟）",
        ),
        ({"lunch_minutes": 45}, "lunch_minutes", "应为时段长度（30 分钟）的整数倍"),
        ({"slot_minutes": 20}, "slot_minutes", "时段长度（分钟）：只能是 15、30、60"),
        ({"booking_days": 0}, "booking_days", "可预约天数：应在 1 到 60 之间"),
        ({"opens_at": "9点"}, "opens_at", "开始办公：时间格式应为 HH:MM"),
        ({"phone": "电话号码"}, "phone", "咨询电话：只能包含数字"),
    ],
)
def test_hours_that_do_not_fit_are_refused_naming_the_field(head, fields, field, message):
    with pytest.raises(units.InvalidField, match=message) as refused:
        make_unit(head, **fields)
    assert refused.value.field == field
    assert not ServiceUnit.objects.exists() and not AuditRecord.objects.filter(action__startswith="windows.")


def test_the_hours_may_open_on_a_quarter_hour_with_their_own_slot_boundaries(head):
    unit = make_unit(
        head, opens_at="08:45", closes_at="17:15", lunch_from="11:45", lunch_to="13:15", slot_minutes=30
    )
    assert (unit.opens_at, unit.lunch_from) == (time(8, 45), time(11, 45))


def test_a_name_is_unique_within_a_zone_not_across_zones(cast, head, unit):
    with pytest.raises(units.InvalidField, match="本园区已有名为“高新区企业服务专区”") as refused:
        make_unit(head, name=" 高新区企业服务专区 ")
    assert refused.value.field == "name"
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    head_b = make_user("head_b", market_b, Role.DEPARTMENT_HEAD)
    assert make_unit(head_b).zone == cast.zone_b


def test_the_keeper_edits_a_unit_and_a_stale_edit_loses(unit, head):
    units.update_unit(unit, by=head, version=1, no_lunch_break=False, notice="请携带原件")
    unit.refresh_from_db()
    assert (unit.no_lunch_break, unit.notice, unit.version) == (False, "请携带原件", 2)
    record = AuditRecord.objects.get(action="windows.unit_update")
    assert record.detail == {"no_lunch_break": False, "notice": "请携带原件"}
    with pytest.raises(Conflict, match="刚被他人修改"):
        units.update_unit(unit, by=head, version=1, notice="旧页面上的修改")
    unit.refresh_from_db()
    assert unit.notice == "请携带原件" and unit.version == 2


def test_an_edit_is_checked_like_a_new_unit(unit, head):
    with pytest.raises(units.InvalidField, match="结束办公"):
        units.update_unit(unit, by=head, version=1, closes_at="08:00")
    with pytest.raises(ServiceError, match="不能修改的字段：zone"):
        units.update_unit(unit, by=head, version=1, zone=None)
    unit.refresh_from_db()
    assert unit.closes_at == time(17, 0) and unit.version == 1


@pytest.mark.parametrize("who", ["handler_a", "leader_a", "supervisor_a", "dispatcher_a"])
def test_no_one_but_the_keeper_edits_a_unit(cast, unit, who):
    with pytest.raises(NotAllowed):
        units.update_unit(unit, by=getattr(cast, who), version=1, notice="改")
    other_head = make_user("head_centre", cast.centre_a, Role.DEPARTMENT_HEAD)
    with pytest.raises(NotAllowed):
        units.update_unit(unit, by=other_head, version=1, notice="改")
    unit.refresh_from_db()
    assert unit.notice == "" and unit.version == 1


# --- windows ----------------------------------------------------------------------------------------


def test_the_keeper_adds_and_edits_windows_with_unique_numbers(cast, unit, head):
    window = units.add_window(unit, by=head, number="1", name="企业开办", seats=2)
    assert (window.must_stay_open, window.staff_needed, window.seats) == (True, 1, 2)
    with pytest.raises(units.InvalidField, match="本单位已有 1 号窗口") as refused:
        units.add_window(unit, by=head, number="1", name="变更注销")
    assert refused.value.field == "number"
    with pytest.raises(units.InvalidField, match="同时在岗人数：应在 1 到 10 之间"):
        units.add_window(unit, by=head, number="2", name="变更注销", staff_needed=0)
    with pytest.raises(NotAllowed):
        units.add_window(unit, by=cast.leader_a, number="3", name="许可办理")
    units.update_window(window, by=head, version=1, must_stay_open=False, is_active=False)
    window.refresh_from_db()
    assert (window.must_stay_open, window.is_active, window.version) == (False, False, 2)
    with pytest.raises(Conflict):
        units.update_window(window, by=head, version=1, name="旧页面")
    assert list(ServiceWindow.objects.values_list("number", flat=True)) == ["1"]


# --- services ---------------------------------------------------------------------------------------


@pytest.fixture
def window(unit, head) -> ServiceWindow:
    return units.add_window(unit, by=head, number="1", name="企业开办")


def test_the_keeper_adds_edits_and_removes_a_service(cast, window, head):
    service = units.add_service(window, by=head, name="企业设立登记", materials="申请书\n身份证")
    assert service.bookable and service.position == 100
    units.update_service(service, by=head, version=1, bookable=False, position=10)
    service.refresh_from_db()
    assert (service.bookable, service.position, service.version) == (False, 10, 2)
    with pytest.raises(Conflict):
        units.update_service(service, by=head, version=1, name="旧页面")
    with pytest.raises(NotAllowed):
        units.remove_service(service, by=cast.handler_a)
    units.remove_service(service, by=head, version=2)
    assert not WindowService.objects.exists()
    assert AuditRecord.objects.filter(action="windows.service_remove").count() == 1


def test_a_service_with_bookings_waiting_is_not_removed(cast, window, head):
    service = units.add_service(window, by=head, name="企业设立登记")
    book(window, service, cast.ent_a1, cast.ent_user_a1)
    with pytest.raises(ServiceError, match="还有 1 个待办理的预约，不能删除"):
        units.remove_service(service, by=head)
    assert WindowService.objects.filter(pk=service.pk).exists()
    assert not AuditRecord.objects.filter(action="windows.service_remove").exists()


def test_a_service_that_past_bookings_name_stays_for_their_record(cast, window, head):
    service = units.add_service(window, by=head, name="企业设立登记")
    book(window, service, cast.ent_a1, cast.ent_user_a1, state=AppointmentState.SERVED)
    with pytest.raises(ServiceError, match="已有预约记录，不能删除；如不再提供，请将其设为不可预约"):
        units.remove_service(service, by=head)
    assert WindowService.objects.filter(pk=service.pk).exists()


# --- the hours as the portal says them --------------------------------------------------------------


def test_the_hours_sentence_says_the_lunch_rule(head):
    staying = make_unit(head, name="不间断")
    closing = make_unit(head, name="午休", no_lunch_break=False)
    assert units.hours_sentence(staying) == "工作日 09:00–17:00，中午不间断服务（工作人员轮流就餐）"
    assert units.hours_sentence(closing) == "工作日 09:00–17:00，午休 11:30–13:30 暂停服务"


@time_machine.travel("2026-09-28 09:00 +0800", tick=False)
def test_the_days_ahead_follow_the_work_calendar():
    days = {entry.day: entry for entry in units.calendar_ahead(date(2026, 9, 28))}
    assert len(days) == 14
    monday = days[date(2026, 9, 28)]
    assert (monday.is_open, monday.mark, monday.weekday) == (True, "", "周一")
    national = days[date(2026, 10, 1)]
    assert (national.is_open, national.mark, national.holiday, national.label) == (
        False,
        "休",
        "国庆节",
        "休",
    )
    assert days[date(2026, 10, 3)].mark == "休"  # a Saturday within the holiday
    swapped = days[date(2026, 10, 10)]  # the Saturday worked for the holiday (调休)
    assert (swapped.is_open, swapped.mark, swapped.label) == (True, "调休上班", "调休上班")
    sunday = days[date(2026, 10, 11)]
    assert (sunday.is_open, sunday.mark, sunday.label) == (False, "", "休息")


def test_an_admins_calendar_entry_decides_the_day(cast):
    set_calendar_day(date(2026, 10, 12), is_workday=False, name="园区停电检修", by=cast.sysadmin)
    set_calendar_day(date(2026, 10, 18), is_workday=True, name="补班", by=cast.sysadmin)
    days = {entry.day: entry for entry in units.calendar_ahead(date(2026, 10, 12))}
    assert (days[date(2026, 10, 12)].is_open, days[date(2026, 10, 12)].mark) == (False, "休")
    assert days[date(2026, 10, 12)].holiday == "园区停电检修"
    assert (days[date(2026, 10, 18)].is_open, days[date(2026, 10, 18)].mark) == (True, "调休上班")
