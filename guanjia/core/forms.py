from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core import audit, security
from guanjia.core.http import client_ip, place_refusal
from guanjia.core.models import DepartmentWebhook, OrgUnit, SecurityPolicy, User
from guanjia.core.roles import Role
from guanjia.core.services import note_login_failure


class TablerWidgetsMixin:
    """Give every widget Tabler's classes and point its aria-describedby at its help text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)
            if field.help_text:
                widget.attrs.setdefault("aria-describedby", f"id_{name}_help")


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form, plus lockout after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。连续失败 %(threshold)s 次后账号将被锁定。"),
        "locked": _("账号因连续登录失败已被锁定，请于 %(until)s 后重试，或联系安全管理员解锁。"),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            user = User.objects.filter(username=username).first()
            if user is not None and user.is_locked():
                until = timezone.localtime(user.locked_until).strftime("%H:%M")
                raise ValidationError(self.error_messages["locked"], code="locked", params={"until": until})
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login" and username:
                current = security.policy()
                locked = note_login_failure(
                    username,
                    ip=client_ip(self.request),
                    threshold=current.lockout_threshold,
                    minutes=current.lockout_minutes,
                )
                if locked is not None and locked.is_locked():
                    until = timezone.localtime(locked.locked_until).strftime("%H:%M")
                    raise ValidationError(
                        self.error_messages["locked"], code="locked", params={"until": until}
                    ) from exc
                raise ValidationError(
                    self.error_messages["invalid_login"],
                    code="invalid_login",
                    params={"threshold": current.lockout_threshold},
                ) from exc
            raise
        user, request = self.user_cache, self.request
        refusal = place_refusal(user, request) if user is not None and request is not None else None
        if refusal is not None:
            assert user is not None and request is not None
            # The password was right: the account may not work from here (an admin outside the
            # management networks, staff on the portal host). Said plainly, and audited.
            audit.record(
                user,
                "auth.login_refused",
                user,
                summary=f"登录地点不允许：{user.username}",
                detail={"reason": refusal, "host": request.get_host()},
                ip=client_ip(request),
            )
            raise ValidationError(refusal, code="place")
        # With a second factor, the count is reset only once the code is right too (security.check_login_code).
        if (
            self.user_cache is not None
            and self.user_cache.failed_logins
            and not security.has_totp(self.user_cache)
        ):
            User.objects.filter(pk=self.user_cache.pk).update(failed_logins=0, locked_until=None)
        return cleaned


class SecurityPolicyForm(TablerWidgetsMixin, forms.ModelForm):
    """The security admin's page; the service update_policy() writes it."""

    class Meta:
        model = SecurityPolicy
        fields = security.POLICY_FIELDS
        help_texts = {
            "lockout_threshold": _("1–20 次；等保要求设置登录失败处理，常用 5 次"),
            "idle_minutes": _("无操作超过该时长后须重新登录，1–480 分钟"),
            "session_max_hours": _("自登录起超过该时长须重新登录，即使一直在操作；0–168 小时"),
            "password_min_length": _("8–64 个字符"),
            "password_history": _("0–24，0 表示不检查"),
            "password_max_age_days": _("如 90；到期后登录须先修改密码"),
            "totp_required_for_admins": _("系统管理员、安全管理员、审计管理员登录后须先绑定身份验证器"),
            "totp_required_for_staff": _("除企业用户外的所有工作人员账号"),
        }


class OwnPasswordChangeForm(TablerWidgetsMixin, PasswordChangeForm):
    """Old password, new twice; the validators (policy length, complexity, history) run on the new one."""


class TotpCodeForm(TablerWidgetsMixin, forms.Form):
    code = forms.RegexField(
        label=_("验证码"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        max_length=8,
        error_messages={"invalid": _("验证码为身份验证器应用中显示的 6 位数字")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "size": 8}
        ),
    )


def username_field() -> forms.RegexField:
    return forms.RegexField(
        label=_("用户名"),
        regex=r"^[A-Za-z0-9_.-]{3,40}$",
        error_messages={"invalid": _("用户名只能包含字母、数字、下划线、点和连字符，3–40 位")},
    )


def mobile_field() -> forms.RegexField:
    return forms.RegexField(
        label=_("手机号"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("手机号应为 11 位数字，以 1 开头")},
    )


class UserCreateForm(TablerWidgetsMixin, forms.Form):
    username = username_field()
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    unit = forms.ModelChoiceField(label=_("所属单位"), queryset=OrgUnit.objects.all(), required=False)
    phone = mobile_field()
    email = forms.EmailField(label=_("邮箱"), required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, min_length=8)


class OrgUnitForm(TablerWidgetsMixin, forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.SlugField(
        label=_("编码"), max_length=40, help_text=_("字母、数字和连字符，如 zone-a-market")
    )
    kind = forms.ChoiceField(label=_("层级"), choices=OrgUnit.Kind.choices)
    parent = forms.ModelChoiceField(
        label=_("上级单位"), queryset=OrgUnit.objects.exclude(kind=OrgUnit.Kind.DEPARTMENT), required=False
    )
    is_dispatch_desk = forms.BooleanField(label=_("企业服务中心（受理调度）"), required=False)
    answers_need_approval = forms.BooleanField(
        label=_("答复须经部门负责人审核"),
        required=False,
        help_text=_("仅对部门有效：承办人的答复须经本部门负责人审核通过后才发给企业"),
    )


class RoleGrantForm(TablerWidgetsMixin, forms.Form):
    user = forms.ModelChoiceField(
        label=_("用户"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)


class UserSearchForm(TablerWidgetsMixin, forms.Form):
    q = forms.CharField(label=_("搜索"), required=False)

    def filter(self, queryset):
        if self.is_valid() and self.cleaned_data["q"]:
            q = self.cleaned_data["q"]
            queryset = queryset.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
        return queryset


def form_errors_message(form: forms.BaseForm) -> str:
    """All of a form's errors in one line, each named by its field's label (for a flash message)."""
    parts = []
    for name, errors in form.errors.items():
        text = "；".join(str(e) for e in errors)
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CalendarDayForm(TablerWidgetsMixin, forms.Form):
    day = forms.DateField(label=_("日期"), widget=_date_input())
    is_workday = forms.TypedChoiceField(
        label=_("这一天"),
        choices=[("0", _("休息（放假）")), ("1", _("上班（调休上班）"))],
        coerce=lambda value: value == "1",
    )
    name = forms.CharField(
        label=_("名称"), max_length=50, required=False, help_text=_("如：春节、国庆节、调休上班")
    )


class CalendarYearForm(TablerWidgetsMixin, forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2004, max_value=2100)
    note = forms.CharField(
        label=_("依据"),
        max_length=200,
        required=False,
        help_text=_("如：国务院办公厅关于 2027 年部分节假日安排的通知"),
    )


class WorkdayCheckForm(TablerWidgetsMixin, forms.Form):
    start = forms.DateField(label=_("起算日"), widget=_date_input())
    n = forms.IntegerField(label=_("工作日数"), min_value=1, max_value=400, initial=5)


class AuditSearchForm(TablerWidgetsMixin, forms.Form):
    """The auditor's search: free text, or by actor, action, object and a range of (Beijing) days."""

    q = forms.CharField(label=_("关键词"), max_length=100, required=False)
    actor = forms.CharField(label=_("操作人（用户名）"), max_length=150, required=False)
    action = forms.CharField(
        label=_("操作"),
        max_length=60,
        required=False,
        help_text=_("如 appeal.dispatch；以“.”结尾表示一类，如 appeal."),
    )
    object_type = forms.CharField(label=_("对象类型"), max_length=60, required=False)
    object_id = forms.CharField(label=_("对象编号"), max_length=64, required=False)
    since = forms.DateField(label=_("起始日期"), required=False, widget=_date_input())
    until = forms.DateField(label=_("截止日期"), required=False, widget=_date_input())

    def clean(self):
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期"))
        return data


class DepartmentWebhookForm(TablerWidgetsMixin, forms.Form):
    """A department's group robot. The address and the secret are never shown back: empty keeps them."""

    unit = forms.ModelChoiceField(
        label=_("部门"),
        queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).order_by("code"),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=DepartmentWebhook.Kind.choices)
    url = forms.CharField(
        label=_("Webhook 地址"),
        max_length=500,
        required=False,
        help_text=_("在群设置的“智能群助手/群机器人”中复制；修改时留空表示不变"),
    )
    other_host = forms.BooleanField(
        label=_("使用其他主机"),
        required=False,
        help_text=_("地址不在钉钉或企业微信的官方主机上时勾选（如内网转发网关），仍须 https"),
    )
    secret = forms.CharField(
        label=_("加签密钥"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("仅钉钉机器人“加签”安全设置使用（SEC 开头）；修改时留空表示不变"),
    )
    clear_secret = forms.BooleanField(label=_("清除已保存的加签密钥"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            self.fields["url"].required = True
            self.fields["url"].help_text = _("在群设置的“智能群助手/群机器人”中复制")
            del self.fields["clear_secret"]
