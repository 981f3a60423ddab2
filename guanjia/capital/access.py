"""Who may read and who may write the listing pipeline (one place, used by every page and API).

- The zone's promoters (招商专员), leaders and supervisors read every candidate of their zones (a city's
  user: of all its zones); the enterprise's steward reads its own enterprises' candidates.
- The zone's promoters write: candidates, forward moves, intermediaries, problems, supports.
- The zone's leaders and supervisors alone correct a stage.
- A problem becomes an appeal through the steward channel (管家代报), which appeals.lifecycle permits to
  the enterprise's own steward only: the steward raises it.
- Enterprise users and the 三员 have no access.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.capital.models import LISTING_CORRECTORS, LISTING_KEEPERS, LISTING_ZONE_READERS, ListingCandidate
from guanjia.core.errors import NotAllowed
from guanjia.core.masking import mask_phone
from guanjia.core.models import User
from guanjia.core.roles import Role, is_business_account

READER_ROLES = (*sorted(LISTING_ZONE_READERS), Role.STEWARD)


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def may_read(user: User | None) -> bool:
    """Promoters, leaders and supervisors with a zone in scope, and stewards."""
    if not is_business_account(user):
        return False
    assert user is not None
    return (user.has_any_role(LISTING_ZONE_READERS) and bool(user.zone_ids())) or user.has_role(Role.STEWARD)


def may_write(user: User, zone_id: int | None = None) -> bool:
    """A promoter of the zone (of some zone when `zone_id` is None)."""
    if not is_business_account(user) or not user.has_any_role(LISTING_KEEPERS):
        return False
    zones = user.zone_ids()
    return bool(zones) if zone_id is None else zone_id in zones


def may_correct(user: User, zone_id: int | None = None) -> bool:
    """A leader or supervisor of the zone."""
    if not is_business_account(user) or not user.has_any_role(LISTING_CORRECTORS):
        return False
    zones = user.zone_ids()
    return bool(zones) if zone_id is None else zone_id in zones


def may_raise(user: User, candidate: ListingCandidate) -> bool:
    """The enterprise's steward: the steward channel of appeals.lifecycle.submit_appeal is its own."""
    return (
        is_business_account(user)
        and user.has_role(Role.STEWARD)
        and candidate.enterprise.steward_id == user.pk
    )


def check_writer(by: User, zone_id: int) -> None:
    if not may_write(by, zone_id):
        raise NotAllowed(_("只有本园区的招商专员可以执行此操作"))


def check_corrector(by: User, zone_id: int) -> None:
    if not may_correct(by, zone_id):
        raise NotAllowed(_("只有本园区的领导或效能督查可以更正阶段"))


def check_raiser(by: User, candidate: ListingCandidate) -> None:
    if not may_raise(by, candidate):
        raise NotAllowed(_("只有该企业的服务管家可以将问题转为诉求（管家代报）"))


def phone_for(user: User, candidate: ListingCandidate, phone: str) -> str:
    """An intermediary's phone: in full to the candidate's writers, masked to every other reader."""
    return phone if may_write(user, candidate.zone_id) else mask_phone(phone)
