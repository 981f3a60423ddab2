"""Organisation, users and roles, the work calendar, audit records and the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.roles import ADMIN_ROLES, Role

if TYPE_CHECKING:
    from collections.abc import Iterable


class OrgUnit(models.Model):
    """A city, a zone or district, or a department inside a zone."""

    class Kind(models.TextChoices):
        CITY = "city", _("市")
        ZONE = "zone", _("县区/园区")
        DEPARTMENT = "department", _("部门")

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("编码"), max_length=40, unique=True)
    kind = models.CharField(_("层级"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The zone's 企业服务中心: the department whose dispatchers accept and route appeals.
    is_dispatch_desk = models.BooleanField(_("受理调度中心"), default=False)
    # A department whose head approves every answer before the enterprise sees it (a step inside 办理中).
    answers_need_approval = models.BooleanField(_("答复须经部门负责人审核"), default=False)

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> OrgUnit | None:
        """The zone this unit belongs to (itself for a zone, None for a city)."""
        if self.kind == self.Kind.ZONE:
            return self
        if self.kind == self.Kind.DEPARTMENT:
            return self.parent
        return None

    def zone_ids(self) -> list[int]:
        """Ids of the zones this unit's users see: a city sees all its zones."""
        if self.kind == self.Kind.CITY:
            return list(OrgUnit.objects.filter(parent=self, kind=self.Kind.ZONE).values_list("id", flat=True))
        zone = self.zone
        return [zone.id] if zone else []


class GuanjiaUserManager(UserManager["User"]):
    def with_role(self, role: str) -> models.QuerySet[User]:
        return self.filter(role_grants__role=role, is_active=True)

    def visible_to(self, user: User | None) -> models.QuerySet[User]:
        """Accounts a user may list: the system and security admins manage all of them; nobody else lists them."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_any_role({Role.SYSADMIN, Role.SECADMIN}):
            return self.all()
        return self.none()


class User(AbstractUser):
    """An account: staff of a unit, or an enterprise's user."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    failed_logins = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    # Set on accounts whose initial password someone else chose (the system admin, bootstrap-admins):
    # the middleware keeps the user on the password page until it is changed.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)
    password_changed_at = models.DateTimeField(_("密码设置时间"), default=timezone.now)

    objects: ClassVar[GuanjiaUserManager] = GuanjiaUserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def save(self, *args, **kwargs) -> None:
        # Every password set goes into the history, whoever sets it (a change, an admin-created account,
        # an invitation): the history check reads it. create_user() assigns the hash without set_password().
        new_password = getattr(self, "_password", None) is not None or (
            self._state.adding and bool(self.password) and is_password_usable(self.password)
        )
        if not new_password:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            super().save(*args, **kwargs)
            PasswordHistory.objects.create(user=self, password=self.password)
            stale = list(
                PasswordHistory.objects.filter(user=self)
                .order_by("-created_at", "-id")
                .values_list("id", flat=True)[PasswordHistory.KEEP :]
            )
            if stale:
                PasswordHistory.objects.filter(id__in=stale).delete()

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True)) if self.pk else frozenset()
            self._roles_cache = cached
        return cached

    def forget_roles(self) -> None:
        self.__dict__.pop("_roles_cache", None)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin_account(self) -> bool:
        return self.has_any_role(ADMIN_ROLES)

    def is_locked(self, now=None) -> bool:
        return bool(self.locked_until and self.locked_until > (now or timezone.now()))

    def zone_ids(self) -> list[int]:
        return self.unit.zone_ids() if self.unit_id and self.unit else []


class RoleGrant(models.Model):
    """One role held by one user; written only by core.services.grant_role / revoke_role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)

    class Meta:
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="rolegrant_user_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class PasswordHistory(models.Model):
    """The hash of a password a user has had, so that a change can refuse the last few."""

    # The longest history a policy may ask for; older rows are removed when a password is set.
    KEEP = 24

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("密码哈希"), max_length=128)
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"


class TotpDevice(models.Model):
    """A user's TOTP authenticator (RFC 6238): active once confirmed with a code."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    # Encrypted with a key derived from SECRET_KEY (guanjia.core.totp.seal_secret).
    secret = models.CharField(_("密钥（已加密）"), max_length=200)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    # The time step of the last accepted code: a code is accepted only for a later step (no replay).
    last_counter = models.BigIntegerField(_("最近使用的时间步"), null=True, blank=True)

    class Meta:
        verbose_name = _("两步验证设备")
        verbose_name_plural = _("两步验证设备")

    def __str__(self) -> str:
        return f"{self.user} · {'已启用' if self.confirmed_at else '待确认'}"


class SecurityPolicy(models.Model):
    """The one row of the security policy, edited by the security admin; read through core.security.policy()."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    lockout_threshold = models.PositiveSmallIntegerField(
        _("连续登录失败锁定次数"), validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    lockout_minutes = models.PositiveIntegerField(
        _("锁定时长（分钟）"), validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    idle_minutes = models.PositiveIntegerField(
        _("会话空闲超时（分钟）"), validators=[MinValueValidator(1), MaxValueValidator(480)]
    )
    session_max_hours = models.PositiveSmallIntegerField(
        _("会话最长时间（小时，0 为不限）"), default=12, validators=[MaxValueValidator(168)]
    )
    password_min_length = models.PositiveSmallIntegerField(
        _("密码最小长度"), default=8, validators=[MinValueValidator(8), MaxValueValidator(64)]
    )
    password_complexity = models.BooleanField(
        _("密码须包含大写字母、小写字母、数字、符号中的至少三类"), default=True
    )
    password_history = models.PositiveSmallIntegerField(
        _("不得与最近几次密码相同"), default=5, validators=[MaxValueValidator(PasswordHistory.KEEP)]
    )
    password_max_age_days = models.PositiveIntegerField(
        _("密码最长使用天数（0 为不限）"), default=0, validators=[MaxValueValidator(3650)]
    )
    totp_required_for_admins = models.BooleanField(_("三员账号必须启用两步验证"), default=False)
    totp_required_for_staff = models.BooleanField(_("工作人员账号必须启用两步验证"), default=False)
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("安全策略")
        verbose_name_plural = _("安全策略")

    def __str__(self) -> str:
        return str(_("安全策略"))


class AuditQuerySet(models.QuerySet["AuditRecord"]):
    def delete(self):  # type: ignore[override]
        raise PermissionError("audit records cannot be deleted from the application")

    def update(self, **kwargs):  # type: ignore[override]
        # Only the sealer may write, and only the chain columns of unsealed rows.
        if set(kwargs) - {"seq", "prev_hash", "hash", "sealed_at"}:
            raise PermissionError("audit records cannot be edited from the application")
        return super().update(**kwargs)


class AuditRecord(models.Model):
    """One audited event. Append-only; a worker seals it into the hash chain shortly after."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    seq = models.BigIntegerField(_("链序号"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("audit records cannot be edited from the application")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit records cannot be deleted from the application")


class AuditChainHead(models.Model):
    """The last sealed record's place and hash: an anchor so that removing the newest records is detected."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    # Records below this seq were pruned on purpose (retention); the chain restarts there.
    pruned_before_seq = models.BigIntegerField(default=0)
    pruned_anchor_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"audit chain head at {self.last_seq}"


class OutboxMessage(models.Model):
    """A side effect (SMS, mail, webhook) waiting for a worker; written in the caller's transaction."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("邮件")
        WEBHOOK = "webhook", _("机器人/Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("接收方"), max_length=200)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    # Payloads carry an identifier and a link, never an appeal's text or personal data.
    payload = models.JSONField(_("内容"), default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    available_at = models.DateTimeField(_("可发送时间"), default=timezone.now)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        indexes = [
            models.Index(
                fields=["available_at"],
                name="outbox_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"], name="outbox_sending_idx", condition=models.Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient} ({self.get_status_display()})"


class CalendarDay(models.Model):
    """An admin's entry for one day (a holiday or a 调休 working day); it overrides the built-in calendar."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否上班"))
    name = models.CharField(_("名称"), max_length=50, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作日历条目")
        verbose_name_plural = _("工作日历条目")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '休息'} {self.name}".rstrip()


class CalendarYear(models.Model):
    """A year whose official schedule an admin has entered completely: its deadlines are no longer provisional."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    declared_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField(_("声明时间"), default=timezone.now)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已录入完整的年份")
        verbose_name_plural = _("已录入完整的年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarVersion(models.Model):
    """One row whose token changes with every calendar change, so that each process notices it with one read."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # A random token rather than a counter: a rolled-back change and the next real one would share a
    # counter value, and a process that saw the first would never notice the second.
    token = models.CharField(max_length=32, default="")
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar version {self.token or '-'}"


class Notification(models.Model):
    """One message in a user's in-app inbox (站内消息). Its title may name an appeal's number, never its text."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    title = models.CharField(_("标题"), max_length=200)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The unread count in every page's header, and marking all read.
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            # The inbox page: one user's messages, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"


class DepartmentWebhook(models.Model):
    """A group robot (钉钉 / 企业微信) that hears of a department's appeals: an identifier and a link only."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("钉钉群机器人")
        WECOM = "wecom", _("企业微信群机器人")

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="webhooks"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("Webhook 地址"), max_length=500)
    # DingTalk's 加签 secret (SEC…); empty when the robot uses keywords or an IP allow-list instead.
    secret = models.CharField(_("加签密钥"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("部门群机器人")
        verbose_name_plural = _("部门群机器人")
        constraints = [models.UniqueConstraint(fields=["unit", "kind"], name="one_webhook_per_unit_kind")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}"


class RateLimitCounter(models.Model):
    """Requests counted per key and fixed window, shared by every web worker (see guanjia.core.http)."""

    # e.g. "login:ip:203.0.113.9"; secrets such as invitation tokens are hashed before they get here.
    key = models.CharField(_("计数键"), max_length=200)
    window_start = models.DateTimeField(_("窗口开始"))
    # The periodic prune removes rows whose window has ended.
    expires_at = models.DateTimeField(_("窗口结束"), db_index=True)
    count = models.PositiveIntegerField(_("次数"), default=0)
    # Set once, by the request that first went over the limit: one audit record per key and window.
    reported = models.BooleanField(_("已审计"), default=False)

    class Meta:
        verbose_name = _("访问频率计数")
        verbose_name_plural = _("访问频率计数")
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_limit_one_row_per_window")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class SearchEntry(models.Model):
    """One searchable text of a feature (a knowledge entry, an appeal, ...): its words as jieba cut them.

    The full-text index over the tokens is the database's own (an FTS5 table kept by triggers on SQLite,
    a GIN index on a stored to_tsvector('simple', ...) column on PostgreSQL; migration 0008), and guanjia.core.search
    is the only code that reads or writes it."""

    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    title_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_once")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.object_id}"
