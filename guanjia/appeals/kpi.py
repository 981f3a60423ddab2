"""The KPIs leaders are judged on (DESIGN.md, "KPIs"): defined once, here, and read by every page and API.

Every KPI is a ratio computed in the database over a *scope* and a *period*,
returned with its numerator and denominator so that rankings can show n.
docs/kpi.md states each definition, its formula and its edge cases; the rules
that the code has to agree on are these:

- A period is a range of calendar days in Beijing time, start included, end
  excluded: Period(date(2026, 3, 1), date(2026, 4, 1)) is March 2026.
- An event (signed, answered, closed) falls in the period when its instant is
  in [start 00:00, end 00:00) Beijing time.
- A deadline is 24:00 of its working day, stored as 00:00 of the next day
  (workcalendar.Deadline). It belongs to the day it ends, so it falls in the
  period when it is in (start 00:00, end 00:00]: a deadline of 24:00 on
  31 March counts in March although its stored instant is 1 April 00:00.
- On time means strictly before the deadline (signed_at < sign_due): the
  deadline has passed when now >= due, as everywhere else in the code.
- Lead assignments only, except 协办按时反馈率, which reads the co-handling ones. A row
  that is neither done nor due yet is not judged.
- answer_due is the deadline in force: the lifecycle has already applied approved
  extensions and pauses to it, so on-time answering reads it as it stands.
- A merged child has no assignment until it is reopened on its own: assignment KPIs
  count its master's assignments once, and the child is counted as a closed appeal
  of its own, with its own ratings, attributed to the department that answered.
- A judged assignment whose deadline fell in a year the work calendar does not
  cover (Assignment.provisional) is counted in KpiValue.provisional.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import (
    Appeal,
    Assignment,
    DailyRollup,
    Extension,
    Pause,
    Rating,
    RatingLevel,
    Status,
)
from guanjia.core import workcalendar
from guanjia.core.workcalendar import BEIJING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency


@dataclass(frozen=True, slots=True)
class KpiValue:
    """numerator / denominator, with value None when the denominator is 0 (n is the denominator).

    provisional: how many of the n judged rows have a deadline in a year the work calendar
    does not cover yet; their figures may change when an admin adds that year.
    """

    numerator: int
    denominator: int
    value: float | None
    provisional: int = 0

    @classmethod
    def of(cls, numerator: int, denominator: int, provisional: int = 0) -> KpiValue:
        return cls(numerator, denominator, numerator / denominator if denominator else None, provisional)


@dataclass(frozen=True)
class Period:
    """Calendar days in Beijing time: start included, end excluded."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=BEIJING)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(0), tzinfo=BEIJING)

    def events(self, field_name: str) -> Q:
        """An instant in [start 00:00, end 00:00)."""
        return Q(**{f"{field_name}__gte": self.start_at, f"{field_name}__lt": self.end_at})

    def deadlines(self, field_name: str) -> Q:
        """A 24:00 deadline whose day lies in the period: (start 00:00, end 00:00]."""
        return Q(**{f"{field_name}__gt": self.start_at, f"{field_name}__lte": self.end_at})


@dataclass(frozen=True)
class Scope:
    """Whose appeals: a queryset the caller may see (None: all), narrowed to zones and departments.

    A department's figures are its own assignments (lead, or co-handling for 协办按时反馈率),
    and the closed appeals whose (last) lead assignment was its own, not every appeal it
    ever touched.
    """

    appeals: QuerySet[Appeal] | None = None
    zone_ids: Collection[int] | None = None
    department_ids: Collection[int] | None = None


ScopeLike = Scope | QuerySet[Appeal]


def _scope(scope: ScopeLike) -> Scope:
    return scope if isinstance(scope, Scope) else Scope(appeals=scope)


# code → label, in the order pages show them.
KPIS: dict[str, StrOrPromise] = {
    "on_time_signing": _("按时签收率"),
    "on_time_answering": _("按时办结率"),
    "first_satisfaction": _("首次满意率"),
    "final_satisfaction": _("最终满意率"),
    "praise_rate": _("好评率"),
    "solved_rate": _("实际解决率"),
    "reopen_rate": _("重办率"),
    "mean_handling_days": _("平均办理时长（工作日）"),
    "co_on_time_feedback": _("协办按时反馈率"),
}

SATISFIED = RatingLevel.FAIRLY_SATISFIED  # 非常满意 + 满意 + 基本满意
PRAISED = RatingLevel.SATISFIED  # 非常满意 + 满意

# How each kind of row finds its unit, for rankings.
_UNIT_PATHS = {
    "assignment": {"department": "department_id", "zone": "appeal__zone_id"},
    "appeal": {"department": "lead_department", "zone": "zone_id"},
}


# --- The rows each KPI counts -------------------------------------------------------------------


def _assignments(scope: Scope, *, lead: bool = True) -> QuerySet[Assignment]:
    """Lead (or co-handling) assignments in the scope."""
    rows = Assignment.objects.filter(is_lead=lead)
    if scope.appeals is not None:
        rows = rows.filter(appeal__in=scope.appeals.values("pk"))
    if scope.zone_ids is not None:
        rows = rows.filter(appeal__zone_id__in=scope.zone_ids)
    if scope.department_ids is not None:
        rows = rows.filter(department_id__in=scope.department_ids)
    return rows


# A deadline row that is not done yet; once its deadline has passed it is judged (late) all the same.
_UNSIGNED = Q(signed_at__isnull=True, returned_at__isnull=True)
_UNANSWERED = Q(answered_at__isnull=True)


def _signing_judged(scope: Scope, period: Period) -> QuerySet[Assignment]:
    """The rows 按时签收率 judges once their deadline has passed (or as soon as they are done)."""
    return (
        _assignments(scope)
        .filter(period.deadlines("sign_due"))
        # A reopen starts signed: there was no signing to judge.
        .exclude(kind=Assignment.Kind.REOPEN)
        # Returned in time without signing: the dispatch was wrong, the redispatch is judged instead.
        .exclude(signed_at__isnull=True, returned_at__lt=F("sign_due"))
    )


def _signing_rows(scope: Scope, period: Period, now: datetime) -> QuerySet[Assignment]:
    # Not signed, not returned and not due yet: not judged yet.
    return _signing_judged(scope, period).exclude(_UNSIGNED & Q(sign_due__gt=now))


def _answering_judged(scope: Scope, period: Period) -> QuerySet[Assignment]:
    return (
        _assignments(scope)
        .filter(period.deadlines("answer_due"))
        # A returned assignment's obligation moved to the redispatch's assignment.
        .exclude(returned_at__isnull=False)
    )


def _answering_rows(scope: Scope, period: Period, now: datetime) -> QuerySet[Assignment]:
    return _answering_judged(scope, period).exclude(_UNANSWERED & Q(answer_due__gt=now))


def _co_feedback_judged(scope: Scope, period: Period) -> QuerySet[Assignment]:
    # dispatch_appeal creates the lead and its co-departments' assignments at one instant.
    returned_lead = Assignment.objects.filter(
        appeal=OuterRef("appeal"),
        is_lead=True,
        dispatched_at=OuterRef("dispatched_at"),
        returned_at__isnull=False,
    )
    return (
        _assignments(scope, lead=False)
        .filter(period.deadlines("answer_due"))
        # The lead returned a misrouted dispatch: the co-departments' part moved to the redispatch.
        .exclude(Exists(returned_lead))
    )


def _co_feedback_rows(scope: Scope, period: Period, now: datetime) -> QuerySet[Assignment]:
    return _co_feedback_judged(scope, period).exclude(_UNANSWERED & Q(answer_due__gt=now))


def _current_lead_department(appeal: OuterRef) -> Subquery:
    lead = Assignment.objects.filter(appeal=appeal, is_lead=True, is_current=True)
    return Subquery(lead.order_by("-dispatched_at", "-pk").values("department_id")[:1])


def _closed_appeals(scope: Scope, period: Period, now: datetime) -> QuerySet[Appeal]:
    rows = Appeal.objects.filter(period.events("closed_at"), status=Status.CLOSED)
    if scope.appeals is not None:
        # A merged child is rated on its master's answer: it is in the scope of whoever sees the master.
        seen = scope.appeals.values("pk")
        rows = rows.filter(Q(pk__in=seen) | Q(master__in=seen))
    ratings = Rating.objects.filter(appeal=OuterRef("pk"))  # a declined appeal's too (no assignment)
    first, last = ratings.order_by("at", "pk"), ratings.order_by("-at", "-pk")
    rows = rows.annotate(
        # 首次满意率 reads what the enterprise said first; a 申诉复核 decision only replaces the last.
        first_level=Subquery(first.values("level")[:1]),
        last_level=Subquery(last.values(final=Coalesce("reviewed_level", "level"))[:1]),
        last_solved=Subquery(last.values("solved")[:1]),
        # The department that gave the answer the appeal closed on (a reopen keeps it); a merged
        # child without an assignment of its own: the department whose answer it rated, or, not
        # rated, its master's.
        lead_department=Coalesce(
            _current_lead_department(OuterRef("pk")),
            Subquery(last.values("assignment__department_id")[:1]),
            _current_lead_department(OuterRef("master_id")),
        ),
    ).order_by()
    if scope.zone_ids is not None:
        rows = rows.filter(zone_id__in=scope.zone_ids)
    if scope.department_ids is not None:
        rows = rows.filter(lead_department__in=scope.department_ids)
    return rows


@dataclass(frozen=True)
class _Ratio:
    """One ratio KPI: the rows it reads, and which of them count above and below the line."""

    code: str
    kind: str  # "assignment" or "appeal": how its rows find their unit
    rows: Callable[[Scope, Period, datetime], QuerySet[Any]]
    numerator: Q
    denominator: Q = field(default_factory=Q)
    # Deadline KPIs: the rows judged once due (rows() less those not done and not due yet), the
    # deadline's column and what "not done" is. The rollups count from these (guanjia.appeals.rollups).
    judged: Callable[[Scope, Period], QuerySet[Any]] | None = None
    due: str = ""
    undone: Q = field(default_factory=Q)

    @property
    def judges_deadlines(self) -> bool:
        return self.kind == "assignment"


RATIOS: tuple[_Ratio, ...] = (
    _Ratio(
        "on_time_signing",
        "assignment",
        _signing_rows,
        Q(signed_at__lt=F("sign_due")),
        judged=_signing_judged,
        due="sign_due",
        undone=_UNSIGNED,
    ),
    _Ratio(
        "on_time_answering",
        "assignment",
        _answering_rows,
        Q(answered_at__lt=F("answer_due")),
        judged=_answering_judged,
        due="answer_due",
        undone=_UNANSWERED,
    ),
    # 未评价 has no rating: it is in no satisfaction KPI's denominator.
    _Ratio(
        "first_satisfaction",
        "appeal",
        _closed_appeals,
        Q(first_level__gte=SATISFIED),
        Q(first_level__isnull=False),
    ),
    _Ratio(
        "final_satisfaction",
        "appeal",
        _closed_appeals,
        Q(last_level__gte=SATISFIED),
        Q(last_level__isnull=False),
    ),
    _Ratio("praise_rate", "appeal", _closed_appeals, Q(last_level__gte=PRAISED), Q(last_level__isnull=False)),
    # Every closed appeal is in the denominator: 未评价 is not confirmed as solved.
    _Ratio("solved_rate", "appeal", _closed_appeals, Q(last_solved=True)),
    _Ratio("reopen_rate", "appeal", _closed_appeals, Q(reopen_count__gt=0)),
    _Ratio(
        "co_on_time_feedback",
        "assignment",
        _co_feedback_rows,
        Q(answered_at__lt=F("answer_due")),
        judged=_co_feedback_judged,
        due="answer_due",
        undone=_UNANSWERED,
    ),
)
_RATIO_BY_CODE = {ratio.code: ratio for ratio in RATIOS}


def _count_ratios(
    ratios: Iterable[_Ratio], scope: Scope, period: Period, now: datetime, unit: str | None
) -> dict[int | None, dict[str, KpiValue]]:
    """Evaluate ratios that share their rows in one query: {unit id (None: the whole scope): {code: value}}."""
    ratios = list(ratios)
    first = ratios[0]
    rows = first.rows(scope, period, now)
    counts: dict[str, Any] = {}
    for ratio in ratios:
        counts[f"{ratio.code}__n"] = Count("pk", filter=ratio.numerator & ratio.denominator)
        counts[f"{ratio.code}__d"] = Count("pk", filter=ratio.denominator)
        if ratio.judges_deadlines:
            counts[f"{ratio.code}__p"] = Count("pk", filter=ratio.denominator & Q(provisional=True))
    if unit is None:
        results: list[dict[str, Any]] = [{"unit": None, **rows.aggregate(**counts)}]
    else:
        path = _UNIT_PATHS[first.kind][unit]
        results = list(rows.values(unit=F(path)).annotate(**counts).order_by())
    return {
        row["unit"]: {
            r.code: KpiValue.of(row[f"{r.code}__n"], row[f"{r.code}__d"], row.get(f"{r.code}__p", 0))
            for r in ratios
        }
        for row in results
    }


def _handling_rows(scope: Scope, period: Period) -> QuerySet[Assignment]:
    """The lead assignments 平均办理时长 counts: those answered in the period."""
    return _assignments(scope).filter(period.events("answered_at"))


def _handling_groups() -> dict[str, Any]:
    return {
        "dispatched_on": TruncDate("dispatched_at", tzinfo=BEIJING),
        "answered_on": TruncDate("answered_at", tzinfo=BEIJING),
        "paused": F("paused_days"),
    }


def _handling_counts(rows: QuerySet[Assignment], groups: dict[str, Any]) -> QuerySet[Any]:
    return (
        rows.values(**groups)
        .annotate(n=Count("pk"), provisional=Count("pk", filter=Q(provisional=True)))
        .order_by()
    )


def _group_days(group: dict[str, Any]) -> int:
    """One group's working days per row: (dispatch day, answer day] less the paused days."""
    span = workcalendar.workdays_between(group["dispatched_on"], group["answered_on"])
    # paused_days is counted by the lifecycle, not from these two days: never below 0.
    return max(span - group["paused"], 0)


def _handling_days(scope: Scope, period: Period, unit: str | None) -> dict[int | None, KpiValue]:
    """Working days from dispatch to answer less the paused ones, summed per unit over the lead
    assignments answered in the period.

    The work calendar is a table in Python (an admin's entries over the official
    schedule), not in the database. So the database groups the rows by their pair of
    Beijing days and their paused days and counts them, and workdays_between runs once
    per distinct group, not once per row: a year holds a few thousand such groups
    however many appeals (paused_days is at most 10). workdays_between counts
    (dispatch day, answer day]: an answer on the Nth working day after dispatch took
    N days, the same count that set its deadline.
    """
    groups = _handling_groups()
    if unit is not None:
        groups["unit"] = F(_UNIT_PATHS["assignment"][unit])
    pairs = _handling_counts(_handling_rows(scope, period), groups)
    days: dict[int | None, int] = defaultdict(int)
    counts: dict[int | None, int] = defaultdict(int)
    provisional: dict[int | None, int] = defaultdict(int)
    if unit is None:
        counts[None] = 0  # the whole scope has a value even when nothing was answered
    for group in cast(Iterable[dict[str, Any]], pairs):
        key = group.get("unit")
        days[key] += group["n"] * _group_days(group)
        counts[key] += group["n"]
        provisional[key] += group["provisional"]
    return {key: KpiValue.of(days[key], n, provisional[key]) for key, n in counts.items()}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# Where the figures come from. "auto": the daily rollups when the scope is zones and/or departments
# only (no appeals queryset), the appeals and assignments otherwise; "direct" and "rollups" force one
# (the tests compare them). USE_ROLLUPS = False turns the rollups off for "auto".
Source = Literal["auto", "direct", "rollups"]
USE_ROLLUPS = True


def _fast(scope: Scope, source: Source) -> bool:
    if source == "rollups" and scope.appeals is not None:
        raise ValueError("the rollups answer scopes of zones and departments only")
    return source == "rollups" or (source == "auto" and USE_ROLLUPS and scope.appeals is None)


def _one(code: str, scope: ScopeLike, period: Period, now: datetime | None, source: Source) -> KpiValue:
    narrowed = _scope(scope)
    if _fast(narrowed, source):
        return _from_rollups(narrowed, period, _now(now), None, [code])[None][code]
    if code == "mean_handling_days":
        return _handling_days(narrowed, period, None)[None]
    return _count_ratios([_RATIO_BY_CODE[code]], narrowed, period, _now(now), None)[None][code]


def on_time_signing(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> KpiValue:
    """按时签收率: lead assignments signed before sign_due / those whose sign_due falls in the period."""
    return _one("on_time_signing", scope, period, now, source)


def on_time_answering(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> KpiValue:
    """按时办结率: lead assignments answered before answer_due / those whose answer_due falls in the period."""
    return _one("on_time_answering", scope, period, now, source)


def first_satisfaction(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """首次满意率: first ratings 基本满意 or better / appeals closed in the period with a rating."""
    return _one("first_satisfaction", scope, period, None, source)


def final_satisfaction(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """最终满意率: last ratings 基本满意 or better / appeals closed in the period with a rating."""
    return _one("final_satisfaction", scope, period, None, source)


def praise_rate(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """好评率: last ratings 满意 or better / appeals closed in the period with a rating."""
    return _one("praise_rate", scope, period, None, source)


def solved_rate(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """实际解决率: appeals closed in the period whose last rating says solved / appeals closed in the period."""
    return _one("solved_rate", scope, period, None, source)


def reopen_rate(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """重办率: appeals closed in the period reopened at least once / appeals closed in the period."""
    return _one("reopen_rate", scope, period, None, source)


def mean_handling_days(scope: ScopeLike, period: Period, *, source: Source = "auto") -> KpiValue:
    """平均办理时长: total working days dispatch → answer, pauses excluded / lead assignments answered in the period."""
    return _one("mean_handling_days", scope, period, None, source)


def co_on_time_feedback(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> KpiValue:
    """协办按时反馈率: co-handling assignments answered before answer_due / those whose answer_due is in the period."""
    return _one("co_on_time_feedback", scope, period, now, source)


def _evaluate(
    scope: ScopeLike, period: Period, now: datetime | None, unit: str | None, source: Source
) -> dict[int | None, dict[str, KpiValue]]:
    scope, moment = _scope(scope), _now(now)
    if _fast(scope, source):
        return _from_rollups(scope, period, moment, unit, list(KPIS))
    groups: dict[Callable[..., Any], list[_Ratio]] = defaultdict(list)
    for ratio in RATIOS:
        groups[ratio.rows].append(ratio)
    found: dict[int | None, dict[str, KpiValue]] = defaultdict(dict)
    for ratios in groups.values():  # one query per kind of row: five in all
        for key, values in _count_ratios(ratios, scope, period, moment, unit).items():
            found[key].update(values)
    for key, value in _handling_days(scope, period, unit).items():
        found[key]["mean_handling_days"] = value
    empty = KpiValue(0, 0, None)
    return {key: {code: values.get(code, empty) for code in KPIS} for key, values in found.items()}


def all_kpis(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> dict[str, KpiValue]:
    """Every KPI over the scope and period, keyed by code in KPIS order."""
    return _evaluate(scope, period, now, None, source)[None]


@dataclass(frozen=True)
class UnitKpis:
    """One department's or zone's KPIs, for a ranking: every value carries its n."""

    unit_id: int
    kpis: dict[str, KpiValue]


def _by_unit(
    scope: ScopeLike, period: Period, now: datetime | None, unit: str, source: Source
) -> list[UnitKpis]:
    found = _evaluate(scope, period, now, unit, source)
    return [UnitKpis(key, kpis) for key, kpis in sorted(found.items(), key=lambda item: item[0] or 0) if key]


def by_department(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> list[UnitKpis]:
    """Per department with any row in the period, lead or co-handling (a department with none is left out)."""
    return _by_unit(scope, period, now, "department", source)


def by_zone(
    scope: ScopeLike, period: Period, *, now: datetime | None = None, source: Source = "auto"
) -> list[UnitKpis]:
    """Per zone with any row in the period."""
    return _by_unit(scope, period, now, "zone", source)


# --- The same figures from the daily rollups -------------------------------------------------------
#
# guanjia.appeals.rollups keeps, per appeal, the facts below and their sums per day in DailyRollup.
# The facts are counted here, from the very rows and conditions the figures above count, restricted
# to a few appeals; the metric of a fact is "<KPI code>.<part>":
#
#   .n        the numerator's rows (on time; satisfied; ...) or, 平均办理时长, their working days
#   .d        the denominator's rows; for a deadline KPI, every row judged once its deadline passes
#   .done     a deadline KPI's rows that are done (signed or returned; answered): judged at once
#   .p .pdone of .d and .done, the provisional ones (平均办理时长: .p of .d)
#   .pending .ppending   rows not done whose deadline is not 24:00, at that moment of its day
#
# A deadline fact's day is the day of its 24:00 deadline (the stored instant less 1 µs), an event's
# the Beijing day of its instant. Deadline rows not done and not due yet are not judged: a deadline
# is 24:00 of its day, so on a day before today every row is judged (.d), from today on only the done
# ones (.done) and, today, the rows whose deadline at another time of day has passed (.pending).

FactKey = tuple[str, date, int, int, str, int]  # metric, day, department, category, channel, at
ALL_TIME = Period(date(1970, 1, 1), date(2400, 1, 1))
_DAY = timedelta(days=1)
_MICROSECONDS_A_DAY = 86_400_000_000


def _deadline_day(due: datetime) -> tuple[date, int]:
    """The day a deadline belongs to, and its moment in that day in µs (0 for 24:00)."""
    day = (due - timedelta(microseconds=1)).astimezone(BEIJING).date()
    offset = (due - datetime.combine(day, time(0), tzinfo=BEIJING)) // timedelta(microseconds=1)
    return day, 0 if offset == _MICROSECONDS_A_DAY else offset


def _in_day(now: datetime) -> tuple[date, int]:
    local = now.astimezone(BEIJING)
    return local.date(), (local - datetime.combine(local.date(), time(0), tzinfo=BEIJING)) // timedelta(
        microseconds=1
    )


def _add(found: dict[int, Counter[FactKey]], appeal_id: int, key: FactKey, value: int) -> None:
    if value:
        found[appeal_id][key] += value


def facts(appeal_ids: Collection[int]) -> dict[int, Counter[FactKey]]:
    """What each of these appeals contributes to the KPIs, by the KPIs' own row definitions: seven
    queries for any number of appeals. Appeals with no fact are left out."""
    ids = list(appeal_ids)
    found: dict[int, Counter[FactKey]] = defaultdict(Counter)
    everything = Scope()
    for ratio in RATIOS:
        if ratio.judged is None:
            continue
        done = ratio.denominator & ~ratio.undone
        counts = {
            "n": Count("pk", filter=ratio.numerator & ratio.denominator),
            "d": Count("pk", filter=ratio.denominator),
            "done": Count("pk", filter=done),
            "p": Count("pk", filter=ratio.denominator & Q(provisional=True)),
            "pdone": Count("pk", filter=done & Q(provisional=True)),
        }
        rows = ratio.judged(everything, ALL_TIME).filter(appeal_id__in=ids)
        for row in (
            rows.values("appeal_id", "department_id", deadline=F(ratio.due)).annotate(**counts).order_by()
        ):
            day, at = _deadline_day(row["deadline"])
            aid, unit = row["appeal_id"], row["department_id"]
            for part in ("n", "d", "done", "p", "pdone"):
                _add(found, aid, (f"{ratio.code}.{part}", day, unit, 0, "", 0), row[part])
            if at:
                _add(found, aid, (f"{ratio.code}.pending", day, unit, 0, "", at), row["d"] - row["done"])
                _add(found, aid, (f"{ratio.code}.ppending", day, unit, 0, "", at), row["p"] - row["pdone"])
    closing = [ratio for ratio in RATIOS if ratio.rows is _closed_appeals]
    counts = {}
    for ratio in closing:
        counts[f"{ratio.code}__n"] = Count("pk", filter=ratio.numerator & ratio.denominator)
        counts[f"{ratio.code}__d"] = Count("pk", filter=ratio.denominator)
    closed = _closed_appeals(everything, ALL_TIME, timezone.now()).filter(pk__in=ids)
    closed_rows = closed.values("pk", "closed_at", unit=F("lead_department")).annotate(**counts)
    for row in cast(Iterable[dict[str, Any]], closed_rows):
        day = row["closed_at"].astimezone(BEIJING).date()
        for ratio in closing:
            for part in ("n", "d"):
                _add(
                    found,
                    row["pk"],
                    (f"{ratio.code}.{part}", day, row["unit"] or 0, 0, "", 0),
                    row[f"{ratio.code}__{part}"],
                )
    groups = {"aid": F("appeal_id"), "unit": F("department_id"), **_handling_groups()}
    for group in _handling_counts(_handling_rows(everything, ALL_TIME).filter(appeal_id__in=ids), groups):
        key = ("mean_handling_days", group["answered_on"], group["unit"], 0, "", 0)
        _add(found, group["aid"], (f"{key[0]}.n", *key[1:]), group["n"] * _group_days(group))
        _add(found, group["aid"], (f"{key[0]}.d", *key[1:]), group["n"])
        _add(found, group["aid"], (f"{key[0]}.p", *key[1:]), group["provisional"])
    return found


def _from_rollups(
    scope: Scope, period: Period, now: datetime, unit: str | None, codes: list[str]
) -> dict[int | None, dict[str, KpiValue]]:
    """The KPIs from DailyRollup alone (two queries at most): the same values as the direct path."""
    today, moment = _in_day(now)
    rows = DailyRollup.objects.filter(day__gte=period.start, day__lt=period.end)
    if scope.zone_ids is not None:
        rows = rows.filter(zone_id__in=list(scope.zone_ids))
    if scope.department_ids is not None:
        rows = rows.filter(department_id__in=list(scope.department_ids))
    deadlines = [code for code in codes if code in _RATIO_BY_CODE and _RATIO_BY_CODE[code].judged is not None]
    parts = {
        code: ("n", "d", "done", "p", "pdone") if code in deadlines else ("n", "d", "p") for code in codes
    }
    metrics = [f"{code}.{part}" for code in codes for part in parts[code]]
    group = ["metric"] if unit is None else ["metric", f"{unit}_id"]
    sums: dict[int | None, Counter[str]] = defaultdict(Counter)
    found = (
        rows.filter(metric__in=metrics)
        .values(*group)
        .annotate(
            before=Sum("value", filter=Q(day__lt=today)),
            since=Sum("value", filter=Q(day__gte=today)),
        )
        .order_by()
    )
    for row in found:
        key = row.get(f"{unit}_id") if unit else None
        metric = row["metric"]
        before, since = row["before"] or 0, row["since"] or 0
        sums[key][metric] += before + since
        sums[key][f"{metric}<"] += before
        sums[key][f"{metric}>"] += since
    if deadlines and period.start <= today < period.end:
        pending = [f"{code}.{part}" for code in deadlines for part in ("pending", "ppending")]
        late = (
            rows.filter(day=today, metric__in=pending, at__lte=moment).values(*group).annotate(v=Sum("value"))
        )
        for row in late.order_by():
            key = row.get(f"{unit}_id") if unit else None
            sums[key][row["metric"]] += row["v"]
    if unit is None:
        sums[None]  # the whole scope has values even when nothing happened
    results: dict[int | None, dict[str, KpiValue]] = {}
    for key, got in sums.items():
        values = {}
        for code in codes:
            if code in deadlines:
                values[code] = KpiValue.of(
                    got[f"{code}.n"],
                    got[f"{code}.d<"] + got[f"{code}.done>"] + got[f"{code}.pending"],
                    got[f"{code}.p<"] + got[f"{code}.pdone>"] + got[f"{code}.ppending"],
                )
            else:
                values[code] = KpiValue.of(got[f"{code}.n"], got[f"{code}.d"], got[f"{code}.p"])
        if unit is None or (key and any(value.denominator for value in values.values())):
            results[key] = values
    return results


# --- Pauses and extensions, per department (DESIGN.md: "pauses are reported per department") -----


@dataclass(frozen=True, slots=True)
class PauseFigures:
    """One department's (or the whole scope's, department_id None) pauses and extensions in a period.

    A pause is counted when it started in the period, and its working days when it was
    resumed in the period (only then are they known); an extension when a supervisor
    approved it in the period, with its days.
    """

    department_id: int | None
    pauses_started: int = 0
    pauses_resumed: int = 0
    paused_days: int = 0
    extensions_approved: int = 0
    extension_days: int = 0

    @classmethod
    def total(cls, rows: Iterable[PauseFigures]) -> PauseFigures:
        """The rows added up, as the whole scope's figures."""
        rows = list(rows)
        return cls(
            None,
            pauses_started=sum(row.pauses_started for row in rows),
            pauses_resumed=sum(row.pauses_resumed for row in rows),
            paused_days=sum(row.paused_days for row in rows),
            extensions_approved=sum(row.extensions_approved for row in rows),
            extension_days=sum(row.extension_days for row in rows),
        )


def _rows_by_department(scope: Scope, model: type[Pause] | type[Extension]) -> QuerySet[Any]:
    """Pause or Extension rows in the scope, as values grouped by their assignment's department."""
    rows = model.objects.all()
    if scope.appeals is not None:
        rows = rows.filter(appeal__in=scope.appeals.values("pk"))
    if scope.zone_ids is not None:
        rows = rows.filter(appeal__zone_id__in=scope.zone_ids)
    if scope.department_ids is not None:
        rows = rows.filter(assignment__department_id__in=scope.department_ids)
    return rows.values(unit=F("assignment__department_id")).order_by()


def _pause_figures(scope: Scope, period: Period) -> dict[int, PauseFigures]:
    started, resumed = period.events("started_at"), period.events("resumed_at")
    pauses = (
        _rows_by_department(scope, Pause)
        .filter(started | resumed)
        .annotate(
            started=Count("pk", filter=started),
            resumed=Count("pk", filter=resumed),
            days=Coalesce(Sum("working_days", filter=resumed), 0),
        )
    )
    extensions = (
        _rows_by_department(scope, Extension)
        .filter(period.events("decided_at"), state=Extension.State.APPROVED)
        .annotate(n=Count("pk"), days=Coalesce(Sum("days"), 0))
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in pauses:
        found[row["unit"]].update(
            pauses_started=row["started"], pauses_resumed=row["resumed"], paused_days=row["days"]
        )
    for row in extensions:
        found[row["unit"]].update(extensions_approved=row["n"], extension_days=row["days"])
    return {unit: PauseFigures(unit, **figures) for unit, figures in found.items()}


def pauses_by_department(scope: ScopeLike, period: Period) -> list[PauseFigures]:
    """Per department with a pause or an approved extension in the period, by department id."""
    return sorted(_pause_figures(_scope(scope), period).values(), key=lambda row: row.department_id or 0)


def pause_totals(scope: ScopeLike, period: Period) -> PauseFigures:
    """The whole scope's pauses and extensions in the period (the departments' rows added up)."""
    return PauseFigures.total(_pause_figures(_scope(scope), period).values())


# --- The rows behind a figure (the cockpit's drill-down) ------------------------------------------

PARTS = ("numerator", "denominator")


def rows(
    code: str, scope: ScopeLike, period: Period, *, part: str = "denominator", now: datetime | None = None
) -> QuerySet[Any]:
    """The rows a KPI counts, by the same definitions as its figure: the denominator's (its n) or the
    numerator's. Assignment-based KPIs give Assignment rows, the others Appeal rows (annotated with
    first_level, last_level, last_solved and lead_department).

    平均办理时长's numerator is a sum of working days, not a count: both parts give the lead
    assignments answered in the period, and handling_days(row) gives each one's share of the sum.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}")
    narrowed = _scope(scope)
    if code == "mean_handling_days":
        return _assignments(narrowed).filter(period.events("answered_at")).order_by()
    ratio = _RATIO_BY_CODE[code]  # KeyError for a code that is not a KPI
    found = ratio.rows(narrowed, period, _now(now)).filter(ratio.denominator)
    if part == "numerator":
        found = found.filter(ratio.numerator)
    return found


def handling_days(assignment: Assignment) -> int:
    """One answered assignment's working days from dispatch to answer less its pauses (平均办理时长's
    numerator is the sum of these over rows(code="mean_handling_days"))."""
    assert assignment.answered_at is not None
    span = workcalendar.workdays_between(
        assignment.dispatched_at.astimezone(BEIJING).date(), assignment.answered_at.astimezone(BEIJING).date()
    )
    return max(span - assignment.paused_days, 0)
