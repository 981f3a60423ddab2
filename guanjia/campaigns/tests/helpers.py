"""What the campaign tests share: a campaign of zone A, and valid codes the cast does not use."""

from __future__ import annotations

from datetime import timedelta

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import Cast

USCC_A3 = with_check_digit("91320591MA0000301")
USCC_A4 = with_check_digit("91320591MA0000402")
USCC_UNKNOWN = with_check_digit("91320591MA0000999")


def make_campaign(cast: Cast, *, starts_ago: int = 10, ends_in: int = 20, zones=None, by=None) -> Campaign:
    """A running campaign of zone A (today - starts_ago … today + ends_in), by its dispatcher."""
    today = services.today()
    return services.create_campaign(
        name="新春访万企",
        starts_on=today - timedelta(days=starts_ago),
        ends_on=today + timedelta(days=ends_in),
        zones=zones or [cast.zone_a],
        by=by or cast.dispatcher_a,
    )
