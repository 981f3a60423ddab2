"""API fuzz positives of the windows app: appointments (the demo's enterprise user books at a unit of the
department its department head keeps, where the demo's handler is on the staff; the zone's leader reads).

The unit is the positives' own (written straight to the tables, like a unit page would leave it), so that
they hold whatever the windows demo holds; the bookings go through the services. A past booking due to
be marked served or missed is written as it stood then (the service refuses a slot that has begun).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from guanjia.core.models import User
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.tests_fuzz.world import Positive
from guanjia.windows import appointments, hours
from guanjia.windows.access import today
from guanjia.windows.models import (
    Appointment,
    AppointmentKind,
    AppointmentState,
    Roster,
    ServiceUnit,
    ServiceWindow,
    Shift,
    Staffing,
    WindowService,
)

API = "/api/appointments/"
SLOTS = "/api/appointment-slots/"


def _open_day(step: int) -> date:
    """The first open day after today (step 1) or before it (step -1)."""
    day = today() + timedelta(days=step)
    while not hours.is_open_on(day):
        day += timedelta(days=step)
    return day


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    head, handler, booker = users["department_head"], users["handler"], users["enterprise_user"]
    department = head.unit
    assert department is not None and department.parent is not None, head
    enterprise = EnterpriseMembership.objects.filter(user=booker, is_active=True).first()
    assert enterprise is not None, booker
    unit = ServiceUnit.objects.create(
        zone=department.parent,
        department=department,
        name="模糊测试预约服务单位",
        address="模糊测试路 9 号",
        booking_days=30,
    )
    window = ServiceWindow.objects.create(unit=unit, number="1", name="企业开办", seats=10)
    service = WindowService.objects.create(window=window, name="企业设立登记")
    staffing = Staffing.objects.create(unit=unit, user=handler)
    staffing.windows.set([window])
    ahead, past = _open_day(1), _open_day(-1)
    contact = {"contact_name": "王经理", "contact_phone": "13812345678"}

    def booked(start: time) -> Appointment:
        return appointments.book(
            window,
            enterprise=enterprise.enterprise,
            day=ahead,
            start=start,
            by=booker,
            service=service,
            **contact,
        )

    def requested(start: time) -> Appointment:
        return appointments.request_extended(
            window,
            enterprise=enterprise.enterprise,
            day=ahead,
            start=start,
            end=(start.replace(minute=30)),
            by=booker,
            note="下班后办理",
            **contact,
        )

    week = Roster.objects.create(
        unit=unit, week_start=past - timedelta(days=past.weekday()), status=Roster.Status.PUBLISHED
    )
    Shift.objects.create(roster=week, user=handler, window=window, date=past)

    def due(start: time) -> Appointment:
        return Appointment.objects.create(
            unit=unit,
            window=window,
            service=service,
            enterprise=enterprise.enterprise,
            kind=AppointmentKind.BOOKED,
            state=AppointmentState.BOOKED,
            date=past,
            starts_at=start,
            ends_at=hours.slot_end(unit, start),
            seat=1,
            booked_by=booker,
            **contact,
        )

    read, cancelled = booked(time(9, 0)), booked(time(9, 30))
    arranged, declined = requested(time(18, 0)), requested(time(19, 0))
    served, missed = due(time(9, 0)), due(time(9, 30))
    day = ahead.isoformat()
    return [
        Positive(f"GET {API}", "leader", query={"kind": AppointmentKind.BOOKED, "unit": unit.pk}),
        Positive(
            f"POST {API}",
            "enterprise_user",
            body={
                "window": window.pk,
                "enterprise": enterprise.enterprise_id,
                "service": service.pk,
                "date": day,
                "start": "12:00",
                **contact,
            },
        ),
        Positive(f"GET {API}{{id}}/", "leader", {"id": read.pk}),
        Positive(
            f"POST {API}extended/",
            "enterprise_user",
            body={
                "window": window.pk,
                "enterprise": enterprise.enterprise_id,
                "date": day,
                "start": "20:00",
                "end": "21:00",
                "note": "晚间领取证照",
                **contact,
            },
        ),
        Positive(
            f"POST {API}{{id}}/arrange/",
            "department_head",
            {"id": arranged.pk},
            body={"staff": handler.pk, "version": arranged.version},
        ),
        Positive(
            f"POST {API}{{id}}/decline/",
            "department_head",
            {"id": declined.pk},
            body={"reason": "当晚无人值守", "version": declined.version},
        ),
        Positive(
            f"POST {API}{{id}}/cancel/",
            "enterprise_user",
            {"id": cancelled.pk},
            body={"version": cancelled.version},
        ),
        Positive(f"POST {API}{{id}}/serve/", "handler", {"id": served.pk}, body={"version": served.version}),
        Positive(f"POST {API}{{id}}/miss/", "handler", {"id": missed.pk}, body={"version": missed.version}),
        Positive(f"GET {SLOTS}", "enterprise_user", query={"window": window.pk, "date": day}),
    ]
