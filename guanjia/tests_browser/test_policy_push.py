"""Browser test (issue 8's acceptance): a steward opens an enterprise, sees a benefit it qualifies for,
pushes it, and the enterprise user sees it on its portal (and applies)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from guanjia.policies.models import Delivery, DeliveryStatus, PushChannel
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_steward_pushes_a_benefit_and_the_enterprise_sees_it_on_its_portal(browser, live_server):  # noqa: F811
    cast = build_cast()
    policy = make_policy(
        cast.market_a, title="高新区支持企业研发创新若干政策", document_number="高新管〔2026〕12号"
    )
    # ent_a1 is a 重点 enterprise with 5,000 万元 of capital: it qualifies; ent_a2 (一般) does not.
    item = make_item(
        policy, name="研发费用补贴", tiers=["key"], capital_min=Decimal("1000"), max_amount=Decimal("50")
    )
    base = live_server.url
    csp: list[str] = []

    steward = browser.new_context().new_page()
    steward.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(steward, base, "steward_a")
    steward.get_by_role("link", name="我的企业", exact=True).first.click()
    steward.get_by_role("link", name=cast.ent_a1.name).first.click()
    steward.wait_for_url(f"{base}/enterprises/{cast.ent_a1.pk}/")
    row = steward.get_by_test_id("benefit-row").filter(has_text="研发费用补贴")
    row.wait_for()
    assert "高新区支持企业研发创新若干政策" in row.inner_text()
    assert _axe_violations(steward) == []

    row.get_by_test_id("push").click()
    steward.wait_for_url(f"{base}/enterprises/{cast.ent_a1.pk}/")
    delivery = Delivery.objects.get(item=item, enterprise=cast.ent_a1)
    assert delivery.status == DeliveryStatus.PUSHED and delivery.channel == PushChannel.STEWARD
    assert delivery.pushed_by == cast.steward_a
    pushed = steward.get_by_test_id("benefit-row").filter(has_text="研发费用补贴")
    assert pushed.get_by_test_id("delivery-status").inner_text() == "已推送"
    assert pushed.get_by_test_id("push").count() == 0  # pushed once, never twice

    portal = browser.new_context().new_page()
    portal.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(portal, base, "ent_user_a1")
    portal.get_by_role("link", name="可享政策", exact=True).first.click()
    portal.wait_for_url(f"{base}/portal/policies/")
    mine = portal.get_by_test_id("my-deliveries").get_by_role("row").filter(has_text="研发费用补贴")
    assert mine.get_by_test_id("delivery-status").inner_text() == "已推送"
    assert "管家推送" in mine.inner_text()
    assert _axe_violations(portal) == []

    mine.get_by_test_id("apply").click()
    portal.wait_for_url(re.compile(rf"{base}/portal/policies/"))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.APPLIED and delivery.applied_by == cast.ent_user_a1
    mine = portal.get_by_test_id("my-deliveries").get_by_role("row").filter(has_text="研发费用补贴")
    assert mine.get_by_test_id("delivery-status").inner_text() == "待审核"
    assert csp == []
