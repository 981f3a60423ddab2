"""API fuzz positives of the exchange app: practices and their adoptions (the demo's supervisor keeps
them, its leader reads them)."""

from __future__ import annotations

from datetime import timedelta

from guanjia.core.models import OrgUnit, User
from guanjia.exchange import practices
from guanjia.exchange.access import today
from guanjia.exchange.models import AdoptionStage, Practice
from guanjia.tests_fuzz.world import Positive

PRACTICES = "/api/practices/"
ADOPTIONS = "/api/adoptions/"


def _zone(user: User) -> OrgUnit:
    assert user.unit is not None, user
    zone = user.unit.zone
    assert zone is not None, user
    return zone


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    supervisor = users["supervisor"]
    zone = _zone(supervisor)

    def fresh(title: str) -> Practice:
        # A practice of its own for each versioned write, so that no positive case stales another's version.
        return practices.create_practice(
            by=supervisor,
            zone=zone,
            title=title,
            description="模糊测试做法内容。",
            seen_at="昆山",
            learned_by="考察组",
        )

    read, patched, adopted, advanced = (fresh(f"模糊测试经验 {n}") for n in range(4))
    departments = OrgUnit.objects.filter(parent=zone, kind=OrgUnit.Kind.DEPARTMENT).order_by("code")
    month_ago = today() - timedelta(days=30)
    adoption = practices.add_adoption(
        advanced, unit=zone, kpi="final_satisfaction", referenced_on=month_ago, by=supervisor
    )
    return [
        Positive(f"GET {PRACTICES}", "leader", query={"stage": "none", "search": "模糊"}),
        Positive(
            f"POST {PRACTICES}",
            "supervisor",
            body={
                "title": "早九晚五、中午不下班",
                "description": "窗口中午轮流就餐。",
                "seen_at": "昆山",
                "learned_by": "张三",
            },
        ),
        Positive(f"GET {PRACTICES}{{id}}/", "leader", {"id": read.pk}),
        Positive(
            f"PATCH {PRACTICES}{{id}}/",
            "supervisor",
            {"id": patched.pk},
            body={"title": "修订", "version": 1},
        ),
        Positive(f"GET {ADOPTIONS}", "leader", query={"stage": AdoptionStage.REFERENCE}),
        Positive(
            f"POST {ADOPTIONS}",
            "supervisor",
            body={
                "practice": adopted.pk,
                "unit": (departments.first() or zone).pk,
                "kpi": "mean_handling_days",
                "referenced_on": month_ago.isoformat(),
            },
        ),
        Positive(f"GET {ADOPTIONS}{{id}}/", "leader", {"id": adoption.pk}),
        Positive(
            f"POST {ADOPTIONS}{{id}}/advance/",
            "supervisor",
            {"id": adoption.pk},
            body={"to_stage": AdoptionStage.TRIAL, "on": today().isoformat(), "version": 1},
        ),
        Positive(f"GET {ADOPTIONS}{{id}}/effect/", "leader", {"id": adoption.pk}, query={"quarters": 2}),
    ]
