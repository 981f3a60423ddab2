"""The listing cultivation pipeline (上市后备企业库): enterprises of a zone working towards a stock-market
listing, their stage history, the intermediaries engaged, the problems blocking them (raised as appeals)
and the zone's support items.

A candidate belongs to the zone of its enterprise. The zone's promoters (招商专员) write it, its leaders
and supervisors read it (and alone correct a stage), the enterprise's steward reads its own enterprises'
candidates. The chain a candidate belongs to is read from the enterprise's placements on the industry
chains (guanjia.investment.NodePlacement), never copied here.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account

# Who reads every candidate of their zones (a city's user: of all its zones).
LISTING_ZONE_READERS = frozenset({Role.PROMOTER, Role.LEADER, Role.SUPERVISOR})
# Who writes them: candidates, forward moves, intermediaries, problems, supports.
LISTING_KEEPERS = frozenset({Role.PROMOTER})
# Who corrects a stage (back to an earlier one, or the date of the current one).
LISTING_CORRECTORS = frozenset({Role.LEADER, Role.SUPERVISOR})

ZERO = Decimal("0")


class ListingStage(models.TextChoices):
    """The stages towards a listing, in order."""

    CULTIVATING = "cultivating", _("培育")
    RESTRUCTURING = "restructuring", _("股改")
    TUTORING = "tutoring", _("辅导备案")
    FILED = "filed", _("申报受理")
    REVIEWING = "reviewing", _("审核/注册")
    LISTED = "listed", _("上市")


LISTING_STAGES: tuple[str, ...] = tuple(ListingStage.values)


def listing_stage_index(stage: str) -> int:
    return LISTING_STAGES.index(stage)


class Board(models.TextChoices):
    MAIN = "main", _("主板")
    CHINEXT = "chinext", _("创业板")
    STAR = "star", _("科创板")
    BSE = "bse", _("北交所")
    OVERSEAS = "overseas", _("境外")


class IntermediaryRole(models.TextChoices):
    SPONSOR = "sponsor", _("券商")
    LAW_FIRM = "law_firm", _("律所")
    AUDITOR = "auditor", _("会计师事务所")


class ListingCandidateQuerySet(models.QuerySet["ListingCandidate"]):
    def visible_to(self, user: User | None) -> ListingCandidateQuerySet:
        """The one entry point for reading candidates: the zone's promoters, leaders and supervisors see
        their zones'; a steward sees its own enterprises'. Enterprise users and the 三员 see none."""
        if not is_business_account(user):
            return self.none()
        assert user is not None
        conditions = Q(pk__in=[])
        if user.has_any_role(LISTING_ZONE_READERS):
            conditions |= Q(zone_id__in=user.zone_ids())
        if user.has_role(Role.STEWARD):
            conditions |= Q(enterprise__steward=user)
        return self.filter(conditions)


class ListingCandidate(models.Model):
    """An enterprise in the zone's listing pipeline (one per enterprise)."""

    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="listing_candidate",
    )
    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name="listing_candidates",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    board = models.CharField(_("拟上市板块"), max_length=10, choices=Board.choices)
    stage = models.CharField(
        _("阶段"), max_length=14, choices=ListingStage.choices, default=ListingStage.CULTIVATING
    )
    stage_entered_on = models.DateField(_("进入当前阶段日期"))
    planned_year = models.PositiveSmallIntegerField(_("计划上市年份"), null=True, blank=True)
    stock_code = models.CharField(_("股票代码"), max_length=20, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ListingCandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("上市后备企业")
        verbose_name_plural = _("上市后备企业")
        ordering = ["zone_id", "pk"]
        indexes = [models.Index(fields=["zone", "stage"], name="listing_zone_stage_idx")]

    def __str__(self) -> str:
        return str(self.enterprise)


class ListingStageMove(models.Model):
    """One step of a candidate's stage history: a forward move, the entry at creation (from_stage blank),
    or a correction (is_correction, with its reason). A correction voids the moves it undoes: they stay
    in the history, marked, and no longer count in the figures."""

    candidate = models.ForeignKey(ListingCandidate, on_delete=models.CASCADE, related_name="moves")
    from_stage = models.CharField(_("原阶段"), max_length=14, choices=ListingStage.choices, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=14, choices=ListingStage.choices)
    on = models.DateField(_("日期"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("登记时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    is_correction = models.BooleanField(_("更正"), default=False)
    reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    voided = models.BooleanField(_("已被更正撤销"), default=False)

    class Meta:
        verbose_name = _("阶段变动")
        verbose_name_plural = _("阶段变动")
        ordering = ["candidate_id", "on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_correction=False) | ~Q(reason=""), name="listing_correction_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id}: {self.from_stage or '—'} → {self.to_stage}"


class ListingIntermediary(models.Model):
    """An intermediary engaged by a candidate: its sponsor (券商), law firm or accounting firm."""

    candidate = models.ForeignKey(ListingCandidate, on_delete=models.CASCADE, related_name="intermediaries")
    role = models.CharField(_("机构类型"), max_length=10, choices=IntermediaryRole.choices)
    firm = models.CharField(_("机构名称"), max_length=100)
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    engaged_on = models.DateField(_("签约日期"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("中介机构")
        verbose_name_plural = _("中介机构")
        ordering = ["candidate_id", "role", "pk"]

    def __str__(self) -> str:
        return self.firm


class ListingProblem(models.Model):
    """A problem blocking a candidate; raised as an appeal (诉求) it keeps the link."""

    candidate = models.ForeignKey(ListingCandidate, on_delete=models.CASCADE, related_name="problems")
    text = models.TextField(_("问题描述"))
    appeal = models.OneToOneField(
        "appeals.Appeal",
        verbose_name=_("诉求"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listing_problem",
    )
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("上市障碍问题")
        verbose_name_plural = _("上市障碍问题")
        ordering = ["candidate_id", "-raised_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:30]


class ListingSupport(models.Model):
    """A support item the zone granted to a candidate, linked to a delivered policy benefit where there
    is one (guanjia.policies.Delivery: linked, not duplicated)."""

    candidate = models.ForeignKey(ListingCandidate, on_delete=models.CASCADE, related_name="supports")
    what = models.CharField(_("支持事项"), max_length=200)
    amount = models.DecimalField(
        _("金额（万元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    granted_on = models.DateField(_("给予日期"))
    delivery = models.ForeignKey(
        "policies.Delivery",
        verbose_name=_("政策兑现"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listing_supports",
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("支持事项")
        verbose_name_plural = _("支持事项")
        ordering = ["candidate_id", "-granted_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="listing_support_amount"
            ),
            models.UniqueConstraint(
                fields=["candidate", "delivery"],
                condition=Q(delivery__isnull=False),
                name="listing_support_delivery_once",
            ),
        ]

    def __str__(self) -> str:
        return self.what
