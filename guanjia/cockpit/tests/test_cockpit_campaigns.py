"""The cockpit's running campaigns: the same visited/targets as the campaign's own coverage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.campaigns import services as campaigns
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.visits import services as visits
from guanjia.visits.models import Mode

pytestmark = pytest.mark.django_db


def test_the_cockpit_shows_each_running_campaigns_coverage(cast, login):
    campaign = make_campaign(cast)
    campaigns.add_target_pairs(
        campaign,
        [(cast.ent_a1.pk, cast.steward_a.pk), (cast.ent_a2.pk, cast.steward_a2.pk)],
        by=cast.dispatcher_a,
        source="test",
    )
    visits.record_visit(
        cast.ent_a1,
        by=cast.steward_a,
        visited_on=campaigns.today() - timedelta(days=1),
        mode=Mode.ONSITE,
        our_side="张管家",
        their_side="王经理",
        summary="了解经营情况",
    )
    assert campaigns.coverage(campaign).overall.visited == 1
    page = login(cast.leader_a).get("/cockpit/").content.decode()
    row = page[page.index('data-testid="table-campaigns"') :]
    row = row[row.index(campaign.name) :]
    assert "1/2" in row[: row.index("</tr>")]
    assert "50%" in row[: row.index("</tr>")]
