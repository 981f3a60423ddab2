"""The listing part of `guanjia demo-data`: a dozen candidates across stages and boards in both zones,
histories that keep the rules, intermediaries, problems (one raised as an appeal), supports, and one
correction by the zone's leader."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from guanjia.capital import listings
from guanjia.capital.models import (
    LISTING_STAGES,
    Board,
    ListingCandidate,
    ListingProblem,
    ListingStageMove,
    ListingSupport,
)
from guanjia.core.models import User

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_a_dozen_candidates_across_stages_boards_and_both_zones(demo_area, db):
    candidates = list(ListingCandidate.objects.select_related("zone"))
    assert len(candidates) == 12
    assert {c.stage for c in candidates} == set(LISTING_STAGES)
    assert {c.board for c in candidates} == set(Board.values)
    assert len({c.zone_id for c in candidates}) == 2
    assert all(c.stock_code for c in candidates if c.stage == "listed")
    promoter = User.objects.get(username="gj_promoter")
    assert ListingCandidate.objects.visible_to(promoter).count() == 8
    assert any(
        n
        for name, n in listings.chain_counts(ListingCandidate.objects.visible_to(promoter))
        if name != listings.NO_CHAIN
    )


def test_histories_keep_the_rules_and_one_is_corrected(demo_area, db):
    for candidate in ListingCandidate.objects.all():
        moves = list(candidate.moves.filter(voided=False).order_by("on", "pk"))
        assert moves[-1].to_stage == candidate.stage and moves[-1].on == candidate.stage_entered_on
        indexes = [LISTING_STAGES.index(m.to_stage) for m in moves]
        assert indexes == sorted(indexes)
    correction = ListingStageMove.objects.get(is_correction=True)
    assert correction.by.username == "gj_leader" and correction.reason
    # The wrong move to 辅导备案 and the move into 股改, which the correction restates with its date.
    assert ListingStageMove.objects.filter(candidate=correction.candidate, voided=True).count() == 2


def test_intermediaries_problems_and_supports(demo_area, db):
    firms = set(ListingCandidate.objects.values_list("intermediaries__firm", flat=True))
    assert {"华泰证券", "中信建投证券", "国浩律师事务所", "天健会计师事务所"} <= firms
    raised = ListingProblem.objects.exclude(appeal=None)
    assert ListingProblem.objects.count() == 3 and raised.count() == 1
    problem = raised.get()
    assert problem.appeal is not None
    assert problem.appeal.enterprise_id == problem.candidate.enterprise_id
    assert problem.appeal.submitted_by_id == problem.candidate.enterprise.steward_id
    assert ListingSupport.objects.filter(amount__gt=0).count() >= 6
