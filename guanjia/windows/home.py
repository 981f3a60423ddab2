"""What the windows app puts on the home page: an enterprise's coming appointments; a staff member's
bookings today and shifts this week; a unit keeper's 延时服务 requests to arrange and the rosters of this
week that leave a window short (red)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.windows.access import keeps_some_unit, today
from guanjia.windows.models import (
    Appointment,
    AppointmentKind,
    AppointmentState,
    Roster,
    ServiceUnit,
    Shift,
    Staffing,
)


def sections(user: User) -> list[HomeSection]:
    if not user.is_authenticated or not user.is_active or user.is_admin_account:
        return []
    found: list[HomeSection] = []
    if user.has_role(Role.ENTERPRISE_USER):
        found.append(_enterprise_section(user))
    if Staffing.objects.filter(user=user, is_active=True).exists():
        found.append(_staff_section(user))
    if keeps_some_unit(user) and ServiceUnit.objects.filter(department_id=user.unit_id).exists():
        found.append(_keeper_section(user))
    return found


def _enterprise_section(user: User) -> HomeSection:
    mine = Appointment.objects.visible_to(user).filter(date__gte=today())
    return counts_section(
        _("预约办事"),
        [
            (_("待办理的预约"), mine.filter(state=AppointmentState.BOOKED).count(), False),
            (_("延时服务待确认"), mine.filter(state=AppointmentState.REQUESTED).count(), False),
        ],
        "windows:my-appointments",
        _("查看我的预约"),
        order=8,
    )


def _staff_section(user: User) -> HomeSection:
    day = today()
    monday = day - timedelta(days=day.weekday())
    rostered_today = Shift.objects.filter(user=user, date=day).values("window_id")
    bookings_today = Appointment.objects.filter(date=day, state=AppointmentState.BOOKED).filter(
        Q(kind=AppointmentKind.BOOKED, window_id__in=rostered_today)
        | Q(kind=AppointmentKind.EXTENDED, staff=user)
    )
    shifts = Shift.objects.filter(user=user, date__gte=monday, date__lt=monday + timedelta(days=7))
    return counts_section(
        _("窗口服务"),
        [
            (_("今日预约"), bookings_today.count(), False),
            (_("本周班次"), shifts.count(), False),
        ],
        "windows:my-bookings",
        _("查看我的预约"),
        order=8,
    )


def _keeper_section(user: User) -> HomeSection:
    day = today()
    monday = day - timedelta(days=day.weekday())
    units = ServiceUnit.objects.filter(department_id=user.unit_id)
    requested = Appointment.objects.filter(unit__in=units, state=AppointmentState.REQUESTED, date__gte=day)
    short = Roster.objects.filter(unit__in=units, week_start=monday).exclude(shortages=[])
    unrostered = units.exclude(rosters__week_start=monday)
    return counts_section(
        _("服务窗口"),
        [
            (_("延时服务待安排"), requested.count(), True),
            (_("本周排班缺员"), short.count(), True),
            (_("本周未排班的单位"), unrostered.count(), True),
        ],
        "windows:units",
        _("管理服务窗口"),
        order=8,
    )
