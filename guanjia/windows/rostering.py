"""The roster solver (排班求解): a unit's week planned with OR-Tools CP-SAT so that every window that must
stay open is staffed every minute of its hours, lunch breaks are taken in turns inside the lunch window,
nobody works beyond their limits and the load is fair; and the coverage check of an actual roster.

`generate` reads the unit, its windows and staff and writes nothing: the roster services
(guanjia.windows.rosters) store the plan as a draft the keeper adjusts. `gaps` is the pure coverage
check of any set of shifts (planned or stored), the one source of the shortages a page shows.

The model, for the open days of the week and the slots of a day (guanjia.windows.hours):

- x[p, d, w]: person p works the whole day d at window w. At most one shift a day, only on the weekdays
  p is available, only at windows p may serve, at most max_shifts a week.
- When the unit stays open at noon, each shift has one break of lunch_slots(unit) consecutive slots
  starting at one of lunch_starts(unit): b[p, d, w, k] says p's break at w starts at the k-th allowed
  start, and sum_k b[p, d, w, k] = x[p, d, w]. Keeping the break per window makes the number of people at
  work at w in slot s linear: sum_p x[p, d, w] − sum_p (b[p, d, w, k] for the starts k whose break covers
  s), so no product variable is needed, and only lunch slots carry the second term.
- Coverage is elastic: people at work + short[w, d, s] >= staff_needed. The objective minimises, in this
  order, the total shortage, the number of shifts, the spread of the load (max − min shifts).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ortools.sat.python import cp_model

from guanjia.windows import hours
from guanjia.windows.models import ServiceUnit, ServiceWindow, Shift

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
UNKNOWN = "unknown"

WEEKDAY_NAMES = tuple(gettext_noop(name) for name in ("周一", "周二", "周三", "周四", "周五", "周六", "周日"))


@dataclass(frozen=True)
class Shortage:
    """One window, one day, one run of consecutive slots short by the same number of people."""

    window_id: int
    window_label: str
    day: date
    start: time
    end: time
    short: int
    available: int

    def window_text(self) -> str:
        number, _sep, name = self.window_label.partition(" ")
        if not number.endswith(("号", "窗口")):
            number = _("%(number)s号窗口") % {"number": number}
        return f"{number} {name}".strip()

    def describe(self) -> str:
        return _(
            "%(month)d月%(day)d日（%(weekday)s）%(start)s–%(end)s %(window)s 缺 %(short)d 人（当天可排 %(available)d 人）"
        ) % {
            "month": self.day.month,
            "day": self.day.day,
            "weekday": _(WEEKDAY_NAMES[self.day.weekday()]),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
            "window": self.window_text(),
            "short": self.short,
            "available": self.available,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "window": self.window_id,
            "window_label": self.window_label,
            "date": self.day.isoformat(),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
            "short": self.short,
            "available": self.available,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shortage:
        return cls(
            window_id=int(data["window"]),
            window_label=str(data.get("window_label", "")),
            day=date.fromisoformat(data["date"]),
            start=time.fromisoformat(data["start"]),
            end=time.fromisoformat(data["end"]),
            short=int(data["short"]),
            available=int(data.get("available", 0)),
        )


@dataclass(frozen=True)
class PlannedShift:
    """A shift the solver proposes: one person, one day, one window, with its lunch break."""

    user_id: int
    window_id: int
    day: date
    lunch_start: time | None


@dataclass
class Plan:
    """What the solver found for a week: its status, the shifts, and what they leave uncovered."""

    status: str
    shifts: list[PlannedShift] = field(default_factory=list)
    shortages: list[Shortage] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE) and not self.shortages


def lunch_slots(unit: ServiceUnit) -> int:
    """How many slots one person's break takes (a break shorter than a slot still takes the slot)."""
    return math.ceil(unit.lunch_minutes / unit.slot_minutes)


def lunch_starts(unit: ServiceUnit) -> list[time]:
    """The slot starts at which a break may begin, the whole break inside the lunch window and the day's
    slots; none when the unit closes for lunch (then nobody needs a break in turns)."""
    if not unit.no_lunch_break:
        return []
    slots = hours.day_slots(unit)
    length = lunch_slots(unit)
    earliest, latest = hours.minutes(unit.lunch_from), hours.minutes(unit.lunch_to)
    # Slots are contiguous from opens_at: a start among the first len - length + 1 has its whole break
    # inside the day.
    return [
        start
        for start in slots[: max(len(slots) - length + 1, 0)]
        if hours.minutes(start) >= earliest and hours.minutes(start) + length * unit.slot_minutes <= latest
    ]


def week_days(week_start: date) -> list[date]:
    """The open days among the seven days from `week_start` (holidays skipped, 调休 Saturdays included)."""
    return hours.open_days(week_start, 7)


@dataclass(frozen=True)
class _Staff:
    user_id: int
    windows: frozenset[int]
    weekdays: frozenset[int]
    max_shifts: int

    def may_serve(self, window_id: int, day: date) -> bool:
        return self.max_shifts > 0 and window_id in self.windows and day.isoweekday() in self.weekdays


@dataclass
class _Week:
    """What a week's plan and its check read from the database, read once."""

    unit: ServiceUnit
    days: list[date]
    slots: list[time]
    windows: list[ServiceWindow]
    staff: list[_Staff]

    @classmethod
    def load(cls, unit: ServiceUnit, week_start: date) -> _Week:
        windows = list(
            ServiceWindow.objects.filter(unit=unit, is_active=True, must_stay_open=True).order_by(
                "number", "pk"
            )
        )
        staff = [
            _Staff(
                user_id=staffing.user_id,
                windows=frozenset(w.pk for w in staffing.windows.all()),
                weekdays=frozenset(staffing.weekday_numbers()),
                max_shifts=staffing.max_shifts,
            )
            for staffing in unit.staffings.filter(is_active=True)
            .prefetch_related("windows")
            .order_by("user_id")
        ]
        return cls(unit, week_days(week_start), hours.day_slots(unit), windows, staff)

    def needs_cover(self, slot: time) -> bool:
        return not hours.closed_for_lunch(self.unit, slot)

    def available(self, window_id: int, day: date) -> int:
        return sum(1 for person in self.staff if person.may_serve(window_id, day))

    def break_minutes(self) -> int:
        return lunch_slots(self.unit) * self.unit.slot_minutes


def _shift_day(shift: Shift | PlannedShift) -> date:
    return shift.day if isinstance(shift, PlannedShift) else shift.date


def gaps(unit: ServiceUnit, week_start: date, shifts: Iterable[Shift | PlannedShift]) -> list[Shortage]:
    """Where `shifts` leave a window that must stay open short of staff, one Shortage per window, day and
    run of consecutive slots short by the same number. Reads the unit's windows and staff; writes nothing."""
    return _gaps(_Week.load(unit, week_start), shifts)


def _gaps(week: _Week, shifts: Iterable[Shift | PlannedShift]) -> list[Shortage]:
    unit = week.unit
    slot_minutes = unit.slot_minutes
    break_length = week.break_minutes()
    # present[(window, day)][slot index] = people at work there in that slot.
    present: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * len(week.slots))
    for shift in shifts:
        counts = present[(shift.window_id, _shift_day(shift))]
        off_from = off_to = -1
        if unit.no_lunch_break and shift.lunch_start is not None:
            off_from = hours.minutes(shift.lunch_start)
            off_to = off_from + break_length
        for index, slot in enumerate(week.slots):
            start = hours.minutes(slot)
            # Someone on a break for any part of a slot does not cover that slot.
            if not (start < off_to and start + slot_minutes > off_from):
                counts[index] += 1

    shortages: list[Shortage] = []
    for day in week.days:
        for window in week.windows:
            counts = present[(window.pk, day)]
            available = week.available(window.pk, day)
            run: tuple[int, int, int] | None = None  # (first slot, last slot, short)
            for index, slot in enumerate(week.slots):
                short = max(window.staff_needed - counts[index], 0) if week.needs_cover(slot) else 0
                if run is not None and short == run[2] and run[1] == index - 1:
                    run = (run[0], index, short)
                    continue
                if run is not None:
                    shortages.append(_shortage(week, window, day, run, available))
                run = (index, index, short) if short else None
            if run is not None:
                shortages.append(_shortage(week, window, day, run, available))
    return shortages


def _shortage(
    week: _Week, window: ServiceWindow, day: date, run: tuple[int, int, int], available: int
) -> Shortage:
    first, last, short = run
    return Shortage(
        window_id=window.pk,
        window_label=str(window),
        day=day,
        start=week.slots[first],
        end=hours.slot_end(week.unit, week.slots[last]),
        short=short,
        available=available,
    )


def generate(unit: ServiceUnit, week_start: date, *, time_limit: float = 10.0) -> Plan:
    """Plan `unit`'s week from `week_start` (a Monday): the shifts that cover every window that must stay
    open, or, when that is impossible, the best partial shifts and what they leave short. Writes nothing."""
    week = _Week.load(unit, week_start)
    return _Solver(week).solve(time_limit)


class _Solver:
    def __init__(self, week: _Week) -> None:
        self.week = week
        self.model = cp_model.CpModel()
        self.starts = lunch_starts(week.unit)
        self.length = lunch_slots(week.unit)
        self.x: dict[tuple[int, date, int], cp_model.IntVar] = {}
        self.b: dict[tuple[int, date, int, int], cp_model.IntVar] = {}
        self.short: list[cp_model.IntVar] = []
        self.counts: dict[int, cp_model.LinearExpr] = {}
        self._build()

    def _build(self) -> None:
        week, model = self.week, self.model
        start_index = {slot: index for index, slot in enumerate(week.slots)}
        break_starts = [start_index[start] for start in self.starts]
        window_ids = [window.pk for window in week.windows]

        for person in week.staff:
            shifts_of_person = []
            for day in week.days:
                day_vars = []
                for window_id in window_ids:
                    if not person.may_serve(window_id, day):
                        continue
                    works = model.new_bool_var(f"x_{person.user_id}_{day:%m%d}_{window_id}")
                    self.x[(person.user_id, day, window_id)] = works
                    day_vars.append(works)
                    # A unit whose lunch window cannot hold one break (lunch_to - lunch_from shorter
                    # than lunch_minutes) has no start to offer: its shifts are planned without one.
                    if break_starts:
                        breaks = []
                        for k in range(len(break_starts)):
                            on_break = model.new_bool_var(f"b_{person.user_id}_{day:%m%d}_{window_id}_{k}")
                            self.b[(person.user_id, day, window_id, k)] = on_break
                            breaks.append(on_break)
                        model.add(cp_model.LinearExpr.sum(breaks) == works)
                if day_vars:
                    model.add_at_most_one(day_vars)
                    shifts_of_person.extend(day_vars)
            if shifts_of_person:
                count = cp_model.LinearExpr.sum(shifts_of_person)
                model.add(count <= person.max_shifts)
                self.counts[person.user_id] = count

        # Coverage, elastic: a slot nobody can cover is short, not an infeasible model.
        for day in week.days:
            for window in week.windows:
                keys = self._keys(day, window.pk)
                people = cp_model.LinearExpr.sum([self.x[key] for key in keys])
                for index, slot in enumerate(week.slots):
                    if not week.needs_cover(slot):
                        continue
                    away = [
                        self.b[(user_id, day, window.pk, k)]
                        for (user_id, _day, _window) in keys
                        for k, first in enumerate(break_starts)
                        if first <= index < first + self.length
                    ]
                    short = model.new_int_var(0, window.staff_needed, f"short_{window.pk}_{day:%m%d}_{index}")
                    self.short.append(short)
                    model.add(people - cp_model.LinearExpr.sum(away) + short >= window.staff_needed)

        # Fairness within a group of interchangeable staff (same weekdays, windows and limit): their
        # shifts differ by at most one. This never costs coverage: in any plan where one member works
        # two shifts more than another, the busier one works some day the other does not (both are
        # available that day), and the other stays under the common limit, so that shift (window and
        # break included) can move to the other without changing who is at which window when; repeat
        # until the group is within one.
        groups: dict[tuple[frozenset[int], frozenset[int], int], list[int]] = defaultdict(list)
        for person in week.staff:
            if person.user_id in self.counts:
                groups[(person.weekdays, person.windows, person.max_shifts)].append(person.user_id)
        for members in groups.values():
            if len(members) < 2:
                continue
            floor = model.new_int_var(0, 7, "group_floor")
            for user_id in members:
                model.add(self.counts[user_id] >= floor)
                model.add(self.counts[user_id] <= floor + 1)
            # Interchangeable members: only the plans where the earlier members work no fewer shifts
            # than the later ones need searching (any plan can be renamed into one of them).
            for earlier, later in itertools.pairwise(members):
                model.add(self.counts[earlier] >= self.counts[later])

        # Objective, lexicographic through weights: shortage, then the number of shifts (nobody rostered
        # who is not needed), then the spread of the load (max − min shifts over the staff who can work
        # at all). Shifts come before spread on purpose: the other way round, the solver would add
        # shifts nobody needs just to even out the counts (eight staff and 30 needed shifts would give
        # everyone four, two of them surplus).
        total_shifts = cp_model.LinearExpr.sum(list(self.x.values()))
        spread = cp_model.LinearExpr.sum([])
        if self.counts:
            highest = model.new_int_var(0, 7, "most")
            lowest = model.new_int_var(0, 7, "least")
            for count in self.counts.values():
                model.add(count <= highest)
                model.add(count >= lowest)
            # Implied by the above, but lets the solver prove at once that a load that cannot divide
            # evenly has a spread of at least one (without it, proving the optimum means a long search).
            load = cp_model.LinearExpr.sum(list(self.counts.values()))
            model.add(load <= highest * len(self.counts))
            model.add(load >= lowest * len(self.counts))
            spread = highest - lowest
        # spread <= 7 < 8, and 8 * shifts + spread < 8 * (len(x) + 1): each term outweighs all below it.
        self.shortage_weight = 8 * (len(self.x) + 1)
        shortage = cp_model.LinearExpr.sum(self.short)
        model.minimize(self.shortage_weight * shortage + 8 * total_shifts + spread)

    def _keys(self, day: date, window_id: int) -> list[tuple[int, date, int]]:
        return [
            (person.user_id, day, window_id)
            for person in self.week.staff
            if (person.user_id, day, window_id) in self.x
        ]

    def solve(self, time_limit: float) -> Plan:
        solver = cp_model.CpSolver()
        # One worker and a fixed seed: the same week gives the same plan. The deterministic limit makes
        # a run cut short by time stop at the same point on any machine; the wall limit is the backstop.
        solver.parameters.num_workers = 1
        # The full linear relaxation: a lone worker with the default one finds neither good plans nor
        # bounds on this model (measured: 8 staff, 3 windows, no proof in 10 s; with it, 0.2 s).
        solver.parameters.linearization_level = 2
        solver.parameters.random_seed = 0
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.max_deterministic_time = time_limit
        status = solver.solve(self.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Plan(status=UNKNOWN)

        window_order = {window.pk: n for n, window in enumerate(self.week.windows)}
        shifts = []
        for (user_id, day, window_id), works in self.x.items():
            if not solver.boolean_value(works):
                continue
            lunch_start = None
            for k, start in enumerate(self.starts):
                if solver.boolean_value(self.b[(user_id, day, window_id, k)]):
                    lunch_start = start
            shifts.append(PlannedShift(user_id, window_id, day, lunch_start))
        shifts.sort(key=lambda s: (s.day, window_order[s.window_id], s.lunch_start or time(0), s.user_id))

        # The shortages are recounted from the shifts, not read from the model's variables: what the
        # page shows is exactly what these shifts leave uncovered.
        shortages = _gaps(self.week, shifts)
        if not shortages:
            return Plan(status=OPTIMAL if status == cp_model.OPTIMAL else FEASIBLE, shifts=shifts)
        proven = status == cp_model.OPTIMAL or solver.best_objective_bound >= self.shortage_weight
        # Shortages the solver has not proved unavoidable (it ran out of time) keep the status "feasible":
        # the plan is incomplete, but a better one may exist.
        return Plan(status=INFEASIBLE if proven else FEASIBLE, shifts=shifts, shortages=shortages)
