"""A unit's hours: which days it is open (the work calendar's working days, 调休 Saturdays included),
and the slots of a day (slot_minutes each, from opens_at to closes_at; a unit that closes for lunch
has no slot in its lunch window). Rosters, appointments and the portal all read the hours from here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from guanjia.core import workcalendar
from guanjia.windows.models import ServiceUnit


def minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def clock(total_minutes: int) -> time:
    return time(total_minutes // 60, total_minutes % 60)


def is_open_on(day: date) -> bool:
    """Units serve on working days of the work calendar (a year it lacks: Monday to Friday)."""
    return workcalendar.is_workday(day)


def open_days(start: date, count: int) -> list[date]:
    """The days among `count` calendar days from `start` on which units are open."""
    return [start + timedelta(days=n) for n in range(count) if is_open_on(start + timedelta(days=n))]


def closed_for_lunch(unit: ServiceUnit, slot_start: time) -> bool:
    """A unit without the no-lunch-break rule is closed for any slot overlapping its lunch window."""
    if unit.no_lunch_break:
        return False
    start = minutes(slot_start)
    end = start + unit.slot_minutes
    return start < minutes(unit.lunch_to) and end > minutes(unit.lunch_from)


def day_slots(unit: ServiceUnit) -> list[time]:
    """Every slot start of an open day, the lunch window included (what a roster must cover when the
    unit stays open at noon)."""
    first, last = minutes(unit.opens_at), minutes(unit.closes_at)
    return [clock(start) for start in range(first, last - unit.slot_minutes + 1, unit.slot_minutes)]


def service_slots(unit: ServiceUnit) -> list[time]:
    """The slots at which the unit serves: every slot of the day, less the lunch closure if it has one."""
    return [start for start in day_slots(unit) if not closed_for_lunch(unit, start)]


def slot_end(unit: ServiceUnit, start: time) -> time:
    return clock(minutes(start) + unit.slot_minutes)


def in_hours(unit: ServiceUnit, day: date, start: time) -> bool:
    """Whether `start` on `day` is a slot at which the unit serves."""
    return is_open_on(day) and start in service_slots(unit)


def starts_at(day: date, start: time) -> datetime:
    return datetime.combine(day, start)
