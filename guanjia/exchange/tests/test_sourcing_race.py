"""Two promoters take the same sourced lead at the same moment: one investment lead, the other is told."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict
from guanjia.exchange import sourcing
from guanjia.exchange.models import SourcedLead, SourcedLeadStatus
from guanjia.exchange.tests.helpers import make_cadre, make_pairing, make_secondment, make_sourced_lead
from guanjia.investment.models import Lead, LeadSource, Target
from guanjia.investment.tests.helpers import make_promoter
from guanjia.testing import USCC_B1, build_cast, run_concurrently


def _sourced(cast, **fields) -> SourcedLead:
    pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    secondment = make_secondment(pairing, make_cadre("cadre_a", cast.zone_a), cast.supervisor_a)
    return make_sourced_lead(secondment, **fields)


@pytest.mark.django_db(transaction=True)
def test_two_takes_at_once_make_one_lead():
    cast = build_cast()
    colleague = make_promoter("promoter_a2", cast.zone_a)
    sourced = _sourced(cast, uscc=USCC_B1)
    mine, theirs = SourcedLead.objects.get(pk=sourced.pk), SourcedLead.objects.get(pk=sourced.pk)

    results = run_concurrently(
        lambda: sourcing.take(mine, by=cast.promoter_a),
        lambda: sourcing.take(theirs, by=colleague),
    )

    winners = [r for r in results if isinstance(r, Lead)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    lead = Lead.objects.get()
    assert lead.source == LeadSource.SECONDED_CADRE
    assert Target.objects.count() == 1
    stored = SourcedLead.objects.get(pk=sourced.pk)
    assert (stored.status, stored.lead_id, stored.version) == (SourcedLeadStatus.TAKEN, lead.pk, 2)


@pytest.mark.django_db(transaction=True)
def test_a_take_and_a_decline_at_once_do_not_both_happen():
    cast = build_cast()
    sourced = _sourced(cast)
    mine, theirs = SourcedLead.objects.get(pk=sourced.pk), SourcedLead.objects.get(pk=sourced.pk)

    results = run_concurrently(
        lambda: sourcing.take(mine, by=cast.promoter_a),
        lambda: sourcing.decline(theirs, by=cast.promoter_a, reason="不符合产业定位"),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = SourcedLead.objects.get(pk=sourced.pk)
    if stored.status == SourcedLeadStatus.TAKEN:
        assert Lead.objects.get() == stored.lead
    else:
        assert stored.status == SourcedLeadStatus.DECLINED
        assert not Lead.objects.exists() and not Target.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_sourced_leads_of_one_new_company_taken_at_once_share_its_target():
    cast = build_cast()
    first = _sourced(cast)
    second = make_sourced_lead(first.secondment)  # the same company, brought back twice

    results = run_concurrently(
        lambda: sourcing.take(SourcedLead.objects.get(pk=first.pk), by=cast.promoter_a),
        lambda: sourcing.take(SourcedLead.objects.get(pk=second.pk), by=cast.promoter_a),
    )

    assert all(isinstance(r, Lead) for r in results), results
    assert Target.objects.count() == 1
    assert Lead.objects.filter(target=Target.objects.get()).count() == 2
