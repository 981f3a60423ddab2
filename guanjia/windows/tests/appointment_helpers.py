"""The scene the appointment tests share: 高新区市场监管局's unit with one window of one seat (or more), its
head as keeper, handler_a on its staff and rostered at the window, and Beijing's clock set to a Monday
morning before the unit opens (2026-11-16 08:00).

Rows are written straight to the tables: the units' and rosters' own services are tested elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import Cast, make_user
from guanjia.windows import appointments
from guanjia.windows.models import (
    Appointment,
    Roster,
    ServiceUnit,
    ServiceWindow,
    Shift,
    Staffing,
    WindowService,
)

MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=BEIJING)
TUESDAY = MONDAY + timedelta(days=1)
NOON = time(12, 0)


@dataclass
class Scene:
    cast: Cast
    head: User  # keeps the unit
    unit: ServiceUnit
    window: ServiceWindow
    service: WindowService
    staff: User  # handler_a: on the staff, rostered at the window this week
    roster: Roster


def make_unit(cast: Cast, *, name: str = "高新区政务服务中心·企业服务专区", **fields: Any) -> ServiceUnit:
    fields.setdefault("address", "高新区创新大道 1 号")
    fields.setdefault("phone", "0512-66668888")
    return ServiceUnit.objects.create(zone=cast.zone_a, department=cast.market_a, name=name, **fields)


def make_window(unit: ServiceUnit, number: str = "1", **fields: Any) -> ServiceWindow:
    fields.setdefault("name", "企业开办")
    return ServiceWindow.objects.create(unit=unit, number=number, **fields)


def roster(unit: ServiceUnit, user: User, window: ServiceWindow, days: list[date]) -> Roster:
    monday = days[0] - timedelta(days=days[0].weekday())
    week, _created = Roster.objects.get_or_create(
        unit=unit, week_start=monday, defaults={"status": Roster.Status.PUBLISHED}
    )
    for day in days:
        Shift.objects.create(roster=week, user=user, window=window, date=day)
    return week


def build_scene(cast: Cast, *, seats: int = 1, **unit_fields: Any) -> Scene:
    head = make_user("head_market_a", cast.market_a, Role.DEPARTMENT_HEAD)
    unit = make_unit(cast, **unit_fields)
    window = make_window(unit, seats=seats)
    service = WindowService.objects.create(window=window, name="企业设立登记", materials="营业执照申请书")
    staffing = Staffing.objects.create(unit=unit, user=cast.handler_a)
    staffing.windows.add(window)
    week = roster(unit, cast.handler_a, window, [MONDAY + timedelta(days=n) for n in range(5)])
    return Scene(cast, head, unit, window, service, cast.handler_a, week)


def booked(
    scene: Scene, *, day: date = TUESDAY, start: time = time(10, 0), by: User | None = None, **kw: Any
) -> Appointment:
    enterprise = kw.pop("enterprise", scene.cast.ent_a1)
    return appointments.book(
        scene.window,
        enterprise=enterprise,
        day=day,
        start=start,
        by=by or scene.cast.ent_user_a1,
        service=kw.pop("service", scene.service),
        contact_name=kw.pop("contact_name", "王经理"),
        contact_phone=kw.pop("contact_phone", "13812345678"),
        note=kw.pop("note", ""),
    )


def requested(
    scene: Scene,
    *,
    day: date = TUESDAY,
    start: time = time(17, 30),
    end: time = time(18, 30),
    by: User | None = None,
) -> Appointment:
    return appointments.request_extended(
        scene.window,
        enterprise=scene.cast.ent_a1,
        day=day,
        start=start,
        end=end,
        by=by or scene.cast.ent_user_a1,
        contact_name="王经理",
        contact_phone="13812345678",
        note="下班后办理股权变更登记",
    )
