"""Permission-matrix rows of the dispatch app: the dispatcher's desk, the intake panel and the routing page
(see __init__.py for the shape).

ent_a1 raised two appeals about its plant's land: one waits for dispatch (its keywords point to 用地规划,
which zone A routes to 市场监管局), the other is already with 市场监管局. The desk (suggestions, similar
appeals) is read by zone A's dispatcher, supervisor and leader; its writes (一键交办, 合并) are the
dispatcher's. Those who see the appeal without the desk (its enterprise's user, its steward; the handling
department on the handled one) get 403; everyone else does not see it: 404.

The intake panel is for whoever sees the enterprise (Enterprise.objects.visible_to): its user, its
steward and zone A's zone-wide staff; another enterprise's user, another zone's staff and the departments
get 404; no-role and 三员 accounts 403. The routing page is read by the dispatchers, supervisors and
leaders (each their own zone) and the system admin; its writes are the dispatchers' (their own zone) and
the system admin's.
"""

from __future__ import annotations

from typing import Any

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Channel
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.tests_matrix.matrix import (
    AUD,
    DISP,
    DISP_X,
    ENT,
    FORBIDDEN,
    GET,
    HANDLER,
    HEAD,
    LEADER,
    NOROLE,
    NOT_FOUND,
    POST,
    PROMOTER,
    SEC,
    STEWARD,
    SUP,
    SYS,
    R,
    Row,
    post_only,
)

DESK_READERS = [DISP, SUP, LEADER]
# See the waiting appeal (and the handled one) without the desk.
SEES_NOT_DESK = [ENT, STEWARD]
# Enterprise.objects.visible_to for ent_a1: its user, its steward, zone A's zone-wide roles.
SEES_ENTERPRISE = [ENT, STEWARD, DISP, SUP, LEADER, PROMOTER]
NOT_BUSINESS = [NOROLE, SYS, SEC, AUD]
ROUTING_READERS = [DISP, DISP_X, SUP, LEADER, SYS]
ROUTING_KEEPERS = [DISP, DISP_X, SYS]

ROWS: list[Row] = [
    # --- 智能分派建议 and 一键交办 ------------------------------------------------------------------------
    R(
        "dispatch:suggestions",
        GET,
        "dx_waiting",
        default=NOT_FOUND,
        ok=DESK_READERS,
        forbidden=SEES_NOT_DESK,
    ),
    post_only("dispatch:take", "dx_take"),
    R(
        "dispatch:take",
        POST,
        "dx_take",
        body="dx_waiting_version",
        default=NOT_FOUND,
        ok=[DISP],
        forbidden=[*SEES_NOT_DESK, SUP, LEADER],
        note="the dispatcher dispatches by suggestion 1 (用地规划 → 市场监管局)",
    ),
    # --- 相似诉求 and 合并 ------------------------------------------------------------------------------
    R(
        "dispatch:similar",
        GET,
        "dx_waiting",
        default=NOT_FOUND,
        ok=DESK_READERS,
        forbidden=SEES_NOT_DESK,
    ),
    R(
        "dispatch:similar",
        GET,
        "dx_handled",
        default=NOT_FOUND,
        ok=DESK_READERS,
        forbidden=[*SEES_NOT_DESK, HANDLER, HEAD],
        note="the handling department sees the appeal, not the desk",
    ),
    post_only("dispatch:merge", "dx_merge"),
    R(
        "dispatch:merge",
        POST,
        "dx_merge",
        body="dx_waiting_version",
        default=NOT_FOUND,
        ok=[DISP],
        forbidden=[*SEES_NOT_DESK, SUP, LEADER],
        note="the department sees the master, not the child: 404",
    ),
    # --- the intake panel ------------------------------------------------------------------------------
    R(
        "dispatch:similar-draft",
        GET,
        body="q:dx_draft",
        default=NOT_FOUND,
        ok=SEES_ENTERPRISE,
        forbidden=NOT_BUSINESS,
        note="another enterprise's user, zone B's staff and the departments do not see ent_a1",
    ),
    # --- the routing page ------------------------------------------------------------------------------
    R("dispatch:routing", GET, default=FORBIDDEN, ok=ROUTING_READERS, note="each reader its own zone"),
    post_only("dispatch:retrain"),
    R(
        "dispatch:retrain",
        POST,
        body="dx_retrain",
        default=FORBIDDEN,
        ok=[DISP, SYS],
        not_found=[DISP_X],
        note="zone A's model: zone B's dispatcher does not read zone A (404)",
    ),
    R("dispatch:rule-edit", GET, "dx_rule", default=FORBIDDEN, ok=ROUTING_KEEPERS),
    R("dispatch:rule-edit", POST, "dx_rule", body="dx_rule_edit", default=FORBIDDEN, ok=ROUTING_KEEPERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Two appeals of ent_a1 about its plant's land: one waiting, one with 市场监管局 (zone A's route)."""
    rules = ensure_default_rules()
    land = objects["land"]

    def submit(title: str) -> Any:
        return lifecycle.submit_appeal(
            cast.ent_a1,
            title=title,
            body="我司新建厂房的用地规划许可办理进度缓慢，请协调自然资源部门加快审批。",
            channel=Channel.PORTAL,
            by=cast.ent_user_a1,
            category=land,
        )

    handled = submit("矩阵：厂房用地规划许可办理缓慢")
    lifecycle.dispatch_appeal(handled, by=cast.dispatcher_a)
    waiting = submit("矩阵：新建厂房用地规划许可进度")
    for appeal in (handled, waiting):
        appeal.refresh_from_db()
    objects.update(dx_handled=handled, dx_waiting=waiting, dx_rule=rules["land"])


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    waiting, handled = objects["dx_waiting"], objects["dx_handled"]
    return {
        "dx_waiting": {"pk": waiting.pk},
        "dx_handled": {"pk": handled.pk},
        "dx_take": {"pk": waiting.pk, "rank": 1},
        "dx_merge": {"child": waiting.pk, "master": handled.pk},
        "dx_rule": {"pk": objects["dx_rule"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    return {
        "dx_waiting_version": {"version": objects["dx_waiting"].version},
        "q:dx_draft": {
            "enterprise": world.cast.ent_a1.pk,
            "title": "厂房用地规划许可",
            "body": "新建厂房的用地规划许可还没有办下来。",
        },
        "dx_retrain": {"zone": world.cast.zone_a.pk},
        "dx_rule_edit": {"words": "用地 土地 规划 厂房", "version": objects["dx_rule"].version},
    }
