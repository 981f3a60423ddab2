"""The navigation each role sees: one list, filtered by the user's roles."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import User
from guanjia.core.notifications import unread_count
from guanjia.core.roles import BUSINESS_ROLES, REGISTRY_KEEPERS, ZONE_WIDE_ROLES, Role

# (label, url name, roles that see it)
NAVIGATION = [
    (_("首页"), "home", None),
    (_("驾驶舱"), "cockpit:index", {Role.LEADER, Role.SUPERVISOR}),
    (_("我的企业"), "enterprises:mine", {Role.STEWARD}),
    (_("企业库"), "enterprises:list", set(ZONE_WIDE_ROLES)),
    (_("批量导入"), "enterprises:import", set(REGISTRY_KEEPERS)),
    (_("管家负载与交接"), "enterprises:stewards", set(REGISTRY_KEEPERS) | {Role.LEADER}),
    (_("我的企业主页"), "enterprises:portal", {Role.ENTERPRISE_USER}),
    (_("我的诉求"), "appeals:mine", {Role.ENTERPRISE_USER}),
    (_("融资需求"), "investment:my-needs", {Role.ENTERPRISE_USER}),
    (_("我服务企业的诉求"), "appeals:stewarded", {Role.STEWARD}),
    (_("走访"), "visits:calendar", {Role.STEWARD, Role.DISPATCHER, Role.SUPERVISOR}),
    (_("走访督查"), "visits:overdue", {Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}),
    (_("专项行动"), "campaigns:list", {Role.STEWARD, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}),
    (_("产业链招商"), "investment:index", {Role.PROMOTER, Role.LEADER}),
    (_("上市后备企业"), "capital:listings", {Role.PROMOTER, Role.LEADER, Role.SUPERVISOR, Role.STEWARD}),
    (_("可享政策"), "policies:portal", {Role.ENTERPRISE_USER}),
    (_("政策库"), "policies:index", set(BUSINESS_ROLES) - {Role.ENTERPRISE_USER}),
    (_("常见问题"), "knowledge:portal", {Role.ENTERPRISE_USER}),
    (_("办事服务时间"), "windows:hours", {Role.ENTERPRISE_USER, Role.STEWARD}),
    (_("我的预约"), "windows:my-appointments", {Role.ENTERPRISE_USER, Role.STEWARD}),
    # Shown only to the staff of a service unit (the windows app registers the condition).
    (_("我的班次"), "windows:my-shifts", set(BUSINESS_ROLES) - {Role.ENTERPRISE_USER}),
    (_("窗口预约接待"), "windows:my-bookings", set(BUSINESS_ROLES) - {Role.ENTERPRISE_USER}),
    (
        _("服务窗口"),
        "windows:units",
        {Role.DEPARTMENT_HEAD, Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER},
    ),
    (_("知识库"), "knowledge:list", set(BUSINESS_ROLES) - {Role.ENTERPRISE_USER}),
    (_("人才服务"), "talent:portal", {Role.ENTERPRISE_USER, Role.STEWARD}),
    # Shown to a handler or head only where a talent route names its department (the talent app's condition).
    (_("人才绿色通道"), "talent:index", {Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER, Role.SUPERVISOR}),
    (_("服务企业可享政策"), "policies:steward-benefits", {Role.STEWARD}),
    (
        _("政策兑现"),
        "policies:deliveries",
        {Role.HANDLER, Role.DEPARTMENT_HEAD, Role.STEWARD, Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER},
    ),
    (_("挂职结对"), "exchange:index", {Role.SUPERVISOR, Role.LEADER}),
    (_("我的挂职"), "exchange:mine", {Role.SECONDED_CADRE}),
    (_("经验做法"), "exchange:practices", {Role.SUPERVISOR, Role.LEADER, Role.SECONDED_CADRE}),
    (_("挂职推荐线索"), "exchange:sourced-leads", {Role.PROMOTER}),
    (_("诉求受理"), "appeals:queue", {Role.DISPATCHER}),
    (_("部门工作台"), "appeals:worklist", {Role.HANDLER, Role.DEPARTMENT_HEAD}),
    (_("诉求总览"), "appeals:list", {Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}),
    (_("督办看板"), "appeals:board", {Role.SUPERVISOR, Role.LEADER}),
    (_("审批与协调"), "appeals:approvals", {Role.SUPERVISOR, Role.LEADER}),
    (_("组织机构"), "core:units", {Role.SYSADMIN}),
    (_("用户管理"), "core:users", {Role.SYSADMIN}),
    (
        _("诉求类别与分派"),
        "appeals:categories",
        {Role.SYSADMIN, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER},
    ),
    (_("智能分派模型"), "dispatch:routing", {Role.SYSADMIN, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}),
    (_("工作日历"), "core:calendar", {Role.SYSADMIN}),
    (_("部门群机器人"), "core:robots", {Role.SYSADMIN}),
    (_("角色与安全"), "core:roles", {Role.SECADMIN}),
    (_("安全策略"), "core:security", {Role.SECADMIN}),
    (_("审计日志"), "core:audit", {Role.AUDITOR}),
    (_("API 文档"), "api-docs", set(Role) - {Role.ENTERPRISE_USER}),
    (_("修改密码"), "account-password", None),
    (_("两步验证"), "account-totp", set(Role) - {Role.ENTERPRISE_USER}),
]


# Items that depend on more than a role (e.g. being on a unit's staff): a condition registered by the app
# that owns the page, so that core imports no domain app.
_conditions: dict[str, Callable[[User], bool]] = {}


def register_condition(url_name: str, condition: Callable[[User], bool]) -> None:
    """Show the navigation item of `url_name` only to the users for whom `condition` holds."""
    _conditions[url_name] = condition


def navigation(request) -> dict:
    params = request.GET.copy()
    params.pop("page", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "query_string": params.urlencode()}
    items = []
    held: dict[Callable[[User], bool], bool] = {}  # each condition asked once per page
    for label, url_name, roles in NAVIGATION:
        if roles is None or user.has_any_role(roles):
            condition = _conditions.get(url_name)
            if condition is not None:
                if condition not in held:
                    held[condition] = condition(user)
                if not held[condition]:
                    continue
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": request.path == url})
    return {
        "nav_items": items,
        "user_roles": [Role(r).label for r in sorted(user.roles)],
        "query_string": params.urlencode(),
        "unread_count": unread_count(user),
    }
