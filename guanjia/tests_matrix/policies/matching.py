"""Permission-matrix rows of the policies app: matching (see __init__.py for the shape).

A benefit item of zone A's 市场监管局 policy (for small enterprises: ent_a1 qualifies). Its page and
its API read are for every business account of zone A (the policy library's readers: Policy.objects.
visible_to); those of zone B get 404; no-role and 三员 accounts 403. An enterprise's benefits (the card
on its page, and its API read) follow the enterprise page: its user, its steward and the zone's staff;
another enterprise's user, another zone's steward and dispatcher get 404; roles that see no enterprise
403. The steward's worklist is every steward's own page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from guanjia.policies import library
from guanjia.tests_matrix.matrix import (
    CADRE,
    CO,
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
    PROMOTER,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
)

# Who reads zone A's policy (and so its item's matches), and the readers it does not cover (404).
ZONE_A_READERS = [ENT, STEWARD, DISP, HANDLER, HANDLER_X, CO, HEAD, HEAD_X, SUP, LEADER, PROMOTER, CADRE]
ZONE_B_READERS = [ENT_X, STEWARD_X, DISP_X, HANDLER_Z]
# Who sees ent_a1 (Enterprise.objects.visible_to), and who of the enterprise readers does not (404).
SEES_ENTERPRISE = [ENT, STEWARD, DISP, SUP, LEADER, PROMOTER]
MISSES_ENTERPRISE = [ENT_X, STEWARD_X, DISP_X]


def _item(name: str) -> Row:
    return R(name, GET, "match_item", default=FORBIDDEN, ok=ZONE_A_READERS, not_found=ZONE_B_READERS)


def _benefits(name: str) -> Row:
    return R(name, GET, "enterprise", default=FORBIDDEN, ok=SEES_ENTERPRISE, not_found=MISSES_ENTERPRISE)


ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    _item("policies:item"),
    _benefits("policies:enterprise-benefits"),
    R(
        "policies:steward-benefits",
        GET,
        default=FORBIDDEN,
        ok=[STEWARD, STEWARD_X],
        note="each steward's own enterprises",
    ),
    # --- API -----------------------------------------------------------------------------------------
    _item("policy-matching-item-detail"),
    _benefits("policy-matching-enterprise-detail"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Zone A's 市场监管局 policy (by handler_a) with an item for small enterprises (ent_a1 is one)."""
    policy = library.create_policy(
        by=cast.handler_a,
        title="矩阵小微企业扶持政策",
        issuer="高新区管委会",
        document_number="矩阵〔2026〕2号",
        effective_on=date(2026, 1, 1),
    )
    objects["match_item"] = library.add_item(
        policy, by=cast.handler_a, name="矩阵小微企业补贴", scales=["small"]
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {"match_item": {"pk": world.objects["match_item"].pk}}


def bodies(world: Any) -> dict[str, Any]:
    return {}
