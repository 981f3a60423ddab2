import random
import threading
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse

from guanjia.core import services, workcalendar
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, CalendarDay, CalendarVersion, CalendarYear
from guanjia.core.workcalendar import BEIJING, Deadline

D = date.fromisoformat
# The platform's "today" in these tests: late 2026, when the 2027 schedule is not entered yet.
NOVEMBER_2026 = datetime(2026, 11, 27, 10, 0, tzinfo=BEIJING)


def enter_2027(by=None) -> None:
    """An illustrative start of 2027 as an admin would enter it (not the official notice)."""
    services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦", by=by)
    services.set_calendar_day(D("2027-01-04"), is_workday=False, name="元旦", by=by)
    services.set_calendar_day(D("2027-01-09"), is_workday=True, name="调休上班", by=by)


# --- the official 2026 schedule (国办发明电〔2025〕7号) ---------------------------------


@pytest.mark.django_db
def test_spring_festival_2026():
    assert workcalendar.add_workdays(D("2026-02-13"), 5) == D("2026-02-27")
    # 调休: the Saturdays before and after the holiday are working days.
    assert workcalendar.is_workday(D("2026-02-14")) and workcalendar.is_workday(D("2026-02-28"))
    for offset in range(9):  # 15–23 February
        assert not workcalendar.is_workday(D("2026-02-15") + timedelta(days=offset))
    assert workcalendar.is_workday(D("2026-02-24"))


@pytest.mark.django_db
def test_national_day_2026():
    for offset in range(7):  # 1–7 October
        assert not workcalendar.is_workday(D("2026-10-01") + timedelta(days=offset))
    # The notice gives 1–7 October off and makes 20 September (Sunday) and 10 October (Saturday)
    # working days: 8 October, a Thursday, is an ordinary working day, so it is the first one after
    # 30 September — not 9 October.
    assert chinese_calendar.is_workday(D("2026-10-08"))
    assert workcalendar.is_workday(D("2026-10-08"))
    assert workcalendar.add_workdays(D("2026-09-30"), 1) == D("2026-10-08")
    assert workcalendar.add_workdays(D("2026-09-30"), 2) == D("2026-10-09")
    assert workcalendar.add_workdays(D("2026-09-30"), 3) == D("2026-10-10")
    assert workcalendar.is_workday(D("2026-09-20")) and workcalendar.is_workday(D("2026-10-10"))
    assert not workcalendar.is_workday(D("2026-10-11"))


@pytest.mark.django_db
def test_the_day_itself_never_counts():
    # Whether the start is a holiday (a Sunday) or a working day (a Friday).
    assert workcalendar.add_workdays(D("2026-03-01"), 1) == D("2026-03-02")
    assert workcalendar.add_workdays(D("2026-03-06"), 1) == D("2026-03-09")
    with pytest.raises(ValueError):
        workcalendar.add_workdays(D("2026-03-06"), 0)


@pytest.mark.django_db
def test_workdays_between():
    assert workcalendar.workdays_between(D("2026-02-13"), D("2026-02-27")) == 5
    # (start, end]: 14 February counts only as the start's next day, 24 February as the end.
    assert workcalendar.workdays_between(D("2026-02-13"), D("2026-02-14")) == 1
    assert workcalendar.workdays_between(D("2026-02-14"), D("2026-02-24")) == 1
    assert workcalendar.workdays_between(D("2026-03-02"), D("2026-03-09")) == 5
    assert workcalendar.workdays_between(D("2026-03-02"), D("2026-03-02")) == 0
    assert workcalendar.workdays_between(D("2026-03-09"), D("2026-03-02")) == 0
    assert workcalendar.workdays_between(D("2025-12-31"), D("2026-12-31")) == 248  # the whole of 2026


# --- deadlines -------------------------------------------------------------------------


@pytest.mark.django_db
def test_deadline_is_24_00_beijing_of_the_nth_working_day():
    due = workcalendar.deadline(datetime(2026, 2, 13, 15, 0, tzinfo=BEIJING), 5)
    assert due == Deadline(
        due=datetime(2026, 2, 28, 0, 0, tzinfo=BEIJING), day=D("2026-02-27"), provisional=False
    )
    assert due.due.isoformat() == "2026-02-28T00:00:00+08:00"
    # 20:00 UTC on the 13th is 04:00 on the 14th in Beijing: the event's day is the 14th.
    late = workcalendar.deadline(datetime(2026, 2, 13, 20, 0, tzinfo=UTC), 5)
    assert late.day == D("2026-02-28")
    with pytest.raises(ValueError):
        workcalendar.deadline(datetime(2026, 2, 13, 15, 0), 5)


@pytest.mark.django_db
def test_a_deadline_in_an_uncovered_year_is_provisional_until_the_year_is_declared():
    event = datetime(2026, 12, 28, 10, 0, tzinfo=BEIJING)
    before = workcalendar.deadline(event, 5)
    # Monday to Friday: 29, 30, 31 December, 1 and 4 January.
    assert before == Deadline(datetime(2027, 1, 5, tzinfo=BEIJING), D("2027-01-04"), provisional=True)
    assert not workcalendar.deadline(event, 3).provisional  # 31 December: all in 2026

    enter_2027()
    entered = workcalendar.deadline(event, 5)
    # The entered holidays count at once; the year is still provisional until declared.
    assert entered == Deadline(datetime(2027, 1, 7, tzinfo=BEIJING), D("2027-01-06"), provisional=True)

    services.declare_calendar_year(2027, note="示例", by=None)
    assert workcalendar.deadline(event, 5) == Deadline(
        datetime(2027, 1, 7, tzinfo=BEIJING), D("2027-01-06"), provisional=False
    )
    assert workcalendar.is_workday(D("2027-01-09"))  # an entered 调休 Saturday
    assert workcalendar.is_covered(2027) and not workcalendar.is_covered(2028)
    assert workcalendar.coverage() == list(range(2004, 2028))
    # 2028 is still Monday to Friday.
    assert workcalendar.deadline(datetime(2027, 12, 30, 9, 0, tzinfo=BEIJING), 2).provisional


@pytest.mark.django_db
def test_an_entered_day_overrides_the_built_in_calendar():
    services.set_calendar_day(D("2026-02-14"), is_workday=False, name="本地调整", by=None)
    assert not workcalendar.is_workday(D("2026-02-14"))
    assert workcalendar.add_workdays(D("2026-02-13"), 5) == D("2026-02-28")
    services.set_calendar_day(D("2026-02-16"), is_workday=True, name="本地调整", by=None)
    assert workcalendar.add_workdays(D("2026-02-13"), 1) == D("2026-02-16")
    services.remove_calendar_day(D("2026-02-16"), by=None)
    services.remove_calendar_day(D("2026-02-14"), by=None)
    assert workcalendar.add_workdays(D("2026-02-13"), 5) == D("2026-02-27")


def reference_is_workday(day: date, entries: dict[date, bool]) -> bool:
    if day in entries:
        return entries[day]
    if 2004 <= day.year <= 2026:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


@pytest.mark.django_db
def test_arithmetic_agrees_with_counting_day_by_day():
    """The bisect arithmetic against a plain walk over days, across the built-in span's edges."""
    enter_2027()
    services.set_calendar_day(D("2026-05-06"), is_workday=False, name="本地调整", by=None)
    services.declare_calendar_year(2027, note="", by=None)
    entries = dict(CalendarDay.objects.values_list("date", "is_workday"))
    covered = set(range(2004, 2028))
    rng = random.Random(20260213)
    for _ in range(400):
        start = D("2002-06-01") + timedelta(days=rng.randrange(365 * 28))
        n = rng.randint(1, 40)
        day, left = start, n
        while left:
            day += timedelta(days=1)
            left -= reference_is_workday(day, entries)
        assert workcalendar.add_workdays(start, n) == day, (start, n)
        assert workcalendar.workdays_between(start, day) == n
        assert workcalendar.is_workday(day)
        years = range((start + timedelta(days=1)).year, day.year + 1)
        assert workcalendar.is_provisional(start, day) == (not set(years) <= covered), (start, day)
        other = start + timedelta(days=rng.randrange(-60, 60))
        walked = sum(
            reference_is_workday(start + timedelta(days=i), entries)
            for i in range(1, (other - start).days + 1)
        )
        assert workcalendar.workdays_between(start, other) == walked, (start, other)
        assert workcalendar.is_workday(other) == reference_is_workday(other, entries), other


# --- services --------------------------------------------------------------------------


def test_only_the_system_admin_keeps_the_calendar(cast):
    for who in ("secadmin", "auditor", "dispatcher_a", "leader_a"):
        user = getattr(cast, who)
        with pytest.raises(NotAllowed, match="只有系统管理员"):
            services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦", by=user)
        with pytest.raises(NotAllowed):
            services.remove_calendar_day(D("2027-01-01"), by=user)
        with pytest.raises(NotAllowed):
            services.declare_calendar_year(2027, note="", by=user)
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


def test_calendar_changes_are_audited(cast):
    services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦", by=cast.sysadmin)
    services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦节", by=cast.sysadmin)
    services.set_calendar_day(D("2027-01-02"), is_workday=True, name="误录", by=cast.sysadmin)
    services.remove_calendar_day(D("2027-01-02"), by=cast.sysadmin)
    declared = services.declare_calendar_year(2027, note="国办通知", by=cast.sysadmin)
    actions = list(
        AuditRecord.objects.filter(actor=cast.sysadmin).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "calendar.day_create",
        "calendar.day_update",
        "calendar.day_create",
        "calendar.day_delete",
        "calendar.year_declare",
    ]
    update = AuditRecord.objects.get(action="calendar.day_update")
    assert update.detail["before"] == {"is_workday": False, "name": "元旦"}
    assert declared.declared_by == cast.sysadmin and declared.note == "国办通知"
    assert CalendarDay.objects.get().created_by == cast.sysadmin


@pytest.mark.django_db
def test_the_services_refuse_what_makes_no_sense():
    with pytest.raises(ServiceError, match="2004 年至 2100 年"):
        services.set_calendar_day(D("2101-01-01"), is_workday=False, name="", by=None)
    with pytest.raises(ServiceError, match="2004 年至 2100 年"):
        services.set_calendar_day(D("2003-10-01"), is_workday=False, name="", by=None)
    with pytest.raises(ServiceError, match="已内置"):
        services.declare_calendar_year(2026, note="", by=None)
    with pytest.raises(ServiceError, match="还没有录入任何节假日"):
        services.declare_calendar_year(2027, note="", by=None)
    with pytest.raises(ServiceError, match="没有录入过"):
        services.remove_calendar_day(D("2027-01-01"), by=None)
    enter_2027()
    services.declare_calendar_year(2027, note="", by=None)
    with pytest.raises(ServiceError, match="已于 .* 声明为完整"):
        services.declare_calendar_year(2027, note="", by=None)
    assert CalendarYear.objects.count() == 1


@pytest.mark.django_db
def test_calendar_changed_is_sent_after_commit(django_capture_on_commit_callbacks):
    heard = []

    def receiver(sender, years, **kwargs):
        heard.append((sender, years))

    workcalendar.calendar_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦", by=None)
            assert heard == []  # not before the commit
        with django_capture_on_commit_callbacks(execute=True):
            services.declare_calendar_year(2027, note="", by=None)
    finally:
        workcalendar.calendar_changed.disconnect(receiver)
    assert heard == [(CalendarDay, frozenset({2027})), (CalendarYear, frozenset({2027}))]


# --- the per-process cache -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_cache_notices_a_change_made_by_another_connection(monkeypatch, django_assert_num_queries):
    clock = [1000.0]
    monkeypatch.setattr(workcalendar, "RECHECK_SECONDS", 2.0)
    monkeypatch.setattr(workcalendar, "_monotonic", lambda: clock[0])
    workcalendar.invalidate()
    assert workcalendar.is_workday(D("2027-01-01"))  # a Friday, by the Monday–Friday fallback
    with django_assert_num_queries(0):
        assert workcalendar.is_workday(D("2027-01-01"))

    def another_process():
        try:
            CalendarDay.objects.create(date=D("2027-01-01"), is_workday=False, name="元旦")
            CalendarVersion.objects.update_or_create(id=1, defaults={"token": "changed-elsewhere"})
        finally:
            connections.close_all()

    thread = threading.Thread(target=another_process)
    thread.start()
    thread.join()

    clock[0] += 1.0  # within RECHECK_SECONDS this process still trusts its table
    assert workcalendar.is_workday(D("2027-01-01"))
    clock[0] += 1.5  # past it: one read of the token, which changed, and a rebuild
    with django_assert_num_queries(3):
        assert not workcalendar.is_workday(D("2027-01-01"))
    with django_assert_num_queries(0):
        assert not workcalendar.is_workday(D("2027-01-01"))


@pytest.mark.django_db
def test_a_change_committed_here_is_seen_at_once(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(workcalendar, "RECHECK_SECONDS", 3600.0)
    workcalendar.invalidate()
    assert workcalendar.is_workday(D("2027-01-01"))
    with django_capture_on_commit_callbacks(execute=True):
        services.set_calendar_day(D("2027-01-01"), is_workday=False, name="元旦", by=None)
    assert not workcalendar.is_workday(D("2027-01-01"))


# --- the management command ------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_command_add_workdays():
    assert run("add-workdays", "2026-02-13", "5") == ("2026-02-27\n", "")
    out, err = run("add-workdays", "2026-12-28", "5")
    assert out == "2027-01-04\n"  # the date alone, for scripts
    assert "provisional" in err and "2027" in err
    assert run("workdays-between", "2026-02-13", "2026-02-27") == ("5\n", "")
    assert run("is-workday", "2026-02-14")[0] == "yes\n"
    assert run("is-workday", "2026-02-15")[0] == "no\n"
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("add-workdays", "2026-02-30", "5")
    with pytest.raises(CommandError, match="正整数"):
        run("add-workdays", "2026-02-13", "0")


@pytest.mark.django_db
def test_command_coverage():
    with time_machine.travel(NOVEMBER_2026, tick=False):
        out, _err = run("coverage")
        lines = out.splitlines()
        assert lines[0] == "2004-2026"
        assert "未覆盖：2027（明年）" in out
        enter_2027()
        services.declare_calendar_year(2027, note="", by=None)
        out, _err = run("coverage")
        assert out.splitlines()[0] == "2004-2027"
        assert "管理员声明完整：2027" in out and "未覆盖" not in out


# --- the page --------------------------------------------------------------------------


def test_system_admin_keeps_the_calendar_on_its_page(cast, login):
    client = login(cast.sysadmin)
    url = reverse("core:calendar")
    with time_machine.travel(NOVEMBER_2026, tick=False):
        page = client.get(url).content.decode()
        assert "2004–2026" in page
        assert "2027 年的官方节假日安排尚未录入" in page
        assert f'href="{url}"' in page  # the navigation entry

        response = client.post(url, {"day": "2027-01-01", "is_workday": "0", "name": "元旦"})
        assert response.status_code == 302 and response["Location"].endswith("?year=2027")
        entry = CalendarDay.objects.get(date=D("2027-01-01"))
        assert not entry.is_workday and entry.name == "元旦" and entry.created_by == cast.sysadmin
        assert AuditRecord.objects.filter(action="calendar.day_create", actor=cast.sysadmin).exists()
        page = client.get(url, {"year": 2027}).content.decode()
        assert "元旦" in page and "未覆盖" in page

        response = client.post(reverse("core:calendar-year-declare"), {"year": "2027", "note": "国办通知"})
        assert response.status_code == 302
        assert CalendarYear.objects.filter(year=2027, declared_by=cast.sysadmin).exists()
        assert AuditRecord.objects.filter(action="calendar.year_declare", actor=cast.sysadmin).exists()
        page = client.get(url).content.decode()
        assert "尚未录入" not in page and "2004–2027" in page

        client.post(reverse("core:calendar-day-remove"), {"date": "2027-01-01"})
        assert not CalendarDay.objects.filter(date=D("2027-01-01")).exists()
        assert AuditRecord.objects.filter(action="calendar.day_delete").exists()


def test_the_page_shows_refusals_and_checks(cast, login):
    client = login(cast.sysadmin)
    url = reverse("core:calendar")
    page = client.post(url, {"day": "2101-01-01", "is_workday": "1", "name": ""}).content.decode()
    assert "2004 年至 2100 年" in page
    response = client.post(reverse("core:calendar-year-declare"), {"year": "2026"}, follow=True)
    assert "已内置" in response.content.decode()
    page = client.get(url, {"start": "2026-02-13", "n": "5"}).content.decode()
    assert "<strong>2026-02-27</strong>" in page and "alert-success mt-3" in page
    page = client.get(url, {"start": "2026-12-28", "n": "5"}).content.decode()
    assert "<strong>2027-01-04</strong>" in page and "alert-warning mt-3" in page


def test_the_page_keeps_its_queries_few(cast, login, django_assert_max_num_queries):
    for day in range(1, 21):
        services.set_calendar_day(date(2027, 2, day), is_workday=False, name="春节", by=cast.sysadmin)
    client = login(cast.sysadmin)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("core:calendar"), {"year": 2027}).content.decode()
    assert page.count("春节") >= 20


def test_only_the_system_admin_sees_the_calendar_page(cast, login):
    for who in ("secadmin", "auditor", "dispatcher_a", "leader_a"):
        client = login(getattr(cast, who))
        assert client.get(reverse("core:calendar")).status_code == 403, who
        assert client.post(reverse("core:calendar-day-remove"), {"date": "2026-02-14"}).status_code == 403
        assert client.post(reverse("core:calendar-year-declare"), {"year": "2027"}).status_code == 403
        assert "工作日历" not in client.get(reverse("home")).content.decode(), who


def test_system_admin_home_warns_about_an_uncovered_year(cast, login):
    import time_machine

    with time_machine.travel("2026-12-01 10:00 +0800"):
        page = login(cast.sysadmin).get("/").content.decode()
    assert "2027 年的官方节假日安排尚未录入" in page
    with time_machine.travel("2026-12-01 10:00 +0800"):
        assert "官方节假日安排尚未录入" not in login(cast.dispatcher_a).get("/").content.decode()
