"""Writes on users, roles and the work calendar. Every change is audited in the same transaction."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from uuid import uuid4

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit, workcalendar
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import CalendarDay, CalendarVersion, CalendarYear, OrgUnit, RoleGrant, User
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
        # The admin chose this password: the user must replace it at the first login.
        user = User.objects.create_user(
            username=username,
            password=password,
            full_name=full_name,
            unit=unit,
            phone=phone,
            email=email,
            must_change_password=True,
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
    answers_need_approval: bool = False,
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
    if answers_need_approval and kind != OrgUnit.Kind.DEPARTMENT:
        raise ServiceError(_("只有部门可以设置“答复须经部门负责人审核”"))
    if unit is not None and unit.kind != kind and unit.children.exists():
        raise ServiceError(_("该单位下还有下级单位，不能改变层级"))
    clash = OrgUnit.objects.filter(code=code)
    if unit is not None:
        clash = clash.exclude(pk=unit.pk)
    if clash.exists():
        raise ServiceError(_("编码“%(code)s”已被使用") % {"code": code})
    with transaction.atomic():
        before = (
            {
                "name": unit.name,
                "code": unit.code,
                "kind": unit.kind,
                "parent": unit.parent_id,
                "is_dispatch_desk": unit.is_dispatch_desk,
                "answers_need_approval": unit.answers_need_approval,
            }
            if unit
            else None
        )
        unit = unit or OrgUnit()
        unit.name, unit.code, unit.kind, unit.parent = name, code, kind, parent
        unit.is_dispatch_desk, unit.answers_need_approval = is_dispatch_desk, answers_need_approval
        unit.save()
        audit.record(
            by,
            "unit.update" if before else "unit.create",
            unit,
            summary=f"{'修改' if before else '新建'}组织单位 {name}",
            detail={
                "before": before,
                "code": code,
                "kind": kind,
                "parent": parent.pk if parent else None,
                "is_dispatch_desk": is_dispatch_desk,
                "answers_need_approval": answers_need_approval,
            },
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


def note_login_failure(
    username: str, *, ip: str | None, threshold: int, minutes: int, action: str = "auth.login_failed"
) -> User | None:
    """Count a failed login (a wrong password, or a wrong second-step code: `action`); lock at the threshold."""
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
            action,
            summary=(
                f"登录失败：{username}" if action == "auth.login_failed" else f"两步验证码错误：{username}"
            ),
            ip=ip,
            object_type="core.user",
            object_id=str(user.pk) if user else "",
        )
    return user


# Days and declarations outside these years are refused: they are typing mistakes, not schedules.
CALENDAR_YEARS = range(2004, 2101)


def _check_calendar_year(year: int) -> None:
    if year not in CALENDAR_YEARS:
        raise ServiceError(
            _("工作日历只能维护 %(first)s 年至 %(last)s 年的日期")
            % {"first": CALENDAR_YEARS[0], "last": CALENDAR_YEARS[-1]}
        )


def _calendar_changed(sender: type, years: set[int]) -> None:
    """Give the calendar a new version in the caller's transaction; once it commits, every process rebuilds."""
    CalendarVersion.objects.update_or_create(
        id=1, defaults={"token": uuid4().hex, "changed_at": timezone.now()}
    )
    # robust: the change is committed by then, so a failing receiver must not turn it into an error page.
    transaction.on_commit(partial(workcalendar.after_change, sender, frozenset(years)), robust=True)


def set_calendar_day(day: date, *, is_workday: bool, name: str, by: User | None) -> CalendarDay:
    """Enter or change one day of the official schedule (a holiday or a 调休 working day); it overrides the built-in calendar."""
    _require(by, Role.SYSADMIN, _("维护工作日历"))
    _check_calendar_year(day.year)
    name = name.strip()
    kind = "上班" if is_workday else "休息"
    with transaction.atomic():
        before = CalendarDay.objects.filter(date=day).values("is_workday", "name").first()
        entry, _created = CalendarDay.objects.update_or_create(
            date=day,
            defaults={"is_workday": is_workday, "name": name},
            create_defaults={"is_workday": is_workday, "name": name, "created_by": by},
        )
        audit.record(
            by,
            "calendar.day_update" if before else "calendar.day_create",
            entry,
            summary=f"工作日历：{day.isoformat()} 设为{kind}" + (f"（{name}）" if name else ""),
            detail={"date": day.isoformat(), "is_workday": is_workday, "name": name, "before": before},
        )
        _calendar_changed(CalendarDay, {day.year})
    return entry


def remove_calendar_day(day: date, *, by: User | None) -> None:
    """Remove an admin's entry: the day goes back to the built-in calendar, or to Monday–Friday."""
    _require(by, Role.SYSADMIN, _("维护工作日历"))
    with transaction.atomic():
        entry = CalendarDay.objects.filter(date=day).first()
        if entry is None or not CalendarDay.objects.filter(pk=entry.pk).delete()[0]:
            raise ServiceError(_("%(date)s 没有录入过，无需删除") % {"date": day.isoformat()})
        audit.record(
            by,
            "calendar.day_delete",
            object_type="core.calendarday",
            object_id=str(entry.pk),
            summary=f"工作日历：删除 {day.isoformat()} 的录入",
            detail={"date": day.isoformat(), "before": {"is_workday": entry.is_workday, "name": entry.name}},
        )
        _calendar_changed(CalendarDay, {day.year})


def declare_calendar_year(year: int, *, note: str, by: User | None) -> CalendarYear:
    """Declare that a year's official schedule is entered completely: its deadlines stop being provisional."""
    _require(by, Role.SYSADMIN, _("声明年度工作日历"))
    _check_calendar_year(year)
    if year in workcalendar.library_years():
        raise ServiceError(_("%(year)s 年的官方节假日安排已内置于系统，无需声明") % {"year": year})
    with transaction.atomic():
        done = CalendarYear.objects.filter(year=year).first()
        if done is not None:
            raise ServiceError(
                _("%(year)s 年已于 %(at)s 声明为完整")
                % {"year": year, "at": timezone.localtime(done.declared_at).strftime("%Y-%m-%d %H:%M")}
            )
        entries = CalendarDay.objects.filter(date__year=year)
        holidays, workdays = entries.filter(is_workday=False).count(), entries.filter(is_workday=True).count()
        if not holidays:
            # Every official schedule has holidays: a year without any is one not entered yet.
            raise ServiceError(
                _(
                    "%(year)s 年还没有录入任何节假日：请先按国务院办公厅的通知逐日录入放假日和调休上班日，再声明完整"
                )
                % {"year": year}
            )
        try:
            declared = CalendarYear.objects.create(year=year, note=note.strip(), declared_by=by)
        except IntegrityError as exc:
            raise ServiceError(_("%(year)s 年已声明为完整") % {"year": year}) from exc
        audit.record(
            by,
            "calendar.year_declare",
            declared,
            summary=f"声明 {year} 年工作日历已完整录入（放假 {holidays} 天，调休上班 {workdays} 天）",
            detail={"year": year, "note": declared.note, "holidays": holidays, "workdays": workdays},
        )
        _calendar_changed(CalendarYear, {year})
    return declared
