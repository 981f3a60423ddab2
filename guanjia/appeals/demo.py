"""The appeals part of `guanjia demo-data`: the demo zones' routing tables."""

from __future__ import annotations

from typing import Any

from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.core.models import OrgUnit

# category code → the demo department key (guanjia.enterprises.demo.DEPARTMENTS) that leads it,
# as the departments in shared/data/appeals_zh.csv answer them.
DEMO_ROUTES = {
    "land": "planning",
    "finance": "finance",
    "talent": "hr",
    "approval": "approval",
    "utilities": "power",
    "tax": "tax",
    "policy": "economy",
    "market": "market",
    "ip": "ip",
    "safety": "ecology",
    "logistics": "transport",
    "other": "centre",
}


def add_demo_routes(sender: Any, *, units: dict[str, OrgUnit], **kwargs: Any) -> None:
    categories = {c.code: c for c in AppealCategory.objects.filter(code__in=DEMO_ROUTES)}
    zones = [unit for unit in units.values() if unit.kind == OrgUnit.Kind.ZONE]
    CategoryRoute.objects.bulk_create(
        CategoryRoute(category=categories[code], zone=zone, lead_department=units[f"{zone.code}-{key}"])
        for zone in zones
        for code, key in DEMO_ROUTES.items()
        if code in categories and f"{zone.code}-{key}" in units
    )
