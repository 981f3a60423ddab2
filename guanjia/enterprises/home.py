"""What the enterprise registry contributes to each role's home page."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection
from guanjia.core.models import User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import TIER_ORDER, Enterprise, Tier


def sections(user: User) -> list[HomeSection]:
    found: list[HomeSection] = []
    visible = Enterprise.objects.visible_to(user)
    if user.has_role(Role.STEWARD):
        mine = visible.filter(steward=user)
        counts = mine.aggregate(
            total=Count("id"),
            key=Count("id", filter=Q(tier=Tier.KEY)),
            above=Count("id", filter=Q(tier=Tier.ABOVE_SCALE)),
        )
        found.append(
            HomeSection(
                _("我的企业"),
                "enterprises/home_steward.html",
                {"counts": counts, "recent": list(mine.order_by(TIER_ORDER, "name")[:8])},
                order=10,
            )
        )
    if user.has_any_role(ZONE_WIDE_ROLES):
        zones = (
            visible.values("zone__name")
            .annotate(total=Count("id"), unassigned=Count("id", filter=Q(steward__isnull=True)))
            .order_by("zone__name")
        )
        found.append(
            HomeSection(_("企业库概况"), "enterprises/home_zones.html", {"zones": list(zones)}, order=20)
        )
    if user.has_role(Role.ENTERPRISE_USER):
        found.append(
            HomeSection(
                _("我的企业"),
                "enterprises/home_portal.html",
                {"enterprises": list(visible.select_related("steward"))},
                order=5,
            )
        )
    return found
