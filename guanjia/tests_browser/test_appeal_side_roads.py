"""Browser test: the side roads of the loop — 补充材料, 延期 with the supervisor's approval, 领导协调 —
each through the page its user works on, with the pages checked for accessibility."""

from __future__ import annotations

import pytest

from guanjia.appeals import lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Assignment, Channel, Extension, Outcome, Pause, RatingLevel, Status
from guanjia.testing import build_cast
from guanjia.tests_browser.test_appeal_loop import _as, _timeline
from guanjia.tests_browser.test_steward_journey import _axe_violations, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pause_extension_and_coordination_through_the_pages(browser, live_server):  # noqa: F811
    cast = build_cast()
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title="厂区道路破损",
        body="货车进出困难。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
    )
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    base = live_server.url
    detail = f"{base}/appeals/{appeal.pk}/"

    # The handler asks for material: the clock stops.
    handler = _as(browser, base, "handler_a")
    handler.goto(detail)
    handler.get_by_text("要求企业补充材料（暂停计时）").click()
    assert _axe_violations(handler) == []
    handler.get_by_label("需要补充的材料").fill("请提供道路破损处的照片。")
    handler.get_by_role("button", name="要求补充材料").click()
    handler.wait_for_selector("text=待补充材料")

    # The enterprise supplies it on its appeal page: the clock runs again.
    enterprise = _as(browser, base, "ent_user_a1")
    enterprise.goto(detail)
    assert _axe_violations(enterprise) == []
    enterprise.get_by_label("补充说明").fill("照片已上传。")
    enterprise.get_by_role("button", name="已补充，恢复办理").click()
    enterprise.wait_for_selector("text=已恢复办理")
    assert Pause.objects.get().resumed_by == cast.ent_user_a1

    # The handler asks for 5 more working days; the supervisor approves on the approvals page.
    handler.goto(detail)
    handler.get_by_text("申请延期（由效能督查审批）").click()
    handler.get_by_label("延期工作日").fill("5")
    handler.get_by_label("延期理由").fill("需要施工单位现场勘察。")
    handler.get_by_role("button", name="申请延期").click()
    handler.wait_for_selector("text=延期申请已提交，等待效能督查审批")
    before = Assignment.objects.get(appeal=appeal, is_current=True).answer_due

    supervisor = _as(browser, base, "supervisor_a")
    supervisor.get_by_role("link", name="审批与协调").click()
    assert _axe_violations(supervisor) == []
    supervisor.get_by_label("审批结果").select_option(value="approve")
    supervisor.get_by_role("button", name=f"提交 #{appeal.pk} 的延期审批").click()
    supervisor.wait_for_selector("text=没有待审批的延期申请")
    assert Extension.objects.get().state == Extension.State.APPROVED
    assert Assignment.objects.get(appeal=appeal, is_current=True).answer_due > before

    # Two dissatisfied answers later, a leader records the 领导协调 decision on the approvals page.
    for _round in range(2):
        current = Appeal.objects.get(pk=appeal.pk)
        lifecycle.answer_appeal(current, answer="已修复。", outcome=Outcome.SOLVED, by=cast.handler_a)
        lifecycle.rate_appeal(current, level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
    leader = _as(browser, base, "leader_a")
    leader.get_by_role("link", name="审批与协调").click()
    assert _axe_violations(leader) == []
    leader.get_by_label("协调意见").fill("由市场监管局牵头，三日内完成修复。")
    leader.get_by_role("button", name=f"记录 #{appeal.pk} 的协调意见").click()
    leader.wait_for_selector("text=没有等待领导协调的诉求")
    coordinated = Appeal.objects.get(pk=appeal.pk)
    assert coordinated.status == Status.SIGNED and coordinated.coordinated_by == cast.leader_a

    handler.goto(detail)
    assert {"pause", "resume", "extension_request", "extension_approved", "coordinate"} <= set(
        _timeline(handler)
    )
