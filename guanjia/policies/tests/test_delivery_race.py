"""Two people acting on one delivery at the same moment: exactly one delivery per benefit and enterprise,
and of two steps from the same version one wins and the other is told so."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict, ServiceError
from guanjia.policies import delivery
from guanjia.policies.models import Delivery, DeliveryEvent, DeliveryStatus
from guanjia.policies.tests.test_delivery import keepers_policy, subsidy, walked
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_two_pushes_of_the_same_benefit_to_the_same_enterprise_make_one_delivery():
    cast = build_cast()
    item = subsidy(keepers_policy(cast))

    results = run_concurrently(
        lambda: delivery.push(item, cast.ent_a1, by=cast.steward_a),
        lambda: delivery.push(item, cast.ent_a1, by=cast.handler_a),
    )

    assert sum(isinstance(r, Delivery) for r in results) == 1, results
    [refused] = [r for r in results if not isinstance(r, Delivery)]
    assert isinstance(refused, ServiceError) and "不能重复推送" in str(refused), refused
    assert Delivery.objects.filter(item=item, enterprise=cast.ent_a1).count() == 1
    assert DeliveryEvent.objects.filter(delivery__item=item).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_push_and_a_push_to_all_at_once_reach_each_enterprise_once():
    cast = build_cast()
    item = subsidy(keepers_policy(cast))

    results = run_concurrently(
        lambda: delivery.push(item, cast.ent_a1, by=cast.steward_a),
        lambda: delivery.push_all(item, by=cast.handler_a),
    )

    assert not any(isinstance(r, Exception) and not isinstance(r, ServiceError) for r in results), results
    assert Delivery.objects.filter(item=item, enterprise=cast.ent_a1).count() == 1
    assert Delivery.objects.filter(item=item, enterprise=cast.ent_a2).count() == 1
    assert DeliveryEvent.objects.filter(delivery__item=item).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_approvals_from_the_same_version_one_wins_the_other_conflicts():
    cast = build_cast()
    item = subsidy(keepers_policy(cast))
    d = walked(cast, item, DeliveryStatus.APPLIED)
    mine, theirs = Delivery.objects.get(pk=d.pk), Delivery.objects.get(pk=d.pk)

    results = run_concurrently(
        lambda: delivery.approve(mine, by=cast.handler_a, version=mine.version),
        lambda: delivery.approve(theirs, by=cast.handler_a, version=theirs.version),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert sum(isinstance(r, Delivery) for r in results) == 1, results
    stored = Delivery.objects.get(pk=d.pk)
    assert (stored.status, stored.version) == (DeliveryStatus.APPROVED, d.version + 1)
    assert DeliveryEvent.objects.filter(delivery=d, to_status=DeliveryStatus.APPROVED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_approval_and_a_rejection_at_once_do_not_both_happen():
    cast = build_cast()
    item = subsidy(keepers_policy(cast))
    d = walked(cast, item, DeliveryStatus.APPLIED)
    mine, theirs = Delivery.objects.get(pk=d.pk), Delivery.objects.get(pk=d.pk)

    results = run_concurrently(
        lambda: delivery.approve(mine, by=cast.handler_a),
        lambda: delivery.reject(theirs, by=cast.handler_a, reason="不符合条件"),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    winner = next(r for r in results if isinstance(r, Delivery))
    stored = Delivery.objects.get(pk=d.pk)
    assert (stored.status, stored.version) == (winner.status, d.version + 1)
    assert DeliveryEvent.objects.filter(delivery=d).count() == 3  # pushed, applied, and the winner's step
