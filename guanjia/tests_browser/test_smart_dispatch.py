"""Browser test (issue 10): an enterprise writes about a problem another enterprise has already raised;
the dispatcher sees the suggested departments and the other enterprise's appeal as a 共性问题 candidate,
dispatches by the first suggestion in one click, and finds both appeals again through the search box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guanjia.appeals import lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Channel, Status
from guanjia.core.models import OrgUnit
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.dispatch.models import Suggestion
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_common_problem_is_spotted_dispatched_by_suggestion_and_found_by_search(browser, live_server):  # noqa: F811
    cast = build_cast()
    categories = ensure_default_categories()
    ensure_default_rules()
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    appeal_services.set_route(categories["tax"], cast.zone_a, tax_a, by=cast.sysadmin)
    appeal_services.set_route(categories["market"], cast.zone_a, cast.market_a, by=cast.sysadmin)
    # Another enterprise of the zone raised the same problem last week; it is with the tax bureau now.
    earlier = lifecycle.submit_appeal(
        cast.ent_a2,
        title="留抵退税审核太慢，资金周转困难",
        body="我司4月底提交了增量留抵退税申请，退税额八十多万元，两个月了一直显示审核中，企业等这笔钱周转。",
        channel=Channel.STEWARD,
        by=cast.steward_a2,
    )
    lifecycle.dispatch_appeal(earlier, to=tax_a, category=categories["tax"], by=cast.dispatcher_a)
    base = live_server.url
    csp: list[str] = []

    portal = browser.new_context().new_page()
    portal.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(portal, base, "ent_user_a1")
    portal.goto(f"{base}/appeals/new/{cast.ent_a1.pk}/")
    portal.get_by_label("标题").fill("增量留抵退税申请一个多月没有结果")
    portal.get_by_label("诉求内容").fill(
        "我司5月8日通过电子税务局申请了增量留抵退税，金额约136万元，至今显示审核中，原材料采购资金压力很大，请帮忙了解卡在哪个环节。"
    )
    portal.get_by_role("button", name="提交诉求").click()
    portal.wait_for_url(f"{base}/appeals/*/")
    appeal = Appeal.objects.get(enterprise=cast.ent_a1)

    desk = browser.new_context().new_page()
    desk.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(desk, base, "dispatcher_a")
    desk.goto(f"{base}/appeals/{appeal.pk}/")
    first = desk.locator(".suggestion[data-rank='1']")
    expect(first.locator(".suggestion-department")).to_have_text("高新区税务局")
    similar = desk.get_by_test_id("similar-body")
    expect(similar).to_contain_text(f"#{earlier.pk}")
    expect(similar).to_contain_text("共性问题候选")
    assert _axe_violations(desk) == []

    desk.get_by_test_id("take-1").click()
    desk.wait_for_url(f"{base}/appeals/{appeal.pk}/")
    expect(desk.get_by_role("alert").first).to_contain_text("高新区税务局")
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED
    assert appeal.assignments.get(is_lead=True).department == tax_a
    assert Suggestion.objects.filter(appeal=appeal, taken_rank=1, one_click=True).count() == 1

    # Words in another order than either text has them.
    desk.get_by_role("searchbox", name="搜索诉求、答复和知识库").fill("退税 留抵 审核")
    desk.get_by_role("searchbox", name="搜索诉求、答复和知识库").press("Enter")
    desk.wait_for_url(f"{base}/search/*")
    results = desk.get_by_test_id("search-results")
    expect(results).to_contain_text("增量留抵退税申请一个多月没有结果")
    expect(results).to_contain_text("留抵退税审核太慢，资金周转困难")
    expect(results.locator("mark").first).to_be_visible()
    assert _axe_violations(desk) == []
    assert csp == []
