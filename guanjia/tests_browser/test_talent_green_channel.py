"""Browser test (issue 11's acceptance): an enterprise user asks from its portal for a talent service for
an already approved talent, the responsible department's handler grants it before the deadline, and the
enterprise user sees the result (granted, with the result text) on its portal."""

from __future__ import annotations

import pytest
from django.utils import timezone

from guanjia.core import workcalendar
from guanjia.talent.models import ServiceStatus, TalentService
from guanjia.talent.tests.scene import build_scene
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULT = "已为张博文安排区实验小学一年级学位，请于 9 月 1 日前携带户口簿报到"


def test_an_enterprise_asks_for_a_talent_service_the_department_grants_it_in_time(browser, live_server):  # noqa: F811
    cast = build_cast()
    scene = build_scene(cast)  # 张博文 is approved; services are routed to 高新区市场监管局 (handler_a)
    base = live_server.url
    csp: list[str] = []

    def watch(page):
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    portal = watch(browser.new_context().new_page())
    _login(portal, base, "ent_user_a1")
    portal.get_by_role("link", name="人才服务", exact=True).first.click()
    portal.wait_for_url(f"{base}/portal/talent/")
    assert _axe_violations(portal) == []
    portal.get_by_test_id("ask-service").click()
    form = portal.get_by_test_id("service-form")
    form.wait_for()
    form.get_by_label("人才").select_option(label=f"张博文（{scene.tiers['B']}，{cast.ent_a1.name}）")
    form.get_by_label("服务事项").select_option(label="子女入学")
    form.get_by_label("需求说明").fill("子女入读区实验小学一年级")
    assert _axe_violations(portal) == []
    form.get_by_test_id("submit").click()
    portal.wait_for_url(f"{base}/portal/talent/")
    service = TalentService.objects.get()
    assert (service.kind, service.status, service.department) == (
        "schooling",
        ServiceStatus.REQUESTED,
        cast.market_a,
    )
    assert service.due_day == workcalendar.add_workdays(timezone.localdate(service.requested_at), 5)
    row = portal.get_by_test_id("portal-services").get_by_test_id("service-row").filter(has_text="子女入学")
    assert "办理中" in row.inner_text() and f"{service.due_day:%Y-%m-%d}" in row.inner_text()

    staff = watch(browser.new_context().new_page())
    _login(staff, base, "handler_a")
    staff.get_by_role("link", name="人才绿色通道", exact=True).first.click()
    staff.wait_for_url(f"{base}/talent/")
    due = staff.get_by_test_id("due-services").get_by_test_id("service-row").filter(has_text="张博文")
    assert "子女入学" in due.inner_text() and "已超期" not in due.inner_text()
    assert _axe_violations(staff) == []
    due.get_by_role("link", name="子女入学").click()
    staff.wait_for_url(f"{base}/talent/services/{service.pk}/")
    decide = staff.get_by_test_id("decide-form")
    decide.get_by_label("已办结").check()
    decide.get_by_label("结果说明").fill(RESULT)
    assert _axe_violations(staff) == []
    decide.get_by_test_id("decide-submit").click()
    staff.get_by_test_id("result").wait_for()
    assert RESULT in staff.get_by_test_id("result").inner_text()
    service.refresh_from_db()
    assert service.status == ServiceStatus.GRANTED and service.decided_by == cast.handler_a
    assert service.decided_at is not None and service.decided_at < service.due_at  # before the deadline
    assert not service.is_overdue()  # granted before the deadline

    portal.reload()
    row = portal.get_by_test_id("portal-services").get_by_test_id("service-row").filter(has_text="子女入学")
    assert "已办结" in row.get_by_test_id("service-state").inner_text()
    assert RESULT in row.get_by_test_id("service-result").inner_text()
    assert _axe_violations(portal) == []
    # The talent's page, with the service granted, and the forms of the portal pass axe too.
    portal.get_by_test_id("portal-applications").get_by_role("link", name="张博文").click()
    portal.wait_for_url(f"{base}/talent/applications/{scene.approved.pk}/")
    assert "11010519491231002X" in portal.get_by_test_id("id-number").inner_text()  # its own: in full
    assert "已办结" in portal.get_by_test_id("application-services").inner_text()
    assert _axe_violations(portal) == []
    for path in ("applications/new/", "needs/new/"):
        portal.goto(f"{base}/portal/talent/{path}")
        assert _axe_violations(portal) == []
    assert csp == []
