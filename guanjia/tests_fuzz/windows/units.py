"""API fuzz positives of the windows app: units (the demo's department head of 高新区市场监督管理局 keeps
them, its zone's leader reads them, its enterprise user reads the published hours)."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.world import Positive
from guanjia.windows import units
from guanjia.windows.models import ServiceUnit, ServiceWindow, WindowService

UNITS = "/api/service-units/"
WINDOWS = "/api/service-windows/"
SERVICES = "/api/window-services/"
HOURS = "/api/service-hours/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    head = users["department_head"]

    def fresh_unit(name: str) -> ServiceUnit:
        # Objects of their own for each versioned write, so that no positive case stales another's version.
        return units.create_unit(by=head, name=name, address="模糊测试路 1 号")

    def fresh_window(name: str) -> ServiceWindow:
        return units.add_window(fresh_unit(f"{name}单位"), by=head, number="1", name=name)

    def fresh_service(name: str) -> WindowService:
        return units.add_service(fresh_window(f"{name}窗口"), by=head, name=name, materials="身份证")

    read_unit, patched_unit = fresh_unit("模糊测试服务单位甲"), fresh_unit("模糊测试服务单位乙")
    read_window, patched_window = fresh_window("模糊测试窗口甲"), fresh_window("模糊测试窗口乙")
    read_service = fresh_service("模糊测试事项甲")
    patched_service, removed_service = fresh_service("模糊测试事项乙"), fresh_service("模糊测试事项丙")
    return [
        Positive(f"GET {UNITS}", "leader"),
        Positive(
            f"POST {UNITS}",
            "department_head",
            body={
                "name": "模糊测试企业服务专区",
                "address": "模糊测试路 2 号",
                "opens_at": "08:30",
                "closes_at": "17:30",
                "no_lunch_break": False,
                "lunch_from": "12:00",
                "lunch_to": "13:30",
                "lunch_minutes": 60,
            },
        ),
        Positive(f"GET {UNITS}{{id}}/", "leader", {"id": read_unit.pk}),
        Positive(
            f"PATCH {UNITS}{{id}}/",
            "department_head",
            {"id": patched_unit.pk},
            body={"notice": "请携带原件", "version": patched_unit.version},
        ),
        Positive(f"GET {WINDOWS}", "leader", query={"unit": read_window.unit_id}),
        Positive(
            f"POST {WINDOWS}",
            "department_head",
            body={"unit": read_unit.pk, "number": "5", "name": "综合咨询", "must_stay_open": False},
        ),
        Positive(f"GET {WINDOWS}{{id}}/", "leader", {"id": read_window.pk}),
        Positive(
            f"PATCH {WINDOWS}{{id}}/",
            "department_head",
            {"id": patched_window.pk},
            body={"seats": 2, "version": patched_window.version},
        ),
        Positive(f"GET {SERVICES}", "leader", query={"window": read_service.window_id}),
        Positive(
            f"POST {SERVICES}",
            "department_head",
            body={"window": read_window.pk, "name": "政策咨询", "materials": "", "bookable": True},
        ),
        Positive(f"GET {SERVICES}{{id}}/", "leader", {"id": read_service.pk}),
        Positive(
            f"PATCH {SERVICES}{{id}}/",
            "department_head",
            {"id": patched_service.pk},
            body={"materials": "身份证\n授权委托书", "version": patched_service.version},
        ),
        Positive(f"DELETE {SERVICES}{{id}}/", "department_head", {"id": removed_service.pk}),
        Positive(f"GET {HOURS}", "enterprise_user"),
    ]
