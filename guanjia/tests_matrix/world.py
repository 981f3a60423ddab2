"""The world the permission matrix is walked in: the cast, a few more people, an appeal in each state.

Built once per test module (see conftest.py) inside a transaction that is rolled back at the end;
each test runs in a savepoint of its own, so a POST that succeeds changes nothing for the next one.

Everything lives in zone A (高新区), for ent_a1 (served by steward_a), with 用地规划 routed to
高新区市场监管局 (market_a). The actors (matrix.ACTORS) are the people looking at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import (
    Appeal,
    CategoryRoute,
    Channel,
    Extension,
    Outcome,
    Rating,
    RatingLevel,
    Review,
)
from guanjia.campaigns import services as campaign_services
from guanjia.campaigns.models import CampaignTarget
from guanjia.core import notifications
from guanjia.core.models import CalendarDay, DepartmentWebhook, OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import EnterpriseMembership, ImportJob
from guanjia.testing import PASSWORD, USCC_A1, Cast, build_cast, make_enterprise, make_user
from guanjia.visits import services as visit_services

# A valid USCC (GB 32100 check digit) that no enterprise of the cast uses, for the create pages.
NEW_USCC = "91110000802100433B"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def pdf(name: str = "material.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    cast: Cast
    actors: dict[str, User | None]
    appeals: dict[str, Appeal]
    objects: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # actor → a logged-in session's key
    client: Client = None  # type: ignore[assignment]  # the one test Client of the module (conftest.py)


def _more_people(cast: Cast) -> dict[str, User]:
    """The people the cast lacks; user names start with mx_ so that no other test's names collide."""
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="mx-zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="mx-zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    ent_user_b1 = make_user("mx_ent_user_b1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=ent_user_b1, enterprise=cast.ent_b1)
    return {
        "tax_a": tax_a,  # type: ignore[dict-item]
        "market_b": market_b,  # type: ignore[dict-item]
        "ent_user_b1": ent_user_b1,
        "head_a": make_user("mx_head_a", cast.market_a, Role.DEPARTMENT_HEAD),
        "handler_centre": make_user("mx_handler_centre", cast.centre_a, Role.HANDLER),
        "head_centre": make_user("mx_head_centre", cast.centre_a, Role.DEPARTMENT_HEAD),
        "handler_tax": make_user("mx_handler_tax", tax_a, Role.HANDLER),
        "dispatcher_b": make_user("mx_dispatcher_b", cast.centre_b, Role.DISPATCHER),
        "handler_b": make_user("mx_handler_b", market_b, Role.HANDLER),
        "cadre_a": make_user("mx_cadre_a", cast.zone_a, Role.SECONDED_CADRE),
    }


def build_world() -> World:
    cast = build_cast()
    land = ensure_default_categories()["land"]
    appeal_services.set_route(land, cast.zone_a, cast.market_a, by=None)
    more = _more_people(cast)
    tax_a: OrgUnit = more["tax_a"]  # type: ignore[assignment]
    actors: dict[str, User | None] = {
        "anon": None,
        "norole": cast.outsider,
        "enterprise_user": cast.ent_user_a1,
        "enterprise_user~other_enterprise": more["ent_user_b1"],
        "steward": cast.steward_a,
        "steward~other_zone": cast.steward_b,
        "dispatcher": cast.dispatcher_a,
        "dispatcher~other_zone": more["dispatcher_b"],
        "handler": cast.handler_a,
        "handler~other_department": more["handler_centre"],
        "handler~other_zone": more["handler_b"],
        "handler~co_department": more["handler_tax"],
        "department_head": more["head_a"],
        "department_head~other_department": more["head_centre"],
        "supervisor": cast.supervisor_a,
        "leader": cast.leader_a,
        "promoter": cast.promoter_a,
        "seconded_cadre": more["cadre_a"],
        "sysadmin": cast.sysadmin,
        "secadmin": cast.secadmin,
        "auditor": cast.auditor,
    }
    handler, head = cast.handler_a, more["head_a"]

    def submitted(title: str = "厂区周边道路破损") -> Appeal:
        return lifecycle.submit_appeal(
            cast.ent_a1,
            title=title,
            body="影响货车进出，请协调修复。",
            channel=Channel.PORTAL,
            by=cast.ent_user_a1,
            category=land,
        )

    def dispatched(co: tuple[OrgUnit, ...] = ()) -> Appeal:
        appeal = submitted()
        lifecycle.dispatch_appeal(appeal, co=list(co), by=cast.dispatcher_a)
        return appeal

    def signed(co: tuple[OrgUnit, ...] = ()) -> Appeal:
        appeal = dispatched(co)
        lifecycle.sign_appeal(appeal, by=handler)
        return appeal

    def answered() -> Appeal:
        appeal = signed()
        lifecycle.answer_appeal(appeal, answer="已协调修复", outcome=Outcome.SOLVED, by=handler)
        return appeal

    appeals: dict[str, Appeal] = {
        "submitted": submitted(),
        "dispatched": dispatched(),
        "signed": signed(co=(tax_a,)),  # co-handled by 税务局, whose handler owes an opinion
    }
    waiting = signed()
    lifecycle.pause_appeal(waiting, request="请补充道路照片", by=handler)
    appeals["waiting"] = waiting
    appeals["answered"] = answered()
    coordinated = answered()
    for _round in range(2):  # two dissatisfied ratings: the third answer waits for 领导协调
        lifecycle.rate_appeal(coordinated, level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
        if _round == 0:
            lifecycle.answer_appeal(coordinated, answer="再次答复", outcome=Outcome.SOLVED, by=handler)
    appeals["coordinate"] = coordinated
    extended = signed()
    lifecycle.request_extension(extended, days=2, reason="需现场勘察", by=handler)
    appeals["extension"] = extended
    rated = answered()
    rating = lifecycle.rate_appeal(
        rated, level=RatingLevel.FAIRLY_SATISFIED, solved=True, by=cast.ent_user_a1
    )
    appeals["rated"] = rated
    declined = submitted()
    lifecycle.decline_appeal(
        declined, reason="不属于受理范围", advice="请向市级部门反映", by=cast.dispatcher_a
    )
    lifecycle.rate_appeal(declined, level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
    appeals["review"] = declined
    # Where the department requires its head's approval, a handler's answer waits as a draft.
    OrgUnit.objects.filter(pk=cast.market_a.pk).update(answers_need_approval=True)
    drafted = signed()
    lifecycle.answer_appeal(drafted, answer="草稿答复", outcome=Outcome.SOLVED, by=handler)
    appeals["drafted"] = drafted
    attachment = attachments.add_attachments(appeals["signed"], [pdf()], by=cast.ent_user_a1)[0]
    for appeal in appeals.values():
        appeal.refresh_from_db()

    _invitation, token = enterprise_services.invite_enterprise_user(
        cast.ent_a1, name="李四", phone="13800000009", by=cast.steward_a
    )
    objects: dict[str, Any] = {
        "land": land,
        "route": CategoryRoute.objects.get(category=land, zone=cast.zone_a),
        "tax_a": tax_a,
        "head_a": head,
        "extension": Extension.objects.get(appeal=extended),
        "review": Review.objects.get(appeal=declined),
        "rating": rating,
        "attachment": attachment,
        "token": token,
        "notification": notifications.notify([cast.dispatcher_a], title="新诉求", link="/appeals/")[0],
        "webhook": DepartmentWebhook.objects.create(
            unit=cast.market_a,
            kind=DepartmentWebhook.Kind.choices[0][0],
            url="https://oapi.dingtalk.com/robot/send?access_token=matrix",
        ),
        "import_job": ImportJob.objects.create(
            file="imports/matrix.csv",
            original_name="matrix.csv",
            zone=cast.zone_a,
            created_by=cast.dispatcher_a,
            status=ImportJob.Status.INVALID,
        ),
        "visit": visit_services.record_visit(
            cast.ent_a1,
            by=cast.steward_a,
            visited_on=visit_services.today(),
            mode="onsite",
            our_side="张管家",
            their_side="王经理",
            summary="了解经营情况",
            photos=[
                SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + bytes(32), content_type="image/png")
            ],
        ),
        # A plan of another enterprise of steward_a (ent_a1 stays free for the "plan a visit" rows).
        "visit_plan": visit_services.plan_visit(
            make_enterprise("91320500MA1MTRX00X", "矩阵计划企业", cast.zone_a, cast.steward_a),
            on=visit_services.today(),
            by=cast.steward_a,
        ),
        "calendar_day": CalendarDay.objects.create(
            date=date(2031, 1, 2), is_workday=False, name="矩阵测试", created_by=cast.sysadmin
        ),
    }
    objects["campaign"] = _campaign(cast)
    objects.update(_briefings(cast))
    objects["campaign_target"] = CampaignTarget.objects.get(
        campaign=objects["campaign"], enterprise=cast.ent_a1
    )
    assert Rating.objects.filter(pk=rating.pk).exists()
    from guanjia.tests_matrix.matrix import PART_APPS

    for part_app in PART_APPS:
        part_app.build(cast, objects)
    return World(cast=cast, actors=actors, appeals=appeals, objects=objects)


def _briefings(cast: Cast) -> dict[str, Any]:
    """Last week's 周报 of zone A (its leader and supervisor see it) and of zone B (out of their scope)."""
    from guanjia.cockpit import services as cockpit_services

    return {
        f"briefing{suffix}": cockpit_services.generate_briefing("weekly", zone, by=None).briefing
        for suffix, zone in (("", cast.zone_a), ("_b", cast.zone_b))
    }


def _campaign(cast: Cast) -> Any:
    """A running campaign of zone A by its dispatcher; targets ent_a1 (steward_a) and ent_a2 (steward_a2)."""
    today = visit_services.today()
    campaign = campaign_services.create_campaign(
        name="新春访万企",
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=20),
        zones=[cast.zone_a],
        by=cast.dispatcher_a,
    )
    campaign_services.add_target_pairs(
        campaign,
        [(cast.ent_a1.pk, cast.steward_a.pk), (cast.ent_a2.pk, cast.steward_a2.pk)],
        by=cast.dispatcher_a,
        source="matrix",
    )
    return campaign


# --- what fills a URL's arguments (Row.target) ---------------------------------------------------


def url_kwargs(world: World, target: str) -> dict[str, Any]:
    """The URL arguments of a row: `appeal:<state>` for an appeal, or one of the named objects."""
    cast, objects = world.cast, world.objects
    if target.startswith("appeal:"):
        return {"pk": world.appeals[target.split(":", 1)[1]].pk}
    appeal = world.appeals
    known: dict[str, dict[str, Any]] = {
        "": {},
        "enterprise": {"pk": cast.ent_a1.pk},
        "submit_enterprise": {"enterprise": cast.ent_a1.pk},
        "unit": {"pk": cast.zone_a.pk},
        "user": {"pk": cast.outsider.pk},
        "grantee": {"pk": cast.promoter_a.pk},
        "webhook": {"pk": objects["webhook"].pk},
        "notification": {"pk": objects["notification"].pk},
        "import_job": {"pk": objects["import_job"].pk},
        "token": {"token": objects["token"]},
        "category": {"pk": objects["land"].pk},
        "route": {"pk": objects["route"].pk},
        "attachment": {"pk": appeal["signed"].pk, "att_pk": objects["attachment"].pk},
        "api_attachment": {"pk": appeal["signed"].pk, "attachment": objects["attachment"].pk},
        "extension": {"pk": appeal["extension"].pk, "extension": objects["extension"].pk},
        "api_extension": {"pk": appeal["extension"].pk, "extension_id": objects["extension"].pk},
        "review": {"pk": appeal["review"].pk, "review": objects["review"].pk},
        "api_review": {"pk": appeal["review"].pk, "review_id": objects["review"].pk},
        "rating": {"pk": appeal["rated"].pk, "rating": objects["rating"].pk},
        "api_rating": {"pk": appeal["rated"].pk, "rating_id": objects["rating"].pk},
        "visit_enterprise": {"enterprise": cast.ent_a1.pk},
        "visit": {"pk": objects["visit"].pk},
        "campaign": {"pk": objects["campaign"].pk},
        "visit_plan": {"pk": objects["visit_plan"].pk},
        "visit_photo": {"pk": objects["visit"].photos.get().pk},
        "api_visit_photo": {"pk": objects["visit"].pk, "photo": objects["visit"].photos.get().pk},
        "visit_schedule": {"enterprise": cast.ent_a1.pk},
        "briefing": {"pk": objects["briefing"].pk},
        "briefing_b": {"pk": objects["briefing_b"].pk},
    }
    if target not in known:
        from guanjia.tests_matrix.matrix import PART_APPS

        for part_app in PART_APPS:
            known.update(part_app.kwargs(world))
    return known[target]


# --- request bodies (Row.body): valid for the allowed role ---------------------------------------


def _category_form(**fields: Any) -> dict[str, Any]:
    """The category page's form with DESIGN.md's limits (name, code and position given)."""
    return {
        **fields,
        "accept_days": 1,
        "sign_days": 1,
        "answer_days_consult": 3,
        "answer_days_normal": 5,
        "answer_days_complex": 15,
        "answer_days_urgent": 1,
        "extension_max_days": 30,
        "is_active": "on",
    }


def _security_policy() -> dict[str, Any]:
    """The security policy form as the page shows it: saving it unchanged is a valid change."""
    from guanjia.core import security
    from guanjia.core.forms import SecurityPolicyForm

    form = SecurityPolicyForm(instance=security.default_policy())
    return {
        name: ("on" if value else "") if isinstance(value, bool) else value
        for name in form.fields
        if (value := form[name].value()) is not None
    }


def body(world: World, name: str) -> dict[str, Any]:
    """The body a row posts. Built fresh for each request (files can be read once only)."""
    cast, objects, appeals = world.cast, world.objects, world.appeals

    def version(state: str) -> int:
        return appeals[state].version

    bodies: dict[str, Any] = {
        "": {},
        "login": {"username": "steward_a", "password": PASSWORD},
        "totp_code": {"code": "000000"},
        "password_change": {
            "old_password": PASSWORD,
            "new_password1": "Matrix-new-pass-2026",
            "new_password2": "Matrix-new-pass-2026",
        },
        "security_policy": _security_policy,
        # query strings of GET rows
        "q:export": {"format": "csv"},
        "q:kpi": {"start": "2026-01-01", "end": "2026-02-01"},
        "q:ranking_steward": {"start": "2026-01-01", "end": "2026-02-01", "level": "steward"},
        "q:cockpit_drill": {"kpi": "on_time_answering", "start": "2026-01-01", "end": "2026-02-01"},
        "q:suggest": {"zone": cast.zone_a.pk},
        "unit": {
            "name": "高新区发改局",
            "code": "mx-zone-a-drc",
            "kind": "department",
            "parent": cast.zone_a.pk,
        },
        "unit_edit": {"name": "高新区（改）", "code": "zone-a", "kind": "zone", "parent": cast.city.pk},
        "user_create": {"username": "mx_new_user", "full_name": "新用户", "password": "Matrix-pass-2026"},
        "user_active": {"active": "0"},
        "role_grant": {"user": cast.outsider.pk, "role": Role.PROMOTER},
        "role_revoke": {"role": Role.PROMOTER},
        "calendar_day": {"day": "2031-01-03", "is_workday": "0", "name": "调休"},
        "calendar_remove": {"date": "2031-01-02"},
        "calendar_declare": {"year": 2031, "note": "国务院办公厅通知"},
        "robot": {
            "unit": objects["tax_a"].pk,
            "kind": DepartmentWebhook.Kind.choices[0][0],
            "url": "https://oapi.dingtalk.com/robot/send?access_token=new",
            "is_active": "on",
        },
        "robot_edit": {
            "unit": cast.market_a.pk,
            "kind": DepartmentWebhook.Kind.choices[0][0],
            "is_active": "on",
        },
        "robot_active": {"active": "0"},
        "enterprise_create": {
            "uscc": NEW_USCC,
            "name": "矩阵测试有限公司",
            "scale": "small",
            "tier": "general",
            "zone": cast.zone_a.pk,
        },
        "enterprise_edit": {"name": "示例智能制造有限公司", "scale": "small", "tier": "key"},
        "contact": {"name": "赵主任", "position": "办公室主任", "phone": "13812340000"},
        "steward_assign": {"steward": cast.steward_a2.pk, "reason": "调整分工"},
        "invite": {"name": "李五", "phone": "13800000010"},
        "import": {"zone": cast.zone_a.pk},
        "handover": {"from_steward": cast.steward_a.pk, "to_steward": cast.steward_a2.pk, "reason": "离岗"},
        "accept_invite": {
            "uscc": USCC_A1,
            "username": "mx_invitee",
            "password": "Matrix-pass-2026",
            "password2": "Matrix-pass-2026",
        },
        "category": _category_form(
            name="用地规划", code=objects["land"].code, position=objects["land"].position
        ),
        "category_new": _category_form(name="矩阵类别", code="mx-new", position=99),
        "route": {
            "zone": cast.zone_a.pk,
            "category": objects["land"].pk,
            "lead_department": objects["tax_a"].pk,
        },
        "submit": {
            "title": "用电增容",
            "body": "新产线需要增容。",
            "handling": "normal",
            "external_ticket": "12345-0001",
        },
        "attach": lambda: {"attachments": pdf()},
        "extension_decide": {f"extension-{objects['extension'].pk}-decision": "approve"},
        "review_decide": {
            f"review-{objects['review'].pk}-decision": "upheld",
            f"review-{objects['review'].pk}-note": "维持",
        },
        "rating_dispute": {f"dispute-{objects['rating'].pk}-reason": "已按期修复"},
        # appeal page actions: the form's prefix is the action's name
        "act:dispatch": {"dispatch-lead": cast.market_a.pk, "version": version("submitted")},
        "act:decline": {"decline-reason": "不属于受理范围", "decline-advice": "请向市级部门反映"},
        "act:merge": {"merge-master": appeals["signed"].pk, "merge-note": "重复"},
        "act:sign": {},
        "act:return": {"return-reason": "不属于本部门职责"},
        "act:answer": {"answer-outcome": Outcome.SOLVED, "answer-answer": "已修复"},
        "act:approve_answer": {"approve_answer-answer": "已修复"},
        "act:reject_answer": {"reject_answer-note": "请补充依据"},
        "act:opinion": {"opinion-opinion": "同意主办部门意见"},
        "act:pause": {"pause-request": "请补充照片"},
        "act:extend": {"extend-days": 2, "extend-reason": "需现场勘察"},
        "act:resume": {"resume-reply": "已补充照片"},
        "act:coordinate": {"coordinate-decision": "由市场监管局牵头限期解决"},
        "act:rate": {"rate-level": 5, "rate-solved": "1"},
        "act:rate_on_behalf": {"rate_on_behalf-level": 5, "rate_on_behalf-solved": "1"},
        "act:escalate": {"escalate-note": "请加快办理"},
        # API bodies
        "api:webhook": {
            "unit": objects["tax_a"].pk,
            "kind": DepartmentWebhook.Kind.choices[0][0],
            "url": "https://oapi.dingtalk.com/robot/send?access_token=api",
        },
        "api:webhook_patch": {"is_active": False},
        "api:enterprise": {"uscc": NEW_USCC, "name": "矩阵测试有限公司", "zone": cast.zone_a.pk},
        "api:enterprise_patch": {"tier": "key", "version": cast.ent_a1.version},
        "api:enterprise_put": {"name": "示例智能制造有限公司", "tier": "key", "version": cast.ent_a1.version},
        "api:assign_steward": {"steward": cast.steward_a2.pk, "reason": "调整分工"},
        "api:handover": {
            "from_steward": cast.steward_a.pk,
            "to_steward": cast.steward_a2.pk,
            "reason": "离岗",
        },
        "api:appeal": {
            "enterprise": cast.ent_a1.pk,
            "title": "用电增容",
            "body": "新产线需要增容。",
            "external_ticket": "12345-0002",
        },
        "api:dispatch": {"department": cast.market_a.pk, "version": version("submitted")},
        "api:decline": {
            "reason": "不属于受理范围",
            "advice": "请向市级部门反映",
            "version": version("submitted"),
        },
        "api:merge": {"master": appeals["signed"].pk, "note": "重复", "version": version("submitted")},
        "api:sign": {"version": version("dispatched")},
        "api:return": {"reason": "不属于本部门职责", "version": version("dispatched")},
        "api:answer": {"answer": "已修复", "outcome": Outcome.SOLVED, "version": version("signed")},
        "api:approve_answer": {"answer": "已修复", "version": version("drafted")},
        "api:reject_answer": {"note": "请补充依据", "version": version("drafted")},
        "api:opinion": {"opinion": "同意", "version": version("signed")},
        "api:pause": {"request": "请补充照片", "version": version("signed")},
        "api:extend": {"days": 2, "reason": "需现场勘察", "version": version("signed")},
        "api:resume": {"reply": "已补充照片", "version": version("waiting")},
        "api:coordinate": {"decision": "由市场监管局牵头限期解决", "version": version("coordinate")},
        "api:rate": {"level": 5, "solved": True, "version": version("answered")},
        "api:attach": lambda: {"files": pdf()},
        "api:decide_extension": {"approve": True, "version": objects["extension"].version},
        "api:decide_review": {"decision": "upheld", "note": "维持", "version": objects["review"].version},
        "api:dispute_rating": {"reason": "已按期修复"},
        "visit": {
            "visited_on": visit_services.today().isoformat(),
            "mode": "phone",
            "our_side": "张管家",
            "their_side": "王经理",
            "summary": "电话回访",
            "problems-TOTAL_FORMS": "1",
            "problems-INITIAL_FORMS": "0",
            "problems-0-title": "用电增容",
            "problems-0-body": "新产线需要增容。",
        },
        "api:visit": {
            "enterprise": cast.ent_a1.pk,
            "visited_on": visit_services.today().isoformat(),
            "mode": "onsite",
            "our_side": "张管家",
            "their_side": "王经理",
            "summary": "上门走访",
            "appeals": [{"title": "用电增容", "body": "新产线需要增容。"}],
        },
        "visit_plan": {"planned_on": visit_services.today().isoformat(), "plan_note": "了解用工需求"},
        "api:visit_plan": {"enterprise": cast.ent_a1.pk, "planned_on": visit_services.today().isoformat()},
        "visit_interval": {"interval_days": "21", "seen": ""},
        "api:visit_interval": {"interval_days": 21},
        "briefing_generate": {"kind": "monthly", "scope": str(cast.zone_a.pk)},
        "api:briefing": {"kind": "monthly", "zone": cast.zone_a.pk},
    }
    today = visit_services.today()
    campaign = {
        "name": "助力解难题",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "zones": [cast.zone_a.pk],
    }
    bodies.update(
        {
            "campaign": campaign,
            "campaign_edit": {**campaign, "version": objects["campaign"].version},
            "campaign_targets_add": {"tiers": ["key"], "add": "1"},
            "campaign_import": lambda: {
                "file": SimpleUploadedFile(
                    "targets.csv", f"统一社会信用代码\n{USCC_A1}\n".encode(), "text/csv"
                )
            },
            "campaign_assign": {"to": cast.steward_a2.pk, "targets": [objects["campaign_target"].pk]},
            "api:campaign": campaign,
            "api:campaign_patch": {"description": "第二轮", "version": objects["campaign"].version},
            "api:campaign_targets": {"filters": {"tiers": ["key"]}},
            "api:campaign_assign": {
                "to_steward": cast.steward_a2.pk,
                "targets": [objects["campaign_target"].pk],
            },
        }
    )
    if name not in bodies:
        from guanjia.tests_matrix.matrix import PART_APPS

        for part_app in PART_APPS:
            bodies.update(part_app.bodies(world))
    made = bodies[name]
    return made() if callable(made) else dict(made)
