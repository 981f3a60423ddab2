"""Who may read and who may write the exchange programme of a zone (one place, used by every page and API).

- The supervisors (效能督查) of a zone keep its pairings, secondments, practices and adoptions.
- Its leaders read them; its promoters read the sourced leads and take them into the investment pipeline.
- A seconded cadre reads its own secondments (and their pairing) and writes their learning notes,
  liaison activities, sourced leads and practices.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.errors import NotAllowed
from guanjia.core.models import User
from guanjia.core.roles import Role, is_business_account
from guanjia.exchange.models import EXCHANGE_KEEPERS, EXCHANGE_READERS, Secondment


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def may_read(user: User) -> bool:
    """Supervisors and leaders with a zone, and seconded cadres, open the programme's pages."""
    if not is_business_account(user):
        return False
    return (user.has_any_role(EXCHANGE_READERS) and bool(user.zone_ids())) or user.has_role(
        Role.SECONDED_CADRE
    )


def may_keep(user: User, zone_id: int | None = None) -> bool:
    """Supervisors write the programme of their zones (of `zone_id` when given)."""
    if not is_business_account(user) or not user.has_any_role(EXCHANGE_KEEPERS):
        return False
    zones = user.zone_ids()
    return bool(zones) if zone_id is None else zone_id in zones


def check_keeper(by: User, zone_id: int) -> None:
    if not may_keep(by, zone_id):
        raise NotAllowed(_("只有本园区的效能督查人员可以执行此操作"))


def is_own_secondment(user: User, secondment: Secondment) -> bool:
    return is_business_account(user) and user.has_role(Role.SECONDED_CADRE) and secondment.cadre_id == user.pk


def check_cadre(by: User, secondment: Secondment) -> None:
    """Only the cadre of the secondment writes its notes, activities, leads and practices."""
    if not is_own_secondment(by, secondment):
        raise NotAllowed(_("只有本人的挂职记录可以填写见闻、对接活动和推荐线索"))
