"""Policies that find their enterprises (政策直达): the policy library, each policy's benefit items with
their structured eligibility, and the delivery (兑现) of a benefit to an enterprise.

A policy is kept by its responsible department (承办部门): that department's handlers and head write
it and review its deliveries. It covers the enterprises of the department's zone (a city department:
every zone of the city). Amounts are in 万元.

Eligibility is stored as columns, so that matching is one query in either direction
(guanjia.policies.matching): the multi-valued conditions (industry divisions, scales, tiers) are
delimited strings such as ",large,medium," ("" = any), which both `IN` (benefit → enterprises) and
`LIKE '%,code,%'` (enterprise → benefits) read exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import StoredFile
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership, Tag

# Who keeps a policy: the handlers and the head of its responsible department.
POLICY_KEEPERS = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
# Who oversees the deliveries of their zones (totals, overdue disbursements) without keeping them.
POLICY_OVERSEERS = frozenset({Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})

ZERO = Decimal("0")


def join_codes(codes: Iterable[str]) -> str:
    """{"medium", "large"} → ",large,medium," (sorted; "" when empty: no restriction)."""
    unique = sorted({code.strip() for code in codes if code and code.strip()})
    return f",{','.join(unique)}," if unique else ""


def split_codes(value: str) -> list[str]:
    return [code for code in value.split(",") if code]


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not user.is_admin_account)


def covering_units(user: User) -> set[int]:
    """The units whose departments' policies reach `user`: its zones (an enterprise user: its
    enterprises' zones) and their cities. A policy's department hangs under one of them."""
    zone_ids = set(user.zone_ids())
    if user.has_role(Role.ENTERPRISE_USER):
        zone_ids |= set(
            EnterpriseMembership.objects.filter(user=user, is_active=True).values_list(
                "enterprise__zone_id", flat=True
            )
        )
    cities = OrgUnit.objects.filter(pk__in=zone_ids).exclude(parent=None).values_list("parent_id", flat=True)
    return zone_ids | set(cities)


class PolicyQuerySet(models.QuerySet["Policy"]):
    def visible_to(self, user: User | None) -> PolicyQuerySet:
        """Policies are public within their coverage: every business account of a covered zone, and
        the enterprise users of its enterprises, read them."""
        if not _active(user):
            return self.none()
        assert user is not None
        if not user.roles:
            return self.none()
        return self.filter(department__parent_id__in=covering_units(user))

    def in_force(self, on: Any) -> PolicyQuerySet:
        return self.filter(Q(effective_on__lte=on), Q(expires_on__isnull=True) | Q(expires_on__gte=on))


class Policy(models.Model):
    """A policy document (政策文件) with its benefit items."""

    title = models.CharField(_("政策名称"), max_length=200)
    issuer = models.CharField(_("发文机关"), max_length=100)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    department = models.ForeignKey(
        OrgUnit,
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        related_name="policies",
        limit_choices_to={"kind": OrgUnit.Kind.DEPARTMENT},
    )
    effective_on = models.DateField(_("生效日期"))
    expires_on = models.DateField(_("失效日期"), null=True, blank=True)
    full_text = models.TextField(_("政策原文"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策")
        verbose_name_plural = _("政策")
        ordering = ["-effective_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("effective_on")),
                name="policy_expires_after_effect",
            )
        ]

    def __str__(self) -> str:
        return self.title


class PolicyAttachment(StoredFile):
    """A file of a policy (the published document, an application form), checked like an appeal's."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="attachments")

    class Meta:
        verbose_name = _("政策附件")
        verbose_name_plural = _("政策附件")
        ordering = ["uploaded_at", "id"]


class BenefitCategory(models.TextChoices):
    SUBSIDY = "subsidy", _("资金补贴")
    INTEREST = "interest", _("贷款贴息")
    REWARD = "reward", _("奖励")
    TAX = "tax", _("税费减免")
    TALENT = "talent", _("人才支持")
    OTHER = "other", _("其他")


class BenefitItem(models.Model):
    """One benefit of a policy (e.g. 研发费用补贴) and who qualifies for it.

    Empty conditions do not restrict. Years since founding count full years (周年) on the day of
    matching: min_years ≤ years < max_years (an enterprise qualifies for "成立满 3 年" on its third
    anniversary, and for "成立不满 5 年" until the day before its fifth). Capital bounds include
    their limits. Zones restrict within the policy's coverage; other_conditions are for a person.
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("兑现事项"), max_length=100)
    category = models.CharField(
        _("类别"), max_length=12, choices=BenefitCategory.choices, default=BenefitCategory.SUBSIDY
    )
    summary = models.TextField(_("支持内容"), blank=True)
    max_amount = models.DecimalField(
        _("最高金额（万元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    auto_grant = models.BooleanField(_("免申即享"), default=False)
    disburse_within_days = models.PositiveSmallIntegerField(_("兑现时限（工作日）"), default=20)
    # --- eligibility
    zones = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("适用园区"),
        blank=True,
        related_name="+",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    divisions = models.CharField(_("行业大类"), max_length=400, blank=True)
    scales = models.CharField(_("企业规模"), max_length=40, blank=True)
    tiers = models.CharField(_("企业分级"), max_length=40, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("企业标签（任一）"), blank=True, related_name="+")
    min_years = models.PositiveSmallIntegerField(_("成立满（年）"), null=True, blank=True)
    max_years = models.PositiveSmallIntegerField(_("成立不满（年）"), null=True, blank=True)
    capital_min = models.DecimalField(
        _("注册资本下限（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    capital_max = models.DecimalField(
        _("注册资本上限（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    other_conditions = models.TextField(_("其他条件（人工判断）"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("兑现事项")
        verbose_name_plural = _("兑现事项")
        ordering = ["policy_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_years__isnull=True)
                | Q(max_years__isnull=True)
                | Q(max_years__gt=models.F("min_years")),
                name="benefit_years_range",
            ),
            models.CheckConstraint(
                condition=Q(capital_min__isnull=True)
                | Q(capital_max__isnull=True)
                | Q(capital_max__gte=models.F("capital_min")),
                name="benefit_capital_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def division_list(self) -> list[str]:
        return split_codes(self.divisions)

    @property
    def scale_list(self) -> list[str]:
        return split_codes(self.scales)

    @property
    def tier_list(self) -> list[str]:
        return split_codes(self.tiers)


class DeliveryStatus(models.TextChoices):
    PUSHED = "pushed", _("已推送")
    APPLIED = "applied", _("待审核")
    APPROVED = "approved", _("已审核")
    DISBURSED = "disbursed", _("已兑现")
    REJECTED = "rejected", _("未通过")


class PushChannel(models.TextChoices):
    STEWARD = "steward", _("管家推送")
    PORTAL = "portal", _("门户通知")
    AUTO = "auto", _("免申即享")


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def visible_to(self, user: User | None) -> DeliveryQuerySet:
        """The keepers of the policy (its department), the enterprise's steward and users, and the
        leaders, supervisors and dispatchers of the enterprise's zone."""
        if not _active(user):
            return self.none()
        assert user is not None
        conditions = Q(pk__in=[])
        if user.has_any_role(POLICY_KEEPERS) and user.unit_id:
            conditions |= Q(item__policy__department_id=user.unit_id)
        if user.has_role(Role.STEWARD):
            conditions |= Q(enterprise__steward=user)
        if user.has_role(Role.ENTERPRISE_USER):
            conditions |= Q(
                enterprise_id__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values(
                    "enterprise_id"
                )
            )
        if user.has_any_role(POLICY_OVERSEERS):
            conditions |= Q(zone_id__in=user.zone_ids())
        return self.filter(conditions)


class Delivery(models.Model):
    """One benefit item on its way to one enterprise (政策兑现).

    pushed → applied (the enterprise applied or confirmed; 免申即享 starts here) → approved →
    disbursed (amount and date), or rejected (reason) from applied or approved. No state is skipped
    (guanjia.policies.delivery holds the one transition table).
    """

    item = models.ForeignKey(BenefitItem, on_delete=models.PROTECT, related_name="deliveries")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="policy_deliveries")
    zone = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")  # the enterprise's
    status = models.CharField(
        _("状态"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PUSHED
    )
    channel = models.CharField(_("推送方式"), max_length=10, choices=PushChannel.choices)
    pushed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pushed_at = models.DateTimeField(_("推送时间"), default=timezone.now)
    applied_at = models.DateTimeField(_("申请时间"), null=True, blank=True)
    applied_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    application_note = models.CharField(_("申请说明"), max_length=500, blank=True)
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    disburse_due = models.DateField(_("应兑现日期"), null=True, blank=True)
    disbursed_on = models.DateField(_("兑现日期"), null=True, blank=True)
    amount = models.DecimalField(
        _("兑现金额（万元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    rejected_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    reject_reason = models.CharField(_("未通过原因"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策兑现")
        verbose_name_plural = _("政策兑现")
        ordering = ["-pushed_at", "-pk"]
        indexes = [
            models.Index(fields=["zone", "status"], name="delivery_zone_status_idx"),
            models.Index(fields=["enterprise", "status"], name="delivery_enterprise_idx"),
            models.Index(fields=["status", "disburse_due"], name="delivery_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["item", "enterprise"], name="delivery_once_per_enterprise"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="delivery_amount"
            ),
            models.CheckConstraint(
                condition=~Q(status="disbursed") | (Q(amount__isnull=False) & Q(disbursed_on__isnull=False)),
                name="delivery_disbursed_has_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="delivery_rejected_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.enterprise}"


class DeliveryEvent(models.Model):
    """One step of a delivery (who, when, from, to, note): its history on the page."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("兑现记录")
        verbose_name_plural = _("兑现记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"

    @property
    def to_label(self) -> Any:
        return DeliveryStatus(self.to_status).label
