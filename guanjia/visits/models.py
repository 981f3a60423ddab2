"""Scheduled visits (定时上门): each enterprise's cadence and next due date, and the visit log."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import StoredFile
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise


class Mode(models.TextChoices):
    """How a visit was made."""

    ONSITE = "onsite", _("上门")
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")


class VisitSchedule(models.Model):
    """One enterprise's visit cadence and its next due date, kept up to date by services.

    `next_due` is denormalized so that due and overdue lists are one indexed query, however many
    enterprises there are. Receivers of the enterprises app's signals (apps.py) recompute it when an
    enterprise is created, imported or changes tier; a read never writes.
    """

    enterprise = models.OneToOneField(
        "enterprises.Enterprise", on_delete=models.CASCADE, primary_key=True, related_name="visit_schedule"
    )
    interval_days = models.PositiveSmallIntegerField(
        _("走访周期（天）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("留空则按企业分级的默认周期"),
    )
    last_visit_on = models.DateField(_("上次走访"), null=True, blank=True)
    next_due = models.DateField(_("下次应走访"), db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访计划")
        verbose_name_plural = _("走访计划")

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.next_due}"


class VisitQuerySet(models.QuerySet["Visit"]):
    def done(self) -> VisitQuerySet:
        """Visits that were made (a plan has no visited_on until it is recorded)."""
        return self.filter(visited_on__isnull=False)

    def plans(self) -> VisitQuerySet:
        """Open plans: planned, not (yet) done."""
        return self.filter(visited_on__isnull=True)

    def visible_to(self, user: User | None) -> VisitQuerySet:
        """Visits are staff work: the zone's staff see its visits, a steward those of its enterprises."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = Q(pk__in=[])
        if user.has_any_role(ZONE_WIDE_ROLES):
            conditions |= Q(zone_id__in=user.zone_ids())
        if user.has_role(Role.STEWARD):
            # Its own visits stay visible after a handover; the new steward sees the history too.
            # The ids of its enterprises (a hundred or so) as a list, not enterprise__steward nor a
            # subquery: with either, an OR made PostgreSQL read every visit (bench/visits.py: 110 ms
            # at 300,000 visits); with a list each side of the OR is an index range (5 ms).
            served = list(Enterprise.objects.filter(steward=user).values_list("pk", flat=True))
            conditions |= Q(enterprise_id__in=served) | Q(steward=user)
        return self.filter(conditions)


class Visit(models.Model):
    """A visit (走访) a steward planned or made to an enterprise, with what it found and explained.

    A plan is a row with planned_on and no visited_on; recording the visit fills that row in
    (services.record_visit). A visit recorded without a plan has visited_on only. visited_on NULL
    means "not done": every list of visits filters on it (VisitQuerySet.done / plans).
    """

    zone = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="visits")
    steward = models.ForeignKey(
        User, verbose_name=_("服务管家"), on_delete=models.PROTECT, related_name="visits"
    )
    planned_on = models.DateField(_("计划走访日期"), null=True, blank=True)
    plan_note = models.CharField(_("计划事项"), max_length=200, blank=True)
    visited_on = models.DateField(_("走访日期"), null=True, blank=True)
    mode = models.CharField(_("走访方式"), max_length=10, choices=Mode.choices, default=Mode.ONSITE)
    # Blank on a plan; services.record_visit requires them when the visit is recorded.
    our_side = models.CharField(_("我方人员"), max_length=200, blank=True)
    their_side = models.CharField(_("企业方人员"), max_length=200, blank=True)
    summary = models.TextField(_("走访情况"), blank=True)
    explained = models.TextField(_("宣讲内容（如政策）"), blank=True)
    location = models.CharField(_("走访地点"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-pk"]
        indexes = [
            models.Index(fields=["enterprise", "-visited_on"], name="visit_enterprise_idx"),
            models.Index(fields=["steward", "-visited_on"], name="visit_steward_idx"),
            # The calendar's planned visits: a steward's open plans by date.
            models.Index(
                fields=["steward", "planned_on"],
                condition=Q(visited_on__isnull=True),
                name="visit_open_plan_idx",
            ),
        ]
        constraints = [
            # One open plan per enterprise, however concurrently two stewards' pages plan it.
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(visited_on__isnull=True),
                name="one_open_plan_per_enterprise",
            ),
            models.CheckConstraint(
                condition=Q(visited_on__isnull=False) | Q(planned_on__isnull=False),
                name="visit_planned_or_done",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.visited_on or self.planned_on}"

    @property
    def is_plan(self) -> bool:
        return self.visited_on is None


class VisitAppeal(models.Model):
    """An appeal raised during a visit: the link both ways (owned here, so appeals knows no visits)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="appeal_links")
    appeal = models.OneToOneField("appeals.Appeal", on_delete=models.CASCADE, related_name="visit_link")

    class Meta:
        verbose_name = _("走访提出的诉求")
        verbose_name_plural = _("走访提出的诉求")

    def __str__(self) -> str:
        return f"{self.visit_id} → {self.appeal_id}"


class VisitPhoto(StoredFile):
    """A photo taken on a visit, checked and stored like an appeal's attachment; served to those who
    see the visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")
        ordering = ["visit", "id"]
