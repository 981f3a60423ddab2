"""Writes and reads of the service units (服务单位): a unit's published hours and lunch rule, its windows
(窗口) and the services (服务事项) each window offers, and the hours as the enterprise portal shows them.

Only a unit's keeper, the head of its department (access.may_keep), writes it. Every write checks its
input and names the field it refuses (InvalidField.field, for the form to show the message next to it),
runs in one transaction with its audit record, and changes a row only if its version is still the one
the editor read (a stale edit is refused with Conflict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import chinese_calendar
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.models import CalendarDay, OrgUnit, User
from guanjia.core.validation import clean_text, clean_whole
from guanjia.windows import hours
from guanjia.windows.access import check_keeper, keeps_some_unit
from guanjia.windows.models import (
    HOLDING_STATES,
    SLOT_CHOICES,
    WINDOW_OVERSEERS,
    Appointment,
    ServiceUnit,
    ServiceWindow,
    Staffing,
    WindowService,
)

NAME_MAX = 60
ADDRESS_MAX = 200
PHONE_MAX = 30
NOTICE_MAX = 2000
NUMBER_MAX = 10
WINDOW_NAME_MAX = 60
SERVICE_NAME_MAX = 80
MATERIALS_MAX = 2000
POSITION_MAX = 999
SLOT_VALUES = tuple(value for value, _label in SLOT_CHOICES)
PORTAL_DAYS = 14  # the days ahead the portal shows open or closed
PHONE_CHARACTERS = set("0123456789-+()（） 转")

UNIT_FIELDS = (
    "name",
    "address",
    "phone",
    "opens_at",
    "closes_at",
    "no_lunch_break",
    "lunch_from",
    "lunch_to",
    "lunch_minutes",
    "slot_minutes",
    "booking_days",
    "notice",
    "is_published",
)
WINDOW_FIELDS = ("number", "name", "must_stay_open", "staff_needed", "seats", "is_active")
SERVICE_FIELDS = ("name", "materials", "bookable", "position")
UNIT_DEFAULTS: dict[str, Any] = {
    "phone": "",
    "opens_at": time(9, 0),
    "closes_at": time(17, 0),
    "no_lunch_break": True,
    "lunch_from": time(11, 30),
    "lunch_to": time(13, 30),
    "lunch_minutes": 60,
    "slot_minutes": 30,
    "booking_days": 10,
    "notice": "",
    "is_published": True,
}
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


# --- who reads the management pages -----------------------------------------------------------------


def reads_units(user: User | None) -> bool:
    """Who opens the units' management pages: a department head (who may keep units), the zone's
    overseers, and the staff of some unit. Everyone else reads the published hours on the portal."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_admin_account:
        return False
    return (
        keeps_some_unit(user)
        or user.has_any_role(WINDOW_OVERSEERS)
        or Staffing.objects.filter(user=user, is_active=True).exists()
    )


def reads_portal_hours(user: User | None) -> bool:
    """Every business account reads the published hours of its zones (ServiceUnit.published_to)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_admin_account
        and user.roles
    )


# --- reads ------------------------------------------------------------------------------------------


def units_for_list(user: User) -> QuerySet[ServiceUnit]:
    return (
        ServiceUnit.objects.visible_to(user)
        .select_related("zone", "department")
        .annotate(
            window_count=Count("windows", filter=Q(windows__is_active=True), distinct=True),
            staff_count=Count("staffings", filter=Q(staffings__is_active=True), distinct=True),
        )
        .order_by("zone_id", "name", "pk")
    )


def windows_of(unit: ServiceUnit, *, active_only: bool = False) -> QuerySet[ServiceWindow]:
    windows = unit.windows.all()
    if active_only:
        windows = windows.filter(is_active=True)
    return windows.prefetch_related(
        Prefetch("services", queryset=WindowService.objects.order_by("position", "name", "pk"))
    ).order_by("number", "pk")


def hhmm(moment: time) -> str:
    return f"{moment:%H:%M}"


def hours_sentence(unit: ServiceUnit) -> str:
    """The unit's hours in one sentence, as the portal says them."""
    span = f"{hhmm(unit.opens_at)}–{hhmm(unit.closes_at)}"
    if unit.no_lunch_break:
        return _("工作日 %(span)s，中午不间断服务（工作人员轮流就餐）") % {"span": span}
    lunch = f"{hhmm(unit.lunch_from)}–{hhmm(unit.lunch_to)}"
    return _("工作日 %(span)s，午休 %(lunch)s 暂停服务") % {"span": span, "lunch": lunch}


@dataclass(frozen=True)
class CalendarEntry:
    """One day ahead as the portal shows it: open or closed, and why a day differs from its weekday."""

    day: date
    weekday: str
    is_open: bool
    mark: str  # "休" (a holiday on a weekday or within a holiday), "调休上班" (a working weekend day), ""
    holiday: str  # the holiday's name where known

    @property
    def label(self) -> str:
        if self.mark == "调休上班":
            return _("调休上班")
        if self.mark == "休":
            return _("休")
        return _("办公") if self.is_open else _("休息")


def _holiday_name(day: date, entries: Mapping[date, CalendarDay]) -> str:
    entry = entries.get(day)
    if entry is not None and entry.name:
        return entry.name
    try:
        _on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the library does not cover
        return ""
    if holiday is None:
        return ""
    for known in chinese_calendar.Holiday:
        if known.value == holiday:
            return str(known.chinese)
    return str(holiday)


def calendar_ahead(start: date, count: int = PORTAL_DAYS) -> list[CalendarEntry]:
    """`count` days from `start`, each open or closed by the work calendar (hours.is_open_on): a holiday
    marked 休, a working weekend day (调休) marked 调休上班."""
    days = [start + timedelta(days=n) for n in range(count)]
    entries = {entry.date: entry for entry in CalendarDay.objects.filter(date__in=days)}
    rows = []
    for day in days:
        is_open = hours.is_open_on(day)
        weekend = day.weekday() >= 5
        name = _holiday_name(day, entries)
        if is_open and weekend:
            mark = "调休上班"
        elif not is_open and (not weekend or name):
            mark = "休"
        else:
            mark = ""
        rows.append(CalendarEntry(day, WEEKDAYS[day.weekday()], is_open, mark, name))
    return rows


def published_units(user: User) -> QuerySet[ServiceUnit]:
    return (
        ServiceUnit.objects.published_to(user)
        .select_related("zone", "department")
        .prefetch_related(
            Prefetch(
                "windows",
                queryset=ServiceWindow.objects.filter(is_active=True)
                .prefetch_related(
                    Prefetch("services", queryset=WindowService.objects.order_by("position", "name", "pk"))
                )
                .order_by("number", "pk"),
                to_attr="open_windows",
            )
        )
        .order_by("zone_id", "name", "pk")
    )


def holding_bookings(service: WindowService) -> int:
    return Appointment.objects.filter(service=service, state__in=HOLDING_STATES).count()


# --- checks -----------------------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _clock(field: str, label: str, value: Any) -> time:
    if isinstance(value, time):
        moment = value
    elif value is None or value == "":
        raise InvalidField(field, _("%(label)s：请填写") % {"label": label})
    else:
        try:
            moment = time.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidField(field, _("%(label)s：时间格式应为 HH:MM") % {"label": label}) from None
    if moment.second or moment.microsecond or moment.tzinfo is not None:
        raise InvalidField(field, _("%(label)s：请精确到分钟（HH:MM）") % {"label": label})
    return moment


def _phone(value: Any) -> str:
    label = _("咨询电话")
    phone = clean_text("phone", label, value, limit=PHONE_MAX)
    if phone and not set(phone) <= PHONE_CHARACTERS:
        raise InvalidField("phone", _("%(label)s：只能包含数字、空格和 -（）+") % {"label": label})
    return phone


def _clean_unit(values: Mapping[str, Any]) -> dict[str, Any]:
    """The unit's fields checked and normalised; InvalidField names the first bad one."""
    clean: dict[str, Any] = {
        "name": clean_text("name", _("名称"), values["name"], limit=NAME_MAX, required=True),
        "address": clean_text("address", _("地址"), values["address"], limit=ADDRESS_MAX, required=True),
        "phone": _phone(values["phone"]),
        "opens_at": _clock("opens_at", _("开始办公"), values["opens_at"]),
        "closes_at": _clock("closes_at", _("结束办公"), values["closes_at"]),
        "no_lunch_break": _flag(values["no_lunch_break"]),
        "lunch_from": _clock("lunch_from", _("午休时段起"), values["lunch_from"]),
        "lunch_to": _clock("lunch_to", _("午休时段止"), values["lunch_to"]),
        "lunch_minutes": clean_whole(
            "lunch_minutes", _("每人午休（分钟）"), values["lunch_minutes"], low=15, high=120
        ),
        "slot_minutes": clean_whole(
            "slot_minutes", _("时段长度（分钟）"), values["slot_minutes"], low=15, high=60
        ),
        "booking_days": clean_whole("booking_days", _("可预约天数"), values["booking_days"], low=1, high=60),
        "notice": clean_text("notice", _("服务须知"), values["notice"], limit=NOTICE_MAX),
        "is_published": _flag(values["is_published"]),
    }
    slot = clean["slot_minutes"]
    if slot not in SLOT_VALUES:
        raise InvalidField(
            "slot_minutes",
            _("时段长度（分钟）：只能是 %(values)s") % {"values": "、".join(str(v) for v in SLOT_VALUES)},
        )
    opens, closes = hours.minutes(clean["opens_at"]), hours.minutes(clean["closes_at"])
    lunch_from, lunch_to = hours.minutes(clean["lunch_from"]), hours.minutes(clean["lunch_to"])
    if closes <= opens:
        raise InvalidField(
            "closes_at", _("结束办公：应晚于开始办公（%(t)s）") % {"t": hhmm(clean["opens_at"])}
        )
    if (closes - opens) % slot:
        raise InvalidField(
            "closes_at",
            _("结束办公：办公时长应为时段长度（%(n)d 分钟）的整数倍") % {"n": slot},
        )
    if lunch_to <= lunch_from:
        raise InvalidField(
            "lunch_to", _("午休时段止：应晚于午休时段起（%(t)s）") % {"t": hhmm(clean["lunch_from"])}
        )
    if lunch_from < opens:
        raise InvalidField(
            "lunch_from", _("午休时段起：不能早于开始办公（%(t)s）") % {"t": hhmm(clean["opens_at"])}
        )
    if lunch_to > closes:
        raise InvalidField(
            "lunch_to", _("午休时段止：不能晚于结束办公（%(t)s）") % {"t": hhmm(clean["closes_at"])}
        )
    for field, label, moment in (
        ("lunch_from", _("午休时段起"), lunch_from),
        ("lunch_to", _("午休时段止"), lunch_to),
    ):
        if (moment - opens) % slot:
            raise InvalidField(
                field,
                _("%(label)s：应落在时段分界上（自 %(t)s 起每 %(n)d 分钟）")
                % {"label": label, "t": hhmm(clean["opens_at"]), "n": slot},
            )
    window = lunch_to - lunch_from
    if clean["lunch_minutes"] > window:
        raise InvalidField(
            "lunch_minutes",
            _("每人午休（分钟）：不能超过午休时段的长度（%(n)d 分钟）") % {"n": window},
        )
    if clean["lunch_minutes"] % slot:
        raise InvalidField(
            "lunch_minutes",
            _("每人午休（分钟）：应为时段长度（%(n)d 分钟）的整数倍") % {"n": slot},
        )
    return clean


def _clean_window(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": clean_text("number", _("窗口号"), values["number"], limit=NUMBER_MAX, required=True),
        "name": clean_text("name", _("窗口名称"), values["name"], limit=WINDOW_NAME_MAX, required=True),
        "must_stay_open": _flag(values["must_stay_open"]),
        "staff_needed": clean_whole(
            "staff_needed", _("同时在岗人数"), values["staff_needed"], low=1, high=10
        ),
        "seats": clean_whole("seats", _("每时段可预约数"), values["seats"], low=1, high=10),
        "is_active": _flag(values["is_active"]),
    }


def _clean_service(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": clean_text("name", _("服务事项"), values["name"], limit=SERVICE_NAME_MAX, required=True),
        "materials": clean_text("materials", _("所需材料"), values["materials"], limit=MATERIALS_MAX),
        "bookable": _flag(values["bookable"]),
        "position": clean_whole("position", _("排序"), values["position"], low=0, high=POSITION_MAX),
    }


def _unknown(changes: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})


def _plain(clean: Mapping[str, Any]) -> dict[str, Any]:
    return {key: hhmm(value) if isinstance(value, time) else value for key, value in clean.items()}


def _name_taken(zone_id: int, name: str, exclude: int | None = None) -> bool:
    taken = ServiceUnit.objects.filter(zone_id=zone_id, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    return taken.exists()


def _name_refused(name: str) -> InvalidField:
    return InvalidField("name", _("名称：本园区已有名为“%(name)s”的服务单位") % {"name": name})


def _number_taken(unit: ServiceUnit, number: str, exclude: int | None = None) -> bool:
    taken = ServiceWindow.objects.filter(unit=unit, number=number)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    return taken.exists()


def _number_refused(number: str) -> InvalidField:
    return InvalidField("number", _("窗口号：本单位已有 %(number)s 号窗口") % {"number": number})


# --- units ------------------------------------------------------------------------------------------


def create_unit(
    *, by: User, department: OrgUnit | None = None, name: str, address: str, **fields: Any
) -> ServiceUnit:
    """A department head adds a unit run by its department (the unit's zone is the department's)."""
    if not keeps_some_unit(by):
        raise NotAllowed(_("只有部门负责人可以新建服务单位"))
    assert by.unit is not None  # keeps_some_unit: a department
    if department is not None and department.pk != by.unit_id:
        raise NotAllowed(_("主管部门：只能为本部门新建服务单位"))
    zone = by.unit.parent
    if zone is None or zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("主管部门：本部门不属于任何园区，不能新建服务单位"))
    _unknown(fields, UNIT_FIELDS)
    clean = _clean_unit({**UNIT_DEFAULTS, **fields, "name": name, "address": address})
    if _name_taken(zone.pk, clean["name"]):
        raise _name_refused(clean["name"])
    try:
        with transaction.atomic():
            unit = ServiceUnit.objects.create(zone=zone, department=by.unit, **clean)
            audit.record(
                by,
                "windows.unit_create",
                unit,
                summary=f"新建服务单位：{unit.name}",
                detail={"department": by.unit_id, **_plain(clean)},
            )
    except IntegrityError:  # the same name saved meanwhile
        raise _name_refused(clean["name"]) from None
    return unit


def update_unit(unit: ServiceUnit, *, by: User, version: int, **changes: Any) -> ServiceUnit:
    """Edit what was given; `version` is the one the editor read, so a stale edit loses (Conflict)."""
    check_keeper(by, unit)
    _unknown(changes, UNIT_FIELDS)
    current = {name: getattr(unit, name) for name in UNIT_FIELDS}
    clean = _clean_unit({**current, **changes})
    if clean["name"] != unit.name and _name_taken(unit.zone_id, clean["name"], exclude=unit.pk):
        raise _name_refused(clean["name"])
    try:
        with transaction.atomic():
            moved = ServiceUnit.objects.filter(pk=unit.pk, version=version).update(
                **clean, version=version + 1
            )
            if moved != 1:
                raise Conflict(_("服务单位“%(name)s”刚被他人修改，请刷新后重试") % {"name": unit.name})
            changed = {key: value for key, value in clean.items() if current[key] != value}
            audit.record(
                by,
                "windows.unit_update",
                unit,
                summary=f"修改服务单位：{clean['name']}",
                detail=_plain(changed),
            )
    except IntegrityError:
        raise _name_refused(clean["name"]) from None
    for key, value in clean.items():
        setattr(unit, key, value)
    unit.version = version + 1
    return unit


# --- windows ----------------------------------------------------------------------------------------

_WINDOW_DEFAULTS: dict[str, Any] = {"must_stay_open": True, "staff_needed": 1, "seats": 1, "is_active": True}


def add_window(unit: ServiceUnit, *, by: User, number: str, name: str, **fields: Any) -> ServiceWindow:
    """The keeper adds a window to the unit."""
    check_keeper(by, unit)
    _unknown(fields, WINDOW_FIELDS)
    clean = _clean_window({**_WINDOW_DEFAULTS, **fields, "number": number, "name": name})
    if _number_taken(unit, clean["number"]):
        raise _number_refused(clean["number"])
    try:
        with transaction.atomic():
            window = ServiceWindow.objects.create(unit=unit, **clean)
            audit.record(
                by,
                "windows.window_add",
                window,
                summary=f"服务单位“{unit.name}”新增窗口：{window}",
                detail={"unit": unit.pk, **clean},
            )
    except IntegrityError:
        raise _number_refused(clean["number"]) from None
    return window


def update_window(window: ServiceWindow, *, by: User, version: int, **changes: Any) -> ServiceWindow:
    """Edit what was given of the window (closing it: is_active False); a stale `version` loses."""
    unit = window.unit
    check_keeper(by, unit)
    _unknown(changes, WINDOW_FIELDS)
    current = {name: getattr(window, name) for name in WINDOW_FIELDS}
    clean = _clean_window({**current, **changes})
    if clean["number"] != window.number and _number_taken(unit, clean["number"], exclude=window.pk):
        raise _number_refused(clean["number"])
    try:
        with transaction.atomic():
            moved = ServiceWindow.objects.filter(pk=window.pk, version=version).update(
                **clean, version=version + 1
            )
            if moved != 1:
                raise Conflict(_("窗口“%(window)s”刚被他人修改，请刷新后重试") % {"window": window})
            changed = {key: value for key, value in clean.items() if current[key] != value}
            audit.record(
                by,
                "windows.window_update",
                window,
                summary=f"修改窗口：{clean['number']} {clean['name']}（{unit.name}）",
                detail={"unit": unit.pk, **changed},
            )
    except IntegrityError:
        raise _number_refused(clean["number"]) from None
    for key, value in clean.items():
        setattr(window, key, value)
    window.version = version + 1
    return window


# --- services of a window ---------------------------------------------------------------------------

_SERVICE_DEFAULTS: dict[str, Any] = {"materials": "", "bookable": True, "position": 100}


def add_service(window: ServiceWindow, *, by: User, name: str, **fields: Any) -> WindowService:
    """The keeper adds a service (服务事项) to a window, with the materials to bring."""
    unit = window.unit
    check_keeper(by, unit)
    _unknown(fields, SERVICE_FIELDS)
    clean = _clean_service({**_SERVICE_DEFAULTS, **fields, "name": name})
    with transaction.atomic():
        service = WindowService.objects.create(window=window, **clean)
        audit.record(
            by,
            "windows.service_add",
            service,
            summary=f"窗口“{window}”新增服务事项：{service.name}（{unit.name}）",
            detail={"unit": unit.pk, "window": window.pk, **clean},
        )
    return service


def update_service(service: WindowService, *, by: User, version: int, **changes: Any) -> WindowService:
    """Edit what was given of the service; a stale `version` loses (Conflict)."""
    window = service.window
    check_keeper(by, window.unit)
    _unknown(changes, SERVICE_FIELDS)
    current = {name: getattr(service, name) for name in SERVICE_FIELDS}
    clean = _clean_service({**current, **changes})
    with transaction.atomic():
        moved = WindowService.objects.filter(pk=service.pk, version=version).update(
            **clean, version=version + 1
        )
        if moved != 1:
            raise Conflict(_("服务事项“%(name)s”刚被他人修改，请刷新后重试") % {"name": service.name})
        changed = {key: value for key, value in clean.items() if current[key] != value}
        audit.record(
            by,
            "windows.service_update",
            service,
            summary=f"修改服务事项：{clean['name']}（窗口“{window}”）",
            detail={"window": window.pk, **changed},
        )
    for key, value in clean.items():
        setattr(service, key, value)
    service.version = version + 1
    return service


def _removal_refused(service: WindowService) -> ServiceError:
    holding = holding_bookings(service)
    if holding:
        return ServiceError(
            _("服务事项“%(name)s”还有 %(n)d 个待办理的预约，不能删除；请先处理这些预约，或将其设为不可预约")
            % {"name": service.name, "n": holding}
        )
    return ServiceError(
        _("服务事项“%(name)s”已有预约记录，不能删除；如不再提供，请将其设为不可预约") % {"name": service.name}
    )


def remove_service(service: WindowService, *, by: User, version: int | None = None) -> None:
    """Remove a service no booking names; one with bookings stays (their record): make it not bookable."""
    window = service.window
    check_keeper(by, window.unit)
    if Appointment.objects.filter(service=service).exists():
        raise _removal_refused(service)
    shown = service.version if version is None else version
    try:
        with transaction.atomic():
            # The version guard makes a concurrent edit and this removal exclusive; a booking made
            # meanwhile is caught by the foreign key (PROTECT).
            if WindowService.objects.filter(pk=service.pk, version=shown).update(version=shown + 1) != 1:
                raise Conflict(_("服务事项“%(name)s”刚被他人修改，请刷新后重试") % {"name": service.name})
            audit.record(
                by,
                "windows.service_remove",
                service,
                summary=f"删除服务事项：{service.name}（窗口“{window}”）",
                detail={"window": window.pk, "name": service.name},
            )
            WindowService.objects.filter(pk=service.pk).delete()
    except (IntegrityError, ProtectedError):
        raise _removal_refused(service) from None
