"""Permission-matrix rows of the investment app: projects and approval agency (see __init__.py for the
shape).

The zone's promoters and leaders read projects and the acceleration report (role_required /
investment.access.may_read); only its promoters write them, so the leader gets 403 on every write and
every other role 403. Everything here is zone A's; no actor is another zone's promoter
(test_projects_pages and test_projects_api cover that one's 404).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from guanjia.enterprises.uscc import with_check_digit
from guanjia.investment import approvals, projects
from guanjia.investment.access import today
from guanjia.investment.models import ApprovalItem, ApprovalTemplateItem, Stage
from guanjia.tests_matrix.matrix import FORBIDDEN, GET, LEADER, PATCH, POST, PROMOTER, R, Row, post_only

READERS = [LEADER, PROMOTER]
KEEPERS = [PROMOTER]
# A valid code (GB 32100) no other part of the matrix world registers.
PROJECT_USCC = with_check_digit("91320591MA1PRJ01X")

ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    R("investment:projects", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment:project-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:project-new", POST, body="project_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:project", GET, "project", default=FORBIDDEN, ok=READERS),
    R("investment:project-edit", GET, "project", default=FORBIDDEN, ok=KEEPERS),
    R("investment:project-edit", POST, "project", body="project_edit", default=FORBIDDEN, ok=KEEPERS),
    R("investment:approvals-report", GET, default=FORBIDDEN, ok=READERS),
    *[
        row
        for name, target, body in (
            ("investment:project-advance", "project", "project_advance"),
            ("investment:project-correct", "project_signed", "project_correct"),
            ("investment:project-signing", "project_signed", "project_signing"),
            ("investment:project-arrival", "project_signed", "project_arrival"),
            ("investment:project-promised", "project", "project_promised"),
            ("investment:project-agent", "project_signed", "project_agent"),
            ("investment:project-approval-add", "project_signed", "project_approval"),
            ("investment:project-register", "project_signed", "project_register"),
            ("investment:approval-start", "approval_item", "approval_day"),
            ("investment:approval-finish", "approval_item_started", "approval_day"),
        )
        for row in (
            post_only(name, target),
            R(name, POST, target, body=body, default=FORBIDDEN, ok=KEEPERS),
        )
    ],
    # --- API -----------------------------------------------------------------------------------------
    R("investment-project-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment-project-list", POST, body="api:project", default=FORBIDDEN, ok=KEEPERS),
    R("investment-project-detail", GET, "project", default=FORBIDDEN, ok=READERS),
    R("investment-project-detail", PATCH, "project", body="api:project_patch", default=FORBIDDEN, ok=KEEPERS),
    *[
        R(name, POST, target, body=body, default=FORBIDDEN, ok=KEEPERS)
        for name, target, body in (
            ("investment-project-advance", "project", "api:project_advance"),
            ("investment-project-correct", "project_signed", "api:project_correct"),
            ("investment-project-signings", "project_signed", "api:project_signing"),
            ("investment-project-arrivals", "project_signed", "api:project_arrival"),
            ("investment-project-register", "project_signed", "api:project_register"),
            ("investment-project-agent", "project_signed", "api:project_agent"),
            ("investment-approval-item-start", "approval_item", "api:approval_day"),
            ("investment-approval-item-finish", "approval_item_started", "api:approval_day"),
        )
    ],
    R("investment-approvals-acceleration", GET, default=FORBIDDEN, ok=READERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A project in 谋划, and a signed one with its approval checklist: one item untouched, one started."""
    if not ApprovalTemplateItem.objects.filter(project_type="industrial").exists():
        ApprovalTemplateItem.objects.create(
            project_type="industrial", name="企业投资项目备案", statutory_days=3, promised_days=1
        )
    day = today()

    def project(name: str):  # noqa: ANN202 - a Project
        return projects.create_project(
            zone=cast.zone_a,
            name=name,
            owner=cast.promoter_a,
            by=cast.promoter_a,
            investment_planned=Decimal("20000"),
            on=day - timedelta(days=10),
        )

    objects["project"] = project("矩阵谋划项目")
    signed = projects.advance_project(
        project("矩阵签约项目"), to=Stage.SIGNED, on=day - timedelta(days=5), by=cast.promoter_a
    )
    objects["project_signed"] = signed
    items = list(ApprovalItem.objects.filter(project=signed).order_by("position", "pk"))
    objects["approval_item"] = items[0]
    if len(items) == 1:
        items.append(
            approvals.add_item(
                signed, name="矩阵审批事项", statutory_days=10, promised_days=5, by=cast.promoter_a
            )
        )
    objects["approval_item_started"] = approvals.start_item(
        items[1], on=day - timedelta(days=3), by=cast.promoter_a
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        name: {"pk": objects[name].pk}
        for name in ("project", "project_signed", "approval_item", "approval_item_started")
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    cast = world.cast
    project, signed = objects["project"], objects["project_signed"]
    day = today().isoformat()
    later = (today() + timedelta(days=365)).isoformat()
    return {
        "project_new": {
            "zone": cast.zone_a.pk,
            "name": "矩阵新建项目",
            "kind": "new",
            "project_type": "industrial",
            "owner": cast.promoter_a.pk,
            "source": "other",
            "investment_planned": "1000",
        },
        "project_edit": {
            "name": "矩阵谋划项目二期",
            "project_type": "industrial",
            "owner": cast.promoter_a.pk,
            "source": "other",
            "investment_planned": "30000",
            "version": project.version,
        },
        "project_advance": {
            "advance-to": Stage.NEGOTIATING,
            "advance-on": day,
            "advance-version": project.version,
        },
        "project_correct": {
            "correct-to": Stage.NEGOTIATING,
            "correct-reason": "误录为签约",
            "correct-version": signed.version,
        },
        "project_signing": {"signing-event": "矩阵招商大会", "signing-signed_on": day},
        "project_arrival": {"arrival-amount": "100", "arrival-arrived_on": day},
        "project_promised": {"promised-stage": Stage.STARTED, "promised-promised_on": later},
        "project_agent": {"agent-agent": cast.promoter_a.pk},
        "project_approval": {
            "approval-name": "矩阵新增审批",
            "approval-statutory_days": "10",
            "approval-promised_days": "5",
        },
        "project_register": {"register-name": "矩阵落地企业有限公司", "register-uscc": PROJECT_USCC},
        "approval_day": {"on": day},
        "api:project": {"name": "矩阵接口项目", "investment_planned": "1000"},
        "api:project_patch": {"land_mu": "50", "version": project.version},
        "api:project_advance": {"to": Stage.NEGOTIATING, "on": day, "version": project.version},
        "api:project_correct": {"to": Stage.NEGOTIATING, "reason": "误录为签约", "version": signed.version},
        "api:project_signing": {"event": "矩阵招商大会", "signed_on": day},
        "api:project_arrival": {"amount": "100", "arrived_on": day},
        "api:project_register": {"name": "矩阵落地企业有限公司", "uscc": PROJECT_USCC},
        "api:project_agent": {"agent": cast.promoter_a.pk},
        "api:approval_day": {"on": day},
    }
