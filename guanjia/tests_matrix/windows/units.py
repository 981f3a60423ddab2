"""Permission-matrix rows of the windows app: units (see __init__.py for the shape).

Zone A's 市场监管局 runs a unit (kept by its head, HEAD) with one window and one service; handler_a
(HANDLER) is on its staff. Its management pages are read by its keeper, its staff and zone A's
overseers (DISP, SUP, LEADER); zone B's dispatcher and the head of another department (HEAD_X), who read
units of their own, get 404; every other role 403. Only HEAD writes it: HEAD_X may create units of its
own department but gets 404 on this one; a body naming this unit or window is, for HEAD_X, an object
that does not exist (400). The published hours are every business account's; no-role and 三员 403.
"""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import (
    CADRE,
    CO,
    DELETE,
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
from guanjia.windows import units
from guanjia.windows.models import Staffing

# Who reads the unit's management pages, and who reads units but not this one (404).
READERS = [HEAD, HANDLER, DISP, SUP, LEADER]
OTHER_READERS = [DISP_X, HEAD_X]
KEEPERS = [HEAD, HEAD_X]  # department heads: each may create units of its own department
BUSINESS = [
    ENT,
    ENT_X,
    STEWARD,
    STEWARD_X,
    DISP,
    DISP_X,
    HANDLER,
    HANDLER_X,
    HANDLER_Z,
    CO,
    HEAD,
    HEAD_X,
    SUP,
    LEADER,
    PROMOTER,
    CADRE,
]


def _read(name: str, target: str) -> Row:
    return R(name, GET, target, default=FORBIDDEN, ok=READERS, not_found=OTHER_READERS)


def _keep(name: str, method: str, target: str, body: str = "") -> Row:
    """A write on zone A's unit: its keeper; another department's head does not see it (404); the rest 403."""
    return R(name, method, target, body=body, default=FORBIDDEN, ok=[HEAD], not_found=[HEAD_X])


ROWS: list[Row] = [
    # --- pages --------------------------------------------------------------------------------------
    R("windows:units", GET, default=FORBIDDEN, ok=[*READERS, *OTHER_READERS], note="a scoped list"),
    R("windows:unit-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("windows:unit-new", POST, body="win_unit_form", default=FORBIDDEN, ok=KEEPERS),
    _read("windows:unit", "win_unit"),
    _keep("windows:unit-edit", GET, "win_unit"),
    _keep("windows:unit-edit", POST, "win_unit", "win_unit_edit"),
    _keep("windows:window-new", GET, "win_unit"),
    _keep("windows:window-new", POST, "win_unit", "win_window_form"),
    _keep("windows:window-edit", GET, "win_window"),
    _keep("windows:window-edit", POST, "win_window", "win_window_edit"),
    _keep("windows:service-new", GET, "win_window"),
    _keep("windows:service-new", POST, "win_window", "win_service_form"),
    _keep("windows:service-edit", GET, "win_service"),
    _keep("windows:service-edit", POST, "win_service", "win_service_edit"),
    post_only("windows:service-remove", "win_service"),
    _keep("windows:service-remove", POST, "win_service", "win_service_version"),
    R("windows:hours", GET, default=FORBIDDEN, ok=BUSINESS, note="every business account of a zone"),
    # --- API ----------------------------------------------------------------------------------------
    R("service-unit-list", GET, default=FORBIDDEN, ok=[*READERS, *OTHER_READERS], note="a scoped list"),
    R("service-unit-list", POST, body="api:win_unit", default=FORBIDDEN, ok=KEEPERS),
    _read("service-unit-detail", "win_unit"),
    _keep("service-unit-detail", PATCH, "win_unit", "api:win_unit_patch"),
    R("service-window-list", GET, default=FORBIDDEN, ok=[*READERS, *OTHER_READERS], note="a scoped list"),
    R(
        "service-window-list",
        POST,
        body="api:win_window",
        default=FORBIDDEN,
        ok=[HEAD],
        bad_input=[HEAD_X],
        note="another department's head does not see the unit: it 'does not exist' (400)",
    ),
    _read("service-window-detail", "win_window"),
    _keep("service-window-detail", PATCH, "win_window", "api:win_window_patch"),
    R("window-service-list", GET, default=FORBIDDEN, ok=[*READERS, *OTHER_READERS], note="a scoped list"),
    R(
        "window-service-list",
        POST,
        body="api:win_service",
        default=FORBIDDEN,
        ok=[HEAD],
        bad_input=[HEAD_X],
        note="another department's head does not see the window: it 'does not exist' (400)",
    ),
    _read("window-service-detail", "win_service"),
    _keep("window-service-detail", PATCH, "win_service", "api:win_service_patch"),
    _keep("window-service-detail", DELETE, "win_service"),
    R("service-hours", GET, default=FORBIDDEN, ok=BUSINESS, note="every business account of a zone"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Zone A's 市场监管局 unit (by its head), one window with one service; handler_a on its staff."""
    head = objects["head_a"]
    unit = units.create_unit(
        by=head, name="矩阵企业服务专区", address="高新区创新路 1 号", phone="0512-66668888"
    )
    window = units.add_window(unit, by=head, number="1", name="企业开办")
    service = units.add_service(window, by=head, name="企业设立登记", materials="营业执照申请书")
    staffing = Staffing.objects.create(unit=unit, user=cast.handler_a)
    staffing.windows.set([window])
    objects.update(win_unit=unit, win_window=window, win_service=service)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "win_unit": {"pk": objects["win_unit"].pk},
        "win_window": {"pk": objects["win_window"].pk},
        "win_service": {"pk": objects["win_service"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    unit, window, service = objects["win_unit"], objects["win_window"], objects["win_service"]
    unit_form = {
        "name": "矩阵新服务单位",
        "address": "高新区创新路 2 号",
        "phone": "",
        "opens_at": "09:00",
        "closes_at": "17:00",
        "no_lunch_break": "on",
        "lunch_from": "11:30",
        "lunch_to": "13:30",
        "lunch_minutes": "60",
        "slot_minutes": "30",
        "booking_days": "10",
        "notice": "",
        "is_published": "on",
    }
    window_form = {"number": "9", "name": "综合咨询", "staff_needed": "1", "seats": "2", "is_active": "on"}
    service_form = {"name": "政策咨询", "materials": "", "bookable": "on", "position": "100"}
    return {
        "win_unit_form": unit_form,
        "win_unit_edit": {**unit_form, "name": "矩阵企业服务专区（修订）", "version": unit.version},
        "win_window_form": window_form,
        "win_window_edit": {
            **window_form,
            "number": "1",
            "name": "企业开办（修订）",
            "version": window.version,
        },
        "win_service_form": service_form,
        "win_service_edit": {**service_form, "name": "企业设立登记（修订）", "version": service.version},
        "win_service_version": {"version": service.version},
        "api:win_unit": {"name": "矩阵API服务单位", "address": "高新区创新路 3 号", "no_lunch_break": False},
        "api:win_unit_patch": {"notice": "请携带原件", "version": unit.version},
        "api:win_window": {"unit": unit.pk, "number": "8", "name": "API窗口"},
        "api:win_window_patch": {"seats": 2, "version": window.version},
        "api:win_service": {"window": window.pk, "name": "API服务事项", "materials": "身份证"},
        "api:win_service_patch": {"bookable": False, "version": service.version},
    }
