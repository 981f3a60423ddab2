"""API fuzz positive cases of the investment app: projects and approval agency.

Each case that carries a version, or moves a stage, gets a project of its own, so that the cases (run
one after another in the same database) do not change each other's objects.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.uscc import with_check_digit
from guanjia.investment import access, approvals, projects
from guanjia.investment.models import ApprovalItem, ApprovalTemplateItem, Project, Stage
from guanjia.tests_fuzz.world import Positive


def _free_uscc() -> str:
    """A valid code (GB 32100) that no enterprise has: region 320591, a made-up organisation code."""
    number = 0
    while True:
        code = with_check_digit(f"91320591MP{number:06d}X")
        if not Enterprise.objects.filter(uscc=code).exists():
            return code
        number += 1


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    promoter = users["promoter"]
    zone = OrgUnit.objects.get(pk=promoter.zone_ids()[0])
    if not ApprovalTemplateItem.objects.filter(project_type="industrial").exists():
        ApprovalTemplateItem.objects.create(
            project_type="industrial", name="企业投资项目备案", statutory_days=3, promised_days=1
        )
    today = access.today()

    def project(name: str) -> Project:
        return projects.create_project(
            zone=zone,
            name=name,
            owner=promoter,
            by=promoter,
            investment_planned=Decimal("20000"),
            on=today - timedelta(days=10),
        )

    def signed(name: str) -> Project:
        return projects.advance_project(
            project(name), to=Stage.SIGNED, on=today - timedelta(days=5), by=promoter
        )

    edited, planned = project("模糊测试修改项目"), project("模糊测试推进项目")
    corrected, landed = signed("模糊测试更正项目"), signed("模糊测试落地项目")
    items = list(ApprovalItem.objects.filter(project=landed).order_by("position", "pk"))
    if len(items) == 1:
        items.append(
            approvals.add_item(landed, name="模糊测试审批", statutory_days=10, promised_days=5, by=promoter)
        )
    approvals.start_item(items[1], on=today - timedelta(days=3), by=promoter)
    day = today.isoformat()
    path = "/api/investment/projects/{id}/"
    return [
        Positive("GET /api/investment/projects/", "leader", query={"stage": "signed"}),
        Positive(
            "POST /api/investment/projects/",
            "promoter",
            body={"name": "模糊测试新建项目", "investment_planned": "1000", "promised": {"signed": day}},
        ),
        Positive(f"GET {path}", "leader", {"id": landed.pk}),
        Positive(
            f"PATCH {path}", "promoter", {"id": edited.pk}, body={"land_mu": "50", "version": edited.version}
        ),
        Positive(
            f"POST {path}advance/",
            "promoter",
            {"id": planned.pk},
            body={"to": "negotiating", "on": day, "version": planned.version},
        ),
        Positive(
            f"POST {path}correct/",
            "promoter",
            {"id": corrected.pk},
            body={"to": "negotiating", "reason": "误录为签约", "version": corrected.version},
        ),
        Positive(
            f"POST {path}signings/", "promoter", {"id": landed.pk}, body={"event": "云签约", "signed_on": day}
        ),
        Positive(
            f"POST {path}arrivals/", "promoter", {"id": landed.pk}, body={"amount": "100", "arrived_on": day}
        ),
        Positive(
            f"POST {path}register/",
            "promoter",
            {"id": landed.pk},
            body={"uscc": _free_uscc(), "name": "模糊测试落地企业有限公司"},
        ),
        Positive(f"POST {path}agent/", "promoter", {"id": landed.pk}, body={"agent": promoter.pk}),
        Positive(
            "POST /api/investment/approval-items/{id}/start/",
            "promoter",
            {"id": items[0].pk},
            body={"on": day},
        ),
        Positive(
            "POST /api/investment/approval-items/{id}/finish/",
            "promoter",
            {"id": items[1].pk},
            body={"on": day},
        ),
        Positive(
            "GET /api/investment/approvals/acceleration/", "leader", query={"start": f"{today.year}-01-01"}
        ),
    ]
