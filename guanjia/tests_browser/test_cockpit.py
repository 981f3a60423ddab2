"""Browser test: a leader opens the cockpit, each chart draws the numbers of its table, a number leads
to exactly that many appeals, and last week's 周报 downloads as a PDF with its text in Chinese."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from guanjia.appeals import lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.cockpit.models import Briefing
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("volume-time", "volume-category", "volume-channel", "open-age")


def _submit(cast, land, title: str, channel: str, by) -> None:
    appeal = lifecycle.submit_appeal(
        cast.ent_a1, title=title, body="请协调办理。", channel=channel, by=by, category=land
    )
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)


def test_leader_reads_each_chart_equal_to_its_table_and_drills_down(browser, live_server, settings, tmp_path):  # noqa: F811
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    cast = build_cast()
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    _submit(cast, land, "厂区道路破损", Channel.PORTAL, cast.ent_user_a1)
    _submit(cast, land, "用电增容", Channel.PORTAL, cast.ent_user_a1)
    _submit(cast, land, "人才公寓申请", Channel.STEWARD, cast.steward_a)
    base = live_server.url
    page = browser.new_page(accept_downloads=True)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, base, "leader_a")
    page.get_by_role("link", name="驾驶舱").first.click()
    page.wait_for_url(f"{base}/cockpit/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(el => window.echarts.getInstanceByDom(el))"
    )
    for chart in CHARTS:
        drawn = page.evaluate(
            "(id) => echarts.getInstanceByDom(document.querySelector(`[data-testid=chart-${id}]`))"
            ".getOption().series[0].data",
            chart,
        )
        labels = page.evaluate(
            "(id) => echarts.getInstanceByDom(document.querySelector(`[data-testid=chart-${id}]`))"
            ".getOption().xAxis[0].data",
            chart,
        )
        table = page.get_by_test_id(f"table-{chart}")
        shown = [int(text) for text in table.locator("tbody td").all_inner_texts()]
        names = table.locator("tbody th").all_inner_texts()
        assert drawn == shown, chart
        assert labels == names, chart
    assert csp == []  # ECharts draws under the page's policy: no inline script or style refused
    assert _axe_violations(page) == []
    channel = page.get_by_test_id("table-volume-channel")
    assert sum(int(t) for t in channel.locator("tbody td").all_inner_texts()) == 3
    portal = channel.locator("tr", has_text="企业门户")
    assert portal.locator("td").inner_text() == "2"
    portal.get_by_role("link").click()
    page.wait_for_url(f"{base}/cockpit/drill/**")
    assert page.get_by_test_id("drill-count").inner_text() == "2"
    rows = page.get_by_test_id("drill-rows").inner_text()
    assert "厂区道路破损" in rows and "用电增容" in rows and "人才公寓申请" not in rows
    assert "138****5678" in rows  # a leader sees the enterprise's contact masked
    assert _axe_violations(page) == []

    # From the cockpit to last week's 周报, generated on demand and downloaded as a PDF in Chinese.
    page.goto(f"{base}/cockpit/")
    page.get_by_role("link", name="周报与月报").click()
    page.wait_for_url(f"{base}/cockpit/briefings/")
    page.get_by_test_id("generate-weekly").click()
    page.wait_for_url(f"{base}/cockpit/briefings/")
    made = Briefing.objects.get(kind=Briefing.Kind.WEEKLY, zone=cast.zone_a)
    with page.expect_download() as info:
        page.get_by_test_id(f"briefing-{made.pk}").get_by_role("link", name="PDF").click()
    saved = tmp_path / "weekly.pdf"
    info.value.save_as(saved)
    text = "".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "周报" in text and "按时办结率" in text
    page.close()
