"""Two promoters move the same lead at the same moment: one wins, the other is told, nothing is lost."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict
from guanjia.investment import leads
from guanjia.investment.models import Lead, LeadStatus, LeadTransition
from guanjia.investment.tests.helpers import make_lead, make_promoter, make_target
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_of_one_lead_one_wins_the_other_gets_a_conflict():
    cast = build_cast()
    colleague = make_promoter("promoter_a2", cast.zone_a)
    lead = make_lead(make_target(cast.zone_a), cast.promoter_a)
    # Each read the lead as 新线索 before either acted.
    mine, theirs = Lead.objects.get(pk=lead.pk), Lead.objects.get(pk=lead.pk)

    results = run_concurrently(
        lambda: leads.move_lead(mine, to=LeadStatus.CONTACTING, by=cast.promoter_a),
        lambda: leads.move_lead(theirs, to=LeadStatus.ABANDONED, reason="对方无意向", by=colleague),
    )

    winners = [r for r in results if isinstance(r, Lead)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.status == winners[0].status
    assert stored.version == 2
    # Exactly one transition: the loser wrote nothing.
    assert list(LeadTransition.objects.filter(lead=lead).values_list("to_status", flat=True)) == [
        stored.status
    ]


@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_conversion_at_once_do_not_both_happen():
    cast = build_cast()
    lead = make_lead(make_target(cast.zone_a), cast.promoter_a, status=LeadStatus.NEGOTIATING)
    mine, theirs = Lead.objects.get(pk=lead.pk), Lead.objects.get(pk=lead.pk)

    results = run_concurrently(
        lambda: leads.move_lead(mine, to=LeadStatus.ABANDONED, reason="搁置", by=cast.promoter_a),
        lambda: leads.mark_converted(theirs, by=cast.promoter_a),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert LeadTransition.objects.filter(lead=lead).count() == 1
