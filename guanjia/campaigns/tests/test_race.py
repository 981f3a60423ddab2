"""Two additions to the same target list at the same moment add each enterprise once."""

from __future__ import annotations

import pytest

from guanjia.campaigns import services
from guanjia.campaigns.models import CampaignTarget
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_concurrent_additions_by_filter_do_not_duplicate():
    cast = build_cast()
    campaign = make_campaign(cast)

    def add():
        return services.add_targets_by_criteria(campaign, services.TargetCriteria(), by=cast.dispatcher_a)

    results = run_concurrently(add, add, add)
    assert all(isinstance(r, services.AddResult) for r in results), results
    assert CampaignTarget.objects.filter(campaign=campaign).count() == 2
    # Each reports what it really did: the enterprises were added once between them.
    assert sum(r.added for r in results) == 2
    assert sorted(r.skipped for r in results) == [0, 2, 2]
