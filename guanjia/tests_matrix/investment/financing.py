"""Permission-matrix rows of the investment app: financing (see __init__.py for the shape).

Funds and roadshows: the zone's promoters and leaders read, its promoters write (the leader gets 403
on every write). Financing needs: the staff pages are for promoters, leaders and the enterprise's
steward (another zone's steward gets 404); the portal pages for enterprise users, where the user of
another enterprise gets 404. The funds' match scores are the promoters' and leaders' only. Everything
here is zone A's, for ent_a1; no actor is another zone's promoter (test_financing_pages and
test_financing_api cover that one's 404).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import FinancingKind, InvestmentStage
from guanjia.investment.tests.helpers import make_chain, node
from guanjia.tests_matrix.matrix import (
    ENT,
    ENT_X,
    FORBIDDEN,
    GET,
    LEADER,
    PATCH,
    POST,
    PROMOTER,
    STEWARD,
    STEWARD_X,
    R,
    Row,
    post_only,
)

READERS = [LEADER, PROMOTER]
KEEPERS = [PROMOTER]

ROWS: list[Row] = [
    # --- pages: funds --------------------------------------------------------------------------------
    R("investment:funds", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment:fund-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:fund-new", POST, body="fin_fund_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:fund", GET, "fin_fund", default=FORBIDDEN, ok=READERS),
    R("investment:fund-edit", GET, "fin_fund", default=FORBIDDEN, ok=KEEPERS),
    R("investment:fund-edit", POST, "fin_fund", body="fin_fund_edit", default=FORBIDDEN, ok=KEEPERS),
    # --- pages: financing needs (staff) ---------------------------------------------------------------
    R(
        "investment:needs",
        GET,
        default=FORBIDDEN,
        ok=[*READERS, STEWARD, STEWARD_X],
        note="a scoped list: a steward sees its enterprises' needs",
    ),
    R("investment:need-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:need-new", POST, body="fin_need_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:need", GET, "fin_need", default=FORBIDDEN, ok=[*READERS, STEWARD], not_found=[STEWARD_X]),
    R("investment:need-edit", GET, "fin_need", default=FORBIDDEN, ok=KEEPERS),
    R("investment:need-edit", POST, "fin_need", body="fin_need_edit", default=FORBIDDEN, ok=KEEPERS),
    *[
        row
        for name, body in (
            ("investment:need-withdraw", "fin_version"),
            ("investment:need-fulfil", "fin_version"),
            ("investment:need-outcome", "fin_need_outcome"),
        )
        for row in (
            post_only(name, "fin_need"),
            R(name, POST, "fin_need", body=body, default=FORBIDDEN, ok=KEEPERS),
        )
    ],
    # --- pages: roadshows -----------------------------------------------------------------------------
    R("investment:roadshows", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment:roadshow-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:roadshow-new", POST, body="fin_roadshow_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:roadshow", GET, "fin_roadshow", default=FORBIDDEN, ok=READERS),
    *[
        row
        for name, body in (
            ("investment:roadshow-invite", "fin_invite"),
            ("investment:roadshow-outcome", "fin_roadshow_outcome"),
        )
        for row in (
            post_only(name, "fin_roadshow"),
            R(name, POST, "fin_roadshow", body=body, default=FORBIDDEN, ok=KEEPERS),
        )
    ],
    # --- pages: the enterprise's portal ---------------------------------------------------------------
    R("investment:my-needs", GET, default=FORBIDDEN, ok=[ENT, ENT_X], note="its own enterprise's needs"),
    R("investment:my-need-new", GET, default=FORBIDDEN, ok=[ENT, ENT_X]),
    R(
        "investment:my-need-new",
        POST,
        body="fin_my_need_new",
        default=FORBIDDEN,
        ok=[ENT],
        invalid=[ENT_X],
        note="ent_a1 is not among another enterprise's user's choices",
    ),
    R("investment:my-need", GET, "fin_need", default=FORBIDDEN, ok=[ENT], not_found=[ENT_X]),
    R("investment:my-need-edit", GET, "fin_need", default=FORBIDDEN, ok=[ENT], not_found=[ENT_X]),
    R(
        "investment:my-need-edit",
        POST,
        "fin_need",
        body="fin_need_edit",
        default=FORBIDDEN,
        ok=[ENT],
        not_found=[ENT_X],
    ),
    post_only("investment:my-need-withdraw", "fin_need"),
    R(
        "investment:my-need-withdraw",
        POST,
        "fin_need",
        body="fin_version",
        default=FORBIDDEN,
        ok=[ENT],
        not_found=[ENT_X],
    ),
    # --- API: funds -----------------------------------------------------------------------------------
    R("investment-fund-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment-fund-list", POST, body="api:fin_fund", default=FORBIDDEN, ok=KEEPERS),
    R("investment-fund-detail", GET, "fin_fund", default=FORBIDDEN, ok=READERS),
    R("investment-fund-detail", PATCH, "fin_fund", body="api:fin_fund_patch", default=FORBIDDEN, ok=KEEPERS),
    R("investment-fund-matches", GET, "fin_fund", default=FORBIDDEN, ok=READERS),
    # --- API: financing needs -------------------------------------------------------------------------
    R(
        "investment-financing-need-list",
        GET,
        default=FORBIDDEN,
        ok=[*READERS, STEWARD, STEWARD_X, ENT, ENT_X],
        note="a scoped list",
    ),
    R(
        "investment-financing-need-list",
        POST,
        body="api:fin_need",
        default=FORBIDDEN,
        ok=[PROMOTER, ENT],
        bad_input=[ENT_X],
        note="ent_a1 'does not exist' for another enterprise's user (400)",
    ),
    R(
        "investment-financing-need-detail",
        GET,
        "fin_need",
        default=FORBIDDEN,
        ok=[*READERS, STEWARD, ENT],
        not_found=[STEWARD_X, ENT_X],
    ),
    R(
        "investment-financing-need-detail",
        PATCH,
        "fin_need",
        body="api:fin_need_patch",
        default=FORBIDDEN,
        ok=[PROMOTER, ENT],
        not_found=[ENT_X],
    ),
    R(
        "investment-financing-need-withdraw",
        POST,
        "fin_need",
        body="fin_version",
        default=FORBIDDEN,
        ok=[PROMOTER, ENT],
        not_found=[ENT_X],
    ),
    R(
        "investment-financing-need-fulfil",
        POST,
        "fin_need",
        body="fin_version",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    R(
        "investment-financing-need-matches",
        GET,
        "fin_need",
        default=FORBIDDEN,
        ok=READERS,
        note="funds' scores: never the enterprise's nor the steward's",
    ),
    R(
        "investment-financing-need-outcomes",
        POST,
        "fin_need",
        body="api:fin_need_outcome",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    # --- API: roadshows and outcomes ------------------------------------------------------------------
    R("investment-roadshow-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment-roadshow-list", POST, body="api:fin_roadshow", default=FORBIDDEN, ok=KEEPERS),
    R("investment-roadshow-detail", GET, "fin_roadshow", default=FORBIDDEN, ok=READERS),
    R(
        "investment-roadshow-invite",
        POST,
        "fin_roadshow",
        body="fin_invite_api",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    R("investment-roadshow-outcomes", GET, "fin_roadshow", default=FORBIDDEN, ok=READERS),
    R(
        "investment-roadshow-outcomes",
        POST,
        "fin_roadshow",
        body="api:fin_roadshow_outcome",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    R("investment-financing-outcome-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment-financing-outcome-totals", GET, default=FORBIDDEN, ok=READERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A chain of its own, a fund focusing on its 电芯, two open needs of ent_a1 posted by its user, and a
    roadshow with the fund and the first need invited (the second is left to invite)."""
    chain = make_chain(cast.zone_a, cast.promoter_a, name="融资矩阵链")
    fund = financing.create_fund(
        zone=cast.zone_a,
        by=cast.promoter_a,
        name="融资矩阵基金",
        manager="矩阵资本",
        size=Decimal("100000"),
        ticket_min=Decimal("100"),
        ticket_max=Decimal("5000"),
        stages=[InvestmentStage.EARLY],
        kinds=[FinancingKind.EQUITY],
        focus_nodes=[node(chain, "电芯")],
        contact_name="张经理",
        contact_phone="13912345678",
    )
    needed_by = today() + timedelta(days=60)
    need, need2 = (
        financing.post_need(
            cast.ent_a1,
            by=cast.ent_user_a1,
            amount=Decimal(amount),
            kind=FinancingKind.EQUITY,
            stage=InvestmentStage.EARLY,
            purpose=purpose,
            needed_by=needed_by,
        )
        for amount, purpose in (("1000", "矩阵扩产"), ("500", "矩阵研发"))
    )
    roadshow = financing.create_roadshow(
        zone=cast.zone_a, by=cast.promoter_a, title="融资矩阵路演", held_on=today()
    )
    financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund], needs=[need])
    objects.update(fin_chain=chain, fin_fund=fund, fin_need=need, fin_need2=need2, fin_roadshow=roadshow)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "fin_fund": {"pk": objects["fin_fund"].pk},
        "fin_need": {"pk": objects["fin_need"].pk},
        "fin_roadshow": {"pk": objects["fin_roadshow"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    fund, need, need2 = objects["fin_fund"], objects["fin_need"], objects["fin_need2"]
    day = today().isoformat()
    need_form = {
        "amount": "1200",
        "kind": FinancingKind.EQUITY,
        "stage": InvestmentStage.EARLY,
        "purpose": "矩阵扩产二期",
        "needed_by": (today() + timedelta(days=90)).isoformat(),
    }
    fund_form = {
        "name": "融资矩阵基金",
        "manager": "矩阵资本",
        "size": "100000",
        "kinds": [FinancingKind.EQUITY],
        "stages": [InvestmentStage.EARLY],
        "ticket_min": "100",
        "ticket_max": "8000",
        "focus_nodes": [node(objects["fin_chain"], "电芯").pk],
        "contact_name": "张经理",
        "contact_phone": "13912345678",
    }
    outcome = {"amount": "100", "invested_on": day}
    return {
        "fin_fund_new": {**fund_form, "zone": cast.zone_a.pk, "name": "融资矩阵新基金"},
        "fin_fund_edit": {**fund_form, "version": fund.version},
        "fin_need_new": {**need_form, "enterprise": cast.ent_a1.pk},
        "fin_my_need_new": {**need_form, "enterprise": cast.ent_a1.pk},
        "fin_need_edit": {**need_form, "version": need.version},
        "fin_version": {"version": need.version},
        "fin_need_outcome": {**outcome, "investor": "矩阵银行"},
        "fin_roadshow_new": {
            "zone": cast.zone_a.pk,
            "title": "融资矩阵新路演",
            "held_on": day,
            "location": "会展中心",
        },
        "fin_invite": {"needs": [need2.pk]},
        "fin_invite_api": {"needs": [need2.pk], "funds": [fund.pk]},
        "fin_roadshow_outcome": {**outcome, "need": need.pk, "fund": fund.pk},
        "api:fin_fund": {
            "name": "融资矩阵API基金",
            "manager": "矩阵资本",
            "size": "1000",
            "ticket_max": "500",
        },
        "api:fin_fund_patch": {"ticket_max": "9000", "version": fund.version},
        "api:fin_need": {**need_form, "enterprise": cast.ent_a1.pk},
        "api:fin_need_patch": {"purpose": "矩阵扩产（修订）", "version": need.version},
        "api:fin_need_outcome": {**outcome, "investor": "矩阵银行"},
        "api:fin_roadshow": {"title": "融资矩阵API路演", "held_on": day},
        "api:fin_roadshow_outcome": {**outcome, "need": need.pk, "fund": fund.pk},
    }
