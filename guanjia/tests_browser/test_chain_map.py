"""Browser test: a leader opens a chain's map; the tree draws every node in the colour of its strength as
the table beside it says, under the page's Content-Security-Policy; a click on a node opens its page."""

from __future__ import annotations

import pytest

from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLOURS = {"strong": "#2fb344", "weak": "#f76707", "missing": "#d63939"}


def test_the_map_draws_the_tables_strengths_and_opens_a_node(browser, live_server):  # noqa: F811
    from guanjia.investment.tests.test_chains import build_battery

    cast = build_cast()
    battery = build_battery(cast)
    base = live_server.url
    page = browser.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, base, "leader_a")
    page.goto(f"{base}/investment/chains/{battery.chain.pk}/")
    page.wait_for_function(
        "() => window.echarts && echarts.getInstanceByDom(document.getElementById('chain-map'))"
    )
    drawn = page.evaluate(
        """() => {
            const out = {};
            const walk = (item) => {
                if (item.strength) out[item.name] = [item.strength, item.itemStyle.color];
                (item.children || []).forEach(walk);
            };
            walk(echarts.getInstanceByDom(document.getElementById('chain-map')).getOption().series[0].data[0]);
            return out;
        }"""
    )
    table = page.get_by_test_id("node-table")
    shown = {}
    for row in table.locator("tbody tr").all():
        name = row.locator("th").inner_text().replace("└", "").strip()
        shown[name] = row.locator("[data-strength]").get_attribute("data-strength")
    assert {name: strength for name, (strength, _colour) in drawn.items()} == shown
    assert all(colour == COLOURS[strength] for strength, colour in drawn.values())
    assert len(shown) == 8
    assert csp == []
    assert _axe_violations(page) == []
    # The table's link and the chart's node lead to the same page.
    page.get_by_test_id("node-table").get_by_role("link", name="电芯", exact=True).click()
    page.wait_for_url(f"{base}/investment/chains/nodes/{battery.nodes['电芯'].pk}/")
    assert page.get_by_role("heading", name="电芯", exact=True).is_visible()
    assert _axe_violations(page) == []
    page.goto(f"{base}/investment/chains/nodes/{battery.nodes['材料'].pk}/")
    assert _axe_violations(page) == []


def test_a_promoter_finds_and_places_an_enterprise_from_the_node_page(browser, live_server):  # noqa: F811
    from guanjia.investment import chains
    from guanjia.investment.models import NodePlacement, Segment

    cast = build_cast()
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)
    base = live_server.url
    page = browser.new_page()
    _login(page, base, "promoter_a")
    page.goto(f"{base}/investment/chains/nodes/{node.pk}/")
    page.get_by_role("searchbox", name="查找本园区企业").fill("示例")
    page.get_by_role("button", name="查找", exact=True).click()
    results = page.get_by_test_id("search-results")
    assert "示例物流有限公司" not in results.inner_text()  # zone B's enterprise is not offered
    item = results.locator("li", has_text="示例智能制造有限公司")
    item.get_by_label("龙头企业").check()
    assert _axe_violations(page) == []
    item.get_by_role("button").click()
    page.wait_for_selector("[data-testid=leader-badge]")
    assert NodePlacement.objects.get(node=node).enterprise_id == cast.ent_a1.pk
    assert _axe_violations(page) == []
    for path in (
        "/investment/chains/",
        "/investment/chains/new/",
        f"/investment/chains/{chain.pk}/nodes/new/",
    ):
        page.goto(f"{base}{path}")
        assert _axe_violations(page) == [], path
