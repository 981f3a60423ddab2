"""Who may read and who may write the investment data of a zone (one place, used by every page and API)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.errors import NotAllowed
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.investment.models import INVESTMENT_KEEPERS, INVESTMENT_READERS


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def may_read(user: User) -> bool:
    """Promoters and leaders with a zone in scope read the investment data of their zones."""
    return (
        user.is_authenticated
        and not user.is_admin_account
        and user.has_any_role(INVESTMENT_READERS)
        and bool(user.zone_ids())
    )


def may_keep(user: User, zone_id: int | None = None) -> bool:
    """Promoters write the investment data of their zones (of `zone_id` when given)."""
    if not user.has_any_role(INVESTMENT_KEEPERS):
        return False
    zones = user.zone_ids()
    return bool(zones) if zone_id is None else zone_id in zones


def check_keeper(by: User, zone_id: int) -> None:
    if not may_keep(by, zone_id):
        raise NotAllowed(_("只有本园区的招商专员可以执行此操作"))


def zones_of(user: User) -> QuerySet[OrgUnit]:
    """The zones a user works in (a city's user: all its zones), in code order."""
    return OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by("code")


def promoters_of_zone(zone: OrgUnit) -> QuerySet[User]:
    """The active promoters who work in a zone (in it, in one of its departments, or in its city):
    the owners of leads and projects, and the agents (代办员) of approvals."""
    units = Q(unit_id=zone.pk) | Q(unit__parent_id=zone.pk)
    if zone.parent_id:
        units |= Q(unit_id=zone.parent_id)
    return User.objects.with_role(Role.PROMOTER).filter(units).order_by("full_name", "pk")
