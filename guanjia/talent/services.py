"""Every write of talent work, and the reads the pages and the API share.

Each write checks the actor's right and the current state, validates its input (a refusal names the
field in Chinese), changes the row with a conditional UPDATE on (id, status, version) where a record
moves on (the guard that holds on SQLite as on PostgreSQL: of two decisions at once one applies, the
other gets Conflict), and writes its audit record in the same transaction. The enterprise's users are
told of each decision through their inbox (guanjia.core.notifications).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import attachments
from guanjia.core import audit, notifications, workcalendar
from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.validation import clean_text, clean_whole
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.investment.models import NodePlacement
from guanjia.talent.access import (
    acts_for,
    decides_for,
    enterprises_served_by,
    may_decide_application,
    may_decide_service,
    oversees,
)
from guanjia.talent.models import (
    TALENT_DECIDERS,
    ApplicationStatus,
    NeedStatus,
    RouteKind,
    ServiceKind,
    ServiceStatus,
    TalentApplication,
    TalentDocument,
    TalentNeed,
    TalentService,
    TalentServiceRoute,
    TalentTier,
)

POST_MAX = 50
NAME_MAX = 30
NOTE_MAX = 500
TEXT_MAX = 1000
COUNT_MAX = 9999
WORKDAYS_MAX = 60
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
TIER_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,3}$")
# GB 11643: 17 digits weighted, the 18th is the check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"

# The only moves of an application, of a service and of a need.
APPLICATION_MOVES: dict[str, tuple[str, ...]] = {
    ApplicationStatus.SUBMITTED: (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)
}
SERVICE_MOVES: dict[str, tuple[str, ...]] = {
    ServiceStatus.REQUESTED: (ServiceStatus.GRANTED, ServiceStatus.DECLINED)
}
NEED_MOVES: dict[str, tuple[str, ...]] = {NeedStatus.OPEN: (NeedStatus.FILLED, NeedStatus.WITHDRAWN)}


# --- small checks ------------------------------------------------------------------------------


def valid_id_number(value: str) -> bool:
    """A resident ID number of 18 characters whose check character is right."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECKS[total % 11] == value[17]


def _clean_id_number(value: Any) -> str:
    text = clean_text("id_number", _("身份证号"), value, limit=18, required=True).upper()
    if not valid_id_number(text):
        raise InvalidField("id_number", _("身份证号：请填写 18 位居民身份证号码（校验位有误）"))
    return text


def _clean_mobile(value: Any) -> str:
    text = clean_text("phone", _("手机号"), value, limit=11, required=True)
    if not MOBILE.match(text):
        raise InvalidField("phone", _("手机号：请填写 11 位手机号码"))
    return text


def _check_version(current: int, version: int | None, what: str) -> None:
    if version is not None and version != current:
        raise Conflict(_("该%(what)s刚被他人修改，请刷新后重试") % {"what": what})


def _moved(model: type[models.Model], obj: Any, *, to: str, what: str, **fields: Any) -> None:
    """Move `obj` to `to` if nobody moved it since it was read (inside the caller's transaction)."""
    count = model._default_manager.filter(pk=obj.pk, status=obj.status, version=obj.version).update(
        status=to, version=F("version") + 1, **fields
    )
    if count != 1:
        raise Conflict(_("该%(what)s刚被他人处理，请刷新后重试") % {"what": what})
    obj.status, obj.version = to, obj.version + 1
    for name, value in fields.items():
        setattr(obj, name, value)


def _tell_enterprise(enterprise_id: int, title: str, link: str) -> None:
    users = [
        membership.user
        for membership in EnterpriseMembership.objects.filter(
            enterprise_id=enterprise_id, is_active=True, user__is_active=True
        ).select_related("user")
    ]
    if users:
        notifications.notify(users, title=title, link=link)


def route_for(zone_id: int, kind: str) -> TalentServiceRoute | None:
    return TalentServiceRoute.objects.filter(zone_id=zone_id, kind=kind).select_related("department").first()


# --- tiers and routes (the zone's settings) -------------------------------------------------------


def _check_keeper(by: User, zone: OrgUnit) -> None:
    if not oversees(by, zone):
        raise NotAllowed(_("只有本园区的领导或效能督查可以设置人才类别和责任部门"))


def save_tier(
    zone: OrgUnit,
    *,
    by: User,
    code: str,
    name: str,
    description: str = "",
    position: Any = 0,
    tier: TalentTier | None = None,
    version: int | None = None,
) -> TalentTier:
    """Add a talent tier to a zone, or edit one (conditional on its version)."""
    _check_keeper(by, zone)
    code = clean_text("code", _("类别代码"), code, limit=4, required=True).upper()
    if not TIER_CODE.match(code):
        raise InvalidField("code", _("类别代码：请以大写字母开头，最多 4 个字母或数字，如 A"))
    name = clean_text("name", _("类别名称"), name, limit=30, required=True)
    description = clean_text("description", _("认定条件"), description, limit=TEXT_MAX)
    position = clean_whole("position", _("排序"), position, low=0, high=999)
    clash = TalentTier.objects.filter(zone=zone, code=code)
    if tier is not None:
        clash = clash.exclude(pk=tier.pk)
    if clash.exists():
        raise InvalidField("code", _("类别代码：本园区已有类别 %(code)s") % {"code": code})
    fields = {"code": code, "name": name, "description": description, "position": position}
    try:
        with transaction.atomic():
            if tier is None:
                tier = TalentTier.objects.create(zone=zone, **fields)
                action = "talent.tier_create"
            else:
                if tier.zone_id != zone.pk:
                    raise NotAllowed(_("该人才类别不属于本园区"))
                _check_version(tier.version, version, _("人才类别"))
                count = TalentTier.objects.filter(pk=tier.pk, version=tier.version).update(
                    version=F("version") + 1, **fields
                )
                if count != 1:
                    raise Conflict(_("该人才类别刚被他人修改，请刷新后重试"))
                for key, value in fields.items():
                    setattr(tier, key, value)
                tier.version += 1
                action = "talent.tier_update"
            audit.record(by, action, tier, summary=f"人才类别 {code} {name}（{zone.name}）", detail=fields)
    except IntegrityError:
        raise InvalidField("code", _("类别代码：本园区已有类别 %(code)s") % {"code": code}) from None
    return tier


def set_route(
    zone: OrgUnit, *, kind: str, department: OrgUnit, workdays: Any = 5, by: User
) -> TalentServiceRoute:
    """Route one kind of talent work of a zone to one of its departments, with its time limit."""
    _check_keeper(by, zone)
    if kind not in RouteKind.values:
        raise InvalidField("kind", _("事项：请选择人才认定或一项服务"))
    if department.kind != OrgUnit.Kind.DEPARTMENT or department.parent_id != zone.pk:
        raise InvalidField("department", _("责任部门：请选择本园区的部门"))
    workdays = clean_whole("workdays", _("办理时限（工作日）"), workdays, low=1, high=WORKDAYS_MAX)
    with transaction.atomic():
        route, created = TalentServiceRoute.objects.get_or_create(
            zone=zone, kind=kind, defaults={"department": department, "workdays": workdays}
        )
        if not created:
            TalentServiceRoute.objects.filter(pk=route.pk).update(
                department=department, workdays=workdays, version=F("version") + 1
            )
            route.refresh_from_db()
        audit.record(
            by,
            "talent.route_set",
            route,
            summary=f"{route.get_kind_display()} 由 {department.name} 办理，时限 {workdays} 个工作日",
            detail={"zone": zone.pk, "kind": kind, "department": department.pk, "workdays": workdays},
        )
    return route


# --- needs ------------------------------------------------------------------------------------------


def _check_requester(by: User, enterprise: Enterprise) -> None:
    if not acts_for(by, enterprise):
        raise NotAllowed(_("只有该企业的用户或其服务管家可以办理"))


def add_need(
    enterprise: Enterprise, *, by: User, post: str, count: Any, by_date: date | None, note: str = ""
) -> TalentNeed:
    """An enterprise's talent need (posts, numbers, by when)."""
    _check_requester(by, enterprise)
    post = clean_text("post", _("岗位"), post, limit=POST_MAX, required=True)
    number = clean_whole("count", _("人数"), count, low=1, high=COUNT_MAX)
    if by_date is None:
        raise InvalidField("by_date", _("需求时间：请填写"))
    if by_date < timezone.localdate():
        raise InvalidField("by_date", _("需求时间：不能早于今天"))
    note = clean_text("note", _("说明"), note, limit=NOTE_MAX)
    with transaction.atomic():
        need = TalentNeed.objects.create(
            enterprise=enterprise, post=post, count=number, by_date=by_date, note=note, created_by=by
        )
        audit.record(
            by,
            "talent.need_add",
            need,
            summary=f"{enterprise.name} 人才需求：{post} {number} 人，{by_date:%Y-%m-%d} 前",
            detail={"enterprise": enterprise.pk, "post": post, "count": number, "by_date": str(by_date)},
        )
    return need


def close_need(need: TalentNeed, *, status: str, by: User, version: int | None = None) -> TalentNeed:
    """Mark a need filled or withdrawn (open → filled / withdrawn)."""
    _check_requester(by, need.enterprise)
    if status not in NEED_MOVES.get(need.status, ()):
        raise ServiceError(_("该人才需求已%(status)s，不能再更改") % {"status": need.get_status_display()})
    _check_version(need.version, version, _("人才需求"))
    with transaction.atomic():
        old = need.status
        _moved(TalentNeed, need, to=status, what=_("人才需求"))
        audit.record(
            by,
            "talent.need_close",
            need,
            summary=f"人才需求 {need.post}：{need.get_status_display()}",
            detail={"from": old, "to": status},
        )
    return need


# --- applications for recognition ------------------------------------------------------------------


def submit_application(
    enterprise: Enterprise,
    *,
    by: User,
    person_name: str,
    id_number: str,
    phone: str,
    tier: TalentTier,
    files: Sequence[UploadedFile] = (),
) -> TalentApplication:
    """Apply for the recognition of one person, with documents: all of it is stored, or nothing."""
    _check_requester(by, enterprise)
    person_name = clean_text("person_name", _("姓名"), person_name, limit=NAME_MAX, required=True)
    id_number = _clean_id_number(id_number)
    phone = _clean_mobile(phone)
    if tier.zone_id != enterprise.zone_id:
        raise InvalidField("tier", _("申请类别：请选择本园区的人才类别"))
    route = route_for(enterprise.zone_id, RouteKind.RECOGNITION)
    if route is None:
        raise ServiceError(_("本园区尚未设置人才认定部门，请联系园区"))
    if TalentApplication.objects.filter(
        enterprise=enterprise, id_number=id_number, status=ApplicationStatus.SUBMITTED
    ).exists():
        raise InvalidField("id_number", _("身份证号：此人已有一份待认定的申请"))
    # Checked outside the transaction: a large upload must not hold the database lock.
    staged = attachments.stage(files) if files else []
    keys: list[str] = []
    try:
        keys = attachments.place(staged)
        with transaction.atomic():
            application = TalentApplication.objects.create(
                enterprise=enterprise,
                person_name=person_name,
                id_number=id_number,
                phone=phone,
                tier=tier,
                department=route.department,
                submitted_by=by,
            )
            rows = attachments.save_rows(
                TalentDocument, staged, keys, by=by, at=application.submitted_at, application=application
            )
            audit.record(
                by,
                "talent.application_submit",
                application,
                summary=f"{enterprise.name} 申请认定 {person_name} 为 {tier.code} 类人才",
                detail={
                    "enterprise": enterprise.pk,
                    "tier": tier.code,
                    "department": route.department_id,
                    "documents": [{"name": row.name, "sha256": row.sha256} for row in rows],
                },
            )
    except BaseException:
        attachments.unplace(keys)
        raise
    finally:
        attachments.discard(staged)
    return application


def decide_application(
    application: TalentApplication,
    *,
    by: User,
    approve: bool,
    reason: str = "",
    version: int | None = None,
) -> TalentApplication:
    """The talent office approves or rejects an application (a rejection carries its reason)."""
    if not may_decide_application(by, application):
        raise NotAllowed(_("只有本园区人才认定部门的承办人或负责人可以认定"))
    to = ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED
    if to not in APPLICATION_MOVES.get(application.status, ()):
        raise ServiceError(_("该申请已%(status)s，不能再认定") % {"status": application.get_status_display()})
    _check_version(application.version, version, _("申请"))
    text = clean_text("reason", _("未通过原因"), reason, limit=NOTE_MAX, required=not approve)
    now = timezone.now()
    with transaction.atomic():
        _moved(
            TalentApplication,
            application,
            to=to,
            what=_("申请"),
            reason="" if approve else text,
            decided_by=by,
            decided_at=now,
        )
        audit.record(
            by,
            "talent.application_decide",
            application,
            summary=f"人才认定 #{application.pk}：{application.get_status_display()}"
            + ("" if approve else f"：{text}"),
            detail={"from": ApplicationStatus.SUBMITTED, "to": to, "reason": application.reason},
        )
        _tell_enterprise(
            application.enterprise_id,
            _("人才认定申请%(status)s：%(name)s")
            % {"status": application.get_status_display(), "name": application.person_name},
            reverse("talent:application", args=[application.pk]),
        )
    return application


# --- services ---------------------------------------------------------------------------------------


def request_service(
    application: TalentApplication, *, kind: str, by: User, note: str = "", at: datetime | None = None
) -> TalentService:
    """Ask for a service for an approved talent; its deadline is the route's working days after today."""
    _check_requester(by, application.enterprise)
    if application.status != ApplicationStatus.APPROVED:
        raise InvalidField("application", _("人才：只能为已认定的人才申请服务"))
    if kind not in ServiceKind.values:
        raise InvalidField("kind", _("服务事项：请选择住房保障、子女入学、医疗绿色通道或落户"))
    note = clean_text("note", _("需求说明"), note, limit=NOTE_MAX)
    route = route_for(application.enterprise.zone_id, kind)
    if route is None:
        raise InvalidField("kind", _("服务事项：本园区尚未设置该事项的责任部门"))
    if TalentService.objects.filter(
        application=application, kind=kind, status=ServiceStatus.REQUESTED
    ).exists():
        raise InvalidField("kind", _("服务事项：该人才的这项服务正在办理中"))
    now = at or timezone.now()
    due = workcalendar.deadline(now, route.workdays)
    with transaction.atomic():
        service = TalentService.objects.create(
            application=application,
            enterprise=application.enterprise,
            kind=kind,
            department=route.department,
            note=note,
            requested_by=by,
            requested_at=now,
            workdays=route.workdays,
            due_at=due.due,
            due_day=due.day,
            provisional=due.provisional,
        )
        audit.record(
            by,
            "talent.service_request",
            service,
            summary=f"{application.enterprise.name} 为 {application.person_name} 申请{service.get_kind_display()}",
            detail={
                "application": application.pk,
                "kind": kind,
                "department": route.department_id,
                "due_day": str(due.day),
            },
        )
        heads = User.objects.filter(
            unit_id=route.department_id, is_active=True, role_grants__role__in=TALENT_DECIDERS
        ).distinct()
        notifications.notify(
            list(heads),
            title=_("新的人才服务事项：%(kind)s，%(day)s 前办结")
            % {"kind": service.get_kind_display(), "day": f"{due.day:%Y-%m-%d}"},
            link=reverse("talent:service", args=[service.pk]),
        )
    return service


def decide_service(
    service: TalentService,
    *,
    by: User,
    grant: bool,
    result: str = "",
    reason: str = "",
    version: int | None = None,
) -> TalentService:
    """The responsible department grants a service (with its result) or declines it (with the reason)."""
    if not may_decide_service(by, service):
        raise NotAllowed(_("只有该事项责任部门的承办人或负责人可以办理"))
    to = ServiceStatus.GRANTED if grant else ServiceStatus.DECLINED
    if to not in SERVICE_MOVES.get(service.status, ()):
        raise ServiceError(_("该服务事项已%(status)s，不能再办理") % {"status": service.get_status_display()})
    _check_version(service.version, version, _("服务事项"))
    if grant:
        result = clean_text("result", _("办理结果"), result, limit=TEXT_MAX, required=True)
        reason = ""
    else:
        reason = clean_text("reason", _("未予办理原因"), reason, limit=NOTE_MAX, required=True)
        result = clean_text("result", _("办理结果"), result, limit=TEXT_MAX)
    now = timezone.now()
    with transaction.atomic():
        _moved(
            TalentService,
            service,
            to=to,
            what=_("服务事项"),
            result=result,
            reason=reason,
            decided_by=by,
            decided_at=now,
        )
        audit.record(
            by,
            "talent.service_decide",
            service,
            summary=f"人才服务 #{service.pk} {service.get_kind_display()}：{service.get_status_display()}",
            detail={
                "from": ServiceStatus.REQUESTED,
                "to": to,
                "overdue": service.is_overdue(now),
                "reason": reason,
            },
        )
        _tell_enterprise(
            service.enterprise_id,
            _("人才服务%(kind)s：%(status)s")
            % {"kind": service.get_kind_display(), "status": service.get_status_display()},
            reverse("talent:portal"),
        )
    return service


# --- documents --------------------------------------------------------------------------------------


def document_download(document: TalentDocument, *, by: User, ip: str | None = None) -> FileResponse:
    """A document as a download, audited. The caller has checked that `by` sees the application."""
    return attachments.audited_download(
        document,
        by=by,
        action="talent.document_download",
        target=document,
        summary=f"下载人才认定申请 #{document.application_id} 的材料 {document.name}",
        detail={"application": document.application_id, "name": document.name, "sha256": document.sha256},
        ip=ip,
    )


# --- reads: the worklist and the counts -------------------------------------------------------------


def worklist(user: User) -> tuple[QuerySet[TalentApplication], list[TalentService]]:
    """What the user's department has to decide: applications waiting, and open services, overdue first."""
    if not user.has_any_role(TALENT_DECIDERS) or not user.unit_id or not decides_for(user, user.unit_id):
        return TalentApplication.objects.none(), []
    applications = TalentApplication.objects.filter(
        department_id=user.unit_id, status=ApplicationStatus.SUBMITTED
    ).select_related("enterprise", "tier")
    services = list(
        TalentService.objects.filter(department_id=user.unit_id, status=ServiceStatus.REQUESTED)
        .select_related("enterprise", "application")
        .order_by("due_at", "pk")
    )
    return applications.order_by("submitted_at", "pk"), services


@dataclass
class Tally:
    """The talent figures of one enterprise or one chain."""

    name: str
    applications: Counter[str] = field(default_factory=Counter)  # by status
    services: Counter[tuple[str, str]] = field(default_factory=Counter)  # by (kind, status)
    open_needs: int = 0

    def add(self, other: Tally) -> None:
        self.applications.update(other.applications)
        self.services.update(other.services)
        self.open_needs += other.open_needs

    def as_dict(self) -> dict[str, Any]:
        return {
            "applications": {status: self.applications.get(status, 0) for status in ApplicationStatus.values},
            "services": {
                kind: {status: self.services.get((kind, status), 0) for status in ServiceStatus.values}
                for kind in ServiceKind.values
            },
            "open_needs": self.open_needs,
        }


def counts(user: User, *, zone: OrgUnit | None = None) -> tuple[dict[int, Tally], dict[int, Tally]]:
    """Talent figures per enterprise and per industry chain (an enterprise counts once per chain however
    many of its nodes it sits on), over the enterprises of the zones `user` oversees (or of `zone`)."""
    zones = [zone.pk] if zone is not None else user.zone_ids()
    enterprises = Enterprise.objects.filter(zone_id__in=zones)
    per: dict[int, Tally] = {}

    def tally(pk: int, name: str) -> Tally:
        return per.setdefault(pk, Tally(name))

    for row in (
        TalentApplication.objects.visible_to(user)
        .filter(enterprise__in=enterprises)
        .values("enterprise_id", "enterprise__name", "status")
        .annotate(n=Count("pk"))
    ):
        tally(row["enterprise_id"], row["enterprise__name"]).applications[row["status"]] += row["n"]
    for kinds in (
        TalentService.objects.visible_to(user)
        .filter(enterprise__in=enterprises)
        .values("enterprise_id", "enterprise__name", "kind", "status")
        .annotate(n=Count("pk"))
    ):
        key = (kinds["kind"], kinds["status"])
        tally(kinds["enterprise_id"], kinds["enterprise__name"]).services[key] += kinds["n"]
    for needs in (
        TalentNeed.objects.visible_to(user)
        .filter(enterprise__in=enterprises, status=NeedStatus.OPEN)
        .values("enterprise_id", "enterprise__name")
        .annotate(n=Count("pk"))
    ):
        tally(needs["enterprise_id"], needs["enterprise__name"]).open_needs += needs["n"]
    chains: dict[int, Tally] = {}
    members: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for chain_id, chain_name, enterprise_id in NodePlacement.objects.filter(
        enterprise_id__in=list(per), node__chain__zone_id__in=zones
    ).values_list("node__chain_id", "node__chain__name", "enterprise_id"):
        members[chain_id].add(enterprise_id)
        names[chain_id] = chain_name
    for chain_id, enterprise_ids in members.items():
        total = Tally(names[chain_id])
        for enterprise_id in enterprise_ids:
            total.add(per[enterprise_id])
        chains[chain_id] = total
    return per, chains


def portal_items(user: User) -> dict[str, Any]:
    """The portal's lists: the needs, applications and services of the enterprises `user` acts for."""
    enterprises = enterprises_served_by(user)
    return {
        "needs": TalentNeed.objects.filter(enterprise__in=enterprises)
        .select_related("enterprise")
        .order_by("status", "by_date"),
        "applications": TalentApplication.objects.filter(enterprise__in=enterprises).select_related(
            "enterprise", "tier"
        ),
        "services": TalentService.objects.filter(enterprise__in=enterprises)
        .select_related("enterprise", "application")
        .order_by("-requested_at", "-pk"),
    }


def approved_talent(user: User) -> QuerySet[TalentApplication]:
    """The approved talent a service may be asked for by `user`."""
    return TalentApplication.objects.filter(
        enterprise__in=enterprises_served_by(user), status=ApplicationStatus.APPROVED
    ).select_related("enterprise", "tier")
