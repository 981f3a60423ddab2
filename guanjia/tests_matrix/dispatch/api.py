"""Permission-matrix rows of the dispatch app: its API (see __init__.py for the shape).

A 用地规划 appeal of ent_a1 waits for dispatch in zone A; its words (厂房, 用地, 规划) point the keyword
rules to 用地规划, which zone A routes to 市场监管局, so there is a first suggestion to take.

- The desk (suggestions, similar appeals): zone A's dispatcher, supervisor and leader; whoever else sees
  the appeal (its enterprise user and steward) gets 403, those who do not 404; accounts without a
  business role (no role, 三员) 403. Only the zone's dispatcher takes a suggestion.
- Text suggestions: zone A's desk readers; zone B's dispatcher names a zone it does not have (400).
- Intake similarity: who may submit for ent_a1 (its user, its steward, zone A's dispatcher); the other
  submitters name an enterprise they do not see (400); everyone else 403.
- Search: every business account (the role-less one finds nothing); the 三员 403.
- Routing: read by the dispatchers, supervisors and leaders of their zones and by the system admin
  (zone B's dispatcher does not see zone A's run: 404); retrained by the dispatchers of the zone and
  the system admin; the keyword rules (one set for all zones) edited by any dispatcher or the system admin.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Channel
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.dispatch.models import RoutingModel
from guanjia.tests_matrix.matrix import (
    AUD,
    DISP,
    DISP_X,
    ENT,
    ENT_X,
    FORBIDDEN,
    GET,
    LEADER,
    NOROLE,
    NOT_FOUND,
    OK,
    PATCH,
    POST,
    SEC,
    STEWARD,
    STEWARD_X,
    SUP,
    SYS,
    R,
    Row,
)

DESK = [DISP, SUP, LEADER]
SEES_NOT_DESK = [ENT, STEWARD, NOROLE, SYS, SEC, AUD]  # see the appeal, or no business account: 403
ROUTING_READERS = [DISP, DISP_X, SUP, LEADER, SYS]
ADMIN = [SYS, SEC, AUD]

ROWS: list[Row] = [
    R("appeal-suggestions", GET, "api_dispatch_appeal", default=NOT_FOUND, ok=DESK, forbidden=SEES_NOT_DESK),
    R(
        "appeal-take-suggestion",
        POST,
        "api_dispatch_appeal",
        body="api:dispatch_take",
        default=NOT_FOUND,
        ok=[DISP],
        forbidden=[SUP, LEADER, *SEES_NOT_DESK],
    ),
    R(
        "routing-suggest",
        POST,
        body="api:dispatch_suggest",
        default=FORBIDDEN,
        ok=DESK,
        bad_input=[DISP_X],
        note="zone B's dispatcher names zone A, not one of its zones",
    ),
    R("appeal-similar", GET, "api_dispatch_appeal", default=NOT_FOUND, ok=DESK, forbidden=SEES_NOT_DESK),
    R(
        "similar-appeals",
        POST,
        body="api:dispatch_similar",
        default=FORBIDDEN,
        ok=[ENT, STEWARD, DISP],
        bad_input=[ENT_X, STEWARD_X, DISP_X],
        note="submitters naming ent_a1, which they do not see, are told it does not exist",
    ),
    R("search", GET, body="q:dispatch_search", default=OK, forbidden=ADMIN, note="a scoped search"),
    R("routing-model-list", GET, default=FORBIDDEN, ok=ROUTING_READERS, note="a scoped list"),
    R(
        "routing-model-detail",
        GET,
        "api_dispatch_model",
        default=FORBIDDEN,
        ok=[DISP, SUP, LEADER, SYS],
        not_found=[DISP_X],
    ),
    R(
        "routing-model-retrain",
        POST,
        body="api:dispatch_retrain",
        default=FORBIDDEN,
        ok=[DISP, SYS],
        bad_input=[DISP_X],
    ),
    R("routing-model-adoption", GET, default=FORBIDDEN, ok=ROUTING_READERS),
    R("keyword-rule-list", GET, default=FORBIDDEN, ok=ROUTING_READERS),
    R("keyword-rule-detail", GET, "api_dispatch_rule", default=FORBIDDEN, ok=ROUTING_READERS),
    R(
        "keyword-rule-detail",
        PATCH,
        "api_dispatch_rule",
        body="api:dispatch_rule",
        default=FORBIDDEN,
        ok=[DISP, DISP_X, SYS],
    ),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A 用地规划 appeal of ent_a1 waiting for dispatch, a training run of zone A, the keyword rules."""
    rules = ensure_default_rules()
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title="新建厂房用地规划许可咨询",
        body="我司计划在园区新建厂房，想了解用地规划许可的办理流程和所需材料。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
    )
    run = RoutingModel.objects.create(
        zone=cast.zone_a,
        created_at=timezone.now(),
        algorithm="matrix",
        note="历史数据不足（0 条，至少 100 条），继续使用关键词规则",
        blob=b"",
    )
    objects.update(api_dispatch_appeal=appeal, api_dispatch_model=run, api_dispatch_rule=rules["land"])


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "api_dispatch_appeal": {"pk": objects["api_dispatch_appeal"].pk},
        "api_dispatch_model": {"pk": objects["api_dispatch_model"].pk},
        "api_dispatch_rule": {"pk": objects["api_dispatch_rule"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    text = {"title": "厂房用地规划许可办理", "body": "新建厂房的用地规划许可需要哪些材料。"}
    return {
        "api:dispatch_take": {"rank": 1},
        "api:dispatch_suggest": {"zone": cast.zone_a.pk, **text},
        "api:dispatch_similar": {"enterprise": cast.ent_a1.pk, **text},
        "q:dispatch_search": {"q": "厂房 用地"},
        "api:dispatch_retrain": {"zone": cast.zone_a.pk},
        "api:dispatch_rule": {
            "words": "用地 土地 规划 厂房",
            "version": objects["api_dispatch_rule"].version,
        },
    }
