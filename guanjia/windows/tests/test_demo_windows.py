"""The windows part of `guanjia demo-data`: the units the issue names with their windows and services,
the staff with their rosters (this week's published), bookings of every kind that keep the booking
rules, and what the browser and fuzz tests rely on (gj_window1 logs in and is rostered, gj_enterprise's
enterprise has its noon booking, the portal shows the units)."""

from __future__ import annotations

from datetime import time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from guanjia.core.models import AuditRecord, User
from guanjia.core.roles import Role
from guanjia.enterprises.demo import DEMO_LOGINS, DEMO_PASSWORD
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.windows import hours, rosters
from guanjia.windows.access import may_keep, today
from guanjia.windows.demo import CENTRE_NAME, JK_NAME, TAX_NAME
from guanjia.windows.models import (
    HOLDING_STATES,
    Appointment,
    AppointmentKind,
    AppointmentState,
    Roster,
    ServiceUnit,
    Shift,
    Staffing,
)

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def centre(demo_area, db) -> ServiceUnit:
    return ServiceUnit.objects.get(name=CENTRE_NAME)


def test_the_units_of_the_issue_with_their_keepers_windows_and_services(centre):
    head = User.objects.get(username="gj_dept_head")
    assert centre.department.name == "高新区市场监督管理局" and may_keep(head, centre)
    assert centre.no_lunch_break and centre.is_published
    windows = {w.number: w for w in centre.windows.prefetch_related("services")}
    assert [(n, w.name, w.must_stay_open) for n, w in sorted(windows.items())] == [
        ("1", "企业开办", True),
        ("2", "变更注销", True),
        ("3", "许可办理", True),
        ("4", "综合咨询", False),
    ]
    assert all(w.services.exists() for w in windows.values())
    assert all(s.materials for s in windows["1"].services.all())
    tax = ServiceUnit.objects.get(name=TAX_NAME)
    assert may_keep(User.objects.get(username="gj_head_tax"), tax) and not tax.no_lunch_break
    assert sorted(tax.windows.values_list("name", flat=True)) == ["发票办理", "申报咨询"]
    jk = ServiceUnit.objects.get(name=JK_NAME)
    assert jk.zone.name.endswith("经开区") and jk.department.name == "经开区市场监督管理局"


def test_the_staff_are_handlers_of_the_units_departments_with_varied_windows_and_days(centre):
    staff = Staffing.objects.filter(unit=centre).select_related("user").prefetch_related("windows")
    names = sorted(s.user.username for s in staff)
    assert names == ["gj_handler", *(f"gj_window{n}" for n in range(1, 7))]
    for staffing in staff:
        assert staffing.user.has_role(Role.HANDLER) and staffing.user.unit_id == centre.department_id
    assert len({tuple(sorted(w.number for w in s.windows.all())) for s in staff}) >= 5
    assert len({s.weekdays for s in staff}) >= 3
    tax_staff = Staffing.objects.filter(unit__name=TAX_NAME).values_list("user__username", flat=True)
    assert sorted(tax_staff) == ["gj_handler_tax", "gj_window7", "gj_window8"]


def test_this_weeks_roster_is_published_and_next_weeks_a_draft(centre):
    monday = rosters.week_start_of(today())
    this_week = Roster.objects.get(unit=centre, week_start=monday)
    next_week = Roster.objects.get(unit=centre, week_start=monday + timedelta(days=7))
    assert this_week.status == Roster.Status.PUBLISHED and next_week.status == Roster.Status.DRAFT
    open_days = hours.open_days(monday, 7)
    shifts = Shift.objects.filter(roster=this_week)
    assert {s.date for s in shifts} == set(open_days)
    # The staff are enough: every window that must stay open is covered, lunch included.
    assert this_week.shortages == []
    assert Roster.objects.filter(unit__name=TAX_NAME).count() == 2


def test_the_bookings_keep_the_rules(centre):
    day = today()
    ahead = Appointment.objects.filter(unit__department__parent=centre.zone, date__gt=day)
    assert ahead.count() >= 12
    assert all(a.state in HOLDING_STATES for a in ahead)
    for booking in ahead.filter(kind=AppointmentKind.BOOKED):
        assert hours.in_hours(booking.unit, booking.date, booking.starts_at), booking
    extended = Appointment.objects.get(kind=AppointmentKind.EXTENDED)
    assert extended.state == AppointmentState.REQUESTED and extended.starts_at >= centre.closes_at
    assert ahead.filter(on_behalf=True).count() >= 10
    past = Appointment.objects.filter(unit=centre, date__lt=day)
    assert {a.state for a in past} <= {AppointmentState.SERVED, AppointmentState.CANCELLED}
    assert past.filter(state=AppointmentState.SERVED).exists()
    assert AuditRecord.objects.filter(action="windows.demo_load").count() == 1


def test_the_demo_enterprise_has_its_noon_booking_at_window_one(centre):
    user = User.objects.get(username="gj_enterprise")
    enterprise = EnterpriseMembership.objects.get(user=user).enterprise
    noon = Appointment.objects.get(enterprise=enterprise, kind=AppointmentKind.BOOKED, starts_at=time(12, 0))
    assert noon.window.number == "1" and noon.unit == centre and noon.state == AppointmentState.BOOKED
    assert not noon.on_behalf


def test_gj_window1_logs_in_is_rostered_and_listed_among_the_demo_logins(centre):
    assert any(login.username == "gj_window1" for login in DEMO_LOGINS)
    client = Client()
    assert client.login(username="gj_window1", password=DEMO_PASSWORD)
    assert client.get(f"/windows/units/{centre.pk}/").status_code == 200
    monday = rosters.week_start_of(today())
    assert Shift.objects.filter(user__username="gj_window1", date__gte=monday).exists()


def test_the_portal_shows_the_zones_units_to_the_demo_enterprise_user(centre):
    client = Client()
    assert client.login(username="gj_enterprise", password=DEMO_PASSWORD)
    response = client.get("/portal/service-hours/")
    assert response.status_code == 200
    shown = [row["unit"].name for row in response.context["rows"]]
    assert CENTRE_NAME in shown and TAX_NAME in shown and JK_NAME not in shown
    assert "中午不间断服务（工作人员轮流就餐）" in response.content.decode()
