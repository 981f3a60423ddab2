"""The enterprise registry and its stewards (定企到人)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import REGISTRY_KEEPERS, ZONE_WIDE_ROLES, Role


class Scale(models.TextChoices):
    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")


class Tier(models.TextChoices):
    """企业分级: sets the visit cadence."""

    KEY = "key", _("重点")
    ABOVE_SCALE = "above_scale", _("规上")
    GENERAL = "general", _("一般")


# 重点 first, then 规上, then 一般: the order stewards work in.
TIER_ORDER = models.Case(
    models.When(tier=Tier.KEY, then=0),
    models.When(tier=Tier.ABOVE_SCALE, then=1),
    default=2,
    output_field=models.IntegerField(),
)


class Tag(models.Model):
    """A label such as 高新技术企业, 专精特新, 龙头."""

    name = models.CharField(_("标签"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("企业标签")
        verbose_name_plural = _("企业标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EnterpriseQuerySet(models.QuerySet["Enterprise"]):
    def visible_to(self, user: User | None) -> EnterpriseQuerySet:
        """The one entry point for reading enterprises: what `user` may see."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = Q(pk__in=[])
        if user.has_any_role(ZONE_WIDE_ROLES):
            conditions |= Q(zone_id__in=user.zone_ids())
        if user.has_role(Role.STEWARD):
            conditions |= Q(steward=user)
        if user.has_role(Role.ENTERPRISE_USER):
            conditions |= Q(
                pk__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")
            )
        return self.filter(conditions)


class Enterprise(models.Model):
    """An enterprise of a zone, keyed by its unified social credit code (USCC, GB 32100)."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    scale = models.CharField(_("企业规模"), max_length=10, choices=Scale.choices, default=Scale.SMALL)
    tier = models.CharField(_("企业分级"), max_length=12, choices=Tier.choices, default=Tier.GENERAL)
    industry_section = models.CharField(_("行业门类"), max_length=1, blank=True)
    industry_division = models.CharField(_("行业大类"), max_length=2, blank=True, db_index=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="enterprises")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name="enterprises",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    # The current steward. Written only by services.assign_steward together with the
    # StewardAssignment history row; the partial unique index there is the real guard.
    steward = models.ForeignKey(
        User,
        verbose_name=_("服务管家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stewarded_enterprises",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["zone", "tier"], name="enterprise_zone_tier_idx"),
            models.Index(fields=["steward", "name"], name="enterprise_steward_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def industry_label(self) -> str:
        """E.g. "C 39 计算机、通信和其他电子设备制造业": the division's name from our GB/T 4754 table."""
        from guanjia.enterprises.industries import DIVISIONS, SECTIONS

        if self.industry_division in DIVISIONS:
            return f"{self.industry_section} {self.industry_division} {DIVISIONS[self.industry_division][1]}"
        return SECTIONS.get(self.industry_section, "")


class Contact(models.Model):
    """A person at an enterprise whom the zone talks to."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("联系人"), max_length=50)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)

    class Meta:
        verbose_name = _("企业联系人")
        verbose_name_plural = _("企业联系人")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.name


class StewardAssignment(models.Model):
    """One steward's period of service to one enterprise; the history of 定企到人."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="steward_assignments")
    steward = models.ForeignKey(User, on_delete=models.PROTECT, related_name="steward_assignments")
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("管家分配")
        verbose_name_plural = _("管家分配")
        ordering = ["-started_at"]
        constraints = [
            # Exactly one active steward per enterprise, whoever writes and however concurrently.
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(ended_at__isnull=True),
                name="one_active_steward_per_enterprise",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} ← {self.steward}"


class EnterpriseMembership(models.Model):
    """An enterprise user's account bound to its enterprise."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("企业用户绑定")
        verbose_name_plural = _("企业用户绑定")
        constraints = [models.UniqueConstraint(fields=["user", "enterprise"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"


class Invitation(models.Model):
    """A steward's invitation for a person of an enterprise to open an account, bound to its USCC."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="invitations")
    name = models.CharField(_("被邀请人"), max_length=50)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    # Only the token's SHA-256 is stored: a database leak does not leak usable links.
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("企业用户邀请")
        verbose_name_plural = _("企业用户邀请")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.name}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def visible_to(self, user: User | None) -> ImportJobQuerySet:
        """A job is visible to its creator and to the registry keepers of its zone."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        condition = Q(created_by=user)
        if user.has_any_role(REGISTRY_KEEPERS):
            condition |= Q(zone_id__in=user.zone_ids())
        return self.filter(condition)


class ImportJob(models.Model):
    """An uploaded enterprise spreadsheet: validated, reported, and written only once confirmed."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("校验中")
        INVALID = "invalid", _("有错误")
        VALID = "valid", _("待确认")
        WRITING = "writing", _("导入中")
        DONE = "done", _("已导入")
        FAILED = "failed", _("失败")

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    zone = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    written_rows = models.PositiveIntegerField(_("写入行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Bumped while the job is validated or written: a job that stays in validating/writing with an old
    # heartbeat lost its worker (killed, or huey dropped the task), and the sweeper starts it again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    recoveries = models.PositiveSmallIntegerField(_("自动恢复次数"), default=0)
    recovered_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
