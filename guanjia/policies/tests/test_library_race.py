"""Two keepers act on the same policy or benefit item at the same moment: one wins, the other is told,
nothing is lost; an item is never removed from under a delivery made meanwhile."""

from __future__ import annotations

import pytest
from django.db import transaction

from guanjia.core.errors import Conflict, ServiceError
from guanjia.policies import library
from guanjia.policies.models import BenefitItem, Delivery, Policy, PushChannel
from guanjia.policies.tests.helpers import make_head, make_item, make_policy
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_policy_one_wins_the_other_gets_a_conflict():
    cast = build_cast()
    head = make_head(cast.market_a)
    policy = make_policy(cast.market_a, title="原标题")
    mine, theirs = Policy.objects.get(pk=policy.pk), Policy.objects.get(pk=policy.pk)

    results = run_concurrently(
        lambda: library.update_policy(mine, by=cast.handler_a, version=1, title="承办人的标题"),
        lambda: library.update_policy(theirs, by=head, version=1, issuer="负责人改的发文机关"),
    )

    winners = [r for r in results if isinstance(r, Policy)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    stored = Policy.objects.get(pk=policy.pk)
    assert stored.version == 2
    # Only the winner's change is there; the loser's is not half-applied.
    assert (stored.title, stored.issuer) in {
        ("承办人的标题", policy.issuer),
        ("原标题", "负责人改的发文机关"),
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_items_conditions_never_mix():
    cast = build_cast()
    head = make_head(cast.market_a)
    item = make_item(make_policy(cast.market_a), scales=["small"], min_years=1)
    mine, theirs = BenefitItem.objects.get(pk=item.pk), BenefitItem.objects.get(pk=item.pk)

    results = run_concurrently(
        lambda: library.update_item(
            mine, by=cast.handler_a, version=1, scales=["large"], zones=[cast.zone_a]
        ),
        lambda: library.update_item(theirs, by=head, version=1, min_years=5),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = BenefitItem.objects.get(pk=item.pk)
    assert stored.version == 2
    assert (stored.scales, stored.min_years, stored.zones.count()) in {(",large,", 1, 1), (",small,", 5, 0)}


def _push(item: BenefitItem, cast) -> Delivery:
    with transaction.atomic():
        return Delivery.objects.create(
            item_id=item.pk,
            enterprise=cast.ent_a1,
            zone=cast.zone_a,
            channel=PushChannel.STEWARD,
            pushed_by=cast.steward_a,
        )


@pytest.mark.django_db(transaction=True)
def test_an_item_is_never_removed_from_under_a_delivery_made_meanwhile():
    cast = build_cast()
    item = make_item(make_policy(cast.market_a))
    mine = BenefitItem.objects.select_related("policy").get(pk=item.pk)

    results = run_concurrently(
        lambda: library.remove_item(mine, by=cast.handler_a, version=1),
        lambda: _push(item, cast),
    )

    removed = not BenefitItem.objects.filter(pk=item.pk).exists()
    delivered = Delivery.objects.filter(item_id=item.pk).exists()
    assert removed != delivered, results  # exactly one of the two happened
    if removed:
        assert isinstance(results[1], Exception), results
    else:
        assert isinstance(results[0], ServiceError), results
