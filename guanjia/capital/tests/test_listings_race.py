"""Two people act on one candidate at the same moment: one wins, the other is told, nothing is
half-written (a real race on a file SQLite database and on PostgreSQL, threads meeting at a barrier)."""

from __future__ import annotations

import pytest

from guanjia.appeals.models import Appeal
from guanjia.capital import listings
from guanjia.capital.models import ListingCandidate, ListingProblem, ListingStage, ListingStageMove
from guanjia.capital.tests.helpers import candidate_of, days_ago
from guanjia.core.errors import Conflict
from guanjia.core.roles import Role
from guanjia.testing import build_cast, make_user, run_concurrently

S = ListingStage


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_never_both_apply():
    cast = build_cast()
    second = make_user("promoter_a2", cast.zone_a, Role.PROMOTER)
    candidate = candidate_of(cast, entered=30)
    mine, theirs = (
        ListingCandidate.objects.get(pk=candidate.pk),
        ListingCandidate.objects.get(pk=candidate.pk),
    )

    results = run_concurrently(
        lambda: listings.move_stage(mine, to=S.RESTRUCTURING, on=days_ago(10), by=cast.promoter_a, version=1),
        lambda: listings.move_stage(theirs, to=S.TUTORING, on=days_ago(5), by=second, version=1),
    )

    assert sum(isinstance(r, ListingCandidate) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = ListingCandidate.objects.get(pk=candidate.pk)
    assert stored.version == 2
    assert (stored.stage, stored.stage_entered_on) in {
        (S.RESTRUCTURING, days_ago(10)),
        (S.TUTORING, days_ago(5)),
    }
    # The loser wrote no history row: the entry and the one winning move.
    assert ListingStageMove.objects.filter(candidate=candidate).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_correction_at_once_one_wins():
    cast = build_cast()
    candidate = candidate_of(cast, stage=S.TUTORING, entered=30)
    mine, theirs = (
        ListingCandidate.objects.get(pk=candidate.pk),
        ListingCandidate.objects.get(pk=candidate.pk),
    )

    results = run_concurrently(
        lambda: listings.move_stage(mine, to=S.FILED, on=days_ago(1), by=cast.promoter_a),
        lambda: listings.correct_stage(
            theirs, to=S.RESTRUCTURING, on=days_ago(30), reason="误录", by=cast.leader_a
        ),
    )

    assert sum(isinstance(r, ListingCandidate) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert ListingStageMove.objects.filter(candidate=candidate).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_problem_raised_twice_at_once_makes_one_appeal():
    cast = build_cast()
    candidate = candidate_of(cast)
    problem = listings.add_problem(candidate, text="用地手续未完善", by=cast.promoter_a)
    mine, theirs = ListingProblem.objects.get(pk=problem.pk), ListingProblem.objects.get(pk=problem.pk)

    results = run_concurrently(
        lambda: listings.raise_problem(mine, by=cast.steward_a),
        lambda: listings.raise_problem(theirs, by=cast.steward_a),
    )

    assert sum(isinstance(r, Appeal) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert Appeal.objects.count() == 1
    assert ListingProblem.objects.get(pk=problem.pk).appeal_id == Appeal.objects.get().pk
