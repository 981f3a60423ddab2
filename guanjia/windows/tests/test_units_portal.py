"""The published service hours on the enterprise portal (/portal/service-hours/): the units of the
user's zone (an enterprise user's: its enterprise's; a steward's: those it serves), their hours and
lunch rule, windows with services, materials and a booking link, and the next 14 days by the work
calendar; unpublished units and closed windows stay off it; no-role and 三员 accounts get 403."""

from __future__ import annotations

import pytest
import time_machine

from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.testing import make_user
from guanjia.windows import units
from guanjia.windows.tests.test_units import make_head, make_unit

pytestmark = pytest.mark.django_db

HOURS = "/portal/service-hours/"


@pytest.fixture
def head(cast):
    return make_head(cast)


@pytest.fixture
def centre(head):
    """A unit open at noon, with a bookable service at window 1 and a walk-in one at window 2."""
    unit = make_unit(
        head, name="高新区政务服务中心·企业服务专区", phone="0512-66668888", notice="请取号后等候叫号"
    )
    first = units.add_window(unit, by=head, number="1", name="企业开办")
    units.add_service(first, by=head, name="企业设立登记", materials="设立登记申请书\n法定代表人身份证")
    second = units.add_window(unit, by=head, number="2", name="综合咨询", must_stay_open=False)
    units.add_service(second, by=head, name="政策咨询", bookable=False)
    closed = units.add_window(unit, by=head, number="9", name="停用窗口", is_active=False)
    units.add_service(closed, by=head, name="不再提供的事项")
    return unit


@pytest.fixture
def tax(head):
    return make_unit(head, name="高新区税务服务厅", no_lunch_break=False)


@pytest.fixture
def hidden(head):
    return make_unit(head, name="内部试运行窗口", is_published=False)


@pytest.fixture
def unit_b(cast):
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    return make_unit(make_user("head_b", market_b, Role.DEPARTMENT_HEAD), name="经开区企业服务专区")


def names(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [row["unit"].name for row in response.context["rows"]]


def test_an_enterprise_user_reads_its_zones_published_units(cast, login, centre, tax, hidden, unit_b):
    response = login(cast.ent_user_a1).get(HOURS)
    assert names(response) == ["高新区政务服务中心·企业服务专区", "高新区税务服务厅"]
    text = response.content.decode()
    assert "工作日 09:00–17:00，中午不间断服务（工作人员轮流就餐）" in text
    assert "工作日 09:00–17:00，午休 11:30–13:30 暂停服务" in text
    assert "0512-66668888" in text and "请取号后等候叫号" in text
    assert "企业设立登记" in text and "法定代表人身份证" in text and "政策咨询" in text
    assert "停用窗口" not in text and "不再提供的事项" not in text and "内部试运行窗口" not in text


def test_the_booking_link_names_the_window_where_a_service_is_bookable(cast, login, centre):
    response = login(cast.ent_user_a1).get(HOURS)
    first, second = response.context["rows"][0]["windows"]
    assert first["book"] == f"/portal/appointments/new/?window={first['window'].pk}"
    assert second["book"] == ""  # walk-in only
    assert f'href="/portal/appointments/new/?window={first["window"].pk}"' in response.content.decode()
    # A reader who books for no enterprise is not offered the booking page.
    leader = login(cast.leader_a).get(HOURS)
    assert [w["book"] for w in leader.context["rows"][0]["windows"]] == ["", ""]


def test_each_zone_reads_its_own(cast, login, centre, unit_b):
    user_b = make_user("ent_user_b1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=user_b, enterprise=cast.ent_b1)
    assert names(login(user_b).get(HOURS)) == ["经开区企业服务专区"]
    assert names(login(cast.steward_b).get(HOURS)) == ["经开区企业服务专区"]
    assert names(login(cast.leader_a).get(HOURS)) == ["高新区政务服务中心·企业服务专区"]
    assert names(login(cast.leader_city).get(HOURS)) == [
        "高新区政务服务中心·企业服务专区",
        "经开区企业服务专区",
    ]


def test_an_enterprise_user_without_an_enterprise_sees_none(login, centre):
    loner = make_user("loner", None, Role.ENTERPRISE_USER)
    response = login(loner).get(HOURS)
    assert names(response) == [] and "暂未公布" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "sysadmin", "secadmin", "auditor"])
def test_no_role_and_admin_accounts_get_403(cast, login, centre, who):
    assert login(getattr(cast, who)).get(HOURS).status_code == 403


def test_the_anonymous_visitor_is_sent_to_log_in(client, centre):
    response = client.get(HOURS)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@time_machine.travel("2026-09-28 10:00 +0800", tick=False)
def test_the_next_fourteen_days_mark_holidays_and_swapped_working_days(cast, login, centre):
    response = login(cast.ent_user_a1).get(HOURS)
    days = {str(entry.day): entry for entry in response.context["days"]}
    assert len(days) == 14 and min(days) == "2026-09-28"
    assert (days["2026-10-01"].mark, days["2026-10-01"].holiday) == ("休", "国庆节")
    assert days["2026-10-10"].mark == "调休上班" and days["2026-10-10"].is_open
    text = response.content.decode()
    assert 'data-date="2026-10-10" data-open="1"><span class="badge bg-orange-lt">调休上班</span>' in text
    assert 'data-date="2026-10-01" data-open="0"><span class="badge bg-red-lt">休</span>' in text
