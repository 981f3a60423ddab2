"""Browser test: a supervisor goes from the practices list to an adoption's effect and sees the quarters
before and after its trial side by side, in the tables and in the chart, under the CSP."""

from __future__ import annotations

from datetime import date

import pytest

from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import RatingLevel
from guanjia.exchange import practices
from guanjia.exchange.models import AdoptionStage
from guanjia.exchange.tests.test_practices_effect import closed_rated
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRIAL = date(2026, 5, 15)  # 2026 Q2 is left out of both sides


def test_supervisor_reads_the_effect_of_an_adopted_practice(browser, live_server):  # noqa: F811
    cast = build_cast()
    appeal_services.set_route(ensure_default_categories()["land"], cast.zone_a, cast.market_a, by=None)
    people = (cast.ent_a1, cast.ent_user_a1, cast.dispatcher_a, cast.handler_a)
    # 好评率 (非常满意 + 满意 of rated): 2025 Q4 1/1, 2026 Q1 0/1 → before 1/2; 2026 Q3 2/2 → after 2/2.
    for day, level in (
        (date(2025, 11, 10), RatingLevel.SATISFIED),
        (date(2026, 3, 9), RatingLevel.FAIRLY_SATISFIED),
        (date(2026, 7, 13), RatingLevel.VERY_SATISFIED),
        (date(2026, 8, 10), RatingLevel.SATISFIED),
    ):
        closed_rated(*people, day, 1, level)
    practice = practices.create_practice(
        by=cast.supervisor_a,
        zone=cast.zone_a,
        title="早九晚五、中午不下班",
        description="窗口中午轮流就餐，不停办。",
        seen_at="昆山高新区",
        learned_by="考察组",
    )
    adoption = practices.add_adoption(
        practice, unit=cast.market_a, kpi="praise_rate", referenced_on=date(2026, 2, 2), by=cast.supervisor_a
    )
    practices.advance(adoption, to_stage=AdoptionStage.TRIAL, on=TRIAL, by=cast.supervisor_a, version=1)
    base = live_server.url
    page = browser.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, base, "supervisor_a")

    page.get_by_role("link", name="经验做法", exact=True).first.click()
    page.wait_for_url(f"{base}/exchange/practices/")
    page.get_by_role("link", name="早九晚五、中午不下班").first.click()
    page.wait_for_url(f"{base}/exchange/practices/{practice.pk}/")
    page.get_by_test_id("adoption-effect").first.click()
    page.wait_for_url(f"{base}/exchange/adoptions/{adoption.pk}/")
    page.wait_for_function(
        "() => window.echarts && echarts.getInstanceByDom(document.querySelector('[data-practice-chart]'))"
    )

    before, after = page.get_by_test_id("before"), page.get_by_test_id("after")
    assert before.get_by_test_id("before-2025Q4").get_by_test_id("n").inner_text() == "1"
    assert before.get_by_test_id("before-2026Q1").get_by_test_id("n").inner_text() == "1"
    assert page.get_by_test_id("before-total-n").inner_text() == "2"
    assert after.get_by_test_id("after-2026Q3").get_by_test_id("n").inner_text() == "2"
    assert page.get_by_test_id("after-total-n").inner_text() == "2"
    assert "50" in page.get_by_test_id("before-total").inner_text()
    assert "100" in page.get_by_test_id("after-total").inner_text()
    assert page.get_by_test_id("effect-verdict").inner_text() == "改善"
    # The chart draws the same quarters as the tables, the two before the trial first.
    labels = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-practice-chart]'))"
        ".getOption().xAxis[0].data"
    )
    assert labels == ["2025Q4", "2026Q1", "2026Q3", "2026Q4"]
    assert _axe_violations(page) == []
    assert csp == []
