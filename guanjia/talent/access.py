"""Who may do what with talent work (one place, used by every page and API).

- An enterprise user acts for its own enterprise, a steward for the enterprises it serves: needs,
  applications for recognition, and services for their approved talent.
- The department a zone routes the recognition to (its talent office) decides applications; the
  department routed for a kind of service decides those services. Handlers and the head of that
  department decide; nobody else does.
- The zone's leaders and supervisors read all of the zone's talent work and keep its tiers and routes.
- ID numbers and phones are shown in full only to the deciding department and the enterprise's users.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanjia.core.masking import mask_id_number, mask_phone
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.talent.models import (
    TALENT_DECIDERS,
    TALENT_OVERSEERS,
    TalentApplication,
    TalentService,
    TalentServiceRoute,
)


def enterprises_served_by(user: User | None) -> QuerySet[Enterprise]:
    """The enterprises `user` acts for on the portal: its own (enterprise user), those it serves (steward)."""
    if not is_business_account(user):
        return Enterprise.objects.none()
    assert user is not None
    condition = Q(pk__in=[])
    if user.has_role(Role.ENTERPRISE_USER):
        condition |= Q(
            pk__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id")
        )
    if user.has_role(Role.STEWARD):
        condition |= Q(steward=user)
    return Enterprise.objects.filter(condition)


def acts_for(user: User, enterprise: Enterprise) -> bool:
    return enterprises_served_by(user).filter(pk=enterprise.pk).exists()


def is_member_of(user: User, enterprise: Enterprise) -> bool:
    """One of the enterprise's own users (not its steward)."""
    return (
        is_business_account(user)
        and user.has_role(Role.ENTERPRISE_USER)
        and EnterpriseMembership.objects.filter(user=user, enterprise=enterprise, is_active=True).exists()
    )


def decides_for(user: User | None, department_id: int) -> bool:
    """A handler or the head of `department_id`."""
    return bool(
        is_business_account(user)
        and user is not None
        and user.has_any_role(TALENT_DECIDERS)
        and user.unit_id == department_id
    )


def oversees(user: User | None, zone: OrgUnit) -> bool:
    """A leader or supervisor whose scope holds `zone`: reads its talent work, keeps its tiers and routes."""
    return bool(
        is_business_account(user)
        and user is not None
        and user.has_any_role(TALENT_OVERSEERS)
        and zone.pk in user.zone_ids()
    )


def overseen_zones(user: User | None) -> QuerySet[OrgUnit]:
    if not is_business_account(user) or user is None or not user.has_any_role(TALENT_OVERSEERS):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by("name")


def sees_identity(user: User | None, application: TalentApplication) -> bool:
    """The deciding department and the enterprise's own users see the ID number and phone in full."""
    if user is None:
        return False
    return decides_for(user, application.department_id) or is_member_of(user, application.enterprise)


def id_number_shown(user: User | None, application: TalentApplication) -> str:
    value = application.id_number
    return value if sees_identity(user, application) else mask_id_number(value)


def phone_shown(user: User | None, application: TalentApplication) -> str:
    value = application.phone
    return value if sees_identity(user, application) else mask_phone(value)


def may_decide_application(user: User | None, application: TalentApplication) -> bool:
    return decides_for(user, application.department_id)


def may_decide_service(user: User | None, service: TalentService) -> bool:
    return decides_for(user, service.department_id)


def sees_worklist(user: User) -> bool:
    """The navigation shows 人才绿色通道 to the zone's overseers, and to a handler or head only where a
    route names its department."""
    if not is_business_account(user):
        return False
    if user.has_any_role(TALENT_OVERSEERS):
        return True
    return bool(
        user.unit_id
        and decides_for(user, user.unit_id)
        and TalentServiceRoute.objects.filter(department_id=user.unit_id).exists()
    )
