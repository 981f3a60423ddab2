"""The composite score (docs/cockpit.md 综合得分): outcomes only, small samples unranked, ties share a rank."""

from __future__ import annotations

from guanjia.appeals.kpi import KpiValue, UnitKpis
from guanjia.cockpit.ranking import COMPOSITE_WEIGHTS, MIN_N, composite, rank_composite


def unit(
    unit_id: int, answering: tuple[int, int], solved: tuple[int, int], satisfied: tuple[int, int]
) -> UnitKpis:
    return UnitKpis(
        unit_id,
        {
            "on_time_answering": KpiValue.of(*answering),
            "solved_rate": KpiValue.of(*solved),
            "final_satisfaction": KpiValue.of(*satisfied),
            # Activity or speed is not in the score: a huge reopen rate changes nothing.
            "reopen_rate": KpiValue.of(9, 10),
        },
    )


def test_the_score_is_the_weighted_mean_of_the_outcomes_out_of_100():
    assert set(COMPOSITE_WEIGHTS) == {"on_time_answering", "solved_rate", "final_satisfaction"}
    assert composite(unit(1, (8, 10), (5, 10), (10, 10)).kpis) == round(
        100 * (0.4 * 0.8 + 0.3 * 0.5 + 0.3 * 1.0), 1
    )
    assert composite(unit(1, (10, 10), (10, 10), (10, 10)).kpis) == 100.0


def test_a_unit_with_a_small_sample_in_any_part_is_not_scored():
    small = MIN_N - 1
    assert composite(unit(1, (small, small), (10, 10), (10, 10)).kpis) is None
    assert composite(unit(1, (10, 10), (0, 0), (10, 10)).kpis) is None
    assert composite(unit(1, (MIN_N, MIN_N), (MIN_N, MIN_N), (MIN_N, MIN_N)).kpis) == 100.0


def test_ties_share_a_rank_and_unscored_units_come_last_unranked():
    units = [
        unit(4, (1, 1), (1, 1), (1, 1)),  # a perfect 1-of-1: too few to judge
        unit(3, (6, 10), (6, 10), (6, 10)),
        unit(2, (9, 10), (9, 10), (9, 10)),
        unit(1, (18, 20), (18, 20), (18, 20)),  # the same 90 as unit 2
    ]
    ranked = rank_composite(units)
    assert [(s.unit_id, s.score, s.rank) for s in ranked] == [
        (1, 90.0, 1),
        (2, 90.0, 1),
        (3, 60.0, 3),
        (4, None, None),
    ]
    assert ranked[-1].n == {"on_time_answering": 1, "solved_rate": 1, "final_satisfaction": 1}
    assert not ranked[-1].ranked
