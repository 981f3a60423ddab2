"""A zone's answered history, written compactly: the appeals of guanjia/appeals/data/appeals_zh.csv as
Appeal rows with an answered lead Assignment each, to the departments their `department` column names.

The lifecycle services would take minutes for hundreds of appeals; routing reads only these rows (the
appeal's zone, category, title and body; the lead assignment's department and answer time).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from guanjia.appeals.defaults import DEFAULT_CATEGORIES, ensure_default_categories
from guanjia.appeals.models import Appeal, AppealCategory, Assignment, Channel, Status
from guanjia.core.models import OrgUnit
from guanjia.testing import Cast

TEXTS = Path(__file__).resolve().parents[2] / "appeals" / "data" / "appeals_zh.csv"
CODE_OF = {name: code for code, name in DEFAULT_CATEGORIES}
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@dataclass
class Built:
    departments: dict[str, OrgUnit]  # by the CSV's department name
    categories: dict[str, AppealCategory]  # by code
    appeals: list[Appeal]  # oldest answer first
    leads: list[Assignment]  # the appeals' answered lead assignments, in the same order


def texts(seed: int = 0) -> list[dict[str, str]]:
    with TEXTS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # The file is grouped by category: shuffled, so the newest fifth (the held-out slice) is a mix.
    random.Random(seed).shuffle(rows)
    return rows


def department(zone: OrgUnit, name: str, index: int) -> OrgUnit:
    return OrgUnit.objects.get_or_create(
        code=f"{zone.code}-dept-{index}",
        defaults={"name": f"{zone.name}{name}", "kind": OrgUnit.Kind.DEPARTMENT, "parent": zone},
    )[0]


def build_history(cast: Cast, *, count: int = 240, seed: int = 0, zone: OrgUnit | None = None) -> Built:
    """`count` answered appeals of the zone (zone A by default), one hour apart, oldest first."""
    zone = zone or cast.zone_a
    enterprise = cast.ent_a1 if zone == cast.zone_a else cast.ent_b1
    categories = ensure_default_categories()
    rows = texts(seed)[:count]
    names = sorted({row["department"] for row in rows})
    departments = {name: department(zone, name, i) for i, name in enumerate(names)}
    appeals = Appeal.objects.bulk_create(
        Appeal(
            zone=zone,
            enterprise=enterprise,
            category=categories[CODE_OF[row["category"]]],
            title=row["title"],
            body=row["body"],
            channel=Channel.STEWARD,
            status=Status.CLOSED,
            submitted_by=cast.steward_a,
            submitted_at=START + timedelta(hours=i),
            accept_due=START + timedelta(hours=i, days=1),
            accepted_at=START + timedelta(hours=i),
        )
        for i, row in enumerate(rows)
    )
    leads = Assignment.objects.bulk_create(
        Assignment(
            appeal=appeal,
            department=departments[row["department"]],
            dispatched_at=START + timedelta(hours=i, minutes=10),
            sign_due=START + timedelta(hours=i, days=1),
            answer_due=START + timedelta(hours=i, days=7),
            original_answer_due=START + timedelta(hours=i, days=7),
            answer_days=5,
            answered_at=START + timedelta(hours=i, days=2),
        )
        for i, (appeal, row) in enumerate(zip(appeals, rows, strict=True))
    )
    return Built(departments=departments, categories=categories, appeals=appeals, leads=leads)
