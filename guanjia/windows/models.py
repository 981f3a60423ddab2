"""Service hours that fit enterprises (服务围着企业转): the units that serve enterprises at windows, the
services each window offers and its published hours, the staff and their weekly rosters with lunch
taken in turns (早九晚五、中午不下班), and the appointments enterprises book (预约服务 / 延时服务).

A unit (企业服务中心, 市场监管窗口, 税务窗口 ...) is run by a department of a zone: that department's head
keeps its windows, staff and rosters (WINDOW_KEEPERS). The zone's leaders, supervisors and dispatchers
read them, the unit's staff read their own rosters and serve the bookings of the windows they are
rostered at. Days follow the work calendar: a unit is open on working days only (调休 Saturdays
included), from `opens_at` to `closes_at`; a unit with `no_lunch_break` stays open through the lunch
window while its staff take `lunch_minutes` each, in turns, between `lunch_from` and `lunch_to`.
"""

from __future__ import annotations

from datetime import time

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

# Who keeps a unit (its windows, services, staff, rosters, and the 延时服务 requests): its department's head.
WINDOW_KEEPERS = frozenset({Role.DEPARTMENT_HEAD})
# Who reads every unit, roster and booking of their zones without keeping them.
WINDOW_OVERSEERS = frozenset({Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})
SLOT_CHOICES = ((15, "15"), (30, "30"), (60, "60"))


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not user.is_admin_account)


def enterprise_zone_ids(user: User) -> set[int]:
    """The zones of the enterprises `user` acts for (an enterprise user: its own; a steward: those it serves)."""
    zones: set[int] = set()
    if user.has_role(Role.ENTERPRISE_USER):
        zones |= set(
            EnterpriseMembership.objects.filter(user=user, is_active=True).values_list(
                "enterprise__zone_id", flat=True
            )
        )
    if user.has_role(Role.STEWARD):
        zones |= set(Enterprise.objects.filter(steward=user).values_list("zone_id", flat=True))
    return zones


class ServiceUnitQuerySet(models.QuerySet["ServiceUnit"]):
    def visible_to(self, user: User | None) -> ServiceUnitQuerySet:
        """Units whose management pages `user` opens: the keepers' own, the overseers' zones', and the
        units where `user` is on the staff."""
        if not _active(user):
            return self.none()
        assert user is not None
        conditions = Q(pk__in=Staffing.objects.filter(user=user, is_active=True).values("unit_id"))
        if user.has_any_role(WINDOW_OVERSEERS):
            conditions |= Q(zone_id__in=user.zone_ids())
        if user.has_any_role(WINDOW_KEEPERS) and user.unit_id:
            conditions |= Q(department_id=user.unit_id)
        return self.filter(conditions)

    def published_to(self, user: User | None) -> ServiceUnitQuerySet:
        """Published units whose hours `user` reads on the portal: those of its zones and of the zones of
        the enterprises it acts for."""
        if not _active(user):
            return self.none()
        assert user is not None
        if not user.roles:
            return self.none()
        zones = set(user.zone_ids()) | enterprise_zone_ids(user)
        return self.filter(is_published=True, zone_id__in=zones)


class ServiceUnit(models.Model):
    """A unit that serves enterprises at windows, with its published hours."""

    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    department = models.ForeignKey(
        OrgUnit,
        verbose_name=_("主管部门"),
        on_delete=models.PROTECT,
        related_name="service_units",
        limit_choices_to={"kind": OrgUnit.Kind.DEPARTMENT},
    )
    name = models.CharField(_("名称"), max_length=60)
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("咨询电话"), max_length=30, blank=True)
    opens_at = models.TimeField(_("开始办公"), default=time(9, 0))
    closes_at = models.TimeField(_("结束办公"), default=time(17, 0))
    no_lunch_break = models.BooleanField(_("中午不间断服务"), default=True)
    lunch_from = models.TimeField(_("午休时段起"), default=time(11, 30))
    lunch_to = models.TimeField(_("午休时段止"), default=time(13, 30))
    lunch_minutes = models.PositiveSmallIntegerField(
        _("每人午休（分钟）"), default=60, validators=[MinValueValidator(15), MaxValueValidator(120)]
    )
    slot_minutes = models.PositiveSmallIntegerField(_("时段长度（分钟）"), default=30, choices=SLOT_CHOICES)
    booking_days = models.PositiveSmallIntegerField(
        _("可预约天数"), default=10, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    notice = models.TextField(_("服务须知"), blank=True)
    is_published = models.BooleanField(_("在企业门户公布"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ServiceUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务单位")
        verbose_name_plural = _("服务单位")
        ordering = ["zone_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "name"], name="service_unit_name_once"),
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")), name="service_unit_hours"
            ),
            models.CheckConstraint(
                condition=Q(lunch_from__lt=models.F("lunch_to")), name="service_unit_lunch"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceWindow(models.Model):
    """A window (窗口) of a unit: staffed by `staff_needed` people every minute of the unit's hours when
    it must stay open, and taking `seats` bookings per slot."""

    unit = models.ForeignKey(ServiceUnit, on_delete=models.CASCADE, related_name="windows")
    number = models.CharField(_("窗口号"), max_length=10)
    name = models.CharField(_("窗口名称"), max_length=60)
    must_stay_open = models.BooleanField(_("办公时间内须始终有人"), default=True)
    staff_needed = models.PositiveSmallIntegerField(
        _("同时在岗人数"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    seats = models.PositiveSmallIntegerField(
        _("每时段可预约数"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("服务窗口")
        verbose_name_plural = _("服务窗口")
        ordering = ["unit_id", "number"]
        constraints = [models.UniqueConstraint(fields=["unit", "number"], name="service_window_number_once")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class WindowService(models.Model):
    """A service (服务事项) offered at a window, e.g. 企业设立登记, with what to bring."""

    window = models.ForeignKey(ServiceWindow, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("服务事项"), max_length=80)
    materials = models.TextField(_("所需材料"), blank=True)
    bookable = models.BooleanField(_("可预约"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["window_id", "position", "name"]

    def __str__(self) -> str:
        return self.name


class Staffing(models.Model):
    """A member of a unit's staff: the windows it can serve, the weekdays it is available (ISO, 1 =
    Monday, as ",1,2,3,4,5,") and its limit of shifts per week."""

    unit = models.ForeignKey(ServiceUnit, on_delete=models.CASCADE, related_name="staffings")
    user = models.ForeignKey(
        User, verbose_name=_("工作人员"), on_delete=models.PROTECT, related_name="staffings"
    )
    windows = models.ManyToManyField(ServiceWindow, verbose_name=_("可服务窗口"), related_name="staffings")
    weekdays = models.CharField(_("可排班日"), max_length=20, default=",1,2,3,4,5,")
    max_shifts = models.PositiveSmallIntegerField(
        _("每周最多班次"), default=5, validators=[MinValueValidator(0), MaxValueValidator(7)]
    )
    is_active = models.BooleanField(_("在岗"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("窗口工作人员")
        verbose_name_plural = _("窗口工作人员")
        ordering = ["unit_id", "user__username"]
        constraints = [models.UniqueConstraint(fields=["unit", "user"], name="staffing_once")]

    def __str__(self) -> str:
        return str(self.user)

    def weekday_numbers(self) -> list[int]:
        return [int(day) for day in self.weekdays.split(",") if day]


class RosterQuerySet(models.QuerySet["Roster"]):
    def visible_to(self, user: User | None) -> RosterQuerySet:
        return self.filter(unit__in=ServiceUnit.objects.visible_to(user))


class Roster(models.Model):
    """The week's roster (排班表) of a unit, Monday to Sunday; a draft until its keeper publishes it.

    `shortages` holds what the solver could not cover when the week is impossible: one row per window
    and run of slots, {"window": id, "date": "YYYY-MM-DD", "start": "HH:MM", "end": "HH:MM", "short": n}."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    unit = models.ForeignKey(ServiceUnit, on_delete=models.CASCADE, related_name="rosters")
    week_start = models.DateField(_("周一日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    solver_status = models.CharField(_("求解结果"), max_length=20, blank=True)
    shortages = models.JSONField(_("缺员"), default=list, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    generated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = RosterQuerySet.as_manager()

    class Meta:
        verbose_name = _("排班表")
        verbose_name_plural = _("排班表")
        ordering = ["unit_id", "-week_start"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "week_start"], name="roster_week_once"),
            # ISO weekday of a date is not portable SQL; the services check the Monday.
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.week_start:%Y-%m-%d}"


class Shift(models.Model):
    """One staff member's day at one window, with its lunch break (when the unit stays open at noon)."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="shifts")
    user = models.ForeignKey(User, verbose_name=_("工作人员"), on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey(
        ServiceWindow, verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("日期"))
    lunch_start = models.TimeField(_("午休开始"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("班次")
        verbose_name_plural = _("班次")
        ordering = ["date", "window__number", "user__username"]
        constraints = [models.UniqueConstraint(fields=["roster", "user", "date"], name="shift_one_per_day")]
        indexes = [models.Index(fields=["user", "date"], name="shift_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.window} {self.user}"


class AppointmentKind(models.TextChoices):
    BOOKED = "booked", _("预约服务")
    EXTENDED = "extended", _("延时服务")


class AppointmentState(models.TextChoices):
    """预约服务 starts as 已预约; 延时服务 as 待确认 until the unit's keeper arranges (已预约) or declines it."""

    REQUESTED = "requested", _("待确认")
    BOOKED = "booked", _("已预约")
    SERVED = "served", _("已办理")
    MISSED = "missed", _("未到")
    CANCELLED = "cancelled", _("已取消")
    DECLINED = "declined", _("未安排")


# The states that hold a seat of a slot (or the arranged staff member's time).
HOLDING_STATES = (AppointmentState.REQUESTED, AppointmentState.BOOKED)


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def visible_to(self, user: User | None) -> AppointmentQuerySet:
        """An enterprise's bookings: its users and steward; a unit's: its keepers, the zone's overseers and
        the unit's staff."""
        if not _active(user):
            return self.none()
        assert user is not None
        conditions = Q(unit__in=ServiceUnit.objects.visible_to(user))
        if user.has_role(Role.ENTERPRISE_USER):
            conditions |= Q(
                enterprise__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values(
                    "enterprise_id"
                )
            )
        if user.has_role(Role.STEWARD):
            conditions |= Q(enterprise__steward=user)
        return self.filter(conditions)


class Appointment(models.Model):
    """An enterprise's booking of a slot at a window (预约服务) or its request for service outside the
    hours (延时服务). A seat of a slot is held by one booking at a time: the partial unique constraint is
    the guard against double booking, whatever the number of requests at once."""

    unit = models.ForeignKey(ServiceUnit, on_delete=models.PROTECT, related_name="appointments")
    window = models.ForeignKey(
        ServiceWindow, verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="appointments"
    )
    service = models.ForeignKey(
        WindowService,
        verbose_name=_("服务事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("类型"), max_length=10, choices=AppointmentKind.choices, default=AppointmentKind.BOOKED
    )
    state = models.CharField(_("状态"), max_length=10, choices=AppointmentState.choices)
    date = models.DateField(_("日期"))
    starts_at = models.TimeField(_("开始时间"))
    ends_at = models.TimeField(_("结束时间"))
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=30)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    note = models.TextField(_("事项说明"), blank=True)
    staff = models.ForeignKey(
        User, verbose_name=_("接待人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("未安排原因"), blank=True)
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(_("管家代约"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["date", "starts_at", "window_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "date", "starts_at", "seat"],
                condition=Q(state__in=["requested", "booked"], seat__isnull=False),
                name="appointment_seat_once",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "window", "date", "starts_at"],
                condition=Q(state__in=["requested", "booked"]),
                name="appointment_enterprise_slot_once",
            ),
            models.UniqueConstraint(
                fields=["staff", "date", "starts_at"],
                condition=Q(state="booked", kind="extended", staff__isnull=False),
                name="appointment_extended_staff_once",
            ),
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="appointment_times"),
        ]
        indexes = [models.Index(fields=["unit", "date", "state"], name="appointment_unit_day_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.starts_at:%H:%M} {self.window}"
