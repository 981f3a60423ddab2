"""Browser test on a phone: a steward opens today's due visit, records it with a problem raised as an
appeal, and sees its campaign's coverage go up."""

from __future__ import annotations

import re

import pytest

from guanjia.appeals.models import Appeal
from guanjia.campaigns import services
from guanjia.campaigns.tests.helpers import USCC_A3, make_campaign
from guanjia.testing import build_cast, make_enterprise
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401
from guanjia.visits.models import VisitSchedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_steward_records_todays_due_visit_on_a_phone_and_coverage_rises(browser, live_server):  # noqa: F811
    cast = build_cast()
    ent_a3 = make_enterprise(USCC_A3, "示例精密机械有限公司", cast.zone_a, cast.steward_a)
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign,
        [(cast.ent_a1.pk, cast.steward_a.pk), (ent_a3.pk, cast.steward_a.pk)],
        by=cast.dispatcher_a,
        source="test",
    )
    today = services.today()
    # ent_a1's visit is due today (the schedule row as the cadence would have left it).
    VisitSchedule.objects.filter(enterprise=cast.ent_a1).update(next_due=today)
    base = live_server.url
    page = browser.new_page(viewport=PHONE)
    _login(page, base, "steward_a")

    page.goto(f"{base}/campaigns/{campaign.pk}/")
    assert "（0/2）" in page.get_by_test_id("coverage-own").inner_text()

    page.goto(f"{base}/visits/")
    due = page.locator("[data-testid^='due-'] .list-group-item", has_text=cast.ent_a1.name)
    assert today.isoformat() in due.inner_text()
    due.get_by_role("link", name="登记走访").click()
    page.wait_for_url(f"{base}/visits/new/{cast.ent_a1.pk}/")
    assert _no_horizontal_overflow(page), "the visit form is wider than the phone"
    page.get_by_label("我方人员").fill("张管家")
    page.get_by_label("企业方人员").fill("王经理")
    page.get_by_label("走访情况").fill("了解冬季生产和用工情况。")
    page.get_by_label("诉求标题").fill("新厂房用电增容")
    page.get_by_label("诉求内容").fill("新产线投产需要增容 800 千伏安，希望协调供电公司。")
    page.get_by_role("button", name="登记走访", exact=True).click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    appeal = Appeal.objects.get(enterprise=cast.ent_a1)
    assert appeal.visit_link.visit.visited_on == today
    assert "新厂房用电增容" in page.get_by_test_id("visit-appeals").inner_text()
    assert _no_horizontal_overflow(page)

    page.goto(f"{base}/campaigns/{campaign.pk}/")
    assert "（1/2）" in page.get_by_test_id("coverage-own").inner_text()
    assert "50.0%" in page.get_by_test_id("coverage-overall").inner_text()
    targets = page.get_by_test_id("targets")
    assert "已走访" in targets.locator(".list-group-item", has_text=cast.ent_a1.name).inner_text()
    assert (
        targets.locator(".list-group-item", has_text=ent_a3.name).get_by_role("link", name="登记走访").count()
        == 1
    )
    problems = page.get_by_test_id("problems").inner_text()
    assert problems.split()[0] == "1"  # the appeal raised during the campaign
    assert _no_horizontal_overflow(page)
    assert _axe_violations(page) == []
    page.close()
