"""Permission-matrix rows of the talent app (人才绿色通道).

Zone A routes 人才认定 and every service to 高新区市场监管局 (handler_a and its head decide); its leader set
tiers A–E. For ent_a1: an open need, an approved talent (with one document) with a housing service
asked for, and an application waiting.

ent_a1's talent work is seen by the enterprise's user and steward, the deciding department and zone A's
leader and supervisor; every other account of a reading role gets 404 (another enterprise, another zone,
another department); dispatchers, promoters, cadres, the account without a role and the three admins 403.
Only the enterprise's people write on the portal (zone B's are refused by the form's choices: invalid);
only the deciding department decides; only the zone's leader and supervisor keep the settings.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from guanjia.talent import services
from guanjia.talent.models import RouteKind, ServiceKind
from guanjia.tests_matrix.matrix import (
    CO,
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
    PATCH,
    POST,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)

REQUESTERS = [ENT, STEWARD]  # of ent_a1
REQUESTERS_X = [ENT_X, STEWARD_X]  # of zone B
DECIDERS = [HANDLER, HEAD]
DECIDERS_X = [HANDLER_X, HANDLER_Z, CO, HEAD_X]
OVERSEERS = [SUP, LEADER]
SEES = [*REQUESTERS, *DECIDERS, *OVERSEERS]
UNSEEN = [*REQUESTERS_X, *DECIDERS_X]
READERS = [*SEES, *UNSEEN]  # every role that reads some talent work
STAFF = [*DECIDERS, *DECIDERS_X, *OVERSEERS]
# Valid resident ID numbers (GB 11643).
ID_APPROVED = "11010519491231002X"
ID_WAITING = "320582198503124017"
ID_NEW = "320582199007182028"


def _seen(name: str, target: str) -> Row:
    return R(name, GET, target, default=FORBIDDEN, ok=SEES, not_found=UNSEEN)


def _decide(page: str, api: str, target: str, body: str) -> list[Row]:
    return [
        post_only(page, target),
        R(page, POST, target, body=body, default=FORBIDDEN, ok=DECIDERS, not_found=DECIDERS_X),
        R(api, POST, target, body=f"api:{body}", default=FORBIDDEN, ok=DECIDERS, not_found=DECIDERS_X),
    ]


ROWS: list[Row] = [
    # --- the portal -----------------------------------------------------------------------------------
    R("talent:portal", GET, default=FORBIDDEN, ok=[*REQUESTERS, *REQUESTERS_X], note="a scoped list"),
    R("talent:need-new", GET, default=FORBIDDEN, ok=[*REQUESTERS, *REQUESTERS_X]),
    R("talent:need-new", POST, body="ta_need", default=FORBIDDEN, ok=REQUESTERS, invalid=REQUESTERS_X),
    post_only("talent:need-close", "ta_need"),
    R(
        "talent:need-close",
        POST,
        "ta_need",
        body="ta_need_close",
        default=FORBIDDEN,
        ok=REQUESTERS,
        not_found=REQUESTERS_X,
    ),
    R("talent:application-new", GET, default=FORBIDDEN, ok=[*REQUESTERS, *REQUESTERS_X]),
    R(
        "talent:application-new",
        POST,
        body="ta_apply",
        default=FORBIDDEN,
        ok=REQUESTERS,
        invalid=REQUESTERS_X,
    ),
    R("talent:service-new", GET, default=FORBIDDEN, ok=[*REQUESTERS, *REQUESTERS_X]),
    R("talent:service-new", POST, body="ta_ask", default=FORBIDDEN, ok=REQUESTERS, invalid=REQUESTERS_X),
    # --- the staff's pages ----------------------------------------------------------------------------
    R("talent:index", GET, default=FORBIDDEN, ok=STAFF, note="the department's worklist, the zone's figures"),
    _seen("talent:application", "ta_waiting"),
    _seen("talent:document", "ta_document"),
    _seen("talent:service", "ta_service"),
    *_decide("talent:application-decide", "talent-application-decide", "ta_waiting", "ta_decide_app"),
    *_decide("talent:service-decide", "talent-service-decide", "ta_service", "ta_decide_service"),
    R("talent:settings", GET, default=FORBIDDEN, ok=OVERSEERS),
    post_only("talent:tier-save"),
    R("talent:tier-save", POST, body="ta_tier", default=FORBIDDEN, ok=OVERSEERS),
    post_only("talent:route-save"),
    R("talent:route-save", POST, body="ta_route", default=FORBIDDEN, ok=OVERSEERS),
    # --- API ------------------------------------------------------------------------------------------
    R("talent-tier-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("talent-tier-list", POST, body="api:ta_tier", default=FORBIDDEN, ok=OVERSEERS),
    R(
        "talent-tier-detail",
        GET,
        "ta_tier",
        default=FORBIDDEN,
        ok=[*SEES, HANDLER_X, CO, HEAD_X],
        not_found=[*REQUESTERS_X, HANDLER_Z],
        note="the tiers of the zones one works in or acts for",
    ),
    R("talent-tier-detail", PATCH, "ta_tier", body="api:ta_tier_patch", default=FORBIDDEN, ok=OVERSEERS),
    R("talent-need-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("talent-need-list", POST, body="api:ta_need", default=FORBIDDEN, ok=REQUESTERS, bad_input=REQUESTERS_X),
    R("talent-need-detail", GET, "ta_need", default=FORBIDDEN, ok=SEES, not_found=UNSEEN),
    R(
        "talent-need-close",
        POST,
        "ta_need",
        body="api:ta_need_close",
        default=FORBIDDEN,
        ok=REQUESTERS,
        not_found=REQUESTERS_X,
    ),
    R("talent-application-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R(
        "talent-application-list",
        POST,
        body="api:ta_apply",
        default=FORBIDDEN,
        ok=REQUESTERS,
        bad_input=REQUESTERS_X,
    ),
    R("talent-application-detail", GET, "ta_waiting", default=FORBIDDEN, ok=SEES, not_found=UNSEEN),
    R("talent-service-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R(
        "talent-service-list",
        POST,
        body="api:ta_ask",
        default=FORBIDDEN,
        ok=REQUESTERS,
        bad_input=REQUESTERS_X,
    ),
    R("talent-service-detail", GET, "ta_service", default=FORBIDDEN, ok=SEES, not_found=UNSEEN),
    R("talent-counts-list", GET, default=FORBIDDEN, ok=OVERSEERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Tiers and routes of zone A, and ent_a1's need, approved talent (with a document and a service) and
    waiting application."""
    from guanjia.tests_matrix.world import pdf

    leader, user = cast.leader_a, cast.ent_user_a1
    tiers = {
        code: services.save_tier(cast.zone_a, by=leader, code=code, name=name, position=n)
        for n, (code, name) in enumerate((("A", "顶尖人才"), ("B", "领军人才"), ("C", "拔尖人才")), 1)
    }
    for kind in RouteKind.values:
        services.set_route(cast.zone_a, kind=kind, department=cast.market_a, by=leader)
    need = services.add_need(
        cast.ent_a1, by=user, post="矩阵岗位", count=2, by_date=date.today() + timedelta(days=60)
    )
    approved = services.submit_application(
        cast.ent_a1,
        by=user,
        person_name="矩阵人才",
        id_number=ID_APPROVED,
        phone="13951230001",
        tier=tiers["B"],
        files=[pdf("学位证书.pdf")],
    )
    services.decide_application(approved, by=cast.handler_a, approve=True)
    waiting = services.submit_application(
        cast.ent_a1,
        by=user,
        person_name="矩阵待认定",
        id_number=ID_WAITING,
        phone="13951230002",
        tier=tiers["C"],
    )
    service = services.request_service(approved, kind=ServiceKind.HOUSING, by=user, note="人才公寓")
    objects.update(
        ta_tier=tiers["A"],
        ta_need=need,
        ta_approved=approved,
        ta_document=approved.documents.get(),
        ta_waiting=waiting,
        ta_service=service,
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "ta_tier": {"pk": objects["ta_tier"].pk},
        "ta_need": {"pk": objects["ta_need"].pk},
        "ta_waiting": {"pk": objects["ta_waiting"].pk},
        "ta_document": {"pk": objects["ta_approved"].pk, "doc": objects["ta_document"].pk},
        "ta_service": {"pk": objects["ta_service"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    later = (date.today() + timedelta(days=30)).isoformat()
    need = {"enterprise": cast.ent_a1.pk, "post": "工艺工程师", "count": 3, "by_date": later}
    apply = {
        "enterprise": cast.ent_a1.pk,
        "person_name": "新申请人",
        "id_number": ID_NEW,
        "phone": "13951230003",
        "tier": objects["ta_tier"].pk,
    }
    ask = {"application": objects["ta_approved"].pk, "kind": "schooling", "note": "子女入学"}
    return {
        "ta_need": need,
        "api:ta_need": need,
        "ta_need_close": {"status": "filled", "version": objects["ta_need"].version},
        "api:ta_need_close": {"status": "filled", "version": objects["ta_need"].version},
        "ta_apply": apply,
        "api:ta_apply": apply,
        "ta_ask": ask,
        "api:ta_ask": ask,
        "ta_decide_app": {"decision": "approve", "version": objects["ta_waiting"].version},
        "api:ta_decide_app": {"approve": True, "version": objects["ta_waiting"].version},
        "ta_decide_service": {
            "decision": "grant",
            "result": "已安排人才公寓",
            "version": objects["ta_service"].version,
        },
        "api:ta_decide_service": {
            "grant": True,
            "result": "已安排人才公寓",
            "version": objects["ta_service"].version,
        },
        "ta_tier": {"zone": cast.zone_a.pk, "code": "D", "name": "骨干人才", "position": 4},
        "api:ta_tier": {"zone": cast.zone_a.pk, "code": "D", "name": "骨干人才", "position": 4},
        "api:ta_tier_patch": {"name": "顶尖人才（A类）", "version": objects["ta_tier"].version},
        "ta_route": {
            "route-zone": cast.zone_a.pk,
            "route-kind": "medical",
            "route-department": cast.market_a.pk,
            "route-workdays": 3,
        },
    }
