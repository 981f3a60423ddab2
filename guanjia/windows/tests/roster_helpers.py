"""The scene the roster tests share: 高新区市场监管局's unit open 9:00–17:00 without a lunch break
(staff take an hour each between 11:30 and 13:30), one window that must stay open, its head as keeper,
and three of its handlers on the staff (Monday to Friday, at most five shifts a week). Beijing's clock is
set to Monday 2026-11-30; the roster tests plan the next week (from 2026-12-07, five working days).

The unit and its windows are written straight to the tables (the units part's services are tested
elsewhere); the staff through the roster services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import Cast, make_user
from guanjia.windows import rosters
from guanjia.windows.models import ServiceUnit, ServiceWindow, Staffing

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=BEIJING)
THIS_WEEK = date(2026, 11, 30)
WEEK = date(2026, 12, 7)
TUESDAY = WEEK + timedelta(days=1)
NOON = time(12, 0)


@dataclass
class RosterScene:
    cast: Cast
    head: User  # keeps the unit
    other_head: User  # head of another department of the zone
    unit: ServiceUnit
    window: ServiceWindow
    staff: list[User]  # handler_a and two more handlers of 高新区市场监管局


def make_unit(cast: Cast, *, name: str = "高新区政务服务中心·市场监管窗口", **fields: Any) -> ServiceUnit:
    fields.setdefault("address", "高新区创新大道 1 号")
    return ServiceUnit.objects.create(zone=cast.zone_a, department=cast.market_a, name=name, **fields)


def make_window(unit: ServiceUnit, number: str = "1", **fields: Any) -> ServiceWindow:
    fields.setdefault("name", "综合受理")
    return ServiceWindow.objects.create(unit=unit, number=number, **fields)


def add_staff(
    unit: ServiceUnit, user: User, windows: list[ServiceWindow], by: User, **fields: Any
) -> Staffing:
    fields.setdefault("weekdays", [1, 2, 3, 4, 5])
    fields.setdefault("max_shifts", 5)
    return rosters.save_staffing(unit, user=user, windows=windows, by=by, **fields)


def build_scene(cast: Cast, **unit_fields: Any) -> RosterScene:
    head = make_user("head_market_a", cast.market_a, Role.DEPARTMENT_HEAD)
    other_head = make_user("head_centre_a", cast.centre_a, Role.DEPARTMENT_HEAD)
    unit = make_unit(cast, **unit_fields)
    window = make_window(unit)
    staff = [
        cast.handler_a,
        make_user("handler_a2", cast.market_a, Role.HANDLER),
        make_user("handler_a3", cast.market_a, Role.HANDLER),
    ]
    for user in staff:
        add_staff(unit, user, [window], head)
    return RosterScene(cast, head, other_head, unit, window, staff)


def other_zone_unit(cast: Cast) -> tuple[ServiceUnit, User]:
    """A unit of zone B with its own keeper."""
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market-r", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    head_b = make_user("head_market_b", market_b, Role.DEPARTMENT_HEAD)
    unit = ServiceUnit.objects.create(
        zone=cast.zone_b, department=market_b, name="经开区政务服务中心", address="经开区 1 号"
    )
    make_window(unit)
    return unit, head_b
