"""API fuzz positives of the dispatch app: the suggestions and similar appeals of an appeal waiting on the
demo dispatcher's desk, the intake check of the demo enterprise user, the search, and the routing of the
demo zone (its training runs, retraining, adoption and keyword rules)."""

from __future__ import annotations

from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Channel
from guanjia.core.models import User
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.dispatch.models import RoutingModel
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.tests_fuzz.world import Positive

TITLE = "食品经营许可证到期换证办理咨询"
BODY = "我司食品经营许可证下月到期，请问换证需要准备哪些材料，能否在政务服务窗口一次办结。"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    enterprise = EnterpriseMembership.objects.get(user=users["enterprise_user"]).enterprise
    zone = enterprise.zone

    def waiting(title: str) -> int:
        appeal = lifecycle.submit_appeal(
            enterprise, title=title, body=BODY, channel=Channel.PORTAL, by=users["enterprise_user"]
        )
        return appeal.pk

    looked_at, taken = waiting(TITLE), waiting(f"{TITLE}（一键交办）")
    rule = ensure_default_rules()["market"]
    run = RoutingModel.objects.create(
        zone=zone, created_at=timezone.now(), algorithm="fuzz", note="模糊测试训练记录", blob=b""
    )
    text = {"title": TITLE, "body": BODY}
    return [
        Positive("GET /api/appeals/{id}/suggestions/", "dispatcher", {"id": looked_at}),
        Positive("POST /api/appeals/{id}/take-suggestion/", "dispatcher", {"id": taken}, body={"rank": 1}),
        Positive("POST /api/routing/suggest/", "supervisor", body={"zone": zone.pk, **text}),
        Positive("GET /api/appeals/{id}/similar/", "leader", {"id": looked_at}, query={"limit": 5}),
        Positive("POST /api/similar-appeals/", "enterprise_user", body={"enterprise": enterprise.pk, **text}),
        Positive("GET /api/search/", "handler", query={"q": "食品 经营许可", "kind": "appeal", "limit": 10}),
        Positive("GET /api/routing-models/", "supervisor", query={"zone": zone.pk}),
        Positive("GET /api/routing-models/{id}/", "leader", {"id": run.pk}),
        Positive("POST /api/routing-models/retrain/", "dispatcher", body={"zone": zone.pk}),
        Positive("GET /api/routing-models/adoption/", "leader", query={"zone": zone.pk}),
        Positive("GET /api/keyword-rules/", "sysadmin"),
        Positive("GET /api/keyword-rules/{id}/", "supervisor", {"id": rule.pk}),
        Positive(
            "PATCH /api/keyword-rules/{id}/",
            "dispatcher",
            {"id": rule.pk},
            body={"words": f"{rule.words} 换证", "version": rule.version},
        ),
    ]
