"""The measured effect of an adoption (经验采纳的成效): a KPI of the platform (guanjia.appeals.kpi) for the
adopting unit in the quarters before and after the practice was put on trial, side by side, each with
its n.

- The pivot is the trial date (试行日期), or the reference date (借鉴日期) while the adoption is only 借鉴.
- Quarters are calendar quarters of Beijing dates. The quarter that contains the pivot is left out of
  both sides: part of it ran the old way and part the new, so it belongs to neither.
- A quarter that has not begun is not counted (n = 0); the quarter running today is counted so far.
- The totals of a side pool its quarters (numerators and denominators added up), so a quarter with many
  appeals weighs more than one with few, exactly as the KPI over the whole span would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from guanjia.appeals import kpi
from guanjia.appeals.kpi import KPIS, KpiValue, Period, Scope
from guanjia.core.models import OrgUnit
from guanjia.exchange.access import today as beijing_today
from guanjia.exchange.models import Adoption, AdoptionStage

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

# The KPIs where a fall is the improvement.
LOWER_IS_BETTER = frozenset({"reopen_rate", "mean_handling_days"})
# The one KPI that is not a share: working days.
DAYS_KPIS = frozenset({"mean_handling_days"})
MAX_QUARTERS = 8

# One function per KPI code, each (scope, period) -> KpiValue; the rollups answer them for a zone or a
# department scope (kpi's fast path).
KPI_FUNCTIONS: dict[str, Callable[[Scope, Period], KpiValue]] = {
    "on_time_signing": kpi.on_time_signing,
    "on_time_answering": kpi.on_time_answering,
    "first_satisfaction": kpi.first_satisfaction,
    "final_satisfaction": kpi.final_satisfaction,
    "praise_rate": kpi.praise_rate,
    "solved_rate": kpi.solved_rate,
    "reopen_rate": kpi.reopen_rate,
    "mean_handling_days": kpi.mean_handling_days,
    "co_on_time_feedback": kpi.co_on_time_feedback,
}
assert set(KPI_FUNCTIONS) == set(KPIS), "every KPI of guanjia.appeals.kpi can measure an adoption"

EMPTY = KpiValue(0, 0, None)


def kpi_label(code: str) -> StrOrPromise:
    return KPIS.get(code, code)


def is_share(code: str) -> bool:
    """A KPI shown as a percentage (every one but 平均办理时长)."""
    return code not in DAYS_KPIS


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: 2026 Q2 is 1 April to 30 June 2026 (Beijing dates)."""

    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + (self.number - 1) + quarters
        return Quarter(index // 4, index % 4 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> date:
        """The first day after the quarter."""
        return self.shifted(1).start

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def label(self) -> str:
        return _("%(year)d年第%(number)d季度") % {"year": self.year, "number": self.number}

    @property
    def short_label(self) -> str:
        return f"{self.year}Q{self.number}"


class QuarterState:
    DONE = "done"  # over: its figure is final
    RUNNING = "running"  # contains today: counted so far
    FUTURE = "future"  # not begun: nothing to count


@dataclass(frozen=True)
class QuarterFigure:
    quarter: Quarter
    value: KpiValue
    state: str


@dataclass(frozen=True)
class Effect:
    """An adoption's KPI in the quarters before and after its pivot, and the change between the sides."""

    adoption: Adoption
    kpi: str
    pivot: date
    pivot_stage: str  # AdoptionStage.TRIAL or AdoptionStage.REFERENCE: which date the pivot is
    excluded: Quarter
    before: list[QuarterFigure]
    after: list[QuarterFigure]
    before_total: KpiValue
    after_total: KpiValue

    @property
    def kpi_label(self) -> StrOrPromise:
        return kpi_label(self.kpi)

    @property
    def is_share(self) -> bool:
        return is_share(self.kpi)

    @property
    def change(self) -> float | None:
        """After less before (a share as a fraction: 0.25 is 25 percentage points); None without both."""
        if self.before_total.value is None or self.after_total.value is None:
            return None
        return self.after_total.value - self.before_total.value

    @property
    def improved(self) -> bool | None:
        """Whether the change is for the better (None: no change to judge, or none at all)."""
        change = self.change
        if change is None or abs(change) < 1e-9:
            return None
        return change < 0 if self.kpi in LOWER_IS_BETTER else change > 0


def pivot_of(adoption: Adoption) -> tuple[date, str]:
    """The date the effect is measured around: the trial date, or the reference date while only 借鉴."""
    if adoption.trial_on is not None:
        return adoption.trial_on, AdoptionStage.TRIAL
    return adoption.referenced_on, AdoptionStage.REFERENCE


def scope_of(unit: OrgUnit) -> Scope:
    """The adopting unit's appeals: a zone's, or a department's own (kpi.Scope)."""
    if unit.kind == OrgUnit.Kind.ZONE:
        return Scope(zone_ids=[unit.pk])
    return Scope(department_ids=[unit.pk])


def _pooled(figures: list[QuarterFigure]) -> KpiValue:
    return KpiValue.of(
        sum(f.value.numerator for f in figures),
        sum(f.value.denominator for f in figures),
        sum(f.value.provisional for f in figures),
    )


def _figure(code: str, scope: Scope, quarter: Quarter, today: date) -> QuarterFigure:
    if quarter.start > today:
        return QuarterFigure(quarter, EMPTY, QuarterState.FUTURE)
    state = QuarterState.RUNNING if quarter.end > today else QuarterState.DONE
    return QuarterFigure(quarter, KPI_FUNCTIONS[code](scope, quarter.period), state)


def effect(adoption: Adoption, quarters: int = 2, *, today: date | None = None) -> Effect:
    """The adoption's KPI for its unit in `quarters` quarters before and after the pivot's quarter."""
    if not 1 <= quarters <= MAX_QUARTERS:
        raise ValueError(f"quarters must be 1..{MAX_QUARTERS}")
    if adoption.kpi not in KPI_FUNCTIONS:
        raise ValueError(f"unknown KPI {adoption.kpi!r}")
    day = today or beijing_today()
    pivot, stage = pivot_of(adoption)
    middle = Quarter.of(pivot)
    scope = scope_of(adoption.unit)
    before = [_figure(adoption.kpi, scope, middle.shifted(-k), day) for k in range(quarters, 0, -1)]
    after = [_figure(adoption.kpi, scope, middle.shifted(k), day) for k in range(1, quarters + 1)]
    return Effect(
        adoption=adoption,
        kpi=adoption.kpi,
        pivot=pivot,
        pivot_stage=stage,
        excluded=middle,
        before=before,
        after=after,
        before_total=_pooled(before),
        after_total=_pooled(after),
    )


# --- how a figure is written ---------------------------------------------------------------------------


def shown_value(code: str, value: float | None) -> str:
    """66.7% for a share, 2.5 for working days; "—" where there is nothing to count (n = 0)."""
    if value is None:
        return "—"
    if is_share(code):
        return f"{value * 100:.1f}%"
    return f"{value:.1f}"


def shown_change(code: str, change: float | None) -> str:
    """+12.5 个百分点 for a share, −1.5 个工作日 for working days; "—" without both sides."""
    if change is None:
        return "—"
    amount = change * 100 if is_share(code) else change
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    unit = _("个百分点") if is_share(code) else _("个工作日")
    return f"{sign}{abs(amount):.1f} {unit}"


def chart_value(code: str, value: float | None) -> float | None:
    """The bar's height: a share in percent (one decimal), working days as they are; None leaves a gap."""
    if value is None:
        return None
    return round(value * 100, 1) if is_share(code) else round(value, 2)
