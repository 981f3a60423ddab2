"""Permission-matrix rows of the windows app: appointments (see __init__.py for the shape).

A unit of 高新区市场监管局 kept by its head (mx_head_a), with one window and handler_a on its staff; for ent_a1
a booking on the next open day, a 延时服务 request, and a past booking at a day handler_a was rostered at
the window (due to be marked served or missed).

An appointment of ent_a1 is seen by the enterprise's user and steward, the unit's keeper and staff and
zone A's overseers; every other account of a role that reads appointments gets 404; promoters, cadres, the
account without a role and the three admins 403. The portal pages are for enterprise users and stewards:
zone B's do not see zone A's windows (404, or a form error where the window is a choice). Cancelling is
the enterprise's (and the keeper's); arranging and declining the keeper's; serving the keeper's and the
rostered staff's.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from guanjia.core.models import User
from guanjia.tests_matrix.matrix import (
    CO,
    DISP,
    DISP_X,
    ENT,
    ENT_X,
    FORBIDDEN,
    GET,
    HANDLER,
    HANDLER_X,
    HANDLER_Z,
    HEAD,
    HEAD_X,
    LEADER,
    POST,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)
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

# Who sees ent_a1's appointment at the unit, and the accounts of a reading role who do not.
SEES = [ENT, STEWARD, HANDLER, HEAD, DISP, SUP, LEADER]
UNSEEN = [ENT_X, STEWARD_X, DISP_X, HANDLER_X, HANDLER_Z, CO, HEAD_X]
READING_ROLES = [*SEES, *UNSEEN]
BOOKERS = [ENT, STEWARD]  # of ent_a1
BOOKERS_X = [ENT_X, STEWARD_X]  # of zone B: zone A's windows are not theirs
UNIT_READERS = [HANDLER, HEAD, DISP, SUP, LEADER]
UNIT_UNSEEN = [ENT, STEWARD, *UNSEEN]


def _steps(page: str, api: str, target: str, body: str, *, ok: list[str], not_found: list[str]) -> list[Row]:
    """A step's page (POST-only) and API rows: `ok` may, `not_found` hold a role that may but do not
    see the appointment, everyone else 403."""
    return [
        post_only(page, target),
        R(page, POST, target, body=body, default=FORBIDDEN, ok=ok, not_found=not_found),
        R(api, POST, target, body=f"api:{body}", default=FORBIDDEN, ok=ok, not_found=not_found),
    ]


ROWS: list[Row] = [
    # --- the portal -----------------------------------------------------------------------------------
    R("windows:my-appointments", GET, default=FORBIDDEN, ok=[*BOOKERS, *BOOKERS_X], note="a scoped list"),
    R("windows:book", GET, default=FORBIDDEN, ok=[*BOOKERS, *BOOKERS_X]),
    R("windows:book", POST, body="ap_book", default=FORBIDDEN, ok=BOOKERS, not_found=BOOKERS_X),
    R(
        "windows:book-slots",
        GET,
        body="q:ap_slots",
        default=FORBIDDEN,
        ok=BOOKERS,
        not_found=BOOKERS_X,
    ),
    R("windows:book-extended", GET, default=FORBIDDEN, ok=[*BOOKERS, *BOOKERS_X]),
    R(
        "windows:book-extended",
        POST,
        body="ap_extended",
        default=FORBIDDEN,
        ok=BOOKERS,
        invalid=BOOKERS_X,
        note="zone B's window choices do not include zone A's window",
    ),
    # --- staff and units ------------------------------------------------------------------------------
    R("windows:my-bookings", GET, default=FORBIDDEN, ok=[HANDLER], note="on a unit's staff"),
    R("windows:unit-bookings", GET, "ap_unit", default=FORBIDDEN, ok=UNIT_READERS, not_found=UNIT_UNSEEN),
    R("windows:appointment", GET, "ap_booking", default=FORBIDDEN, ok=SEES, not_found=UNSEEN),
    # --- the steps --------------------------------------------------------------------------------------
    *_steps(
        "windows:appointment-cancel",
        "appointment-cancel",
        "ap_booking",
        "ap_version",
        ok=[ENT, STEWARD, HEAD],
        not_found=[ENT_X, STEWARD_X, HEAD_X],
    ),
    *_steps(
        "windows:appointment-arrange",
        "appointment-arrange",
        "ap_request",
        "ap_arrange",
        ok=[HEAD],
        not_found=[HEAD_X],
    ),
    *_steps(
        "windows:appointment-decline",
        "appointment-decline",
        "ap_request",
        "ap_decline",
        ok=[HEAD],
        not_found=[HEAD_X],
    ),
    *_steps(
        "windows:appointment-serve",
        "appointment-serve",
        "ap_due",
        "ap_due_version",
        ok=[HEAD, HANDLER],
        not_found=[HEAD_X, HANDLER_X, HANDLER_Z, CO],
    ),
    *_steps(
        "windows:appointment-miss",
        "appointment-miss",
        "ap_due",
        "ap_due_version",
        ok=[HEAD, HANDLER],
        not_found=[HEAD_X, HANDLER_X, HANDLER_Z, CO],
    ),
    # --- API ------------------------------------------------------------------------------------------
    R("appointment-list", GET, default=FORBIDDEN, ok=READING_ROLES, note="a scoped list"),
    R("appointment-list", POST, body="api:ap_book", default=FORBIDDEN, ok=BOOKERS, bad_input=BOOKERS_X),
    R("appointment-detail", GET, "ap_booking", default=FORBIDDEN, ok=SEES, not_found=UNSEEN),
    R(
        "appointment-extended",
        POST,
        body="api:ap_extended",
        default=FORBIDDEN,
        ok=BOOKERS,
        bad_input=BOOKERS_X,
    ),
    R("appointment-slot-list", GET, body="q:ap_slots", default=FORBIDDEN, ok=BOOKERS, not_found=BOOKERS_X),
]


def _next_open_day() -> Any:
    """The first open day after today (a booking there has not begun, whatever the time now)."""
    day = today() + timedelta(days=1)
    while not hours.is_open_on(day):
        day += timedelta(days=1)
    return day


def _last_open_day() -> Any:
    day = today() - timedelta(days=1)
    while not hours.is_open_on(day):
        day -= timedelta(days=1)
    return day


def build(cast: Any, objects: dict[str, Any]) -> None:
    """The unit, a booking and a 延时服务 request of ent_a1 on the next open day, and a past booking due."""
    unit = ServiceUnit.objects.create(
        zone=cast.zone_a,
        department=cast.market_a,
        name="矩阵预约服务单位",
        address="高新区矩阵路 2 号",
        booking_days=30,
    )
    window = ServiceWindow.objects.create(unit=unit, number="1", name="企业开办", seats=3)
    service = WindowService.objects.create(window=window, name="企业设立登记")
    staffing = Staffing.objects.create(unit=unit, user=cast.handler_a)
    staffing.windows.set([window])
    day = _next_open_day()
    common = {"contact_name": "王经理", "contact_phone": "13812345678"}
    booking = appointments.book(
        window,
        enterprise=cast.ent_a1,
        day=day,
        start=time(10, 0),
        by=cast.ent_user_a1,
        service=service,
        **common,
    )
    request = appointments.request_extended(
        window,
        enterprise=cast.ent_a1,
        day=day,
        start=time(18, 0),
        end=time(19, 0),
        by=cast.ent_user_a1,
        note="下班后办理",
        **common,
    )
    # A past booking, written as it stood then (the service refuses a slot that has begun).
    past = _last_open_day()
    week = Roster.objects.create(
        unit=unit, week_start=past - timedelta(days=past.weekday()), status="published"
    )
    Shift.objects.create(roster=week, user=cast.handler_a, window=window, date=past)
    due = Appointment.objects.create(
        unit=unit,
        window=window,
        service=service,
        enterprise=cast.ent_a1,
        kind=AppointmentKind.BOOKED,
        state=AppointmentState.BOOKED,
        date=past,
        starts_at=time(10, 0),
        ends_at=time(10, 30),
        seat=1,
        booked_by=cast.ent_user_a1,
        **common,
    )
    objects.update(
        ap_unit=unit, ap_window=window, ap_service=service, ap_booking=booking, ap_request=request, ap_due=due
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "ap_unit": {"unit": objects["ap_unit"].pk},
        "ap_booking": {"pk": objects["ap_booking"].pk},
        "ap_request": {"pk": objects["ap_request"].pk},
        "ap_due": {"pk": objects["ap_due"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    window, booking, request, due = (
        objects["ap_window"],
        objects["ap_booking"],
        objects["ap_request"],
        objects["ap_due"],
    )
    day = booking.date.isoformat()
    contact = {"contact_name": "王经理", "contact_phone": "13812345678"}
    book = {
        "window": window.pk,
        "enterprise": cast.ent_a1.pk,
        "service": objects["ap_service"].pk,
        "date": day,
        "start": "11:00",
        **contact,
    }
    extended = {
        "window": window.pk,
        "enterprise": cast.ent_a1.pk,
        "date": day,
        "start": "19:00",
        "end": "20:00",
        "note": "晚间领取证照",
        **contact,
    }
    handler: User = cast.handler_a
    return {
        "ap_book": book,
        "api:ap_book": book,
        "q:ap_slots": {"window": window.pk, "date": day},
        "ap_extended": extended,
        "api:ap_extended": extended,
        "ap_version": {"version": booking.version},
        "api:ap_version": {"version": booking.version},
        "ap_arrange": {"staff": handler.pk, "version": request.version},
        "api:ap_arrange": {"staff": handler.pk, "version": request.version},
        "ap_decline": {"reason": "当晚无人值守", "version": request.version},
        "api:ap_decline": {"reason": "当晚无人值守", "version": request.version},
        "ap_due_version": {"version": due.version},
        "api:ap_due_version": {"version": due.version},
    }
