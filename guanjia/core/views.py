from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanjia.core import audit, notifications, security, webhooks, workcalendar
from guanjia.core import services as core_services
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import (
    AuditSearchForm,
    CalendarDayForm,
    CalendarYearForm,
    DepartmentWebhookForm,
    LockoutAuthenticationForm,
    OrgUnitForm,
    OwnPasswordChangeForm,
    RoleGrantForm,
    SecurityPolicyForm,
    TotpCodeForm,
    UserCreateForm,
    UserSearchForm,
    WorkdayCheckForm,
    form_errors_message,
)
from guanjia.core.home import home_sections
from guanjia.core.http import client_ip
from guanjia.core.models import (
    AuditRecord,
    CalendarDay,
    CalendarYear,
    DepartmentWebhook,
    OrgUnit,
    RoleGrant,
    SecurityPolicy,
    TotpDevice,
    User,
)
from guanjia.core.roles import Role


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    return render(request, "core/home.html", {"sections": home_sections(request.user)})


@role_required(Role.SYSADMIN)
def users(request: AuthedRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = core_services.create_user(by=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已创建用户 {user.username}，请由安全管理员授予角色")
            return redirect("core:users")
    search = UserSearchForm(request.GET)
    queryset = search.filter(
        User.objects.select_related("unit").prefetch_related("role_grants").order_by("username")
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "core/users.html", {"form": form, "search": search, "page": page})


@role_required(Role.SYSADMIN)
def units(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    unit = get_object_or_404(OrgUnit, pk=pk) if pk else None
    initial = (
        {
            "name": unit.name,
            "code": unit.code,
            "kind": unit.kind,
            "parent": unit.parent,
            "is_dispatch_desk": unit.is_dispatch_desk,
            "answers_need_approval": unit.answers_need_approval,
        }
        if unit
        else None
    )
    form = OrgUnitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = core_services.save_unit(unit=unit, by=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已保存 {saved.name}")
            return redirect("core:units")
    tree = OrgUnit.objects.select_related("parent").annotate(n_users=Count("users")).order_by("kind", "code")
    return render(request, "core/units.html", {"form": form, "unit": unit, "units": _as_tree(list(tree))})


def _as_tree(units: list[OrgUnit]) -> list[tuple[int, OrgUnit]]:
    """Units in tree order with their depth: city, its zones, each zone's departments."""
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[int, OrgUnit]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            ordered.append((depth, unit))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return ordered


@require_POST
@role_required(Role.SYSADMIN)
def user_set_active(request: AuthedRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    active = request.POST.get("active") == "1"
    if user.pk == request.user.pk:
        messages.error(request, "不能停用自己的账号")
    else:
        core_services.set_user_active(user, active, by=request.user)
        messages.success(request, f"已{'启用' if active else '停用'} {user.username}")
    return redirect("core:users")


@role_required(Role.SECADMIN)
def roles(request: AuthedRequest) -> HttpResponse:
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            core_services.grant_role(form.cleaned_data["user"], form.cleaned_data["role"], by=request.user)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已授予角色")
            return redirect("core:roles")
    search = UserSearchForm(request.GET)
    queryset = search.filter(
        User.objects.visible_to(request.user)
        .select_related("unit")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.order_by("role")))
        .order_by("username")
    )
    locked = (
        User.objects.visible_to(request.user).filter(locked_until__gt=timezone.now()).order_by("username")
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request, "core/roles.html", {"form": form, "search": search, "page": page, "locked": locked}
    )


@require_POST
@role_required(Role.SECADMIN)
def role_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    try:
        core_services.revoke_role(user, request.POST.get("role", ""), by=request.user)
    except (ServiceError, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已撤销 {user.username} 的角色")
    return redirect("core:roles")


@require_POST
@role_required(Role.SECADMIN)
def user_unlock(request: AuthedRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    core_services.unlock_user(user, by=request.user)
    messages.success(request, f"已解锁 {user.username}")
    return redirect("core:security" if request.POST.get("back") == "security" else "core:roles")


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=workcalendar.BEIJING)


def _audit_queryset(request: AuthedRequest):
    """The records the auditor's search selects; the page and the CSV export read the same rows."""
    queryset = AuditRecord.objects.all()
    form = AuditSearchForm(request.GET)
    form.is_valid()  # an invalid field (e.g. a malformed date) is left out and named on the page
    data = getattr(form, "cleaned_data", {})
    q = data.get("q", "")
    if q:
        queryset = queryset.filter(
            Q(actor_name__icontains=q) | Q(action__icontains=q) | Q(summary__icontains=q) | Q(object_id=q)
        )
    if data.get("actor"):
        queryset = queryset.filter(actor_name=data["actor"])
    if data.get("action"):
        # "appeal." selects every appeal event; "appeal.dispatch" that one action.
        action = data["action"]
        queryset = (
            queryset.filter(action__startswith=action)
            if action.endswith(".")
            else queryset.filter(action=action)
        )
    if data.get("object_type"):
        queryset = queryset.filter(object_type=data["object_type"])
    if data.get("object_id"):
        queryset = queryset.filter(object_id=data["object_id"])
    # Days are Beijing days, both ends included.
    if data.get("since"):
        queryset = queryset.filter(at__gte=_beijing_midnight(data["since"]))
    if data.get("until"):
        queryset = queryset.filter(at__lt=_beijing_midnight(data["until"] + timedelta(days=1)))
    conditions = {key: str(value) for key, value in data.items() if value}
    return queryset, form, conditions


@require_GET
@role_required(Role.AUDITOR)
def audit_log(request: AuthedRequest) -> HttpResponse:
    queryset, form, conditions = _audit_queryset(request)
    page = Paginator(queryset.order_by("-id"), 100).get_page(request.GET.get("page"))
    report = audit.verify() if request.GET.get("verify") else None
    context = {
        "page": page,
        "form": form,
        "q": conditions.get("q", ""),
        "query": urlencode(conditions),
        "report": report,
    }
    return render(request, "core/audit.html", context)


@require_GET
@role_required(Role.AUDITOR)
def audit_export(request: AuthedRequest) -> HttpResponse:
    queryset, _form, conditions = _audit_queryset(request)
    shown = "；".join(f"{key}={value}" for key, value in conditions.items())
    audit.record(
        request.user,
        "audit.export",
        summary=f"导出审计日志（条件：{shown or '全部'}）",
        detail={"filters": conditions},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.write("\ufeff")  # BOM so that Excel opens the UTF-8 file as Chinese text
    writer = csv.writer(response)
    writer.writerow(
        ["编号", "时间", "操作人", "操作", "对象类型", "对象编号", "摘要", "IP", "链序号", "哈希"]
    )
    for rec in queryset.order_by("id").iterator(chunk_size=2000):
        writer.writerow(
            [
                rec.id,
                timezone.localtime(rec.at).isoformat(),
                rec.actor_name,
                rec.action,
                rec.object_type,
                rec.object_id,
                rec.summary,
                rec.ip or "",
                rec.seq or "",
                rec.hash,
            ]
        )
    return response


def _calendar_url(year: int) -> str:
    return f"{reverse('core:calendar')}?year={year}"


@role_required(Role.SYSADMIN)
def calendar(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    form = CalendarDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = core_services.set_calendar_day(by=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存 %(date)s") % {"date": entry.date.isoformat()})
            return redirect(_calendar_url(entry.date.year))
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = today.year
    if year not in core_services.CALENDAR_YEARS:
        year = today.year
    entries = CalendarDay.objects.filter(date__year=year).select_related("created_by").order_by("date")
    years = {d.year for d in CalendarDay.objects.dates("date", "year")} | {today.year, today.year + 1, year}
    missing = workcalendar.upcoming_uncovered_years(today)
    declare_form = CalendarYearForm(initial={"year": missing[0] if missing else today.year + 1})
    check_form = WorkdayCheckForm(request.GET if "start" in request.GET else None)
    check = None
    if check_form.is_bound and check_form.is_valid():
        start, n = check_form.cleaned_data["start"], check_form.cleaned_data["n"]
        try:
            result = workcalendar.add_workdays(start, n)
        except (OverflowError, ValueError):
            check_form.add_error(None, _("结果超出了可计算的日期范围"))
        else:
            check = {
                "start": start,
                "n": n,
                "result": result,
                "start_is_workday": workcalendar.is_workday(start),
                "provisional": workcalendar.is_provisional(start, result),
            }
    library = workcalendar.library_years()
    return render(
        request,
        "core/calendar.html",
        {
            "form": form,
            "declare_form": declare_form,
            "check_form": check_form,
            "check": check,
            "year": year,
            "years": sorted(years),
            "year_status": (
                "library" if year in library else "declared" if workcalendar.is_covered(year) else "missing"
            ),
            "entries": entries,
            "library_years": workcalendar.format_years(library, dash="–", sep="、"),
            "declared": CalendarYear.objects.select_related("declared_by").order_by("year"),
            "covered_years": workcalendar.format_years(workcalendar.coverage(), dash="–", sep="、"),
            "missing_years": missing,
        },
    )


@require_POST
@role_required(Role.SYSADMIN)
def calendar_day_remove(request: AuthedRequest) -> HttpResponse:
    try:
        day = date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        messages.error(request, _("日期格式不正确"))
        return redirect("core:calendar")
    try:
        core_services.remove_calendar_day(day, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除 %(date)s 的录入") % {"date": day.isoformat()})
    return redirect(_calendar_url(day.year))


@require_POST
@role_required(Role.SYSADMIN)
def calendar_year_declare(request: AuthedRequest) -> HttpResponse:
    form = CalendarYearForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_message(form))
        return redirect("core:calendar")
    year = form.cleaned_data["year"]
    try:
        core_services.declare_calendar_year(year, note=form.cleaned_data["note"], by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("已声明 %(year)s 年工作日历完整，该年的期限不再是临时的") % {"year": year}
        )
    return redirect(_calendar_url(year))


@login_required
def inbox(request: AuthedRequest) -> HttpResponse:
    """站内消息: the user's own notifications, newest first, for every logged-in user."""
    page = Paginator(notifications.inbox_of(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


@require_POST
@login_required
def inbox_read(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read; with open=1, go on to what it links to."""
    note = get_object_or_404(notifications.inbox_of(request.user), pk=pk)  # another's is a 404
    notifications.mark_read(request.user, [note.pk])
    if request.POST.get("open") == "1" and note.link:
        return redirect(note.link)  # a relative path on this site: notify() refuses anything else
    return redirect("core:inbox")


@require_POST
@login_required
def inbox_read_all(request: AuthedRequest) -> HttpResponse:
    count = notifications.mark_read(request.user)
    messages.success(request, _("已将 %(n)s 条消息标为已读") % {"n": count})
    return redirect("core:inbox")


@role_required(Role.SYSADMIN)
def robots(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    """部门群机器人: the robots by department, their last delivery, and the form to add or change one."""
    robot = get_object_or_404(DepartmentWebhook.objects.select_related("unit"), pk=pk) if pk else None
    initial = {"unit": robot.unit, "kind": robot.kind, "is_active": robot.is_active} if robot else None
    form = DepartmentWebhookForm(request.POST or None, initial=initial, editing=robot is not None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = webhooks.save_webhook(webhook=robot, by=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存 %(robot)s") % {"robot": saved})
            return redirect("core:robots")
    rows = list(
        DepartmentWebhook.objects.select_related("unit", "unit__parent").order_by("unit__code", "kind")
    )
    last = webhooks.last_deliveries(r.pk for r in rows)
    listing = [
        {
            "robot": r,
            "url": webhooks.masked_url(r.url),
            "secret": webhooks.masked_secret(r.secret),
            "last": last.get(r.pk),
        }
        for r in rows
    ]
    return render(
        request,
        "core/robots.html",
        {
            "form": form,
            "robot": robot,
            "robot_secret": webhooks.masked_secret(robot.secret) if robot else "",
            "robot_url": webhooks.masked_url(robot.url) if robot else "",
            "rows": listing,
        },
    )


@require_POST
@role_required(Role.SYSADMIN)
def robot_active(request: AuthedRequest, pk: int) -> HttpResponse:
    robot = get_object_or_404(DepartmentWebhook.objects.select_related("unit"), pk=pk)
    active = request.POST.get("active") == "1"
    webhooks.set_webhook_active(robot, active, by=request.user)
    messages.success(request, (_("已启用 %(robot)s") if active else _("已停用 %(robot)s")) % {"robot": robot})
    return redirect("core:robots")


@require_POST
@role_required(Role.SYSADMIN)
def robot_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    robot = get_object_or_404(DepartmentWebhook.objects.select_related("unit"), pk=pk)
    try:
        webhooks.delete_webhook(robot, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除 %(robot)s") % {"robot": robot})
    return redirect("core:robots")


@require_POST
@role_required(Role.SYSADMIN)
def robot_test(request: AuthedRequest, pk: int) -> HttpResponse:
    robot = get_object_or_404(DepartmentWebhook.objects.select_related("unit"), pk=pk)
    webhooks.send_test(robot, by=request.user)
    messages.success(request, _("已将测试消息放入发送队列，稍后刷新本页查看发送结果"))
    return redirect("core:robots")


# --- Login's second step, own password and second factor, the security policy --------------------


class LoginView(auth_views.LoginView):
    """Django's login with the lockout form; a user with TOTP goes on to the code step, not logged in yet."""

    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if security.has_totp(user):
            security.begin_totp_login(self.request, user, next_url=self.get_success_url())
            return redirect("login-totp")
        return super().form_valid(form)


def login_totp(request: HttpRequest) -> HttpResponse:
    """登录第二步: the code from the authenticator app; the user is logged in only once it is right."""
    pending = security.pending_totp_login(request)
    if pending is None:
        messages.error(request, _("登录已超时或尚未输入密码，请重新登录"))
        return redirect("login")
    user, state = pending
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            security.check_login_code(request, user, form.cleaned_data["code"])
        except security.LoginLocked as exc:
            messages.error(request, str(exc))
            return redirect("login")
        except ServiceError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(security.PENDING_KEY, None)
            auth_login(request, user, backend=state["backend"])
            return redirect(state["next"])  # LoginView.get_success_url() checked it is ours
    return render(request, "core/login_totp.html", {"form": form, "pending_user": user})


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
def account_password(request: AuthedRequest) -> HttpResponse:
    """修改密码, for every user; also where the middleware sends an initial or expired password."""
    reason = security.password_change_reason(request.user)
    form = OwnPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        security.change_password(request.user, form.cleaned_data["new_password1"], ip=client_ip(request))
        update_session_auth_hash(request, request.user)  # stay logged in with the new password
        messages.success(request, _("密码已修改"))
        return redirect(_next_url(request, reverse("home")))
    return render(
        request,
        "core/account_password.html",
        {
            "form": form,
            "reason": reason,
            "max_age_days": security.policy().password_max_age_days,
            "next": _next_url(request, ""),
        },
    )


@login_required
def account_totp(request: AuthedRequest) -> HttpResponse:
    """两步验证: bind an authenticator app (confirmed with a code), or turn it off with a current code."""
    user = request.user
    if not security.may_use_totp(user):
        raise PermissionDenied(_("企业用户账号不使用两步验证"))
    device = security.active_device(user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if device is not None:
                security.disable_totp(user, code, ip=client_ip(request))
            else:
                security.confirm_totp(user, code, ip=client_ip(request))
        except ServiceError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("已停用两步验证") if device is not None else _("已启用两步验证"))
            return redirect(_next_url(request, reverse("account-totp")) if device is None else "account-totp")
    return render(
        request,
        "core/account_totp.html",
        {
            "form": form,
            "device": device,
            "enrolment": None if device is not None else security.pending_enrolment(user),
            "required": security.totp_required(user),
            "next": _next_url(request, ""),
        },
    )


@role_required(Role.SECADMIN)
def security_policy(request: AuthedRequest) -> HttpResponse:
    """安全策略: the security admin reads and changes the policy, sees locked accounts and bound authenticators."""
    # A fresh instance: the form writes into it while validating, and policy()'s copy is shared.
    instance = SecurityPolicy.objects.filter(pk=1).first() or security.default_policy()
    form = SecurityPolicyForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            security.update_policy(
                by=request.user,
                read_version=request.POST.get("read_version"),  # the page always sends it
                **{name: form.cleaned_data[name] for name in security.POLICY_FIELDS},
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存安全策略"))
            return redirect("core:security")
    devices = (
        TotpDevice.objects.filter(confirmed_at__isnull=False)
        .select_related("user")
        .order_by("user__username")
    )
    return render(
        request,
        "core/security.html",
        {
            "form": form,
            "policy": instance,
            "saved": instance.updated_at is not None,
            # From the row as it is now, not the form's POST: a refused save shows the current state.
            "read_version": security.policy_version(SecurityPolicy.objects.filter(pk=1).first()),
            "locked": security.locked_accounts(),
            "devices": Paginator(devices, 50).get_page(request.GET.get("page")),
        },
    )


@require_POST
@role_required(Role.SECADMIN)
def totp_reset(request: AuthedRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    try:
        security.reset_totp(user, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("已重置 %(user)s 的两步验证，该用户可重新绑定身份验证器") % {"user": user.username}
        )
    return redirect("core:security")
