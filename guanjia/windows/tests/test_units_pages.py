"""The units' pages: the list of the units a user may see, a unit with its hours, windows and services,
and the keeper's forms, with the refusals shown next to the field they name; who may not (a leader's
write 403, another zone's unit 404)."""

from __future__ import annotations

from datetime import time

import pytest

from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.testing import make_user
from guanjia.windows import units
from guanjia.windows.models import AppointmentState, ServiceUnit, ServiceWindow, Staffing, WindowService
from guanjia.windows.tests.test_units import book, make_head, make_unit

pytestmark = pytest.mark.django_db

UNIT_FORM = {
    "name": "高新区税务服务厅",
    "address": "高新区创新路 8 号",
    "phone": "0512-12366",
    "opens_at": "09:00",
    "closes_at": "17:00",
    "no_lunch_break": "on",
    "lunch_from": "11:30",
    "lunch_to": "13:30",
    "lunch_minutes": "60",
    "slot_minutes": "30",
    "booking_days": "10",
    "notice": "",
    "is_published": "on",
}


@pytest.fixture
def head(cast):
    return make_head(cast)


@pytest.fixture
def unit(head):
    return make_unit(head)


@pytest.fixture
def window(unit, head):
    return units.add_window(unit, by=head, number="1", name="企业开办")


@pytest.fixture
def service(window, head):
    return units.add_service(
        window, by=head, name="企业设立登记", materials="设立登记申请书\n法定代表人身份证"
    )


@pytest.fixture
def unit_b(cast):
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    return make_unit(make_user("head_b", market_b, Role.DEPARTMENT_HEAD), name="经开区企业服务专区")


@pytest.fixture
def leader_b(cast):
    return make_user("leader_b", cast.zone_b, Role.LEADER)


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_the_units_a_user_may_see_with_their_counts(cast, login, unit, window, unit_b, head):
    Staffing.objects.create(unit=unit, user=cast.handler_a).windows.set([window])
    response = login(head).get("/windows/")
    assert response.status_code == 200
    rows = list(response.context["units"])
    assert [u.name for u in rows] == ["高新区企业服务专区"]
    assert (rows[0].window_count, rows[0].staff_count) == (1, 1)
    assert "新建服务单位" in response.content.decode()
    leader = login(cast.leader_a).get("/windows/")
    assert [u.name for u in leader.context["units"]] == ["高新区企业服务专区"]
    assert "新建服务单位" not in leader.content.decode()
    staff = login(cast.handler_a).get("/windows/")  # on the unit's staff
    assert [u.name for u in staff.context["units"]] == ["高新区企业服务专区"]


@pytest.mark.parametrize("who", ["ent_user_a1", "steward_a", "promoter_a", "outsider", "sysadmin"])
def test_the_management_pages_are_not_for_everyone(cast, login, unit, who):
    client = login(getattr(cast, who))
    assert client.get("/windows/").status_code == 403
    assert client.get(f"/windows/units/{unit.pk}/").status_code == 403


def test_a_handler_off_the_staff_does_not_read_the_units(cast, login, unit):
    assert login(cast.handler_a).get("/windows/").status_code == 403


# --- a unit -----------------------------------------------------------------------------------------


def test_a_unit_shows_its_hours_windows_services_and_materials(cast, login, unit, service, head):
    page = login(head).get(f"/windows/units/{unit.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "工作日 09:00–17:00，中午不间断服务（工作人员轮流就餐）" in text
    assert "1 号窗口 · 企业开办" in text and "企业设立登记" in text and "法定代表人身份证" in text
    assert f"/windows/units/{unit.pk}/edit/" in text and f"/windows/services/{service.pk}/remove/" in text
    assert f"/windows/units/{unit.pk}/rosters/" in text and f"/windows/units/{unit.pk}/bookings/" in text


def test_a_leader_reads_a_unit_without_the_keepers_forms(cast, login, unit, service):
    page = login(cast.leader_a).get(f"/windows/units/{unit.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "企业设立登记" in text
    assert f"/windows/units/{unit.pk}/edit/" not in text and "/remove/" not in text


def test_another_zones_unit_does_not_exist_for_a_zone_reader(cast, login, unit_b, leader_b):
    assert login(cast.leader_a).get(f"/windows/units/{unit_b.pk}/").status_code == 404
    assert login(leader_b).get(f"/windows/units/{unit_b.pk}/").status_code == 200


# --- the keeper's forms -----------------------------------------------------------------------------


def test_a_head_creates_a_unit_from_the_form(cast, login, head):
    response = login(head).post("/windows/units/new/", UNIT_FORM)
    unit = ServiceUnit.objects.get(name="高新区税务服务厅")
    assert response.status_code == 302 and response["Location"] == f"/windows/units/{unit.pk}/"
    assert unit.department == cast.market_a and unit.no_lunch_break and unit.phone == "0512-12366"


def test_the_form_shows_a_refusal_next_to_its_field_and_writes_nothing(login, head):
    form = {**UNIT_FORM, "lunch_from": "08:00"}
    response = login(head).post("/windows/units/new/", form)
    assert response.status_code == 200
    assert response.context["form"].errors["lunch_from"] == ["不能早于开始办公（09:00）"]
    assert "午休时段起：不能早于开始办公（09:00）" in response.content.decode()
    assert not ServiceUnit.objects.exists()


def test_a_stale_edit_form_is_refused(login, unit, head):
    units.update_unit(unit, by=head, version=1, notice="新的须知")
    response = login(head).post(f"/windows/units/{unit.pk}/edit/", {**UNIT_FORM, "version": "1"})
    assert response.status_code == 200
    assert "刚被他人修改" in response.content.decode()
    unit.refresh_from_db()
    assert unit.name == "高新区企业服务专区" and unit.notice == "新的须知"


def test_the_keeper_keeps_windows_and_services_from_the_pages(login, unit, window, service, head):
    client = login(head)
    new = {"number": "2", "name": "变更注销", "staff_needed": "1", "seats": "2", "is_active": "on"}
    assert client.post(f"/windows/units/{unit.pk}/windows/new/", new).status_code == 302
    assert ServiceWindow.objects.get(unit=unit, number="2").must_stay_open is False  # unticked
    edit = {**new, "number": "1", "name": "企业开办（含迁入）", "must_stay_open": "on", "version": "1"}
    assert client.post(f"/windows/windows/{window.pk}/edit/", edit).status_code == 302
    window.refresh_from_db()
    assert window.name == "企业开办（含迁入）" and window.version == 2
    duplicate = client.post(f"/windows/units/{unit.pk}/windows/new/", new)
    assert duplicate.context["form"].errors["number"] == ["本单位已有 2 号窗口"]
    added = {"name": "名称变更登记", "materials": "变更登记申请书", "bookable": "on", "position": "20"}
    assert client.post(f"/windows/windows/{window.pk}/services/new/", added).status_code == 302
    changed = {**added, "name": "企业设立登记", "materials": "申请书", "version": "1"}
    assert client.post(f"/windows/services/{service.pk}/edit/", changed).status_code == 302
    service.refresh_from_db()
    assert service.materials == "申请书" and WindowService.objects.get(name="名称变更登记").position == 20
    assert client.post(f"/windows/services/{service.pk}/remove/", {"version": "2"}).status_code == 302
    assert not WindowService.objects.filter(pk=service.pk).exists()


def test_a_service_with_bookings_waiting_stays_with_a_message(cast, login, window, service, head):
    book(window, service, cast.ent_a1, cast.ent_user_a1, state=AppointmentState.BOOKED, at=time(10, 0))
    response = login(head).post(f"/windows/services/{service.pk}/remove/", {"version": "1"}, follow=True)
    assert "还有 1 个待办理的预约，不能删除" in response.content.decode()
    assert WindowService.objects.filter(pk=service.pk).exists()


@pytest.mark.parametrize("who", ["leader_a", "supervisor_a", "dispatcher_a", "handler_a"])
def test_the_zones_readers_may_not_write(cast, login, unit, window, service, who):
    client = login(getattr(cast, who))
    assert client.get("/windows/units/new/").status_code == 403
    assert client.post("/windows/units/new/", UNIT_FORM).status_code == 403
    assert client.post(f"/windows/units/{unit.pk}/edit/", {**UNIT_FORM, "version": "1"}).status_code == 403
    assert client.post(f"/windows/units/{unit.pk}/windows/new/", {"number": "5"}).status_code == 403
    assert client.post(f"/windows/windows/{window.pk}/services/new/", {"name": "x"}).status_code == 403
    assert client.post(f"/windows/services/{service.pk}/remove/").status_code == 403
    assert ServiceUnit.objects.count() == 1 and WindowService.objects.filter(pk=service.pk).exists()


def test_another_departments_head_finds_no_unit_to_write(cast, login, unit, window, service):
    other = login(make_user("head_centre", cast.centre_a, Role.DEPARTMENT_HEAD))
    assert other.get("/windows/units/new/").status_code == 200  # it may create units of its own
    assert other.get(f"/windows/units/{unit.pk}/edit/").status_code == 404
    assert other.get(f"/windows/windows/{window.pk}/edit/").status_code == 404
    assert other.post(f"/windows/services/{service.pk}/remove/").status_code == 404
    assert WindowService.objects.filter(pk=service.pk).exists()


def test_the_remove_action_is_post_only(login, service, head):
    assert login(head).get(f"/windows/services/{service.pk}/remove/").status_code == 405
