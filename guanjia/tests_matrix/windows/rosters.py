"""Permission-matrix rows of the windows app: rosters (see __init__.py for the shape).

A unit of 高新区市场监管局 kept by its head (mx_head_a), with handler_a on its staff and a draft roster of
next week. Those who see the unit read its staff and rosters: its keeper, its staff (handler_a) and the
zone's overseers (dispatcher, supervisor, leader); to every other business account of either zone the unit
does not exist (404); enterprise users, the three admins and the account without a role never work at
windows (403). Only the keeper writes: a reader gets 403. On the API, a write is refused (403) before the
object is looked up unless the caller is a department head; the other department's head then gets 404
(or 400 for a unit named in the body).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from guanjia.core.models import User
from guanjia.tests_matrix.matrix import (
    CADRE,
    CO,
    DISP,
    DISP_X,
    FORBIDDEN,
    GET,
    HANDLER,
    HANDLER_X,
    HANDLER_Z,
    HEAD,
    HEAD_X,
    LEADER,
    PATCH,
    POST,
    PROMOTER,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)
from guanjia.windows import rosters as services
from guanjia.windows.access import today
from guanjia.windows.models import ServiceUnit, ServiceWindow

KEEPER = [HEAD]
READERS = [HEAD, HANDLER, DISP, SUP, LEADER]
# Business accounts that may work at windows but do not see this unit.
UNSEEN = [HEAD_X, HANDLER_X, HANDLER_Z, CO, STEWARD, STEWARD_X, DISP_X, PROMOTER, CADRE]
# Everyone who may work at windows (the lists and 我的排班).
WORKERS = [*READERS, *UNSEEN]

ROWS: list[Row] = [
    # --- pages ------------------------------------------------------------------------------------------
    R("windows:staff", GET, "ro_unit", default=FORBIDDEN, ok=READERS, not_found=UNSEEN),
    R(
        "windows:staff",
        POST,
        "ro_unit",
        body="ro_staffing_new",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=UNSEEN,
    ),
    R("windows:staffing-edit", GET, "ro_staffing", default=FORBIDDEN, ok=KEEPER, not_found=UNSEEN),
    R(
        "windows:staffing-edit",
        POST,
        "ro_staffing",
        body="ro_staffing_edit",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=UNSEEN,
    ),
    R("windows:rosters", GET, "ro_unit", default=FORBIDDEN, ok=READERS, not_found=UNSEEN),
    R("windows:rosters", POST, "ro_unit", body="ro_generate", default=FORBIDDEN, ok=KEEPER, not_found=UNSEEN),
    R("windows:roster", GET, "ro_roster", default=FORBIDDEN, ok=READERS, not_found=UNSEEN),
    post_only("windows:roster-shift", "ro_roster"),
    R(
        "windows:roster-shift",
        POST,
        "ro_roster",
        body="ro_shift",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=UNSEEN,
    ),
    post_only("windows:roster-shift-remove", "ro_roster"),
    R(
        "windows:roster-shift-remove",
        POST,
        "ro_roster",
        body="ro_remove",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=UNSEEN,
    ),
    post_only("windows:roster-publish", "ro_roster"),
    R(
        "windows:roster-publish",
        POST,
        "ro_roster",
        body="ro_publish",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=UNSEEN,
    ),
    R("windows:my-shifts", GET, default=FORBIDDEN, ok=WORKERS, note="one's own shifts"),
    # --- API ----------------------------------------------------------------------------------------------
    R("staffing-list", GET, default=FORBIDDEN, ok=WORKERS, note="a scoped list"),
    R("staffing-list", POST, body="api:ro_staffing", default=FORBIDDEN, ok=KEEPER, bad_input=[HEAD_X]),
    R("staffing-detail", GET, "ro_staffing", default=FORBIDDEN, ok=READERS, not_found=UNSEEN),
    R(
        "staffing-detail",
        PATCH,
        "ro_staffing",
        body="api:ro_staffing_patch",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=[HEAD_X],
    ),
    R("roster-list", GET, default=FORBIDDEN, ok=WORKERS, note="a scoped list"),
    R("roster-generate", POST, body="api:ro_generate", default=FORBIDDEN, ok=KEEPER, bad_input=[HEAD_X]),
    R("roster-detail", GET, "ro_roster", default=FORBIDDEN, ok=READERS, not_found=UNSEEN),
    R(
        "roster-shifts",
        POST,
        "ro_roster",
        body="api:ro_shift",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=[HEAD_X],
    ),
    R(
        "roster-remove-shift",
        POST,
        "ro_roster",
        body="api:ro_remove",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=[HEAD_X],
    ),
    R(
        "roster-publish",
        POST,
        "ro_roster",
        body="api:ro_publish",
        default=FORBIDDEN,
        ok=KEEPER,
        not_found=[HEAD_X],
    ),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """The unit with one window, handler_a on its staff, and next week's draft roster."""
    head = User.objects.get(username="mx_head_a")
    unit = ServiceUnit.objects.create(
        zone=cast.zone_a, department=cast.market_a, name="矩阵排班服务单位", address="高新区矩阵路 1 号"
    )
    window = ServiceWindow.objects.create(unit=unit, number="1", name="综合受理")
    staffing = services.save_staffing(
        unit, user=cast.handler_a, windows=[window], weekdays=[1, 2, 3, 4, 5], max_shifts=5, by=head
    )
    week = services.week_start_of(today()) + timedelta(days=7)
    roster = services.generate_roster(unit, week, by=head)
    objects.update(ro_unit=unit, ro_window=window, ro_staffing=staffing, ro_roster=roster)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "ro_unit": {"unit": objects["ro_unit"].pk},
        "ro_staffing": {"pk": objects["ro_staffing"].pk},
        "ro_roster": {"pk": objects["ro_roster"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    unit, window, staffing, roster = (
        objects["ro_unit"],
        objects["ro_window"],
        objects["ro_staffing"],
        objects["ro_roster"],
    )
    shift = roster.shifts.order_by("date").first()
    assert shift is not None, "the solver put handler_a on next week's roster"
    lunch = f"{shift.lunch_start:%H:%M}" if shift.lunch_start else ""
    later = services.week_start_of(today()) + timedelta(days=14)
    shift_form = {
        "user": shift.user_id,
        "day": shift.date.isoformat(),
        "window": window.pk,
        "lunch_start": lunch,
        "version": roster.version,
    }
    return {
        "ro_staffing_new": {
            "user": cast.steward_a.pk,
            "windows": [window.pk],
            "weekdays": ["1", "2"],
            "max_shifts": 2,
            "is_active": "on",
        },
        "ro_staffing_edit": {
            "windows": [window.pk],
            "weekdays": ["1", "2", "3"],
            "max_shifts": 4,
            "is_active": "on",
            "version": staffing.version,
        },
        "ro_generate": {"week_start": later.isoformat()},
        "ro_shift": shift_form,
        "ro_remove": {"shift": shift.pk, "version": roster.version},
        "ro_publish": {"version": roster.version},
        "api:ro_staffing": {
            "unit": unit.pk,
            "user": cast.steward_a.pk,
            "windows": [window.pk],
            "weekdays": [1, 2],
            "max_shifts": 2,
        },
        "api:ro_staffing_patch": {"max_shifts": 4, "version": staffing.version},
        "api:ro_generate": {"unit": unit.pk, "week_start": later.isoformat()},
        "api:ro_shift": {**shift_form, "lunch_start": lunch or None},
        "api:ro_remove": {"shift": shift.pk, "version": roster.version},
        "api:ro_publish": {"version": roster.version},
    }
