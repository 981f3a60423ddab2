"""What the campaigns app puts on the home page: each running campaign's coverage, a steward's own part."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign, CampaignStatus
from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User

SHOWN = 3  # running campaigns on the home page; the list has them all


def sections(user: User) -> list[HomeSection]:
    if not services.may_view(user):
        return []
    running = (
        Campaign.objects.visible_to(user)
        .with_status(CampaignStatus.RUNNING, services.today())
        .order_by("ends_on", "pk")[:SHOWN]
    )
    found = []
    for campaign in running:
        # An overseer sees the whole campaign; a steward (only) its own targets.
        own = None if services.oversees(user, campaign) else user
        share = services.coverage(campaign, steward=own).overall
        found.append(
            counts_section(
                _("专项行动：%(name)s（至 %(end)s）") % {"name": campaign.name, "end": campaign.ends_on},
                [
                    (_("目标企业") if own is None else _("我的目标企业"), share.total, False),
                    (_("已走访"), share.visited, False),
                    (_("待走访"), share.total - share.visited, own is not None),
                ],
                "campaigns:list",
                _("查看专项行动"),
                order=13,
            )
        )
    return found
