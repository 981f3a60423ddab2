"""Permission-matrix rows of the policies app: delivery (see __init__.py for the shape).

A policy of zone A's 市场监管局 (market_a): its keepers are handler_a (HANDLER) and the department's
head (HEAD). Deliveries of its items to ent_a1 wait in pushed, applied and approved. Who reads a delivery
(Delivery.objects.visible_to): the keepers, ent_a1's steward and users, zone A's leader, supervisor and
dispatcher; any other holder of a reading role (another zone's steward or dispatcher, a handler or head
of another department, the user of another enterprise) gets 404. A leader, supervisor or dispatcher
reads and gets 403 on every write; the enterprise user reads on its portal and through the API, and
applies. The push buttons: ent_a1's steward and the keepers; push-all and auto-grant: the keepers only
(a handler of another department of zone A sees the policy, so it gets 403; zone B's, 404).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from guanjia.policies import delivery
from guanjia.policies.access import today
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.tests_matrix.matrix import (
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
    POST,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)

KEEPERS = [HANDLER, HEAD]
# Other holders of the keepers' roles: another department of zone A (CO, HANDLER_X, HEAD_X), zone B's.
OTHER_HANDLERS = [HANDLER_X, HANDLER_Z, CO, HEAD_X]
OVERSEERS = [DISP, SUP, LEADER]
# Who may open the staff pages at all (each sees its own deliveries: a scoped list).
PAGE_READERS = [*KEEPERS, *OTHER_HANDLERS, STEWARD, STEWARD_X, *OVERSEERS, DISP_X]
# Who sees ent_a1's deliveries of market_a's policy.
SEES = [*KEEPERS, STEWARD, *OVERSEERS]
SEES_NOT = [*OTHER_HANDLERS, STEWARD_X, DISP_X]


def _step(name: str, target: str, body: str) -> list[Row]:
    """A keeper's step on a page: the keepers may; other handlers do not see the delivery (404)."""
    return [
        post_only(name, target),
        R(name, POST, target, body=body, default=FORBIDDEN, ok=KEEPERS, not_found=OTHER_HANDLERS),
    ]


def _api_step(name: str, target: str, body: str) -> Row:
    return R(name, POST, target, body=body, default=FORBIDDEN, ok=KEEPERS, not_found=OTHER_HANDLERS)


ROWS: list[Row] = [
    # --- pages -------------------------------------------------------------------------------------------
    R("policies:deliveries", GET, default=FORBIDDEN, ok=PAGE_READERS, note="a scoped list"),
    R("policies:deliveries-export", GET, default=FORBIDDEN, ok=PAGE_READERS, note="a scoped export"),
    R("policies:totals", GET, default=FORBIDDEN, ok=PAGE_READERS, note="scoped totals"),
    R("policies:delivery", GET, "pol_dl_applied", default=FORBIDDEN, ok=SEES, not_found=SEES_NOT),
    post_only("policies:delivery-apply", "pol_dl_pushed"),
    R(
        "policies:delivery-apply",
        POST,
        "pol_dl_pushed",
        body="pol_dl_apply",
        default=FORBIDDEN,
        ok=[ENT, STEWARD],
        not_found=[ENT_X, STEWARD_X],
        note="the enterprise applies; its steward on its behalf",
    ),
    *_step("policies:delivery-approve", "pol_dl_applied", "pol_dl_approve"),
    *_step("policies:delivery-reject", "pol_dl_applied", "pol_dl_reject"),
    *_step("policies:delivery-disburse", "pol_dl_approved", "pol_dl_disburse"),
    post_only("policies:push", "pol_dl_push"),
    R(
        "policies:push",
        POST,
        "pol_dl_push",
        default=FORBIDDEN,
        ok=[STEWARD, *KEEPERS],
        not_found=[STEWARD_X, *OTHER_HANDLERS],
        note="ent_a1 is not among the enterprises another handler or steward may push to",
    ),
    post_only("policies:push-all", "pol_dl_item"),
    R(
        "policies:push-all",
        POST,
        "pol_dl_item",
        default=FORBIDDEN,
        ok=KEEPERS,
        not_found=[HANDLER_Z],
        note="zone B's handler does not see the policy",
    ),
    post_only("policies:auto-grant", "pol_dl_auto_item"),
    R("policies:auto-grant", POST, "pol_dl_auto_item", default=FORBIDDEN, ok=KEEPERS, not_found=[HANDLER_Z]),
    R("policies:portal", GET, default=FORBIDDEN, ok=[ENT, ENT_X], note="its own enterprise's benefits"),
    # --- API ---------------------------------------------------------------------------------------------
    R("policy-delivery-list", GET, default=FORBIDDEN, ok=[*PAGE_READERS, ENT, ENT_X], note="a scoped list"),
    R(
        "policy-delivery-list",
        POST,
        body="api:pol_dl_push",
        default=FORBIDDEN,
        ok=[STEWARD, *KEEPERS],
        bad_input=[STEWARD_X, *OTHER_HANDLERS],
        note="the item or ent_a1 'does not exist' for them (400)",
    ),
    R(
        "policy-delivery-detail",
        GET,
        "pol_dl_applied",
        default=FORBIDDEN,
        ok=[*SEES, ENT],
        not_found=[*SEES_NOT, ENT_X],
    ),
    R(
        "policy-delivery-apply",
        POST,
        "pol_dl_pushed",
        body="pol_dl_apply",
        default=FORBIDDEN,
        ok=[ENT, STEWARD],
        not_found=[ENT_X, STEWARD_X],
    ),
    _api_step("policy-delivery-approve", "pol_dl_applied", "pol_dl_approve"),
    _api_step("policy-delivery-reject", "pol_dl_applied", "pol_dl_reject"),
    _api_step("policy-delivery-disburse", "pol_dl_approved", "pol_dl_disburse"),
    R("policy-delivery-totals", GET, default=FORBIDDEN, ok=[*PAGE_READERS, ENT, ENT_X], note="scoped totals"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """market_a's policy with an item not yet pushed to anyone, a 免申即享 item, and three more items whose
    deliveries to ent_a1 wait in pushed, applied and approved."""
    policy = make_policy(cast.market_a, created_by=cast.handler_a, title="兑现矩阵政策")

    def item(name: str, **fields: Any) -> Any:
        return make_item(policy, name=name, max_amount=Decimal("100"), **fields)

    fresh, auto = item("矩阵新事项"), item("矩阵免申即享事项", auto_grant=True)
    pushed = delivery.push(item("矩阵已推送事项"), cast.ent_a1, by=cast.steward_a)
    applied = delivery.push(item("矩阵待审核事项"), cast.ent_a1, by=cast.steward_a)
    delivery.apply(applied, by=cast.ent_user_a1)
    approved = delivery.push(item("矩阵已审核事项"), cast.ent_a1, by=cast.steward_a)
    delivery.apply(approved, by=cast.ent_user_a1)
    delivery.approve(approved, by=cast.handler_a)
    objects.update(
        pol_dl_item=fresh,
        pol_dl_auto_item=auto,
        pol_dl_pushed=pushed,
        pol_dl_applied=applied,
        pol_dl_approved=approved,
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "pol_dl_item": {"pk": objects["pol_dl_item"].pk},
        "pol_dl_auto_item": {"pk": objects["pol_dl_auto_item"].pk},
        "pol_dl_push": {"item_pk": objects["pol_dl_item"].pk, "enterprise_pk": world.cast.ent_a1.pk},
        "pol_dl_pushed": {"pk": objects["pol_dl_pushed"].pk},
        "pol_dl_applied": {"pk": objects["pol_dl_applied"].pk},
        "pol_dl_approved": {"pk": objects["pol_dl_approved"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    applied = objects["pol_dl_applied"]
    return {
        "pol_dl_apply": {"version": objects["pol_dl_pushed"].version, "note": "已准备材料"},
        "pol_dl_approve": {"version": applied.version, "note": "材料齐全"},
        "pol_dl_reject": {"version": applied.version, "reason": "不符合条件"},
        "pol_dl_disburse": {
            "version": objects["pol_dl_approved"].version,
            "amount": "10",
            "disbursed_on": today().isoformat(),
        },
        "api:pol_dl_push": {"item": objects["pol_dl_item"].pk, "enterprise": world.cast.ent_a1.pk},
    }
