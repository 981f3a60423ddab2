"""Ranking units (departments, zones) on one KPI, honestly: ties share a rank, small samples are not ranked.

Every ranking in the cockpit, the briefings and the API goes through rank(), so that the
small-sample rule (MIN_N) and the direction of each KPI are decided in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guanjia.appeals.kpi import KPIS, KpiValue, UnitKpis

# A unit with fewer judged rows (a KPI's denominator, its n) than this is listed with its n
# but not ranked on that KPI: a 1-of-1 would otherwise top a 95-of-100.
MIN_N = 5

# KPIs where a smaller value is better; every other KPI in KPIS ranks larger first.
LOWER_IS_BETTER = frozenset({"reopen_rate", "mean_handling_days"})


@dataclass(frozen=True, slots=True)
class Ranked:
    """One unit's place on one KPI: rank None when it is not ranked (n < MIN_N or no value)."""

    unit_id: int
    kpi: KpiValue
    rank: int | None

    @property
    def n(self) -> int:
        return self.kpi.denominator

    @property
    def ranked(self) -> bool:
        return self.rank is not None


def rankable(value: KpiValue, min_n: int = MIN_N) -> bool:
    """Whether a unit's value may be ranked: it has a value and at least min_n judged rows."""
    return value.value is not None and value.denominator >= min_n


def rank(units: Iterable[UnitKpis], code: str, *, min_n: int = MIN_N) -> list[Ranked]:
    """The units ordered best first on the KPI `code`; equal values share a rank (1, 1, 3).

    Units with too small a sample (or no value) follow, unranked, by n descending then id.
    """
    if code not in KPIS:
        raise KeyError(code)
    lower_first = code in LOWER_IS_BETTER
    empty = KpiValue(0, 0, None)
    pairs = [(unit.unit_id, unit.kpis.get(code, empty)) for unit in units]
    judged = [pair for pair in pairs if rankable(pair[1], min_n)]
    unjudged = [pair for pair in pairs if not rankable(pair[1], min_n)]

    def sort_key(pair: tuple[int, KpiValue]) -> tuple[float, int, int]:
        value = pair[1].value
        assert value is not None
        return (value if lower_first else -value, -pair[1].denominator, pair[0])

    judged.sort(key=sort_key)
    result: list[Ranked] = []
    previous: float | None = None
    current = 0
    for position, (unit_id, value) in enumerate(judged, start=1):
        if value.value != previous:
            current, previous = position, value.value
        result.append(Ranked(unit_id, value, current))
    unjudged.sort(key=lambda pair: (-pair[1].denominator, pair[0]))
    result.extend(Ranked(unit_id, value, None) for unit_id, value in unjudged)
    return result


# --- The composite score (综合得分), docs/cockpit.md "综合得分" -------------------------------------

# Outcomes only (DESIGN.md 减负: rankings reward on time, solved, satisfied — not activity).
# Each is a share in [0, 1], so the weighted mean of the three, times 100, is a score out of 100.
COMPOSITE_WEIGHTS: dict[str, float] = {
    "on_time_answering": 0.4,
    "solved_rate": 0.3,
    "final_satisfaction": 0.3,
}


@dataclass(frozen=True, slots=True)
class Score:
    """One unit's composite score and rank; both None when any part has fewer than MIN_N rows."""

    unit_id: int
    score: float | None
    rank: int | None
    n: dict[str, int]  # each part's n, shown beside the score

    @property
    def ranked(self) -> bool:
        return self.rank is not None


def composite(kpis: dict[str, KpiValue], *, min_n: int = MIN_N) -> float | None:
    """100 × the weighted mean of the outcome KPIs, rounded to 0.1; None unless every part is rankable."""
    parts = [kpis.get(code, KpiValue(0, 0, None)) for code in COMPOSITE_WEIGHTS]
    if not all(rankable(part, min_n) for part in parts):
        return None
    total = sum(COMPOSITE_WEIGHTS.values())
    mean = sum(w * (part.value or 0.0) for w, part in zip(COMPOSITE_WEIGHTS.values(), parts, strict=True))
    return round(100 * mean / total, 1)


def rank_composite(units: Iterable[UnitKpis], *, min_n: int = MIN_N) -> list[Score]:
    """The units best score first; equal scores (to 0.1) share a rank; unscored units follow by id."""
    scored = []
    for unit in units:
        n = {code: unit.kpis.get(code, KpiValue(0, 0, None)).denominator for code in COMPOSITE_WEIGHTS}
        scored.append((unit.unit_id, composite(unit.kpis, min_n=min_n), n))
    judged = sorted((s for s in scored if s[1] is not None), key=lambda s: (-(s[1] or 0.0), s[0]))
    result: list[Score] = []
    previous: float | None = None
    current = 0
    for position, (unit_id, score, n) in enumerate(judged, start=1):
        if score != previous:
            current, previous = position, score
        result.append(Score(unit_id, score, current, n))
    result.extend(Score(unit_id, None, None, n) for unit_id, score, n in sorted(scored) if score is None)
    return result
