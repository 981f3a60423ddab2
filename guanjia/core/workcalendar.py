"""The work calendar (工作日历): the one module for deadline arithmetic in working days.

Whether a day is a working day is decided, in this order, by

1. an admin's entry for that day (CalendarDay), in any year;
2. the official schedule built into chinesecalendar, for the years it covers;
3. Monday to Friday.

A year is *covered* when the library knows it or an admin has declared its
official schedule complete (CalendarYear). Arithmetic that counts a day of an
uncovered year is provisional: DESIGN.md wants such deadlines marked, and
recomputed once an admin enters the year (see `calendar_changed`).

Each process keeps the calendar as a table built once per calendar version: the
ordinals of the working days of every year that the library, the entries or the
declarations touch, in one sorted array. Before and after that span every year
is Monday to Friday and is counted in closed form, so a call is a few bisects
and never a walk over days. The version is a random token in CalendarVersion;
a process reads it at most every RECHECK_SECONDS, and at once after a change
that it committed itself.
"""

from __future__ import annotations

import threading
import time
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db import connection
from django.dispatch import Signal

from guanjia.core.models import CalendarDay, CalendarVersion, CalendarYear

BEIJING = ZoneInfo("Asia/Shanghai")

# Reading the version token costs one primary-key query (measured: about 30 µs on SQLite, 0.4 ms on
# PostgreSQL over TCP), many times the arithmetic itself, so a process reads it at most this often:
# a change made by another process is seen within this many seconds. Tests roll back and flush the
# database under a warm cache, which no production process ever sees, so there the token is read
# on every call.
RECHECK_SECONDS = 0.0 if settings.TESTING else 2.0

calendar_changed = Signal()
"""Sent after a calendar change commits, with `years` (a frozenset of the years it touched).

Receivers (e.g. appeals recomputing provisional deadlines) run in the admin's
request: they should be quick, and hand long work to a task.
"""


@dataclass(frozen=True, slots=True)
class Deadline:
    """24:00 Beijing time of the Nth working day after an event's day.

    `due` is that instant as 00:00 of the following day, aware, in Asia/Shanghai: the
    deadline has passed when now >= due. `day` is the working day itself. `provisional`
    is true when a day counted lies in a year whose official schedule is not yet entered.
    """

    due: datetime
    day: date
    provisional: bool


@cache
def library_years() -> tuple[int, ...]:
    """The years whose official schedule chinesecalendar knows (2004–2026 in version 1.11)."""
    # The library's own test of a supported year: between its first and last holiday's years.
    return tuple(range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1))


def _library_workday(day: date) -> bool:
    # chinese_calendar.is_workday's rule over its public tables: is_workday itself rescans every
    # holiday to check the year on each call (40 µs), which would make a build take seconds.
    return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)


def _weekdays_through(ordinal: int) -> int:
    """How many Mondays to Fridays have an ordinal in [1, ordinal] (ordinal 1, 0001-01-01, is a Monday)."""
    return ordinal // 7 * 5 + min(ordinal % 7, 5)


def _nth_weekday(m: int) -> int:
    """The ordinal of the m-th Monday-to-Friday day counted from 0001-01-01 (m >= 1)."""
    if m < 1:
        raise OverflowError("date out of range")
    return (m - 1) // 5 * 7 + (m - 1) % 5 + 1


@dataclass(frozen=True, eq=False)
class _Table:
    """One calendar version, precomputed for the years from first_year to last_year."""

    token: str
    first_year: int
    last_year: int
    first: int  # ordinal of 1 January of first_year
    last: int  # ordinal of 31 December of last_year
    flags: bytes  # flags[o - first] is 1 when day o is a working day
    workdays: array  # ordinals of the working days in [first, last], ascending
    covered_before: array  # covered_before[i]: covered years in [first_year, first_year + i)
    covered: frozenset[int]
    declared: frozenset[int]

    def count(self, ordinal: int) -> int:
        """Working days up to and including `ordinal`, counted from the table's first day.

        Negative before the table, where Monday to Friday is counted backwards from it.
        """
        if ordinal < self.first:
            return _weekdays_through(ordinal) - _weekdays_through(self.first - 1)
        if ordinal > self.last:
            return len(self.workdays) + _weekdays_through(ordinal) - _weekdays_through(self.last)
        return bisect_right(self.workdays, ordinal)

    def kth(self, k: int) -> int:
        """The ordinal of the working day whose count() is k (the inverse of count)."""
        if k <= 0:
            return _nth_weekday(_weekdays_through(self.first - 1) + k)
        if k > len(self.workdays):
            return _nth_weekday(_weekdays_through(self.last) + k - len(self.workdays))
        return self.workdays[k - 1]

    def is_workday(self, ordinal: int) -> bool:
        if self.first <= ordinal <= self.last:
            return self.flags[ordinal - self.first] == 1
        return (ordinal - 1) % 7 < 5

    def all_covered(self, first_year: int, last_year: int) -> bool:
        """Whether every year in [first_year, last_year] is covered (nothing outside the table is)."""
        if first_year > last_year:
            return True
        if first_year < self.first_year or last_year > self.last_year:
            return False
        i, j = first_year - self.first_year, last_year - self.first_year + 1
        return self.covered_before[j] - self.covered_before[i] == j - i


def _build(token: str) -> _Table:
    # The caller read the token before this reads the rows: a change committed in between leaves
    # new rows under the old token, and the next check rebuilds. The other order could keep old
    # rows under the new token for good.
    entries = {
        day.toordinal(): is_workday
        for day, is_workday in CalendarDay.objects.order_by().values_list("date", "is_workday")
    }
    declared = frozenset(CalendarYear.objects.order_by().values_list("year", flat=True))
    library = frozenset(library_years())
    years = set(library | declared | {date.fromordinal(o).year for o in entries})
    if not years:
        years = {datetime.now(BEIJING).year}
    first_year, last_year = min(years), max(years)
    first, last = date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()
    flags = bytearray(last - first + 1)
    for ordinal in range(first, last + 1):  # once per version, never per call
        if ordinal in entries:
            working = entries[ordinal]
        else:
            day = date.fromordinal(ordinal)
            working = _library_workday(day) if day.year in library else day.weekday() < 5
        flags[ordinal - first] = working
    covered = library | declared
    covered_before = array("i", [0])
    for year in range(first_year, last_year + 1):
        covered_before.append(covered_before[-1] + (year in covered))
    return _Table(
        token=token,
        first_year=first_year,
        last_year=last_year,
        first=first,
        last=last,
        flags=bytes(flags),
        workdays=array("i", (o for o in range(first, last + 1) if flags[o - first])),
        covered_before=covered_before,
        covered=covered,
        declared=declared,
    )


class _Cache:
    """This process's table, and when it last compared the table's token with the database's."""

    def __init__(self) -> None:
        self.table: _Table | None = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()


_cache = _Cache()
_monotonic = time.monotonic  # a module attribute so that tests can move the clock


def _read_token() -> str:
    # A raw query: the ORM's own overhead is ten times the query's on SQLite.
    table = connection.ops.quote_name(CalendarVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else ""


def _table() -> _Table:
    table, now = _cache.table, _monotonic()
    if table is not None and now - _cache.checked_at < RECHECK_SECONDS:
        return table
    token = _read_token()
    if table is None or table.token != token:
        with _cache.lock:
            table = _cache.table
            if table is None or table.token != token:
                table = _build(token)
                _cache.table = table
    _cache.checked_at = now
    return table


def invalidate() -> None:
    """Make the next call compare this process's table with the database's version."""
    _cache.checked_at = float("-inf")


def after_change(sender: Any, years: Iterable[int]) -> None:
    """Called on commit by the services that change the calendar: refresh, then tell the receivers."""
    invalidate()
    calendar_changed.send(sender=sender, years=frozenset(years))


def is_workday(day: date) -> bool:
    """Whether `day` is a working day (an admin's entry, else the official calendar, else Monday–Friday)."""
    return _table().is_workday(day.toordinal())


def add_workdays(day: date, n: int) -> date:
    """The Nth working day after `day` (n >= 1); `day` itself never counts, working day or not."""
    if n < 1:
        raise ValueError("n must be at least 1")
    table = _table()
    return date.fromordinal(table.kth(table.count(day.toordinal()) + n))


def workdays_between(start: date, end: date) -> int:
    """The working days in the half-open range (start, end]: start excluded, end included; 0 when end <= start.

    So workdays_between(d, add_workdays(d, n)) == n, and a span of one ordinary
    Monday to the next Monday counts 5.
    """
    if end <= start:
        return 0
    table = _table()
    return table.count(end.toordinal()) - table.count(start.toordinal())


def is_provisional(after: date, through: date) -> bool:
    """Whether a day in (after, through] lies in a year the calendar does not cover."""
    if through <= after:
        return False
    return not _table().all_covered((after + timedelta(days=1)).year, through.year)


def deadline(moment: datetime, n: int) -> Deadline:
    """24:00 Beijing time on the Nth working day after the (Beijing) day of `moment`, an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError("deadline() needs an aware datetime")
    if n < 1:
        raise ValueError("n must be at least 1")
    start = moment.astimezone(BEIJING).date()
    table = _table()
    ordinal = table.kth(table.count(start.toordinal()) + n)
    day = date.fromordinal(ordinal)
    return Deadline(
        due=datetime.combine(date.fromordinal(ordinal + 1), clock_time(0), tzinfo=BEIJING),
        day=day,
        provisional=not table.all_covered((start + timedelta(days=1)).year, day.year),
    )


def coverage() -> list[int]:
    """The covered years, ascending: the library's and those an admin declared complete."""
    return sorted(_table().covered)


def is_covered(year: int) -> bool:
    """Whether `year`'s official schedule is known, so that its arithmetic is not provisional."""
    return year in _table().covered


def declared_years() -> list[int]:
    """The years an admin declared complete, ascending."""
    return sorted(_table().declared)


def upcoming_uncovered_years(today: date | None = None) -> list[int]:
    """This year and next year (in Beijing), those of them that are not covered."""
    year = (today or datetime.now(BEIJING).date()).year
    return [y for y in (year, year + 1) if not is_covered(y)]


def year_ranges(years: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive years as (first, last) runs: [2004, …, 2026, 2028] → [(2004, 2026), (2028, 2028)]."""
    runs: list[tuple[int, int]] = []
    for year in sorted(set(years)):
        if runs and runs[-1][1] == year - 1:
            runs[-1] = (runs[-1][0], year)
        else:
            runs.append((year, year))
    return runs


def format_years(years: Iterable[int], dash: str = "-", sep: str = ", ") -> str:
    """Years as compact runs: '2004-2026, 2028'."""
    return sep.join(f"{a}{dash}{b}" if a != b else str(a) for a, b in year_ranges(years))
