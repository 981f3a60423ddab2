"""The database the API fuzz test runs against: the demo area, an API token per role, and objects in
the states the state-dependent operations need, so that each operation has a positive case (a real
id, a right body, a role allowed to call it) that must answer 2xx.

Everything is built through the services, as the platform itself would write it.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Max
from rest_framework.authtoken.models import Token

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals.models import Appeal, AppealCategory, Channel, Extension, Outcome, Rating, Review
from guanjia.campaigns import services as campaign_services
from guanjia.campaigns.demo import DEMO_NAME as DEMO_CAMPAIGN
from guanjia.campaigns.models import Campaign, CampaignTarget
from guanjia.cockpit import services as briefing_services
from guanjia.core import webhooks
from guanjia.core.models import DepartmentWebhook, OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.enterprises.uscc import with_check_digit
from guanjia.visits import services as visit_services
from guanjia.visits.models import Visit, VisitPhoto

# Smaller than `make demo`'s 320 enterprises: the same shapes (every role, appeals in every state)
# in about a fifth of the time.
DEMO_ENTERPRISES = 40

# The demo account the fuzzer acts as, per role (guanjia/enterprises/demo.py DEMO_LOGINS).
ROLE_USERS = {
    "enterprise_user": "gj_enterprise",
    "steward": "gj_steward1",
    "dispatcher": "gj_dispatcher",
    "handler": "gj_handler",
    "department_head": "gj_dept_head",
    "supervisor": "gj_supervisor",
    "leader": "gj_leader",
    "promoter": "gj_promoter",
    "seconded_cadre": "gj_cadre",
    "sysadmin": "gj_sysadmin",
}
# The tax department of the first zone has its head approve answers (guanjia/appeals/demo.py); its
# people act where an operation needs a second department or an approving head.
TAX_HANDLER = "gj_handler_tax"
TAX_HEAD = "gj_head_tax"
# The role each token key acts as, for the request counts.
ROLE_OF = {**{role: role for role in ROLE_USERS}, TAX_HANDLER: "handler", TAX_HEAD: "department_head"}

# Every request the test sends, per role; the terminal summary (conftest.py) reports it.
REQUESTS: Counter[str] = Counter()


@dataclass
class Positive:
    """One request that must succeed: an operation, the role calling it, and its parameters."""

    label: str  # "POST /api/appeals/{id}/sign/"
    role: str
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] | None = None
    body: Any = None
    media_type: str | None = None


@dataclass
class World:
    users: dict[str, User]
    tokens: dict[str, str]
    positives: list[Positive]
    # Real ids per path parameter and role, mixed into the generated cases.
    seeds: dict[str, dict[str, list[int]]]


def stable_seed(*parts: str) -> int:
    """A seed that is the same on every run for the same parts (hash() is salted per process)."""
    return zlib.crc32("|".join(parts).encode())


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _unit(user: User) -> OrgUnit:
    assert user.unit is not None, user
    return user.unit


class _Appeals:
    """Fresh appeals of the demo enterprise user's enterprise, walked to the state an operation needs."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self.enterprise = EnterpriseMembership.objects.get(user=users["enterprise_user"]).enterprise
        self.zone = self.enterprise.zone
        self.market = _unit(users["handler"])
        self.tax = _unit(_user(TAX_HANDLER))
        self.category = AppealCategory.objects.get(code="market")
        self.number = 0

    def submitted(self) -> Appeal:
        self.number += 1
        return lifecycle.submit_appeal(
            self.enterprise,
            title=f"模糊测试诉求 {self.number}",
            body="厂区门前道路破损，请协调修复。",
            channel=Channel.PORTAL,
            by=self.users["enterprise_user"],
            category=self.category,
        )

    def dispatched(self, to: OrgUnit | None = None, co: tuple[OrgUnit, ...] = ()) -> Appeal:
        appeal = self.submitted()
        lifecycle.dispatch_appeal(appeal, to=to or self.market, co=co, by=self.users["dispatcher"])
        return self.fresh(appeal)

    def signed(self, to: OrgUnit | None = None) -> Appeal:
        appeal = self.dispatched(to)
        by = _user(TAX_HANDLER) if to == self.tax else self.users["handler"]
        lifecycle.sign_appeal(appeal, by=by)
        return self.fresh(appeal)

    def answered(self) -> Appeal:
        appeal = self.signed()
        lifecycle.answer_appeal(
            appeal, answer="已协调修复。", outcome=Outcome.SOLVED, by=self.users["handler"]
        )
        return self.fresh(appeal)

    def drafted(self) -> Appeal:
        """Signed by the tax department, whose answers wait for its head."""
        appeal = self.signed(self.tax)
        lifecycle.answer_appeal(
            appeal, answer="拟答复：已办理。", outcome=Outcome.SOLVED, by=_user(TAX_HANDLER)
        )
        return self.fresh(appeal)

    def rated(self, level: int) -> Appeal:
        appeal = self.answered()
        lifecycle.rate_appeal(appeal, level=level, solved=False, by=self.users["enterprise_user"])
        return self.fresh(appeal)

    def needing_coordination(self) -> Appeal:
        """Reopened twice (two dissatisfied ratings): waits for a leader's decision."""
        appeal = self.answered()
        for round_ in range(2):
            lifecycle.rate_appeal(appeal, level=1, solved=False, by=self.users["enterprise_user"])
            appeal = self.fresh(appeal)
            if round_ == 0:
                lifecycle.answer_appeal(
                    appeal, answer="再次答复。", outcome=Outcome.PARTLY, by=self.users["handler"]
                )
                appeal = self.fresh(appeal)
        assert lifecycle.needs_coordination(appeal)
        return appeal

    @staticmethod
    def fresh(appeal: Appeal) -> Appeal:
        return Appeal.objects.get(pk=appeal.pk)


def _next_uscc() -> str:
    # A valid code (GB 32100) that no demo enterprise has: region 320591, a made-up organisation code.
    count = Enterprise.objects.count()
    return with_check_digit(f"91320591MA{count:06d}X")


def build_world() -> World:
    """Load the demo area and prepare one positive case per API operation."""
    call_command("demo_data", "--enterprises", str(DEMO_ENTERPRISES), stdout=StringIO())
    users = {role: _user(username) for role, username in ROLE_USERS.items()}
    tokens = {role: Token.objects.get_or_create(user=user)[0].key for role, user in users.items()}
    for username in (TAX_HANDLER, TAX_HEAD):
        tokens[username] = Token.objects.get_or_create(user=_user(username))[0].key
    appeals = _Appeals(users)
    sysadmin = users["sysadmin"]
    zone = appeals.zone
    enterprise = appeals.enterprise

    def appeal_params(appeal: Appeal) -> dict[str, Any]:
        return {"id": appeal.pk}

    attached = appeals.submitted()
    attachment = attachments.add_attachments(
        attached,
        [SimpleUploadedFile("说明.txt", "门前道路破损情况说明".encode(), "text/plain")],
        by=users["enterprise_user"],
    )[0]
    # One robot of each kind (a department has at most one per kind): one to change, one to delete.
    hooks = [
        webhooks.save_webhook(unit=appeals.market, kind=kind, url=url, by=sysadmin)
        for kind, url in (
            (DepartmentWebhook.Kind.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=fuzz"),
            (DepartmentWebhook.Kind.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fuzz"),
        )
    ]
    # An extension waiting for the supervisor; a rating dispute waiting for review.
    extending = appeals.signed()
    extension = lifecycle.request_extension(extending, days=2, reason="需现场勘查", by=users["handler"])
    disputed = appeals.rated(3)
    disputed_rating = Rating.objects.filter(appeal=disputed).latest("pk")
    review = lifecycle.dispute_rating(disputed_rating, reason="企业诉求超出职权范围", by=users["handler"])
    dispute_target = Rating.objects.filter(appeal=appeals.rated(3)).latest("pk")
    paused = appeals.signed()
    lifecycle.pause_appeal(paused, request="请补充道路照片", by=users["handler"])
    paused = appeals.fresh(paused)
    master = appeals.dispatched()
    duplicate = appeals.submitted()
    co_handled = appeals.dispatched(co=(appeals.tax,))
    other_steward = (
        User.objects.filter(role_grants__role=Role.STEWARD, unit__parent=zone)
        .exclude(pk__in=[enterprise.steward_id])
        .order_by("username")
        .first()
    )
    assert other_steward is not None
    start, end = "2026-01-01", "2027-01-01"
    # Last week's 周报 of the demo zone, as the schedule makes it.
    weekly = briefing_services.generate_briefing("weekly", zone, by=None).briefing
    # Visits first: the handover below may move the demo steward's enterprises away.
    visited = Enterprise.objects.filter(steward=users["steward"]).order_by("pk").first()
    assert visited is not None
    visit = Visit.objects.visible_to(users["steward"]).order_by("pk").first()
    assert visit is not None  # guanjia/visits/demo.py records some
    photographed = visit_services.record_visit(
        visited,
        by=users["steward"],
        visited_on=visit_services.today(),
        mode="onsite",
        our_side="服务管家",
        their_side="企业负责人",
        summary="现场查看",
        photos=[SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + bytes(32), content_type="image/png")],
    )
    plannable = list(
        Enterprise.objects.filter(steward=users["steward"]).exclude(pk=visited.pk).order_by("pk")[:2]
    )
    assert len(plannable) == 2
    planned = visit_services.plan_visit(plannable[0], on=visit_services.today(), by=users["steward"])
    # The demo's running campaign (guanjia/campaigns/demo.py), one of its targets and a steward to take it.
    campaign = Campaign.objects.get(name=DEMO_CAMPAIGN)
    campaign_target = CampaignTarget.objects.filter(campaign=campaign).order_by("pk").first()
    assert campaign_target is not None
    taker = campaign_services.stewards_for(campaign).exclude(pk=campaign_target.steward_id or 0).first()
    assert taker is not None
    positives = [
        Positive("GET /api/visits/", "steward", query={"mode": "onsite"}),
        Positive("GET /api/visits/{id}/", "steward", {"id": visit.pk}),
        Positive(
            "POST /api/visits/",
            "steward",
            body={
                "enterprise": visited.pk,
                "visited_on": visit_services.today().isoformat(),
                "mode": "onsite",
                "our_side": "服务管家",
                "their_side": "企业负责人",
                "summary": "了解经营情况",
                "appeals": [{"title": "用电增容", "body": "新产线需要增容。"}],
            },
        ),
        Positive("GET /api/visit-schedule/", "supervisor", query={"overdue": True}),
        Positive(
            "GET /api/visits/{id}/photos/{photo}/",
            "steward",
            {"id": photographed.pk, "photo": photographed.photos.get().pk},
        ),
        Positive(
            "PATCH /api/visit-schedule/{enterprise}/",
            "supervisor",
            {"enterprise": visited.pk},
            body={"interval_days": 45},
        ),
        Positive("GET /api/visit-plans/", "steward"),
        Positive("GET /api/visit-plans/{id}/", "supervisor", {"id": planned.pk}),
        Positive(
            "POST /api/visit-plans/",
            "steward",
            body={"enterprise": plannable[1].pk, "planned_on": visit_services.today().isoformat()},
        ),
        Positive("DELETE /api/visit-plans/{id}/", "steward", {"id": planned.pk}),
        Positive("GET /api/visit-overdue/by-zone/", "leader"),
        Positive("GET /api/visit-overdue/by-steward/", "supervisor", query={"zone": zone.pk}),
        Positive("GET /api/campaigns/", "leader", query={"status": "running"}),
        Positive(
            "POST /api/campaigns/",
            "dispatcher",
            body={
                "name": "助力解难题",
                "starts_on": visit_services.today().isoformat(),
                "ends_on": visit_services.today().isoformat(),
            },
        ),
        Positive("GET /api/campaigns/{id}/", "supervisor", {"id": campaign.pk}),
        Positive(
            "PATCH /api/campaigns/{id}/",
            "dispatcher",
            {"id": campaign.pk},
            body={"description": "冬季走访第二轮", "version": campaign.version},
        ),
        Positive("GET /api/campaigns/{id}/coverage/", "leader", {"id": campaign.pk}),
        Positive(
            "GET /api/campaigns/{id}/targets/", "dispatcher", {"id": campaign.pk}, query={"visited": False}
        ),
        Positive(
            "POST /api/campaigns/{id}/targets/",
            "dispatcher",
            {"id": campaign.pk},
            body={"filters": {"tiers": ["general"]}},
        ),
        Positive(
            "POST /api/campaigns/{id}/targets/assign/",
            "dispatcher",
            {"id": campaign.pk},
            body={"to_steward": taker.pk, "targets": [campaign_target.pk]},
        ),
        Positive("GET /api/appeal-categories/", "dispatcher"),
        Positive("GET /api/appeal-categories/{id}/", "dispatcher", {"id": appeals.category.pk}),
        Positive("GET /api/appeals/", "enterprise_user", query={"status": "submitted"}),
        Positive(
            "POST /api/appeals/",
            "enterprise_user",
            body={
                "enterprise": enterprise.pk,
                "title": "新诉求",
                "body": "用电增容申请进度。",
                "category": appeals.category.pk,
            },
        ),
        Positive("GET /api/appeals/{id}/", "enterprise_user", appeal_params(attached)),
        Positive("GET /api/appeals/{id}/attachments/", "enterprise_user", appeal_params(attached)),
        Positive(
            "POST /api/appeals/{id}/attachments/",
            "enterprise_user",
            appeal_params(attached),
            body={"files": [b"%PDF-1.4\n%fuzz\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"]},
            media_type="multipart/form-data",
        ),
        Positive(
            "GET /api/appeals/{id}/attachments/{attachment}/",
            "enterprise_user",
            {"id": attached.pk, "attachment": attachment.pk},
        ),
        Positive(
            "POST /api/appeals/{id}/dispatch/",
            "dispatcher",
            appeal_params(s := appeals.submitted()),
            body={
                "department": appeals.market.pk,
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/decline/",
            "dispatcher",
            appeal_params(s := appeals.submitted()),
            body={
                "reason": "不属于受理范围",
                "advice": "请向市场监管部门咨询",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/merge/",
            "dispatcher",
            appeal_params(duplicate),
            body={
                "master": master.pk,
                "version": duplicate.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/sign/",
            "handler",
            appeal_params(s := appeals.dispatched()),
            body={
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/return/",
            "handler",
            appeal_params(s := appeals.dispatched()),
            body={
                "reason": "不属于本部门职责",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/answer/",
            "handler",
            appeal_params(s := appeals.signed()),
            body={
                "answer": "已协调修复。",
                "outcome": "solved",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/pause/",
            "handler",
            appeal_params(s := appeals.signed()),
            body={
                "request": "请补充照片",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/resume/",
            "enterprise_user",
            appeal_params(paused),
            body={
                "reply": "照片已上传",
                "version": paused.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/extend/",
            "handler",
            appeal_params(s := appeals.signed()),
            body={
                "days": 3,
                "reason": "需现场勘查",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/opinion/",
            TAX_HANDLER,
            appeal_params(co_handled),
            body={
                "opinion": "无税务事项",
                "version": co_handled.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/approve_answer/",
            TAX_HEAD,
            appeal_params(s := appeals.drafted()),
            body={
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/reject_answer/",
            TAX_HEAD,
            appeal_params(s := appeals.drafted()),
            body={
                "note": "请补充政策依据",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/rate/",
            "enterprise_user",
            appeal_params(s := appeals.answered()),
            body={
                "level": 5,
                "solved": True,
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/coordinate/",
            "leader",
            appeal_params(s := appeals.needing_coordination()),
            body={
                "decision": "由市场监管局牵头，一周内修复",
                "version": s.version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/extensions/{extension_id}/decide/",
            "supervisor",
            {"id": extending.pk, "extension_id": extension.pk},
            body={"approve": True, "version": Extension.objects.get(pk=extension.pk).version},
        ),
        Positive(
            "POST /api/appeals/{id}/reviews/{review_id}/decide/",
            "supervisor",
            {"id": disputed.pk, "review_id": review.pk},
            body={
                "decision": "upheld",
                "note": "维持原评价",
                "version": Review.objects.get(pk=review.pk).version,
            },
        ),
        Positive(
            "POST /api/appeals/{id}/ratings/{rating_id}/dispute/",
            "handler",
            {"id": dispute_target.appeal_id, "rating_id": dispute_target.pk},
            body={"reason": "已按政策答复"},
        ),
        Positive("GET /api/department-webhooks/", "sysadmin"),
        Positive(
            "POST /api/department-webhooks/",
            "sysadmin",
            body={
                "unit": appeals.tax.pk,
                "kind": "wecom",
                "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fuzz",
            },
        ),
        Positive("GET /api/department-webhooks/{id}/", "sysadmin", {"id": hooks[0].pk}),
        Positive(
            "PUT /api/department-webhooks/{id}/",
            "sysadmin",
            {"id": hooks[0].pk},
            body={
                "unit": appeals.market.pk,
                "kind": "dingtalk",
                "is_active": False,
            },
        ),
        Positive(
            "PATCH /api/department-webhooks/{id}/", "sysadmin", {"id": hooks[0].pk}, body={"is_active": True}
        ),
        Positive("POST /api/department-webhooks/{id}/test/", "sysadmin", {"id": hooks[0].pk}),
        Positive("DELETE /api/department-webhooks/{id}/", "sysadmin", {"id": hooks[1].pk}),
        Positive("GET /api/enterprises/", "steward"),
        Positive("GET /api/enterprises/{id}/", "steward", {"id": enterprise.pk}),
        Positive("GET /api/enterprises/{id}/steward-history/", "dispatcher", {"id": enterprise.pk}),
        Positive(
            "POST /api/enterprises/",
            "dispatcher",
            body={
                "uscc": _next_uscc(),
                "name": "模糊测试新材料有限公司",
                "zone": zone.pk,
            },
        ),
        Positive(
            "PUT /api/enterprises/{id}/",
            "dispatcher",
            {"id": enterprise.pk},
            body={
                "name": enterprise.name,
                "version": enterprise.version,
            },
        ),
        Positive(
            "PATCH /api/enterprises/{id}/",
            "dispatcher",
            {"id": enterprise.pk},
            body={
                "address": "科创大道 1 号",
                "version": enterprise.version + 1,  # after the PUT above
            },
        ),
        Positive(
            "POST /api/enterprises/{id}/assign-steward/",
            "dispatcher",
            {"id": enterprise.pk},
            body={
                "steward": other_steward.pk,
                "reason": "工作调整",
            },
        ),
        Positive("GET /api/kpis/", "leader", query={"start": start, "end": end}),
        Positive("GET /api/kpis/by-department/", "supervisor", query={"start": start, "end": end}),
        Positive("GET /api/kpis/pauses/", "department_head", query={"start": start, "end": end}),
        Positive("GET /api/cockpit/kpis/", "leader", query={"start": start, "end": end}),
        Positive(
            "GET /api/cockpit/rankings/", "supervisor", query={"start": start, "end": end, "level": "zone"}
        ),
        Positive("GET /api/cockpit/volume/", "leader", query={"start": start, "end": end, "by": "category"}),
        Positive("GET /api/cockpit/open-by-age/", "supervisor"),
        Positive("GET /api/briefings/", "leader", query={"kind": "weekly"}),
        Positive("POST /api/briefings/", "supervisor", body={"kind": "monthly", "zone": zone.pk}),
        Positive("GET /api/briefings/{id}/", "leader", {"id": weekly.pk}),
        Positive("GET /api/briefings/{id}/pdf/", "leader", {"id": weekly.pk}),
        Positive("GET /api/briefings/{id}/xlsx/", "supervisor", {"id": weekly.pk}),
        Positive("GET /api/stewards/", "dispatcher"),
        Positive("GET /api/stewards/suggest/", "dispatcher", query={"zone": zone.pk}),
        Positive(
            "POST /api/stewards/handover/",
            "dispatcher",
            body={
                "from_steward": other_steward.pk,
                "to_steward": None,
                "reason": "调岗交接",
                "zone": zone.pk,
            },
        ),
    ]
    from guanjia.tests_fuzz import (
        capital,
        dispatch,
        exchange,
        investment,
        knowledge,
        policies,
        talent,
        windows,
    )

    for part_app in (investment, policies, exchange, windows, knowledge, dispatch, talent, capital):
        positives += part_app.positives(users)
    seeds = _seeds(users, hooks, attachment.pk)
    return World(users=users, tokens=tokens, positives=positives, seeds=seeds)


def _seeds(
    users: dict[str, User], hooks: list[DepartmentWebhook], attachment: int
) -> dict[str, dict[str, list[int]]]:
    """Real ids for the generated cases, per role: what the role may see, so the fuzzer gets past 404."""
    seeds: dict[str, dict[str, list[int]]] = {}
    categories = list(AppealCategory.objects.order_by("pk").values_list("pk", flat=True)[:5])
    for role, user in users.items():
        appeals = list(Appeal.objects.visible_to(user).order_by("-pk").values_list("pk", flat=True)[:20])
        seeds[role] = {
            "appeal": appeals,
            "enterprise": list(
                Enterprise.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)[:10]
            ),
            "category": categories,
            "webhook": [hook.pk for hook in hooks],
            "attachment": [attachment],
            "extension_id": list(
                Extension.objects.filter(appeal__in=appeals).values_list("pk", flat=True)[:5]
            ),
            "review_id": list(Review.objects.filter(appeal__in=appeals).values_list("pk", flat=True)[:5]),
            "rating_id": list(Rating.objects.filter(appeal__in=appeals).values_list("pk", flat=True)[:5]),
            "visit": list(
                Visit.objects.visible_to(user).done().order_by("-pk").values_list("pk", flat=True)[:5]
            ),
            "visit_plan": list(
                Visit.objects.visible_to(user).plans().order_by("pk").values_list("pk", flat=True)[:5]
            ),
            "photo": list(
                VisitPhoto.objects.filter(visit__in=Visit.objects.visible_to(user)).values_list(
                    "pk", flat=True
                )[:5]
            ),
        }
    # A number past every id, so a seeded case can also meet a missing object.
    top = Appeal.objects.aggregate(top=Max("pk"))["top"] or 0
    for pools in seeds.values():
        pools["missing"] = [top + 1000]
    return seeds
