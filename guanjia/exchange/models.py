"""The exchange programme (挂职/结对): pairings with partner zones, the cadres seconded to them, what
they learn (见闻), the liaison activities (对接活动) and leads they bring back, and the practices
(经验做法) that local units adopt, with their effect measured by a KPI of the platform.

A zone's supervisors (效能督查) keep its pairings, secondments and practice adoptions; its leaders read
them; a seconded cadre (挂职干部) writes the notes, activities, sourced leads and practices of its own
secondment. A sourced lead becomes an investment lead when a promoter of the zone takes it
(guanjia.exchange.sourcing), linked by its source.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

# Who keeps the programme of a zone, and who reads it.
EXCHANGE_KEEPERS = frozenset({Role.SUPERVISOR})
EXCHANGE_READERS = frozenset({Role.SUPERVISOR, Role.LEADER})


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not user.is_admin_account)


class ZoneQuerySet(models.QuerySet):
    """Rows of a zone's programme: its supervisors and leaders read them; a cadre reads the rows of
    its own secondments (cadre_path)."""

    zone_path = "zone_id"
    cadre_path: str | None = None

    def visible_to(self, user: User | None):  # noqa: ANN201 - the subclass's own queryset
        if not _active(user):
            return self.none()
        assert user is not None
        conditions = Q(pk__in=[])
        if user.has_any_role(EXCHANGE_READERS):
            conditions |= Q(**{f"{self.zone_path}__in": user.zone_ids()})
        if self.cadre_path and user.has_role(Role.SECONDED_CADRE):
            conditions |= Q(**{self.cadre_path: user})
        return self.filter(conditions)


class PairingQuerySet(ZoneQuerySet):
    cadre_path = "secondments__cadre"

    def visible_to(self, user: User | None) -> PairingQuerySet:
        return super().visible_to(user).distinct()


class Pairing(models.Model):
    """A pairing (结对) between a local zone and a partner unit elsewhere (e.g. 界首高新区 ↔ 昆山高新区)."""

    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("本地园区"),
        on_delete=models.PROTECT,
        related_name="pairings",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    local_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("本地单位"), on_delete=models.PROTECT, related_name="+"
    )
    partner_unit = models.CharField(_("结对单位"), max_length=100)
    partner_city = models.CharField(_("所在城市"), max_length=50)
    partner_province = models.CharField(_("所在省份"), max_length=20)
    started_on = models.DateField(_("结对日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    focus = models.TextField(_("合作重点"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对关系")
        verbose_name_plural = _("结对关系")
        ordering = ["zone_id", "-started_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["local_unit", "partner_unit"], name="pairing_unique"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="pairing_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.local_unit} ↔ {self.partner_unit}"


class SecondmentKind(models.TextChoices):
    POSTED = "posted", _("挂职")
    SHADOW = "shadow", _("跟班学习")


class SecondmentQuerySet(ZoneQuerySet):
    zone_path = "pairing__zone_id"
    cadre_path = "cadre"


class Secondment(models.Model):
    """A cadre seconded to the partner unit of a pairing for a period."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="secondments")
    cadre = models.ForeignKey(
        User, verbose_name=_("挂职干部"), on_delete=models.PROTECT, related_name="secondments"
    )
    host_unit = models.CharField(_("挂职单位"), max_length=100)
    post = models.CharField(_("挂职岗位"), max_length=100)
    kind = models.CharField(
        _("类型"), max_length=10, choices=SecondmentKind.choices, default=SecondmentKind.POSTED
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    tasks = models.TextField(_("任务"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = SecondmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("挂职")
        verbose_name_plural = _("挂职")
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="secondment_period"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} @ {self.host_unit}"


class SecondmentRowQuerySet(ZoneQuerySet):
    zone_path = "secondment__pairing__zone_id"
    cadre_path = "secondment__cadre"


class LearningNote(models.Model):
    """A cadre's learning note (见闻): what it saw or learned at the host unit."""

    secondment = models.ForeignKey(Secondment, on_delete=models.CASCADE, related_name="notes")
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    observed_on = models.DateField(_("日期"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = SecondmentRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("挂职见闻")
        verbose_name_plural = _("挂职见闻")
        ordering = ["-observed_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class LiaisonActivity(models.Model):
    """A liaison activity (对接活动) a cadre organised or joined: a visit, a meeting, a promotion event."""

    secondment = models.ForeignKey(Secondment, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(_("活动名称"), max_length=100)
    held_on = models.DateField(_("活动日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    participants = models.CharField(_("参加单位"), max_length=300, blank=True)
    outcome = models.TextField(_("成效"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = SecondmentRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("对接活动")
        verbose_name_plural = _("对接活动")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class SourcedLeadStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待接收")
    TAKEN = "taken", _("已转招商线索")
    DECLINED = "declined", _("不予跟进")


class SourcedLeadQuerySet(SecondmentRowQuerySet):
    def visible_to(self, user: User | None) -> SourcedLeadQuerySet:
        """As the secondment's rows, and the zone's promoters, who take them into the investment pipeline."""
        found = super().visible_to(user)
        if _active(user) and user is not None and user.has_role(Role.PROMOTER):
            found = found | self.filter(**{f"{self.zone_path}__in": user.zone_ids()})
        return found


class SourcedLead(models.Model):
    """A lead a cadre brought back: a company that may invest. A promoter of the zone takes it into
    the investment pipeline (investment.Lead with source 挂职干部), or declines it with a reason."""

    secondment = models.ForeignKey(Secondment, on_delete=models.CASCADE, related_name="sourced_leads")
    company_name = models.CharField(_("企业名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    industry = models.CharField(_("所属行业"), max_length=100, blank=True)
    summary = models.TextField(_("项目情况"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SourcedLeadStatus.choices, default=SourcedLeadStatus.SUBMITTED
    )
    lead = models.OneToOneField(
        "investment.Lead",
        verbose_name=_("招商线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_from",
    )
    decline_reason = models.CharField(_("不予跟进原因"), max_length=200, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = SourcedLeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("挂职干部推荐线索")
        verbose_name_plural = _("挂职干部推荐线索")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="sourced_lead_declined_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.company_name


class PracticeQuerySet(ZoneQuerySet):
    cadre_path = "secondment__cadre"


class Practice(models.Model):
    """A practice (经验做法) learned from a partner: what, where it was seen, by whom."""

    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name="practices",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    title = models.CharField(_("经验做法"), max_length=100)
    description = models.TextField(_("做法内容"))
    seen_at = models.CharField(_("学习地点"), max_length=100)
    learned_by = models.CharField(_("学习人"), max_length=50)
    secondment = models.ForeignKey(
        Secondment,
        verbose_name=_("来自挂职"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practices",
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = PracticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("经验做法")
        verbose_name_plural = _("经验做法")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class AdoptionStage(models.TextChoices):
    REFERENCE = "reference", _("借鉴")
    TRIAL = "trial", _("试行")
    ROLLOUT = "rollout", _("推广")


class AdoptionQuerySet(ZoneQuerySet):
    zone_path = "practice__zone_id"
    cadre_path = "practice__secondment__cadre"


class Adoption(models.Model):
    """A local unit adopting a practice: 借鉴 → 试行 → 推广 with the date of each stage, and the KPI
    (guanjia.appeals.kpi.KPIS) whose quarters before and after the trial began show its effect."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="adoptions")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("采纳单位"), on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(
        _("阶段"), max_length=10, choices=AdoptionStage.choices, default=AdoptionStage.REFERENCE
    )
    referenced_on = models.DateField(_("借鉴日期"))
    trial_on = models.DateField(_("试行日期"), null=True, blank=True)
    rollout_on = models.DateField(_("推广日期"), null=True, blank=True)
    kpi = models.CharField(_("效果指标"), max_length=30)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("经验采纳")
        verbose_name_plural = _("经验采纳")
        ordering = ["practice_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "unit"], name="adoption_unique"),
            models.CheckConstraint(
                condition=(Q(trial_on__isnull=True) | Q(trial_on__gte=F("referenced_on")))
                & (
                    Q(rollout_on__isnull=True)
                    | (Q(trial_on__isnull=False) & Q(rollout_on__gte=F("trial_on")))
                ),
                name="adoption_stage_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practice} · {self.unit}"
