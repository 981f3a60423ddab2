"""Appointments (预约服务 / 延时服务): the free slots of a window, booking a slot, asking for service outside
the hours, and the one transition table that moves an appointment on.

预约服务 books a seat of a slot at once (booked). 延时服务 is asked for a time outside the hours (requested)
and waits for the unit's keeper to arrange it with a member of its staff (booked) or decline it.
Either may be cancelled while it holds its time; the staff receiving it mark it served or missed once
its time has come.

Double booking is prevented by the database, not by a read before the write: each seat of a slot is a
partial unique constraint (appointment_seat_once), so a booking tries seat 1, 2, ... each in its own
savepoint and takes the first the constraint lets it have. That holds on SQLite (whose IMMEDIATE
transactions queue the writers) and on PostgreSQL (where the second INSERT of a seat waits for the first
transaction and then fails), without select_for_update. Every transition is a conditional UPDATE on
(id, state, version), written with its audit record in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit, notifications
from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.masking import mask_phone, sees_personal_data
from guanjia.core.models import User
from guanjia.core.validation import clean_text
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.windows import hours
from guanjia.windows.access import (
    books_on_behalf,
    is_staff_of,
    may_book,
    may_keep,
    may_serve,
    today,
)
from guanjia.windows.models import (
    HOLDING_STATES,
    Appointment,
    AppointmentKind,
    AppointmentState,
    ServiceUnit,
    ServiceWindow,
    Shift,
    Staffing,
    WindowService,
)

REQUESTED, BOOKED = AppointmentState.REQUESTED, AppointmentState.BOOKED
SERVED, MISSED = AppointmentState.SERVED, AppointmentState.MISSED
CANCELLED, DECLINED = AppointmentState.CANCELLED, AppointmentState.DECLINED

# The only moves an appointment makes. 预约服务 starts in booked, 延时服务 in requested.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    REQUESTED: (BOOKED, DECLINED, CANCELLED),
    BOOKED: (SERVED, MISSED, CANCELLED),
    SERVED: (),
    MISSED: (),
    CANCELLED: (),
    DECLINED: (),
}

NAME_MAX = 30
NOTE_MAX = 500
# A mainland mobile (13812345678) or a landline with its area code (0512-12345678, 051212345678), with an
# optional extension (-123).
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[1-9][0-9]{1,2}-?[0-9]{7,8}(-[0-9]{1,6})?$")


# --- reads --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A slot of a window's day: its start and end, and how many of its seats are still free."""

    start: time
    end: time
    free: int
    noon: bool = False  # inside the unit's lunch window (the unit stays open at noon: 中午不下班)

    @property
    def value(self) -> str:
        return self.start.strftime("%H:%M")


def now_local() -> datetime:
    """Beijing's wall clock, naive (slots are wall-clock times of a day)."""
    return timezone.localtime().replace(tzinfo=None)


def last_bookable_day(unit: ServiceUnit) -> date:
    """The last day a booking may be made for: `booking_days` days from today."""
    return today() + timedelta(days=unit.booking_days)


def bookable_days(unit: ServiceUnit) -> list[date]:
    """The open days from today to the last bookable day."""
    return hours.open_days(today(), unit.booking_days + 1)


def in_lunch_window(unit: ServiceUnit, start: time) -> bool:
    begin = hours.minutes(start)
    return begin < hours.minutes(unit.lunch_to) and begin + unit.slot_minutes > hours.minutes(unit.lunch_from)


def _bookable_window(window: ServiceWindow) -> bool:
    return window.is_active and window.unit.is_published


def available_slots(window: ServiceWindow, day: date) -> list[Slot]:
    """The slots of `window` on `day` that may still be booked (free = seats less the bookings holding
    them): none on a closed day, in the past, beyond booking_days, at an inactive window or an unpublished
    unit."""
    unit = window.unit
    if not _bookable_window(window) or not hours.is_open_on(day):
        return []
    if day < today() or day > last_bookable_day(unit):
        return []
    now = now_local()
    held = dict(
        Appointment.objects.filter(window=window, date=day, state__in=HOLDING_STATES, seat__isnull=False)
        .values("starts_at")
        .annotate(n=Count("pk"))
        .values_list("starts_at", "n")
    )
    slots: list[Slot] = []
    for start in hours.service_slots(unit):
        if datetime.combine(day, start) <= now:
            continue
        free = max(window.seats - held.get(start, 0), 0)
        slots.append(Slot(start, hours.slot_end(unit, start), free, in_lunch_window(unit, start)))
    return slots


def bookable_windows(user: User) -> QuerySet[ServiceWindow]:
    """The active windows of the published units whose hours `user` reads on the portal."""
    return ServiceWindow.objects.filter(unit__in=ServiceUnit.objects.published_to(user), is_active=True)


def sees_phone(user: User, appointment: Appointment) -> bool:
    """Who calls the enterprise: those who see personal data, and the unit's keeper and staff (not a
    leader reading the figures)."""
    return sees_personal_data(user) or may_keep(user, appointment.unit) or is_staff_of(user, appointment.unit)


def phone_shown(user: User, appointment: Appointment) -> str:
    return (
        appointment.contact_phone if sees_phone(user, appointment) else mask_phone(appointment.contact_phone)
    )


def allowed_moves(appointment: Appointment) -> tuple[str, ...]:
    return TRANSITIONS.get(appointment.state, ())


def has_started(appointment: Appointment) -> bool:
    return datetime.combine(appointment.date, appointment.starts_at) <= now_local()


def may_cancel(user: User, appointment: Appointment) -> bool:
    """The enterprise's users and steward before the start, or the unit's keeper."""
    if CANCELLED not in allowed_moves(appointment):
        return False
    if may_keep(user, appointment.unit):
        return True
    return may_book(user, appointment.enterprise) and not has_started(appointment)


def actions_for(user: User, appointment: Appointment) -> frozenset[str]:
    """The steps `user` may take on `appointment` now: cancel, arrange, decline, serve, miss."""
    moves = allowed_moves(appointment)
    actions: set[str] = set()
    if may_cancel(user, appointment):
        actions.add("cancel")
    if appointment.state == REQUESTED and may_keep(user, appointment.unit):
        actions |= {"arrange", "decline"}
    if SERVED in moves and has_started(appointment) and may_serve(user, appointment):
        actions |= {"serve", "miss"}
    return frozenset(actions)


def staff_choices(unit: ServiceUnit) -> QuerySet[User]:
    """Who a 延时服务 may be arranged with: the unit's active staff."""
    return User.objects.filter(
        pk__in=Staffing.objects.filter(unit=unit, is_active=True).values("user_id"), is_active=True
    ).order_by("username")


def bookings_of_staff(user: User, *, since: date | None = None) -> QuerySet[Appointment]:
    """What a member of staff receives from `since` (today) on: the bookings at the windows and days it is
    rostered at, and the 延时服务 arranged with it."""
    since = since or today()
    rostered = Shift.objects.filter(user=user, window_id=OuterRef("window_id"), date=OuterRef("date"))
    return (
        Appointment.objects.filter(date__gte=since)
        .filter(
            Q(Exists(rostered), kind=AppointmentKind.BOOKED, state__in=[BOOKED, SERVED, MISSED])
            | Q(kind=AppointmentKind.EXTENDED, staff=user, state__in=[BOOKED, SERVED, MISSED])
        )
        .select_related("unit", "window", "service", "enterprise", "staff")
        .order_by("date", "starts_at", "window__number", "pk")
    )


def filter_appointments(
    appointments: QuerySet[Appointment],
    *,
    unit: ServiceUnit | int | None = None,
    window: ServiceWindow | int | None = None,
    day: date | None = None,
    state: str = "",
    kind: str = "",
) -> QuerySet[Appointment]:
    """The filters every list of appointments offers (pages and API)."""
    if unit is not None:
        appointments = appointments.filter(unit=unit)
    if window is not None:
        appointments = appointments.filter(window=window)
    if day is not None:
        appointments = appointments.filter(date=day)
    if state:
        appointments = appointments.filter(state=state)
    if kind:
        appointments = appointments.filter(kind=kind)
    return appointments


# --- checks -------------------------------------------------------------------------------------------


def clean_phone(value: Any) -> str:
    """A mainland mobile or a landline with its area code, spaces removed."""
    phone = re.sub(r"\s+", "", str(value or ""))
    if not phone:
        raise InvalidField("contact_phone", _("联系电话：请填写"))
    if not (MOBILE.match(phone) or LANDLINE.match(phone)):
        raise InvalidField(
            "contact_phone",
            _("联系电话：请填写 11 位手机号或带区号的固定电话（如 0512-12345678）"),
        )
    return phone


def _clean_contact(
    contact_name: Any, contact_phone: Any, note: Any, *, note_required: bool
) -> dict[str, str]:
    return {
        "contact_name": clean_text("contact_name", _("联系人"), contact_name, limit=NAME_MAX, required=True),
        "contact_phone": clean_phone(contact_phone),
        "note": clean_text("note", _("事项说明"), note, limit=NOTE_MAX, required=note_required),
    }


def _check_window(window: ServiceWindow) -> None:
    if not _bookable_window(window):
        raise ServiceError(_("窗口“%(window)s”暂不接受预约") % {"window": window})


def _check_day(unit: ServiceUnit, day: date) -> None:
    if day < today():
        raise InvalidField("date", _("日期：该日期已过，请选择其他日期"))
    last = last_bookable_day(unit)
    if day > last:
        raise InvalidField(
            "date",
            _("日期：只能预约 %(n)d 天内的时段（%(last)s 前）") % {"n": unit.booking_days, "last": last},
        )


def _check_not_past(day: date, start: time) -> None:
    if datetime.combine(day, start) <= now_local():
        raise InvalidField("start", _("时段：该时段已过，请选择其他时段"))


def _check_service(window: ServiceWindow, service: WindowService | None) -> None:
    if service is None:
        return
    if service.window_id != window.pk:
        raise InvalidField("service", _("服务事项：“%(service)s”不是该窗口的服务事项") % {"service": service})
    if not service.bookable:
        raise InvalidField("service", _("服务事项：“%(service)s”不接受预约") % {"service": service})


def _check_books(by: User, enterprise: Enterprise) -> None:
    if not may_book(by, enterprise):
        raise NotAllowed(_("只能为本企业（或服务管家所服务的企业）预约"))


def _violates(exc: IntegrityError, column: str) -> bool:
    # SQLite names the columns of a failed unique index, PostgreSQL the constraint and its key: both
    # mention the column that tells the enterprise's constraint from the seat's.
    return column in str(exc)


def _slot_label(day: date, start: time, end: time) -> str:
    return f"{day:%Y-%m-%d} {start:%H:%M}–{end:%H:%M}"


# --- booking ------------------------------------------------------------------------------------------


def book(
    window: ServiceWindow,
    *,
    enterprise: Enterprise,
    day: date,
    start: time,
    by: User,
    service: WindowService | None = None,
    contact_name: str,
    contact_phone: str,
    note: str = "",
) -> Appointment:
    """Book a seat of a slot at `window` for `enterprise` (预约服务): its user, or its steward on its behalf."""
    _check_books(by, enterprise)
    unit = window.unit
    _check_window(window)
    _check_service(window, service)
    contact = _clean_contact(contact_name, contact_phone, note, note_required=False)
    if not hours.is_open_on(day):
        raise InvalidField("date", _("日期：该日为法定节假日，不办公"))
    if start not in hours.service_slots(unit):
        raise InvalidField("start", _("时段：该时段不在办公时间内，可申请延时服务"))
    _check_day(unit, day)
    _check_not_past(day, start)
    end = hours.slot_end(unit, start)
    on_behalf = books_on_behalf(by, enterprise)
    taken = _("贵企业已预约该时段")
    full = _("该时段已约满，请选择其他时段")
    holding = Appointment.objects.filter(window=window, date=day, starts_at=start, state__in=HOLDING_STATES)
    with transaction.atomic():
        if holding.filter(enterprise=enterprise).exists():
            raise Conflict(taken)
        appointment: Appointment | None = None
        for seat in range(1, window.seats + 1):
            try:
                # Each seat in its own savepoint: a seat taken meanwhile fails here alone, and the next is
                # tried (the unique constraint is the guard, whatever the number of requests at once).
                with transaction.atomic():
                    appointment = Appointment.objects.create(
                        unit=unit,
                        window=window,
                        service=service,
                        enterprise=enterprise,
                        kind=AppointmentKind.BOOKED,
                        state=BOOKED,
                        date=day,
                        starts_at=start,
                        ends_at=end,
                        seat=seat,
                        booked_by=by,
                        on_behalf=on_behalf,
                        **contact,
                    )
                break
            except IntegrityError as exc:
                if _violates(exc, "enterprise_id"):
                    raise Conflict(taken) from None
        if appointment is None:
            raise Conflict(full)
        audit.record(
            by,
            "windows.appointment_book",
            appointment,
            summary=f"预约{unit.name} {window}：{_slot_label(day, start, end)}（{enterprise.name}）"
            + ("（服务管家代约）" if on_behalf else ""),
            detail={
                "enterprise": enterprise.pk,
                "window": window.pk,
                "service": service.pk if service else None,
                "date": day.isoformat(),
                "start": start.strftime("%H:%M"),
                "seat": appointment.seat,
                "on_behalf": on_behalf,
            },
        )
    return appointment


def _overlaps_hours(unit: ServiceUnit, day: date, start: time, end: time) -> bool:
    if not hours.is_open_on(day):
        return False
    first, last = hours.minutes(start), hours.minutes(end)
    for slot in hours.service_slots(unit):
        begin = hours.minutes(slot)
        if begin < last and begin + unit.slot_minutes > first:
            return True
    return False


def request_extended(
    window: ServiceWindow,
    *,
    enterprise: Enterprise,
    day: date,
    start: time,
    end: time,
    by: User,
    contact_name: str,
    contact_phone: str,
    note: str,
) -> Appointment:
    """Ask for service outside the hours (延时服务): a closed day, or a time no service slot covers. The
    unit's keeper arranges it with a member of staff, or declines it."""
    _check_books(by, enterprise)
    unit = window.unit
    _check_window(window)
    contact = _clean_contact(contact_name, contact_phone, note, note_required=True)
    if end <= start:
        raise InvalidField("end", _("结束时间：应晚于开始时间"))
    _check_day(unit, day)
    _check_not_past(day, start)
    if _overlaps_hours(unit, day, start, end):
        raise InvalidField("start", _("时段：该时段在办公时间内，请直接预约"))
    on_behalf = books_on_behalf(by, enterprise)
    taken = _("贵企业已申请该时段的延时服务")
    try:
        with transaction.atomic():
            if Appointment.objects.filter(
                enterprise=enterprise, window=window, date=day, starts_at=start, state__in=HOLDING_STATES
            ).exists():
                raise Conflict(taken)
            appointment = Appointment.objects.create(
                unit=unit,
                window=window,
                enterprise=enterprise,
                kind=AppointmentKind.EXTENDED,
                state=REQUESTED,
                date=day,
                starts_at=start,
                ends_at=end,
                seat=None,
                booked_by=by,
                on_behalf=on_behalf,
                **contact,
            )
            audit.record(
                by,
                "windows.appointment_request_extended",
                appointment,
                summary=f"申请延时服务：{unit.name} {window} {_slot_label(day, start, end)}（{enterprise.name}）"
                + ("（服务管家代为申请）" if on_behalf else ""),
                detail={
                    "enterprise": enterprise.pk,
                    "window": window.pk,
                    "date": day.isoformat(),
                    "start": start.strftime("%H:%M"),
                    "end": end.strftime("%H:%M"),
                    "on_behalf": on_behalf,
                },
            )
    except IntegrityError:
        raise Conflict(taken) from None
    return appointment


# --- the transitions ----------------------------------------------------------------------------------


def _label(state: str) -> str:
    return str(AppointmentState(state).label) if state in AppointmentState.values else state


def _check_move(appointment: Appointment, to: str) -> None:
    if to not in allowed_moves(appointment):
        raise ServiceError(
            _("该预约当前为“%(current)s”，不能改为“%(wanted)s”")
            % {"current": _label(appointment.state), "wanted": _label(to)}
        )


def _check_version(appointment: Appointment, version: int | None) -> None:
    if version is not None and version != appointment.version:
        raise Conflict(_("该预约刚被他人处理，请刷新后重试"))


def _move(appointment: Appointment, *, to: str, **fields: Any) -> None:
    """Move `appointment` to `to` if nobody moved it since it was read. Inside a transaction."""
    moved = Appointment.objects.filter(
        pk=appointment.pk, state=appointment.state, version=appointment.version
    ).update(state=to, version=F("version") + 1, **fields)
    if moved != 1:
        raise Conflict(_("该预约刚被他人处理，请刷新后重试"))
    appointment.state, appointment.version = to, appointment.version + 1
    for name, value in fields.items():
        setattr(appointment, name, value)


def _describe(appointment: Appointment) -> str:
    return (
        f"{appointment.unit.name} {appointment.window} "
        f"{_slot_label(appointment.date, appointment.starts_at, appointment.ends_at)}"
    )


def _tell_enterprise(appointment: Appointment, title: str) -> None:
    users = [
        membership.user
        for membership in EnterpriseMembership.objects.filter(
            enterprise_id=appointment.enterprise_id, is_active=True, user__is_active=True
        ).select_related("user")
    ]
    if users:
        notifications.notify(users, title=title, link=reverse("windows:appointment", args=[appointment.pk]))


def _record(by: User, action: str, appointment: Appointment, summary: str, **detail: Any) -> None:
    audit.record(by, action, appointment, summary=summary, detail=detail)


def arrange(appointment: Appointment, *, staff: User, by: User, version: int | None = None) -> Appointment:
    """The unit's keeper arranges a 延时服务 request with a member of its staff (requested → booked)."""
    unit = appointment.unit
    if not may_keep(by, unit):
        raise NotAllowed(_("只有该服务单位主管部门的负责人可以安排延时服务"))
    if appointment.kind != AppointmentKind.EXTENDED:
        raise ServiceError(_("只有延时服务需要安排接待人员"))
    _check_version(appointment, version)
    _check_move(appointment, BOOKED)
    if not staff_choices(unit).filter(pk=staff.pk).exists():
        raise InvalidField("staff", _("接待人员：“%(staff)s”不是该服务单位在岗的工作人员") % {"staff": staff})
    busy = _("接待人员：%(staff)s 在该时段已有延时服务安排，请选择其他人员") % {"staff": staff}
    overlapping = Appointment.objects.filter(
        kind=AppointmentKind.EXTENDED,
        state=BOOKED,
        staff=staff,
        date=appointment.date,
        starts_at__lt=appointment.ends_at,
        ends_at__gt=appointment.starts_at,
    ).exclude(pk=appointment.pk)
    try:
        with transaction.atomic():
            if overlapping.exists():
                raise InvalidField("staff", busy)
            # The same start twice for one person is refused by appointment_extended_staff_once, however
            # many keepers arrange at once (the IntegrityError below).
            _move(appointment, to=BOOKED, staff=staff)
            _record(
                by,
                "windows.appointment_arrange",
                appointment,
                f"安排延时服务：{_describe(appointment)}，接待人员 {staff}",
                staff=staff.pk,
                **{"from": REQUESTED, "to": BOOKED},
            )
            _tell_enterprise(
                appointment,
                _("延时服务已安排：%(slot)s，接待人员 %(staff)s")
                % {"slot": _describe(appointment), "staff": staff.full_name or staff.username},
            )
    except IntegrityError:
        raise Conflict(busy) from None
    return appointment


def decline(appointment: Appointment, *, reason: str, by: User, version: int | None = None) -> Appointment:
    """The unit's keeper declines a 延时服务 request, with the reason (requested → declined)."""
    if not may_keep(by, appointment.unit):
        raise NotAllowed(_("只有该服务单位主管部门的负责人可以处理延时服务申请"))
    _check_version(appointment, version)
    _check_move(appointment, DECLINED)
    text = clean_text("reason", _("未安排原因"), reason, limit=NOTE_MAX, required=True)
    with transaction.atomic():
        _move(appointment, to=DECLINED, reason=text)
        _record(
            by,
            "windows.appointment_decline",
            appointment,
            f"延时服务未安排：{_describe(appointment)}：{text}",
            reason=text,
            **{"from": REQUESTED, "to": DECLINED},
        )
        _tell_enterprise(appointment, _("延时服务未能安排：%(slot)s") % {"slot": _describe(appointment)})
    return appointment


def cancel(
    appointment: Appointment, *, by: User, version: int | None = None, reason: str = ""
) -> Appointment:
    """Cancel a booking or a request: the enterprise's users or steward before its start, or the unit's
    keeper (the enterprise is told). The seat is free again."""
    keeper = may_keep(by, appointment.unit)
    if not keeper and not may_book(by, appointment.enterprise):
        raise NotAllowed(_("只有该企业的用户、其服务管家或该服务单位的负责人可以取消预约"))
    _check_version(appointment, version)
    _check_move(appointment, CANCELLED)
    if not keeper and has_started(appointment):
        raise ServiceError(_("预约时间已到，不能再取消"))
    text = clean_text("reason", _("取消原因"), reason, limit=NOTE_MAX)
    from_state = appointment.state
    by_enterprise = not keeper or may_book(by, appointment.enterprise)
    with transaction.atomic():
        fields: dict[str, Any] = {"reason": text} if text else {}
        _move(appointment, to=CANCELLED, **fields)
        _record(
            by,
            "windows.appointment_cancel",
            appointment,
            f"取消预约：{_describe(appointment)}（{appointment.enterprise.name}）"
            + ("" if by_enterprise else "（服务单位取消）")
            + (f"：{text}" if text else ""),
            reason=text,
            by_unit=not by_enterprise,
            **{"from": from_state, "to": CANCELLED},
        )
        if not by_enterprise:
            _tell_enterprise(
                appointment, _("您的预约已被服务单位取消：%(slot)s") % {"slot": _describe(appointment)}
            )
    return appointment


def _finish(appointment: Appointment, *, to: str, by: User, version: int | None, verb: str) -> Appointment:
    if not may_serve(by, appointment):
        raise NotAllowed(_("只有接待该预约的工作人员或服务单位负责人可以登记办理结果"))
    _check_version(appointment, version)
    _check_move(appointment, to)
    if not has_started(appointment):
        raise ServiceError(_("预约时间未到，不能登记办理结果"))
    with transaction.atomic():
        _move(appointment, to=to)
        _record(
            by,
            f"windows.appointment_{to}",
            appointment,
            f"{verb}：{_describe(appointment)}（{appointment.enterprise.name}）",
            **{"from": BOOKED, "to": to},
        )
    return appointment


def serve(appointment: Appointment, *, by: User, version: int | None = None) -> Appointment:
    """The staff receiving it (or the unit's keeper) mark a booking served, once its time has come."""
    return _finish(appointment, to=SERVED, by=by, version=version, verb="预约已办理")


def miss(appointment: Appointment, *, by: User, version: int | None = None) -> Appointment:
    """The enterprise did not come: marked once its time has come."""
    return _finish(appointment, to=MISSED, by=by, version=version, verb="预约未到")
