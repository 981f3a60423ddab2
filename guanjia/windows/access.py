"""Who may read and who may write the service units, rosters and appointments (one place, used by every
page and API).

- A unit is kept by the head of its department (主管部门负责人): windows, services, staff, rosters, and
  the 延时服务 requests (arrange or decline). Its keepers also mark bookings served or missed.
- The zone's leaders, supervisors and dispatchers read every unit, roster and booking of the zone.
- A member of a unit's staff reads the unit and its rosters, sees the bookings of the windows and days
  it is rostered at (and the 延时服务 arranged with it), and marks them served or missed.
- An enterprise user books for its own enterprise; a steward books on behalf of the enterprises it
  serves (marked as such). Both read and cancel their enterprise's bookings. Published hours are read
  on the portal by everyone of the zone (ServiceUnit.objects.published_to).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.errors import NotAllowed
from guanjia.core.models import User
from guanjia.core.roles import Role, is_business_account
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.windows.models import (
    WINDOW_KEEPERS,
    Appointment,
    AppointmentKind,
    ServiceUnit,
    Shift,
    Staffing,
)


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def may_keep(user: User, unit: ServiceUnit) -> bool:
    """The head of the unit's department keeps it."""
    return (
        is_business_account(user) and user.has_any_role(WINDOW_KEEPERS) and user.unit_id == unit.department_id
    )


def keeps_some_unit(user: User) -> bool:
    """A department head: it may create the units of its department."""
    return bool(
        is_business_account(user)
        and user.has_any_role(WINDOW_KEEPERS)
        and user.unit is not None
        and user.unit.kind == user.unit.Kind.DEPARTMENT
    )


def check_keeper(by: User, unit: ServiceUnit) -> None:
    if not may_keep(by, unit):
        raise NotAllowed(_("只有该服务单位主管部门的负责人可以执行此操作"))


def is_staff_of(user: User, unit: ServiceUnit) -> bool:
    return (
        is_business_account(user) and Staffing.objects.filter(unit=unit, user=user, is_active=True).exists()
    )


def is_on_some_staff(user: User) -> bool:
    """On the staff of any unit: it has shifts and bookings to see (the navigation shows it those pages)."""
    return is_business_account(user) and Staffing.objects.filter(user=user, is_active=True).exists()


def enterprises_bookable_by(user: User) -> QuerySet[Enterprise]:
    """The enterprises `user` may book for: its own (an enterprise user), those it serves (a steward)."""
    if not is_business_account(user):
        return Enterprise.objects.none()
    conditions = Q(pk__in=[])
    if user.has_role(Role.ENTERPRISE_USER):
        conditions |= Q(
            pk__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")
        )
    if user.has_role(Role.STEWARD):
        conditions |= Q(steward=user)
    return Enterprise.objects.filter(conditions)


def books_on_behalf(user: User, enterprise: Enterprise) -> bool:
    """A steward booking for an enterprise it serves (not as one of its users) books on its behalf."""
    own = (
        user.has_role(Role.ENTERPRISE_USER)
        and EnterpriseMembership.objects.filter(user=user, enterprise=enterprise, is_active=True).exists()
    )
    return not own


def may_book(user: User, enterprise: Enterprise) -> bool:
    return enterprises_bookable_by(user).filter(pk=enterprise.pk).exists()


def serves(user: User, appointment: Appointment) -> bool:
    """`user` is to receive the appointment: rostered at its window that day, or the staff member a
    延时服务 was arranged with."""
    if not is_business_account(user):
        return False
    if appointment.kind == AppointmentKind.EXTENDED:
        return appointment.staff_id == user.pk
    return Shift.objects.filter(user=user, window_id=appointment.window_id, date=appointment.date).exists()


def may_serve(user: User, appointment: Appointment) -> bool:
    """Who marks an appointment served or missed: the unit's keeper, or the staff member receiving it."""
    return may_keep(user, appointment.unit) or serves(user, appointment)
