"""The units' API: scoped reads, who may write (a leader 403, another department's head 404 or 400), the
rules' messages naming their field, version conflicts, the removal of services, and the published hours."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.testing import make_user
from guanjia.windows import units
from guanjia.windows.models import AppointmentState, ServiceUnit, ServiceWindow, WindowService
from guanjia.windows.tests.test_units import book, make_head, make_unit

pytestmark = pytest.mark.django_db

UNITS = "/api/service-units/"
WINDOWS = "/api/service-windows/"
SERVICES = "/api/window-services/"
HOURS = "/api/service-hours/"


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def head(cast):
    return make_head(cast)


@pytest.fixture
def other_head(cast):
    return make_user("head_centre", cast.centre_a, Role.DEPARTMENT_HEAD)


@pytest.fixture
def unit(head):
    return make_unit(head)


@pytest.fixture
def window(unit, head):
    return units.add_window(unit, by=head, number="1", name="企业开办")


@pytest.fixture
def service(window, head):
    return units.add_service(window, by=head, name="企业设立登记", materials="申请书")


@pytest.fixture
def unit_b(cast):
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    return make_unit(make_user("head_b", market_b, Role.DEPARTMENT_HEAD), name="经开区企业服务专区")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_reads_are_scoped_to_the_callers_units(cast, unit, window, service, unit_b):
    assert ids(api(cast.leader_a).get(UNITS)) == [unit.pk]
    assert ids(api(cast.leader_city).get(UNITS)) == [unit.pk, unit_b.pk]
    detail = api(cast.supervisor_a).get(f"{UNITS}{unit.pk}/").json()
    assert detail["hours"] == "工作日 09:00–17:00，中午不间断服务（工作人员轮流就餐）"
    assert detail["opens_at"] == "09:00" and detail["windows"][0]["services"][0]["name"] == "企业设立登记"
    assert api(cast.leader_a).get(f"{UNITS}{unit_b.pk}/").status_code == 404
    assert ids(api(cast.dispatcher_a).get(WINDOWS, {"unit": unit.pk})) == [window.pk]
    assert ids(api(cast.dispatcher_a).get(SERVICES, {"window": window.pk})) == [service.pk]
    assert api(cast.dispatcher_a).get(WINDOWS, {"unit": "1.5"}).status_code == 400


@pytest.mark.parametrize("who", ["ent_user_a1", "steward_a", "handler_a", "promoter_a", "sysadmin"])
def test_the_management_api_is_not_for_everyone(cast, unit, who):
    assert api(getattr(cast, who)).get(UNITS).status_code == 403


def test_a_head_creates_a_unit_and_its_rules_name_the_field(cast, head):
    created = api(head).post(
        UNITS, {"name": "高新区税务服务厅", "address": "创新路 8 号", "no_lunch_break": False}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["department"] == cast.market_a.pk and body["zone"] == cast.zone_a.pk
    assert body["hours"] == "工作日 09:00–17:00，午休 11:30–13:30 暂停服务"
    refused = api(head).post(
        UNITS, {"name": "早班窗口", "address": "创新路 9 号", "lunch_from": "08:00"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"lunch_from": ["午休时段起：不能早于开始办公（09:00）"]}
    duplicate = api(head).post(UNITS, {"name": "高新区税务服务厅", "address": "x"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    assert ServiceUnit.objects.count() == 1


@pytest.mark.parametrize("who", ["leader_a", "supervisor_a", "dispatcher_a", "handler_a"])
def test_who_may_not_write_gets_403(cast, unit, window, service, who):
    client = api(getattr(cast, who))
    assert client.post(UNITS, {"name": "x", "address": "y"}, format="json").status_code == 403
    assert client.patch(f"{UNITS}{unit.pk}/", {"notice": "x", "version": 1}, format="json").status_code == 403
    assert (
        client.post(WINDOWS, {"unit": unit.pk, "number": "2", "name": "x"}, format="json").status_code == 403
    )
    assert client.delete(f"{SERVICES}{service.pk}/").status_code == 403
    assert ServiceUnit.objects.count() == 1 and WindowService.objects.filter(pk=service.pk).exists()


def test_another_departments_head_does_not_find_the_unit(other_head, unit, window, service):
    client = api(other_head)
    assert client.patch(f"{UNITS}{unit.pk}/", {"notice": "x", "version": 1}, format="json").status_code == 404
    named = client.post(WINDOWS, {"unit": unit.pk, "number": "2", "name": "x"}, format="json")
    assert named.status_code == 400 and "不存在或不在您的范围内" in named.json()["unit"][0]
    assert client.delete(f"{SERVICES}{service.pk}/").status_code == 404
    assert not ServiceWindow.objects.filter(number="2").exists()


def test_a_stale_version_is_a_conflict(unit, window, service, head):
    client = api(head)
    assert (
        client.patch(f"{UNITS}{unit.pk}/", {"notice": "新", "version": 1}, format="json").status_code == 200
    )
    stale = client.patch(f"{UNITS}{unit.pk}/", {"notice": "旧", "version": 1}, format="json")
    assert stale.status_code == 409 and "刚被他人修改" in stale.json()["detail"]
    window_patch = client.patch(f"{WINDOWS}{window.pk}/", {"seats": 3, "version": 1}, format="json")
    assert window_patch.status_code == 200 and window_patch.json()["seats"] == 3
    assert (
        client.patch(f"{WINDOWS}{window.pk}/", {"seats": 4, "version": 1}, format="json").status_code == 409
    )
    service_patch = client.patch(f"{SERVICES}{service.pk}/", {"bookable": False, "version": 1}, format="json")
    assert service_patch.status_code == 200 and service_patch.json()["version"] == 2
    unit.refresh_from_db()
    assert unit.notice == "新"


def test_the_keeper_adds_windows_and_services_and_removes_a_service(unit, window, head):
    client = api(head)
    added = client.post(
        WINDOWS, {"unit": unit.pk, "number": "2", "name": "变更注销", "seats": 2}, format="json"
    )
    assert added.status_code == 201 and added.json()["seats"] == 2
    again = client.post(WINDOWS, {"unit": unit.pk, "number": "2", "name": "x"}, format="json")
    assert again.status_code == 400 and again.json() == {"number": ["窗口号：本单位已有 2 号窗口"]}
    service = client.post(SERVICES, {"window": window.pk, "name": "名称变更登记"}, format="json")
    assert service.status_code == 201 and service.json()["bookable"] is True
    assert client.delete(f"{SERVICES}{service.json()['id']}/").status_code == 204
    assert not WindowService.objects.exists()


def test_a_service_with_bookings_is_not_removed(cast, window, service, head):
    book(window, service, cast.ent_a1, cast.ent_user_a1, state=AppointmentState.REQUESTED)
    refused = api(head).delete(f"{SERVICES}{service.pk}/")
    assert refused.status_code == 400 and "待办理的预约" in refused.json()["detail"]
    assert WindowService.objects.filter(pk=service.pk).exists()


def test_the_published_hours_for_the_portals_users(cast, unit, window, service, unit_b, head):
    make_unit(head, name="内部试运行窗口", is_published=False)
    body = api(cast.ent_user_a1).get(HOURS).json()
    assert [u["name"] for u in body["units"]] == [unit.name]
    assert body["units"][0]["windows"][0]["services"] == [
        {"id": service.pk, "name": "企业设立登记", "materials": "申请书", "bookable": True}
    ]
    assert len(body["days"]) == 14 and {"date", "is_open", "mark"} <= set(body["days"][0])
    assert api(cast.steward_b).get(HOURS).json()["units"][0]["name"] == "经开区企业服务专区"
    assert api(cast.sysadmin).get(HOURS).status_code == 403
    assert APIClient().get(HOURS).status_code in (401, 403)
