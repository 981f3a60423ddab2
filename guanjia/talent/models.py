"""Talent services (人才绿色通道): the zone's talent tiers, enterprises' talent needs, applications for
recognition (人才认定) with their documents, and the services granted to recognised talent (住房保障,
子女入学, 医疗绿色通道, 落户), each a tracked item with a deadline in working days.

The zone routes each kind of service, and the recognition itself, to one department
(TalentServiceRoute); that department's handlers and head decide what is routed to it. An application or
a service keeps the department it was routed to when it was made, so that a later change of the route
does not move open work.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import StoredFile
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

# Who reads all of a zone's talent work and keeps its tiers and routes.
TALENT_OVERSEERS = frozenset({Role.LEADER, Role.SUPERVISOR})
# Who decides what is routed to their department.
TALENT_DECIDERS = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
# Who acts for an enterprise on the portal.
TALENT_REQUESTERS = frozenset({Role.ENTERPRISE_USER, Role.STEWARD})
DEFAULT_WORKDAYS = 5


class RouteKind(models.TextChoices):
    """What a zone routes to a department: the recognition (人才认定) and the four services."""

    RECOGNITION = "recognition", _("人才认定")
    HOUSING = "housing", _("住房保障")
    SCHOOLING = "schooling", _("子女入学")
    MEDICAL = "medical", _("医疗绿色通道")
    SETTLEMENT = "settlement", _("落户")


class ServiceKind(models.TextChoices):
    HOUSING = "housing", _("住房保障")
    SCHOOLING = "schooling", _("子女入学")
    MEDICAL = "medical", _("医疗绿色通道")
    SETTLEMENT = "settlement", _("落户")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("招聘中")
    FILLED = "filled", _("已满足")
    WITHDRAWN = "withdrawn", _("已撤回")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待认定")
    APPROVED = "approved", _("已认定")
    REJECTED = "rejected", _("未通过")


class ServiceStatus(models.TextChoices):
    REQUESTED = "requested", _("办理中")
    GRANTED = "granted", _("已办结")
    DECLINED = "declined", _("未予办理")


def _member_enterprises(user: User) -> models.QuerySet[EnterpriseMembership, Any]:
    return EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")


def enterprise_scope(user: User) -> Q:
    """The enterprises `user` acts for, as a condition on `enterprise`: its own, or those it serves."""
    condition = Q(pk__in=[])
    if user.has_role(Role.ENTERPRISE_USER):
        condition |= Q(enterprise__in=_member_enterprises(user))
    if user.has_role(Role.STEWARD):
        condition |= Q(enterprise__steward=user)
    return condition


def _overseen(user: User) -> Q:
    if user.has_any_role(TALENT_OVERSEERS):
        return Q(enterprise__zone_id__in=user.zone_ids())
    return Q(pk__in=[])


def _department(user: User) -> Q:
    if user.has_any_role(TALENT_DECIDERS) and user.unit_id:
        return Q(department_id=user.unit_id)
    return Q(pk__in=[])


class TalentTier(models.Model):
    """One of a zone's talent categories (e.g. A 顶尖人才 … E 基础人才)."""

    zone = models.ForeignKey(OrgUnit, verbose_name=_("园区"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("类别代码"), max_length=4)
    name = models.CharField(_("类别名称"), max_length=30)
    description = models.TextField(_("认定条件"), blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("人才类别")
        verbose_name_plural = _("人才类别")
        ordering = ["zone_id", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["zone", "code"], name="talent_tier_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TalentServiceRoute(models.Model):
    """The department of a zone that decides one kind of talent work, and its time limit in working days."""

    zone = models.ForeignKey(OrgUnit, verbose_name=_("园区"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事项"), max_length=12, choices=RouteKind.choices)
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    workdays = models.PositiveSmallIntegerField(
        _("办理时限（工作日）"),
        default=DEFAULT_WORKDAYS,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("人才事项责任部门")
        verbose_name_plural = _("人才事项责任部门")
        ordering = ["zone_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["zone", "kind"], name="talent_route_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.department}"


class TalentNeedQuerySet(models.QuerySet["TalentNeed"]):
    def visible_to(self, user: User | None) -> TalentNeedQuerySet:
        """The enterprise's users and steward, the zone's overseers, and the zone's talent office."""
        if not is_business_account(user):
            return self.none()
        assert user is not None
        condition = enterprise_scope(user) | _overseen(user)
        if user.has_any_role(TALENT_DECIDERS) and user.unit_id:
            offices = TalentServiceRoute.objects.filter(
                kind=RouteKind.RECOGNITION, department_id=user.unit_id
            ).values("zone_id")
            condition |= Q(enterprise__zone_id__in=offices)
        return self.filter(condition)


class TalentNeed(models.Model):
    """An enterprise's need for talent: a post, how many, by when."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="talent_needs"
    )
    post = models.CharField(_("岗位"), max_length=50)
    count = models.PositiveSmallIntegerField(_("人数"))
    by_date = models.DateField(_("需求时间"))
    note = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = TalentNeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("人才需求")
        verbose_name_plural = _("人才需求")
        ordering = ["by_date", "pk"]
        indexes = [models.Index(fields=["enterprise", "status"], name="talent_need_ent_idx")]

    def __str__(self) -> str:
        return f"{self.post} × {self.count}"


class TalentApplicationQuerySet(models.QuerySet["TalentApplication"]):
    def visible_to(self, user: User | None) -> TalentApplicationQuerySet:
        """The enterprise's users and steward, the deciding department, the zone's overseers."""
        if not is_business_account(user):
            return self.none()
        assert user is not None
        return self.filter(enterprise_scope(user) | _overseen(user) | _department(user))


class TalentApplication(models.Model):
    """An application for recognition of one person as talent of a tier (人才认定申请)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="talent_applications"
    )
    person_name = models.CharField(_("姓名"), max_length=30)
    id_number = models.CharField(_("身份证号"), max_length=18)
    phone = models.CharField(_("手机号"), max_length=11)
    tier = models.ForeignKey(
        TalentTier, verbose_name=_("申请类别"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("认定部门"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    reason = models.TextField(_("未通过原因"), blank=True)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = TalentApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("人才认定申请")
        verbose_name_plural = _("人才认定申请")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["department", "status", "submitted_at"], name="talent_app_desk_idx"),
            models.Index(fields=["enterprise", "status"], name="talent_app_ent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name}（{self.tier.code}）"


class TalentDocument(StoredFile):
    """A document of an application (学历、职称、业绩证明 …), served to the application's readers only."""

    application = models.ForeignKey(TalentApplication, on_delete=models.CASCADE, related_name="documents")

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["uploaded_at", "id"]


class TalentServiceQuerySet(models.QuerySet["TalentService"]):
    def visible_to(self, user: User | None) -> TalentServiceQuerySet:
        """The enterprise's users and steward, the responsible department, the zone's overseers."""
        if not is_business_account(user):
            return self.none()
        assert user is not None
        return self.filter(enterprise_scope(user) | _overseen(user) | _department(user))


class TalentService(models.Model):
    """A service asked for a recognised talent (服务事项), decided by the department routed for its kind
    within its deadline (24:00 Beijing time of the Nth working day after the request)."""

    application = models.ForeignKey(
        TalentApplication, verbose_name=_("人才"), on_delete=models.PROTECT, related_name="services"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="talent_services"
    )
    kind = models.CharField(_("服务事项"), max_length=12, choices=ServiceKind.choices)
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("需求说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.REQUESTED
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    workdays = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    due_at = models.DateTimeField(_("办理期限"))
    due_day = models.DateField(_("期限日"))
    provisional = models.BooleanField(_("期限待定"), default=False)
    result = models.TextField(_("办理结果"), blank=True)
    reason = models.TextField(_("未予办理原因"), blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = TalentServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("人才服务事项")
        verbose_name_plural = _("人才服务事项")
        ordering = ["due_at", "pk"]
        indexes = [
            # The department's worklist: its open services by deadline, overdue first.
            models.Index(
                fields=["department", "due_at"],
                condition=Q(status="requested"),
                name="talent_service_open_idx",
            ),
            models.Index(fields=["enterprise", "status"], name="talent_service_ent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.application.person_name}"

    def is_overdue(self, now=None) -> bool:
        """Past its deadline while open, or decided after it."""
        if self.status == ServiceStatus.REQUESTED:
            return (now or timezone.now()) >= self.due_at
        return self.decided_at is not None and self.decided_at >= self.due_at
