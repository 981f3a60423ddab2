"""Writes on users and roles. Every change is audited in the same transaction."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import ADMIN_ROLES, Role


def _require(actor: User | None, role: str, what: str) -> None:
    if actor is not None and not actor.has_role(role):
        raise NotAllowed(_("只有%(role)s可以%(what)s") % {"role": Role(role).label, "what": what})


def check_new_password(password: str, *, username: str, full_name: str = "") -> None:
    """Django's password validators, refused as a ServiceError listing every reason in Chinese."""
    try:
        validate_password(password, User(username=username, full_name=full_name))
    except ValidationError as exc:
        raise ServiceError(_("密码不符合要求：%(reasons)s") % {"reasons": "；".join(exc.messages)}) from exc


def create_user(
    *,
    username: str,
    full_name: str,
    unit: OrgUnit | None,
    password: str,
    phone: str = "",
    email: str = "",
    by: User | None,
) -> User:
    """Create an account (system admin's work). Roles are granted separately by the security admin."""
    _require(by, Role.SYSADMIN, _("创建用户"))
    if User.objects.filter(username=username).exists():
        raise ServiceError(_("用户名“%(username)s”已被使用") % {"username": username})
    check_new_password(password, username=username, full_name=full_name)
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, full_name=full_name, unit=unit, phone=phone, email=email
        )
        audit.record(
            by,
            "user.create",
            user,
            summary=f"创建用户 {username}",
            detail={"unit": unit.code if unit else None},
        )
    return user


def save_unit(
    *,
    name: str,
    code: str,
    kind: str,
    parent: OrgUnit | None,
    is_dispatch_desk: bool,
    unit: OrgUnit | None = None,
    by: User | None,
) -> OrgUnit:
    """Create or change an organisation unit (system admin's configuration work), keeping the tree's shape."""
    _require(by, Role.SYSADMIN, _("维护组织机构"))
    expected_parent = {
        OrgUnit.Kind.CITY: None,
        OrgUnit.Kind.ZONE: OrgUnit.Kind.CITY,
        OrgUnit.Kind.DEPARTMENT: OrgUnit.Kind.ZONE,
    }[OrgUnit.Kind(kind)]
    if expected_parent is None and parent is not None:
        raise ServiceError(_("市级单位没有上级单位"))
    if expected_parent is not None and (parent is None or parent.kind != expected_parent):
        raise ServiceError(
            _("%(kind)s的上级必须是%(parent)s")
            % {"kind": OrgUnit.Kind(kind).label, "parent": OrgUnit.Kind(expected_parent).label}
        )
    if is_dispatch_desk and kind != OrgUnit.Kind.DEPARTMENT:
        raise ServiceError(_("只有部门可以作为受理调度中心"))
    if unit is not None and unit.kind != kind and unit.children.exists():
        raise ServiceError(_("该单位下还有下级单位，不能改变层级"))
    clash = OrgUnit.objects.filter(code=code)
    if unit is not None:
        clash = clash.exclude(pk=unit.pk)
    if clash.exists():
        raise ServiceError(_("编码“%(code)s”已被使用") % {"code": code})
    with transaction.atomic():
        before = {"name": unit.name, "code": unit.code, "parent": unit.parent_id} if unit else None
        unit = unit or OrgUnit()
        unit.name, unit.code, unit.kind, unit.parent, unit.is_dispatch_desk = (
            name,
            code,
            kind,
            parent,
            is_dispatch_desk,
        )
        unit.save()
        audit.record(
            by,
            "unit.update" if before else "unit.create",
            unit,
            summary=f"{'修改' if before else '新建'}组织单位 {name}",
            detail={"before": before, "code": code, "kind": kind, "parent": parent.pk if parent else None},
        )
    return unit


def set_user_active(user: User, active: bool, *, by: User | None) -> None:
    _require(by, Role.SYSADMIN, _("启用或停用用户"))
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.is_active = active
        audit.record(
            by,
            "user.enable" if active else "user.disable",
            user,
            summary=f"{'启用' if active else '停用'}用户 {user.username}",
        )


def grant_role(user: User, role: str, *, by: User | None) -> RoleGrant:
    """Grant a role, keeping 三员分立: an admin role is exclusive on an account."""
    _require(by, Role.SECADMIN, _("授予角色"))
    if by is not None and by.pk == user.pk:
        raise NotAllowed(_("不能给自己授予角色"))
    role = Role(role)
    with transaction.atomic():
        held = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
        if role in held:
            raise ServiceError(
                _("%(user)s 已拥有角色“%(role_label)s”") % {"user": user, "role_label": role.label}
            )
        if role in ADMIN_ROLES and held:
            raise ServiceError(
                _("三员分立：%(user)s 已有其他角色，不能再授予“%(role_label)s”")
                % {"user": user, "role_label": role.label}
            )
        if held & ADMIN_ROLES:
            raise ServiceError(
                _("三员分立：%(user)s 是管理员账号，不能再授予“%(role_label)s”")
                % {"user": user, "role_label": role.label}
            )
        try:
            grant = RoleGrant.objects.create(user=user, role=role, granted_by=by)
        except IntegrityError as exc:
            raise ServiceError(
                _("%(user)s 已拥有角色“%(role_label)s”") % {"user": user, "role_label": role.label}
            ) from exc
        audit.record(
            by,
            "role.grant",
            user,
            summary=f"授予 {user.username} 角色 {role.label}",
            detail={"role": role.value},
        )
    user.forget_roles()
    return grant


def revoke_role(user: User, role: str, *, by: User | None) -> None:
    _require(by, Role.SECADMIN, _("撤销角色"))
    role = Role(role)
    with transaction.atomic():
        deleted, _details = RoleGrant.objects.filter(user=user, role=role).delete()
        if not deleted:
            raise ServiceError(
                _("%(user)s 没有角色“%(role_label)s”") % {"user": user, "role_label": role.label}
            )
        audit.record(
            by,
            "role.revoke",
            user,
            summary=f"撤销 {user.username} 的角色 {role.label}",
            detail={"role": role.value},
        )
    user.forget_roles()


def unlock_user(user: User, *, by: User | None) -> None:
    _require(by, Role.SECADMIN, _("解锁账号"))
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record(by, "user.unlock", user, summary=f"解锁账号 {user.username}")


def note_login_failure(username: str, *, ip: str | None, threshold: int, minutes: int) -> User | None:
    """Count a failed login; lock the account at the threshold. The count is an atomic increment."""
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is not None:
            if user.locked_until is not None and not user.is_locked():
                # The lock ran out: the next failures count from zero again.
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            user.refresh_from_db(fields=["failed_logins", "locked_until"])
            if user.failed_logins >= threshold and not user.is_locked():
                user.locked_until = timezone.now() + timedelta(minutes=minutes)
                User.objects.filter(pk=user.pk).update(locked_until=user.locked_until)
                audit.record(
                    None,
                    "auth.lock",
                    user,
                    summary=f"账号 {username} 连续登录失败 {threshold} 次，已锁定",
                    ip=ip,
                )
        audit.record(
            None,
            "auth.login_failed",
            summary=f"登录失败：{username}",
            ip=ip,
            object_type="core.user",
            object_id=str(user.pk) if user else "",
        )
    return user
