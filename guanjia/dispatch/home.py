"""What smart dispatch puts on a dispatcher's home page: how the zone's suggestions were taken over the
last 30 days, and the way to the routing page (model, runs, keyword rules)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.dispatch import routing

DAYS = 30


def sections(user: User) -> list[HomeSection]:
    if not user.is_authenticated or not user.is_active or user.is_admin_account:
        return []
    if not user.has_role(Role.DISPATCHER):
        return []
    zone_ids = user.zone_ids()
    if not zone_ids:
        return []
    now = timezone.now()
    taken = routing.adoption(zone_ids, since=now - timedelta(days=DAYS), until=now)
    return [
        counts_section(
            _("智能分派（近%(days)d天）") % {"days": DAYS},
            [
                (_("有建议的交办"), taken.dispatched, False),
                (_("按首选建议交办"), taken.first, False),
                (_("一键交办"), taken.one_click, False),
            ],
            "dispatch:routing",
            _("查看分派模型与关键词规则"),
            order=4,
        )
    ]
