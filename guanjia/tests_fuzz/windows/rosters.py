"""API fuzz positives of the windows app: rosters (the demo's department head keeps a unit of its own
department, built here with the demo handler on its staff; the zone's leader reads it)."""

from __future__ import annotations

from datetime import timedelta

from guanjia.core.models import User
from guanjia.tests_fuzz.world import Positive
from guanjia.windows import rostering, rosters
from guanjia.windows.access import today
from guanjia.windows.models import ServiceUnit, ServiceWindow

STAFFINGS = "/api/staffings/"
ROSTERS = "/api/rosters/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    head, handler, steward = users["department_head"], users["handler"], users["steward"]
    department = head.unit
    assert department is not None and department.parent is not None, head
    unit = ServiceUnit.objects.create(
        zone=department.parent,
        department=department,
        name="模糊测试排班服务单位",
        address="高新区模糊路 1 号",
    )
    window = ServiceWindow.objects.create(unit=unit, number="1", name="综合受理")
    staffing = rosters.save_staffing(
        unit, user=handler, windows=[window], weekdays=[1, 2, 3, 4, 5], max_shifts=5, by=head
    )
    patched = rosters.save_staffing(
        unit, user=head, windows=[window], weekdays=[1, 2, 3, 4, 5], max_shifts=5, by=head
    )
    monday = rosters.week_start_of(today())
    # A roster of its own for each versioned write, so that no positive case stales another's version.
    read, shifted, removed, published = (
        rosters.generate_roster(unit, monday + timedelta(days=7 * n), by=head) for n in range(1, 5)
    )
    first = removed.shifts.order_by("date").first()
    mine = shifted.shifts.filter(user=handler).order_by("date").first()
    assert first is not None and mine is not None, "the solver put the demo handler on the rosters"
    lunch = rostering.lunch_starts(unit)
    return [
        Positive(f"GET {STAFFINGS}", "leader", query={"unit": unit.pk}),
        Positive(
            f"POST {STAFFINGS}",
            "department_head",
            body={
                "unit": unit.pk,
                "user": steward.pk,
                "windows": [window.pk],
                "weekdays": [1, 2, 3],
                "max_shifts": 3,
            },
        ),
        Positive(f"GET {STAFFINGS}{{id}}/", "leader", {"id": staffing.pk}),
        Positive(
            f"PATCH {STAFFINGS}{{id}}/",
            "department_head",
            {"id": patched.pk},
            body={"max_shifts": 4, "version": patched.version},
        ),
        Positive(f"GET {ROSTERS}", "leader", query={"unit": unit.pk, "status": "draft"}),
        Positive(
            f"POST {ROSTERS}generate/",
            "department_head",
            body={"unit": unit.pk, "week_start": (monday + timedelta(days=7 * 6)).isoformat()},
        ),
        Positive(f"GET {ROSTERS}{{id}}/", "leader", {"id": read.pk}),
        Positive(
            f"POST {ROSTERS}{{id}}/shifts/",
            "department_head",
            {"id": shifted.pk},
            body={
                "user": handler.pk,
                "day": mine.date.isoformat(),
                "window": window.pk,
                "lunch_start": f"{lunch[0]:%H:%M}" if lunch else None,
                "version": shifted.version,
            },
        ),
        Positive(
            f"POST {ROSTERS}{{id}}/remove-shift/",
            "department_head",
            {"id": removed.pk},
            body={"shift": first.pk, "version": removed.version},
        ),
        Positive(
            f"POST {ROSTERS}{{id}}/publish/",
            "department_head",
            {"id": published.pk},
            body={"version": published.version},
        ),
    ]
