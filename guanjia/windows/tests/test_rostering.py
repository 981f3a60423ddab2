"""The roster solver: a feasible week covered every minute with lunch taken in turns inside the lunch
window and nobody beyond their limits; a fair load; an impossible week explained (which window, which
slots, short by how many); units that close for lunch; holidays and 调休 Saturdays; the coverage check of
an actual roster; the same week giving the same plan."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest

from guanjia.core import workcalendar
from guanjia.core.models import OrgUnit
from guanjia.testing import make_user
from guanjia.windows import rostering
from guanjia.windows.models import Roster, ServiceUnit, ServiceWindow, Shift, Staffing
from guanjia.windows.rostering import PlannedShift, Shortage

pytestmark = pytest.mark.django_db

WEEK = date(2026, 11, 23)  # Monday; 23–27 November 2026 are all working days
WEEKDAYS = ",1,2,3,4,5,"


def make_unit(**fields) -> ServiceUnit:
    zone = OrgUnit.objects.create(name="高新区", code="zone-r", kind=OrgUnit.Kind.ZONE)
    department = OrgUnit.objects.create(
        name="高新区市场监管局", code="market-r", kind=OrgUnit.Kind.DEPARTMENT, parent=zone
    )
    return ServiceUnit.objects.create(
        zone=zone, department=department, name="政务服务中心市场监管窗口", address="科创路1号", **fields
    )


def add_window(unit: ServiceUnit, number: str, name: str, **fields) -> ServiceWindow:
    return ServiceWindow.objects.create(unit=unit, number=number, name=name, **fields)


def add_staff(
    unit: ServiceUnit,
    username: str,
    windows: list[ServiceWindow],
    *,
    weekdays: str = WEEKDAYS,
    max_shifts: int = 5,
    is_active: bool = True,
) -> Staffing:
    user = make_user(username, unit.department)
    staffing = Staffing.objects.create(
        unit=unit, user=user, weekdays=weekdays, max_shifts=max_shifts, is_active=is_active
    )
    staffing.windows.set(windows)
    return staffing


def minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def uncovered_minutes(unit: ServiceUnit, window: ServiceWindow, day: date, shifts) -> list[int]:
    """An independent recount: the minutes of the day at which fewer than staff_needed people are at
    `window`, a person on lunch from lunch_start for lunch_minutes not counting."""
    missing = []
    for minute in range(minute_of(unit.opens_at), minute_of(unit.closes_at)):
        at_work = 0
        for shift in shifts:
            if shift.window_id != window.pk or shift.day != day:
                continue
            if shift.lunch_start is not None:
                lunch = minute_of(shift.lunch_start)
                if lunch <= minute < lunch + unit.lunch_minutes:
                    continue
            at_work += 1
        if at_work < window.staff_needed:
            missing.append(minute)
    return missing


@pytest.fixture
def centre():
    """A unit open 9:00–17:00 through lunch (breaks of 60 minutes between 11:30 and 13:30), three windows
    that must stay open with one person each, and eight staff who may serve all three, Monday to Friday."""
    unit = make_unit()
    windows = [
        add_window(unit, "1", "企业开办"),
        add_window(unit, "2", "变更登记"),
        add_window(unit, "3", "许可审批"),
    ]
    staff = [add_staff(unit, f"clerk{n}", windows) for n in range(8)]
    return unit, windows, staff


def test_lunch_starts_are_the_slot_starts_whose_whole_break_fits_the_lunch_window():
    unit = make_unit()
    assert rostering.lunch_slots(unit) == 2
    assert rostering.lunch_starts(unit) == [time(11, 30), time(12, 0), time(12, 30)]

    unit.lunch_minutes, unit.slot_minutes = 45, 15
    assert rostering.lunch_slots(unit) == 3
    assert rostering.lunch_starts(unit)[0] == time(11, 30)
    assert rostering.lunch_starts(unit)[-1] == time(12, 45)

    unit.lunch_minutes, unit.slot_minutes = 45, 30  # a 45-minute break takes two 30-minute slots
    assert rostering.lunch_slots(unit) == 2
    assert rostering.lunch_starts(unit) == [time(11, 30), time(12, 0), time(12, 30)]

    unit.no_lunch_break = False
    assert rostering.lunch_starts(unit) == []


def test_a_feasible_week_is_covered_every_minute_within_everyones_limits(centre):
    unit, windows, staff = centre
    plan = rostering.generate(unit, WEEK)

    assert plan.status == "optimal"
    assert plan.complete
    assert plan.shortages == []
    assert rostering.gaps(unit, WEEK, plan.shifts) == []

    days = [WEEK + timedelta(days=n) for n in range(5)]
    for day in days:
        for window in windows:
            assert uncovered_minutes(unit, window, day, plan.shifts) == [], (day, window)

    qualified = {s.user_id: {w.pk for w in s.windows.all()} for s in staff}
    for shift in plan.shifts:
        assert shift.day in days
        assert shift.window_id in qualified[shift.user_id]
        assert shift.lunch_start is not None
        lunch = datetime.combine(shift.day, shift.lunch_start)
        assert lunch.time() >= unit.lunch_from
        assert (lunch + timedelta(minutes=unit.lunch_minutes)).time() <= unit.lunch_to
    per_person = Counter(shift.user_id for shift in plan.shifts)
    assert max(per_person.values()) <= 5
    assert len({(shift.user_id, shift.day) for shift in plan.shifts}) == len(plan.shifts)
    # Lunch in turns needs two people a window a day, and nobody more is rostered.
    assert len(plan.shifts) == 2 * len(windows) * len(days)


def test_staff_with_the_same_availability_differ_by_at_most_one_shift(centre):
    unit, windows, staff = centre
    plan = rostering.generate(unit, WEEK)

    per_person = Counter(shift.user_id for shift in plan.shifts)
    counts = [per_person[s.user_id] for s in staff]
    assert sum(counts) == 30  # 30 shifts among 8 people: the load cannot be even
    assert max(counts) - min(counts) == 1


def test_interchangeable_staff_stay_within_one_shift_beside_others_who_differ():
    unit = make_unit()
    first = add_window(unit, "1", "企业开办")
    second = add_window(unit, "2", "变更登记")
    generalists = [add_staff(unit, f"general{n}", [first, second]) for n in range(5)]
    specialists = [add_staff(unit, f"special{n}", [second], max_shifts=3) for n in range(2)]
    plan = rostering.generate(unit, WEEK)

    assert plan.complete
    per_person = Counter(shift.user_id for shift in plan.shifts)
    for group in (generalists, specialists):
        counts = [per_person[s.user_id] for s in group]
        assert max(counts) - min(counts) <= 1, counts
    for s in specialists:
        assert per_person[s.user_id] <= 3
        assert {shift.window_id for shift in plan.shifts if shift.user_id == s.user_id} <= {second.pk}


def test_nobody_is_rostered_who_may_not_be(centre):
    unit, windows, staff = centre
    idle = add_window(unit, "4", "综合咨询", must_stay_open=False)
    closed = add_window(unit, "5", "档案查询", is_active=False)
    retired = add_staff(unit, "retired", [*windows, idle, closed], is_active=False)
    zero = add_staff(unit, "zero", windows, max_shifts=0)
    for s in staff:
        s.windows.add(idle, closed)
    plan = rostering.generate(unit, WEEK)

    assert plan.complete
    assert {shift.window_id for shift in plan.shifts} == {w.pk for w in windows}
    assert retired.user_id not in {shift.user_id for shift in plan.shifts}
    assert zero.user_id not in {shift.user_id for shift in plan.shifts}


def test_a_window_one_person_can_serve_is_short_during_that_persons_lunch():
    unit = make_unit(lunch_from=time(12, 0), lunch_to=time(13, 0))
    window = add_window(unit, "2", "变更登记")
    only = add_staff(unit, "solo", [window])
    plan = rostering.generate(unit, WEEK)

    assert plan.status == "infeasible"
    assert not plan.complete
    # The partial plan still rosters the one person every day, so the manager adjusts from there.
    assert [(s.user_id, s.day) for s in plan.shifts] == [
        (only.user_id, WEEK + timedelta(days=n)) for n in range(5)
    ]
    # A 60-minute break inside 12:00–13:00 can only start at 12:00: the window is short exactly then.
    assert plan.shortages == [
        Shortage(window.pk, "2 变更登记", WEEK + timedelta(days=n), time(12, 0), time(13, 0), 1, 1)
        for n in range(5)
    ]
    assert (
        plan.shortages[2].describe()
        == "11月25日（周三）12:00–13:00 2号窗口 变更登记 缺 1 人（当天可排 1 人）"
    )


def test_a_day_nobody_can_serve_a_window_is_short_all_day_and_named(centre):
    unit, windows, staff = centre
    tax = add_window(unit, "7", "税务登记")
    for n in range(3):
        add_staff(unit, f"tax{n}", [tax], weekdays=",1,2,4,5,")
    plan = rostering.generate(unit, WEEK)

    assert plan.status == "infeasible"
    wednesday = date(2026, 11, 25)
    assert plan.shortages == [Shortage(tax.pk, "7 税务登记", wednesday, time(9, 0), time(17, 0), 1, 0)]
    text = plan.shortages[0].describe()
    assert "7号窗口" in text
    assert "11月25日（周三）" in text
    assert "09:00–17:00" in text
    assert "缺 1 人" in text
    # The other windows and days are still covered.
    for day in [WEEK + timedelta(days=n) for n in range(5)]:
        for window in windows:
            assert uncovered_minutes(unit, window, day, plan.shifts) == []


def test_a_window_without_staff_is_short_every_day_and_a_unit_without_windows_needs_nobody():
    unit = make_unit()
    add_staff(unit, "idle", [])
    empty = rostering.generate(unit, WEEK)
    assert empty.status == "optimal"
    assert empty.complete
    assert empty.shifts == []

    window = add_window(unit, "9", "社保登记")
    plan = rostering.generate(unit, WEEK)
    assert plan.status == "infeasible"
    assert plan.shifts == []
    assert [(s.window_id, s.day, s.start, s.end, s.short, s.available) for s in plan.shortages] == [
        (window.pk, WEEK + timedelta(days=n), time(9, 0), time(17, 0), 1, 0) for n in range(5)
    ]


def test_a_plan_the_solver_gave_up_on_is_not_complete():
    assert not rostering.Plan(status="unknown", shifts=[], shortages=[]).complete
    assert rostering.Plan(status="feasible", shifts=[], shortages=[]).complete


def test_a_shortage_round_trips_through_json():
    shortage = Shortage(4, "2 变更登记", date(2026, 11, 25), time(12, 0), time(13, 0), 1, 1)
    data = shortage.as_json()
    assert data == {
        "window": 4,
        "window_label": "2 变更登记",
        "date": "2026-11-25",
        "start": "12:00",
        "end": "13:00",
        "short": 1,
        "available": 1,
    }
    assert Shortage.from_json(data) == shortage


def test_a_unit_closing_for_lunch_needs_no_cover_and_no_breaks_in_turns():
    unit = make_unit(no_lunch_break=False)
    windows = [add_window(unit, "1", "企业开办"), add_window(unit, "2", "变更登记")]
    for n in range(2):
        add_staff(unit, f"clerk{n}", windows)
    plan = rostering.generate(unit, WEEK)

    assert plan.status == "optimal"
    assert plan.complete
    assert len(plan.shifts) == 10  # one person a window a day is enough
    assert {shift.lunch_start for shift in plan.shifts} == {None}
    # Without that one person the window is short before and after the lunch closure, not during it.
    removed = plan.shifts[0]
    runs = [
        (g.start, g.end)
        for g in rostering.gaps(unit, WEEK, plan.shifts[1:])
        if (g.window_id, g.day) == (removed.window_id, removed.day)
    ]
    assert runs == [(time(9, 0), time(11, 30)), (time(13, 30), time(17, 0))]


def test_no_shift_on_a_holiday_and_shifts_on_a_working_saturday():
    assert [workcalendar.is_workday(date(2026, 10, d)) for d in range(5, 11)] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]
    unit = make_unit()
    window = add_window(unit, "1", "企业开办")
    for n in range(3):
        add_staff(unit, f"clerk{n}", [window], weekdays=",1,2,3,4,5,6,")

    # National Day: the week of 28 September is open Monday to Wednesday only.
    national_day = date(2026, 9, 28)
    assert rostering.week_days(national_day) == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30)]
    plan = rostering.generate(unit, national_day)
    assert plan.complete
    assert {shift.day for shift in plan.shifts} == set(rostering.week_days(national_day))

    # The week after: 5–7 October are holidays, Saturday 10 October is a 调休 working day.
    after = date(2026, 10, 5)
    plan = rostering.generate(unit, after)
    assert plan.complete
    assert {shift.day for shift in plan.shifts} == {date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)}


def test_gaps_finds_what_removing_a_shift_leaves_uncovered(centre):
    unit, windows, staff = centre
    monday = WEEK
    first, second = staff[0].user_id, staff[1].user_id
    shifts = [
        Shift(user_id=first, window_id=windows[0].pk, date=monday, lunch_start=time(11, 30)),
        Shift(user_id=second, window_id=windows[0].pk, date=monday, lunch_start=time(12, 30)),
    ]
    monday_gaps = [g for g in rostering.gaps(unit, WEEK, shifts) if g.day == monday]
    assert [g.window_id for g in monday_gaps] == [windows[1].pk, windows[2].pk]

    alone = [g for g in rostering.gaps(unit, WEEK, shifts[:1]) if g.day == monday]
    assert alone[0] == Shortage(windows[0].pk, "1 企业开办", monday, time(11, 30), time(12, 30), 1, 8)

    # Two needed at the window: with both there it is one short during each lunch, two short never.
    ServiceWindow.objects.filter(pk=windows[0].pk).update(staff_needed=2)
    runs = [g for g in rostering.gaps(unit, WEEK, shifts) if g.window_id == windows[0].pk and g.day == monday]
    assert [(g.start, g.end, g.short) for g in runs] == [(time(11, 30), time(13, 30), 1)]

    # Stored shifts of a roster, read from the database, are checked the same way.
    roster = Roster.objects.create(unit=unit, week_start=WEEK)
    for shift in shifts:
        shift.roster = roster
        shift.save()
    stored = [g for g in rostering.gaps(unit, WEEK, roster.shifts.all()) if g.window_id == windows[0].pk]
    assert stored[0] == runs[0]


def test_gaps_counts_a_break_off_the_slot_grid_against_every_slot_it_touches(centre):
    unit, windows, staff = centre
    shifts = [
        PlannedShift(staff[0].user_id, windows[0].pk, WEEK, time(11, 45)),
        PlannedShift(staff[1].user_id, windows[0].pk, WEEK, time(11, 45)),
    ]
    runs = [g for g in rostering.gaps(unit, WEEK, shifts) if g.window_id == windows[0].pk and g.day == WEEK]
    assert [(g.start, g.end, g.short) for g in runs] == [(time(11, 30), time(13, 0), 1)]


def test_the_same_week_gives_the_same_plan(centre):
    unit, _windows, _staff = centre
    assert rostering.generate(unit, WEEK).shifts == rostering.generate(unit, WEEK).shifts


def test_a_large_unit_solves_within_seconds():
    unit = make_unit()
    windows = [add_window(unit, str(n), f"窗口{n}") for n in range(1, 11)]
    for n in range(40):
        # Each person may serve four neighbouring windows; some are off one weekday.
        serves = [windows[(n + k) % 10] for k in range(4)]
        days = WEEKDAYS if n % 4 else ",1,2,3,5,"
        add_staff(unit, f"clerk{n:02d}", serves, weekdays=days)
    started = datetime.now()
    plan = rostering.generate(unit, WEEK, time_limit=20)
    elapsed = (datetime.now() - started).total_seconds()

    assert plan.complete, [s.describe() for s in plan.shortages]
    assert plan.status in ("optimal", "feasible")
    assert elapsed < 20
    for day in [WEEK + timedelta(days=n) for n in range(5)]:
        for window in windows:
            assert uncovered_minutes(unit, window, day, plan.shifts) == []
