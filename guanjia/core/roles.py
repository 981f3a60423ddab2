"""Roles as DESIGN.md defines them, and the rule of 三员分立."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ENTERPRISE_USER = "enterprise_user", _("企业用户")
    STEWARD = "steward", _("服务管家")
    DISPATCHER = "dispatcher", _("受理员/调度员")
    HANDLER = "handler", _("部门承办人")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    SUPERVISOR = "supervisor", _("效能督查")
    LEADER = "leader", _("领导")
    PROMOTER = "promoter", _("招商专员")
    SECONDED_CADRE = "seconded_cadre", _("挂职干部")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")


# 三员分立: an account holding one of these holds no other role.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)


def is_business_account(user: Any) -> bool:
    """A signed-in, active account of the business side, not one of the 三员 (None: no user)."""
    return bool(user is not None and user.is_authenticated and user.is_active and not user.is_admin_account)


# Staff who see every enterprise of their zone (or city) in the registry.
ZONE_WIDE_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER, Role.PROMOTER})
# Staff who keep the registry: create, edit, import, reassign stewards.
REGISTRY_KEEPERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR})
