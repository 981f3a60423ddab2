"""Writes on the category tree and the routing tables: configuration, kept by the system admin and audited."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.core import audit
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

CATEGORY_FIELDS = (
    "name",
    "code",
    "parent",
    "position",
    "is_active",
    "accept_days",
    "sign_days",
    "answer_days_consult",
    "answer_days_normal",
    "answer_days_complex",
    "answer_days_urgent",
    "extension_max_days",
)


def _require_sysadmin(by: User | None) -> None:
    if by is not None and not by.has_role(Role.SYSADMIN):
        raise NotAllowed(_("只有系统管理员可以维护诉求类别和分派规则"))


def save_category(
    data: dict[str, Any], *, category: AppealCategory | None = None, by: User | None
) -> AppealCategory:
    """Create or change a category; a new sub-category starts from its parent's time limits."""
    _require_sysadmin(by)
    parent = data.get("parent")
    if category is not None and parent is not None:
        ancestor: AppealCategory | None = parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise ServiceError(_("上级类别不能是它自己或它的下级"))
            ancestor = ancestor.parent
    clash = AppealCategory.objects.filter(code=data["code"])
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise ServiceError(_("编码“%(code)s”已被使用") % {"code": data["code"]})
    before = (
        {f: getattr(category, f if f != "parent" else "parent_id") for f in CATEGORY_FIELDS}
        if category
        else None
    )
    with transaction.atomic():
        category = category or AppealCategory()
        for field in CATEGORY_FIELDS:
            if field in data:
                setattr(category, field, data[field])
        category.full_clean()
        category.save()
        audit.record(
            by,
            "appeal_category.update" if before else "appeal_category.create",
            category,
            summary=_("%(verb)s诉求类别 %(name)s")
            % {"verb": _("修改") if before else _("新建"), "name": category.name},
            detail={"before": before, "after": {f: str(getattr(category, f)) for f in CATEGORY_FIELDS}},
        )
    return category


def set_route(
    category: AppealCategory, zone: OrgUnit, lead_department: OrgUnit, *, by: User | None
) -> CategoryRoute:
    """Route a category's appeals in a zone to a lead department of that zone."""
    _require_sysadmin(by)
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("“%(unit)s”不是园区或县区") % {"unit": zone})
    if lead_department.kind != OrgUnit.Kind.DEPARTMENT or lead_department.parent_id != zone.pk:
        raise ServiceError(
            _("“%(dept)s”不是%(zone)s的部门，不能作为该园区的主办部门")
            % {"dept": lead_department, "zone": zone}
        )
    try:
        with transaction.atomic():
            route, created = CategoryRoute.objects.update_or_create(
                category=category, zone=zone, defaults={"lead_department": lead_department}
            )
            audit.record(
                by,
                "appeal_route.set",
                route,
                summary=_("%(zone)s：%(category)s 默认交 %(dept)s 主办")
                % {"zone": zone, "category": category, "dept": lead_department},
                detail={"category": category.code, "zone": zone.code, "department": lead_department.code},
            )
    except IntegrityError as exc:  # two admins setting the same route at once
        raise ServiceError(_("该分派规则刚被他人修改，请刷新后重试")) from exc
    return route


def remove_route(route: CategoryRoute, *, by: User | None) -> None:
    _require_sysadmin(by)
    with transaction.atomic():
        audit.record(
            by, "appeal_route.remove", route, summary=_("删除分派规则：%(route)s") % {"route": route}
        )
        route.delete()


def default_department(category: AppealCategory, zone: OrgUnit) -> OrgUnit | None:
    """The zone's lead department for a category: its own route, else the nearest ancestor's."""
    routes = {
        r.category_id: r.lead_department
        for r in CategoryRoute.objects.filter(zone=zone).select_related("lead_department")
    }
    node: AppealCategory | None = category
    while node is not None:
        if node.pk in routes:
            return routes[node.pk]
        node = node.parent
    return None
