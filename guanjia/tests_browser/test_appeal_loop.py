"""Browser test: the whole appeal loop, by the people who run it, each in their own browser."""

from __future__ import annotations

import re

import pytest

from guanjia.appeals import services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Status
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(browser, base: str, username: str):  # noqa: F811 - the fixture is passed in
    page = browser.new_context().new_page()
    _login(page, base, username)
    return page


def _timeline(page) -> list[str]:
    return page.locator("#timeline .timeline-event").evaluate_all("nodes => nodes.map(n => n.dataset.action)")


def _rate(page, level: str, solved: str) -> None:
    page.locator("#rate").get_by_label(level, exact=True).check()
    page.locator("#rate").get_by_label(solved, exact=True).check()
    page.get_by_role("button", name="提交评价").click()


def _answer(page, text: str) -> None:
    page.get_by_label("答复结果").select_option(label="已解决")
    page.get_by_label("答复内容").fill(text)
    page.get_by_role("button", name="提交答复").click()


def test_the_appeal_loop_end_to_end(browser, live_server):  # noqa: F811
    cast = build_cast()
    # An earlier transactional test may have flushed the categories the data migration made.
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    base = live_server.url

    # The enterprise submits from its portal.
    enterprise = _as(browser, base, "ent_user_a1")
    enterprise.get_by_role("link", name="我的诉求").first.click()
    enterprise.get_by_role("link", name="提交诉求").click()
    assert _axe_violations(enterprise) == []
    enterprise.get_by_label("诉求类别").select_option(value=str(land.pk))
    enterprise.get_by_label("标题").fill("二期厂房容积率调整")
    enterprise.get_by_label("诉求内容").fill("想了解提高容积率的程序和所需材料。")
    enterprise.get_by_role("button", name="提交诉求").click()
    enterprise.wait_for_url(re.compile(r"/appeals/\d+/$"))
    appeal = Appeal.objects.get()
    detail = f"{base}/appeals/{appeal.pk}/"
    assert "待受理" in enterprise.locator("h1 + div").inner_text()

    # The dispatcher takes it from the queue; the routed department is preselected.
    dispatcher = _as(browser, base, "dispatcher_a")
    dispatcher.get_by_role("link", name="诉求受理").click()
    dispatcher.get_by_role("link", name=f"#{appeal.pk} 二期厂房容积率调整").click()
    assert dispatcher.get_by_label("主办部门").input_value() == str(cast.market_a.pk)
    assert _axe_violations(dispatcher) == []
    dispatcher.get_by_role("button", name="交办", exact=True).click()
    dispatcher.wait_for_selector("text=已交办")

    # The handler signs from the worklist and answers on the appeal page.
    handler = _as(browser, base, "handler_a")
    handler.get_by_role("link", name="部门工作台").click()
    assert _axe_violations(handler) == []
    handler.get_by_role("button", name=f"签收 #{appeal.pk}").click()
    handler.wait_for_selector("text=已签收")
    handler.goto(detail)
    _answer(handler, "请按程序提交规划调整申请，我局三个工作日内出具意见。")
    handler.wait_for_selector("text=已答复")

    # The enterprise is not satisfied: the appeal is reopened with the same department.
    enterprise.goto(detail)
    assert _axe_violations(enterprise) == []
    _rate(enterprise, "不满意", "未解决")
    enterprise.wait_for_selector("text=已评价")
    appeal.refresh_from_db()
    assert appeal.status == Status.SIGNED and appeal.reopen_count == 1

    # The handler answers again; the enterprise is satisfied and the appeal closes.
    handler.goto(f"{base}/appeals/worklist/?tab=doing")
    handler.get_by_role("link", name=f"#{appeal.pk} 二期厂房容积率调整").click()
    _answer(handler, "已协调规划部门，调整方案获批。")
    handler.wait_for_selector("text=已答复")
    enterprise.goto(detail)
    _rate(enterprise, "满意", "已解决")
    enterprise.wait_for_selector("text=已评价")
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED

    enterprise.goto(detail)
    assert _timeline(enterprise) == [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "answer",
        "reopen",
        "answer",
        "close",
    ]
    assert "已办结" in enterprise.locator("h1 + div").inner_text()
    ratings = enterprise.locator("#ratings").inner_text()
    assert "不满意" in ratings and "满意" in ratings
    assert _axe_violations(enterprise) == []
    for page in (enterprise, dispatcher, handler):
        page.context.close()
