"""Two people acting on one financing need or roadshow at the same moment: nothing is lost, nothing doubled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanjia.core.errors import Conflict
from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import FinancingNeed, FinancingNeedStatus, FinancingOutcome, Roadshow
from guanjia.investment.tests.helpers import make_promoter
from guanjia.investment.tests.test_financing_matching import make_fund, make_need
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_two_outcomes_at_once_that_together_reach_the_amount_fulfil_the_need():
    cast = build_cast()
    colleague = make_promoter("promoter_a2", cast.zone_a)
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    mine, theirs = FinancingNeed.objects.get(pk=need.pk), FinancingNeed.objects.get(pk=need.pk)

    results = run_concurrently(
        lambda: financing.record_outcome(
            mine, by=cast.promoter_a, amount=Decimal("600"), invested_on=today(), investor="甲银行"
        ),
        lambda: financing.record_outcome(
            theirs, by=colleague, amount=Decimal("400"), invested_on=today(), investor="乙创投"
        ),
    )

    assert all(isinstance(r, FinancingOutcome) for r in results), results
    # Each saw the other's money: neither total was read before the other was written.
    stored = FinancingNeed.objects.get(pk=need.pk)
    assert stored.status == FinancingNeedStatus.FULFILLED
    assert stored.version == 2  # fulfilled once
    assert financing.raised_total(stored) == Decimal("1000")


@pytest.mark.django_db(transaction=True)
def test_an_edit_and_a_withdrawal_at_once_do_not_both_happen():
    cast = build_cast()
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    mine, theirs = FinancingNeed.objects.get(pk=need.pk), FinancingNeed.objects.get(pk=need.pk)

    results = run_concurrently(
        lambda: financing.update_need(
            mine, by=cast.ent_user_a1, version=mine.version, amount=Decimal("2000")
        ),
        lambda: financing.withdraw_need(theirs, by=cast.promoter_a, version=theirs.version),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = FinancingNeed.objects.get(pk=need.pk)
    winner = next(r for r in results if isinstance(r, FinancingNeed))
    assert (stored.amount, stored.status, stored.version) == (winner.amount, winner.status, 2)


@pytest.mark.django_db(transaction=True)
def test_two_promoters_inviting_the_same_fund_at_once_invite_it_once():
    cast = build_cast()
    colleague = make_promoter("promoter_a2", cast.zone_a)
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    roadshow = financing.create_roadshow(zone=cast.zone_a, by=cast.promoter_a, title="路演", held_on=today())

    results = run_concurrently(
        lambda: financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund]),
        lambda: financing.invite_to_roadshow(roadshow, by=colleague, funds=[fund]),
    )

    assert all(isinstance(r, financing.InviteResult) for r in results), results
    assert Roadshow.funds.through.objects.filter(roadshow=roadshow).count() == 1
