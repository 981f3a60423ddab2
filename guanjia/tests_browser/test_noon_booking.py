"""Browser test (issue 9's acceptance): an enterprise user searches the knowledge base, finds no answer,
books an appointment at noon at a window that does not close for lunch, and the staff member rostered
at that window sees the booking."""

from __future__ import annotations

from datetime import time

import pytest

from guanjia.core import search
from guanjia.knowledge.models import SEARCH_KIND, Entry, EntryStatus, Query
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401
from guanjia.windows import appointments
from guanjia.windows.models import Appointment, AppointmentState
from guanjia.windows.tests.appointment_helpers import build_scene, roster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOON = time(12, 0)


def test_no_answer_in_the_knowledge_base_then_a_noon_booking_the_rostered_staff_sees(browser, live_server):  # noqa: F811
    cast = build_cast()
    scene = build_scene(cast, no_lunch_break=True)
    # The first day from today on whose 12:00 slot is still free (today only before noon), and the staff
    # member rostered at the window that day.
    day = next(
        candidate
        for candidate in appointments.bookable_days(scene.unit)
        if any(
            slot.start == NOON and slot.free for slot in appointments.available_slots(scene.window, candidate)
        )
    )
    scene.roster.shifts.all().delete()
    roster(scene.unit, scene.staff, scene.window, [day])
    entry = Entry.objects.create(
        zone=cast.zone_a,
        department=cast.market_a,
        question="企业开办需要准备哪些材料",
        answer="登录一网通办平台填报，准备名称、住所证明和章程，一般一个工作日内办结。",
        status=EntryStatus.PUBLISHED,
        created_by=cast.handler_a,
    )
    search.index(SEARCH_KIND, entry.pk, title=entry.question, body=entry.answer)
    base = live_server.url
    csp: list[str] = []

    portal = browser.new_context().new_page()
    portal.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(portal, base, "ent_user_a1")
    portal.get_by_role("link", name="常见问题", exact=True).first.click()
    portal.wait_for_url(f"{base}/portal/knowledge/")
    portal.get_by_role("searchbox", name="您想问什么？").fill("厂房屋顶光伏发电备案")
    portal.get_by_role("button", name="搜索", exact=True).click()
    portal.get_by_test_id("kb-no-result").wait_for()
    assert "没有找到相关解答" in portal.get_by_test_id("kb-no-result").inner_text()
    assert Query.objects.get(zone=cast.zone_a).hits == 0  # the department sees what was not answered
    assert _axe_violations(portal) == []

    portal.get_by_test_id("kb-next-steps").get_by_role("link", name="预约窗口办理").click()
    portal.get_by_test_id(f"window-{scene.window.pk}").click()
    form = portal.get_by_test_id("booking-form")
    form.wait_for()
    form.get_by_label("服务事项").select_option(label="企业设立登记")
    # The day's slots are swapped in by htmx: wait until that swap is over, or a radio checked in the
    # slots the page first showed would be replaced, unchecked, under the click.
    with portal.expect_response(lambda response: "/portal/appointments/slots/" in response.url):
        form.get_by_label("日期").select_option(value=day.isoformat())
    portal.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    noon = portal.get_by_test_id("slot-12:00")
    noon.wait_for()
    assert "午间" in noon.inner_text()  # 中午不下班: the noon slot is offered and marked
    noon.locator("input[type=radio]").check(force=True)
    form.get_by_label("联系人").fill("王经理")
    form.get_by_label("联系电话").fill("13812345678")
    assert _axe_violations(portal) == []
    assert noon.locator("input[type=radio]").is_checked()
    portal.get_by_test_id("book-submit").click()
    portal.get_by_test_id("appointment").wait_for()
    booking = Appointment.objects.get(enterprise=cast.ent_a1)
    assert (booking.date, booking.starts_at, booking.state) == (day, NOON, AppointmentState.BOOKED)
    assert booking.window == scene.window and not booking.on_behalf
    assert f"{day:%Y-%m-%d}" in portal.get_by_test_id("appointment").inner_text()
    assert "12:00" in portal.get_by_test_id("appointment").inner_text()
    assert "已预约" in portal.locator("main").inner_text()

    staff = browser.new_context().new_page()
    staff.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(staff, base, "handler_a")
    staff.get_by_role("link", name="窗口预约接待", exact=True).first.click()
    staff.wait_for_url(f"{base}/windows/my-bookings/")
    row = (
        staff.get_by_test_id("my-bookings")
        .get_by_test_id("appointment-row")
        .filter(has_text=cast.ent_a1.name)
    )
    assert f"{day:%Y-%m-%d} 12:00" in row.inner_text()
    assert "企业设立登记" in row.inner_text()
    assert _axe_violations(staff) == []
    assert csp == []
