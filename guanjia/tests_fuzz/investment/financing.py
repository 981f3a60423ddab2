"""API fuzz positive cases of the investment app: financing (funds, financing needs, roadshows, outcomes)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from guanjia.core.models import User
from guanjia.enterprises.models import Enterprise
from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import FinancingKind, FinancingNeed, Fund, InvestmentStage
from guanjia.tests_fuzz.world import Positive

FUNDS = "/api/investment/funds/"
NEEDS = "/api/investment/financing-needs/"
ROADSHOWS = "/api/investment/roadshows/"
OUTCOMES = "/api/investment/financing-outcomes/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    promoter, owner = users["promoter"], users["enterprise_user"]
    zone_ids = promoter.zone_ids()
    own = financing.member_enterprises(owner).first()
    assert own is not None, owner
    # An enterprise of the promoter's zone for the promoter's writes: the enterprise user's own if it is.
    local = (
        own
        if own.zone_id in zone_ids
        else Enterprise.objects.filter(zone_id__in=zone_ids).order_by("pk").first()
    )
    assert local is not None, promoter
    zone = local.zone
    day = today()
    needed_by = (day + timedelta(days=60)).isoformat()

    def fund(name: str) -> Fund:
        return financing.create_fund(
            zone=zone,
            by=promoter,
            name=name,
            manager="模糊测试资本",
            size=Decimal("100000"),
            ticket_min=Decimal("100"),
            ticket_max=Decimal("5000"),
            stages=[InvestmentStage.EARLY],
        )

    def need(enterprise: Enterprise, by: User) -> FinancingNeed:
        # A need of its own for each versioned write, so that no positive case stales another's version.
        return financing.post_need(
            enterprise,
            by=by,
            amount=Decimal("1000"),
            kind=FinancingKind.EQUITY,
            stage=InvestmentStage.EARLY,
            purpose="模糊测试融资需求",
            needed_by=day + timedelta(days=60),
        )

    read_fund, patched_fund = fund("模糊测试基金 1"), fund("模糊测试基金 2")
    read_need, patched_need, withdrawn = (need(own, owner) for _ in range(3))
    fulfilled, funded, invited, shown = (need(local, promoter) for _ in range(4))
    roadshow = financing.create_roadshow(zone=zone, by=promoter, title="模糊测试路演", held_on=day)
    financing.invite_to_roadshow(roadshow, by=promoter, funds=[read_fund], needs=[shown])
    financing.record_outcome(
        shown, by=promoter, amount=Decimal("100"), invested_on=day, fund=read_fund, roadshow=roadshow
    )
    outcome = {"amount": "200.00", "invested_on": day.isoformat()}
    return [
        Positive(f"GET {FUNDS}", "leader"),
        Positive(
            f"POST {FUNDS}",
            "promoter",
            body={
                "zone": zone.pk,
                "name": "模糊测试新基金",
                "manager": "模糊测试资本",
                "size": "50000.00",
                "kinds": [FinancingKind.EQUITY],
                "stages": [InvestmentStage.EARLY, InvestmentStage.GROWTH],
                "ticket_min": "500.00",
                "ticket_max": "3000.00",
                "contact_name": "张经理",
                "contact_phone": "13912345678",
            },
        ),
        Positive(f"GET {FUNDS}{{id}}/", "leader", {"id": read_fund.pk}),
        Positive(
            f"PATCH {FUNDS}{{id}}/",
            "promoter",
            {"id": patched_fund.pk},
            body={"ticket_max": "8000.00", "version": patched_fund.version},
        ),
        Positive(f"GET {FUNDS}{{id}}/matches/", "promoter", {"id": read_fund.pk}),
        Positive(f"GET {NEEDS}", "enterprise_user", query={"status": "open", "kind": FinancingKind.EQUITY}),
        Positive(
            f"POST {NEEDS}",
            "enterprise_user",
            body={
                "enterprise": own.pk,
                "amount": "800.00",
                "kind": FinancingKind.LOAN,
                "purpose": "补充流动资金",
                "needed_by": needed_by,
            },
        ),
        Positive(f"GET {NEEDS}{{id}}/", "enterprise_user", {"id": read_need.pk}),
        Positive(
            f"PATCH {NEEDS}{{id}}/",
            "enterprise_user",
            {"id": patched_need.pk},
            body={"amount": "1200.00", "version": patched_need.version},
        ),
        Positive(
            f"POST {NEEDS}{{id}}/withdraw/",
            "enterprise_user",
            {"id": withdrawn.pk},
            body={"version": withdrawn.version},
        ),
        Positive(
            f"POST {NEEDS}{{id}}/fulfil/",
            "promoter",
            {"id": fulfilled.pk},
            body={"version": fulfilled.version},
        ),
        Positive(f"GET {NEEDS}{{id}}/matches/", "leader", {"id": shown.pk}),
        Positive(
            f"POST {NEEDS}{{id}}/outcomes/",
            "promoter",
            {"id": funded.pk},
            body={**outcome, "fund": read_fund.pk},
        ),
        Positive(f"GET {ROADSHOWS}", "leader"),
        Positive(
            f"POST {ROADSHOWS}",
            "promoter",
            body={
                "zone": zone.pk,
                "title": "模糊测试新路演",
                "held_on": day.isoformat(),
                "location": "会展中心",
            },
        ),
        Positive(f"GET {ROADSHOWS}{{id}}/", "leader", {"id": roadshow.pk}),
        Positive(
            f"POST {ROADSHOWS}{{id}}/invite/",
            "promoter",
            {"id": roadshow.pk},
            body={"funds": [patched_fund.pk], "needs": [invited.pk]},
        ),
        Positive(f"GET {ROADSHOWS}{{id}}/outcomes/", "leader", {"id": roadshow.pk}),
        Positive(
            f"POST {ROADSHOWS}{{id}}/outcomes/",
            "promoter",
            {"id": roadshow.pk},
            body={**outcome, "need": shown.pk, "investor": "模糊测试银行"},
        ),
        Positive(f"GET {OUTCOMES}", "leader", query={"fund": read_fund.pk}),
        Positive(
            f"GET {OUTCOMES}totals/",
            "leader",
            query={"start": (day - timedelta(days=365)).isoformat(), "end": day.isoformat()},
        ),
    ]
