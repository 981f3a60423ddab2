"""Service campaigns (专项行动, e.g. 新春访万企、助力解难题): a period, zones and a target list."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

# Who sees every campaign of its zones (and every target in them).
CAMPAIGN_OVERSEERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})
# Who creates and edits campaigns, builds target lists and reassigns targets.
CAMPAIGN_KEEPERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR})


class CampaignStatus(models.TextChoices):
    """Derived from the period and Beijing's date, never stored."""

    UPCOMING = "upcoming", _("未开始")
    RUNNING = "running", _("进行中")
    ENDED = "ended", _("已结束")


def status_on(starts_on: date, ends_on: date, day: date) -> str:
    if day < starts_on:
        return CampaignStatus.UPCOMING
    if day > ends_on:
        return CampaignStatus.ENDED
    return CampaignStatus.RUNNING


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: User | None) -> CampaignQuerySet:
        """The zone's dispatchers, supervisors and leaders see its campaigns; a steward those where it
        has targets; nobody else any."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = Q(pk__in=[])
        if user.has_any_role(CAMPAIGN_OVERSEERS):
            in_zones = Campaign.zones.through.objects.filter(orgunit_id__in=user.zone_ids())
            conditions |= Q(pk__in=in_zones.values("campaign_id"))
        if user.has_role(Role.STEWARD):
            conditions |= Q(pk__in=CampaignTarget.objects.filter(steward=user).values("campaign_id"))
        return self.filter(conditions)

    def with_status(self, status: str, day: date) -> CampaignQuerySet:
        if status == CampaignStatus.UPCOMING:
            return self.filter(starts_on__gt=day)
        if status == CampaignStatus.ENDED:
            return self.filter(ends_on__lt=day)
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Campaign(models.Model):
    """A campaign of visits over a period, covering one or more zones of its creator."""

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    # A zone's campaign covers that zone; a city's may cover several, so coverage by zone is real.
    zones = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("覆盖园区"),
        related_name="campaigns",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)
    # Optimistic edits: an update names the version it read and loses (Conflict) if it moved.
    version = models.PositiveIntegerField(default=1)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("专项行动")
        verbose_name_plural = _("专项行动")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def status_on(self, day: date) -> str:
        return status_on(self.starts_on, self.ends_on, day)

    @property
    def status(self) -> str:
        return self.status_on(timezone.localdate())

    def get_status_display(self) -> str:
        return str(CampaignStatus(self.status).label)


class CampaignTarget(models.Model):
    """One enterprise on a campaign's target list, and the steward answerable for visiting it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="campaign_targets",
    )
    # The enterprise's steward when the target was added; follows its handovers while the campaign runs.
    steward = models.ForeignKey(
        User,
        verbose_name=_("责任管家"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaign_targets",
    )
    added_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("专项行动目标企业")
        verbose_name_plural = _("专项行动目标企业")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "enterprise"], name="campaign_target_unique"),
        ]
        indexes = [
            models.Index(fields=["campaign", "steward"], name="campaign_target_steward_idx"),
            # The receiver of steward_changed finds an enterprise's targets by it.
            models.Index(fields=["enterprise", "steward"], name="campaign_target_enterprise_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.enterprise_id}"
