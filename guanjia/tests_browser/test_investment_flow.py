"""Browser test (issue 7's acceptance): a promoter opens a chain map, sees a gap, creates a lead for it
from a target of the library, converts the lead into a project, moves the project to 签约, and sees the
approval checklist appear."""

from __future__ import annotations

import re

import pytest

from guanjia.investment.models import ApprovalTemplateItem, Lead, LeadStatus, NodePlacement, Project, Stage
from guanjia.investment.tests.helpers import make_chain, make_target, node, seed_approval_templates
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_promoter_goes_from_a_gap_on_the_map_to_a_signed_project_with_its_checklist(browser, live_server):  # noqa: F811
    cast = build_cast()
    seed_approval_templates()  # migration 0002's rows, flushed by any transactional test that ran before
    chain = make_chain(cast.zone_a, cast.promoter_a)
    # 电芯 has a local 龙头; 正极材料 has nobody here: a gap, and the library knows a company that fills it.
    NodePlacement.objects.create(node=node(chain, "电芯"), enterprise=cast.ent_a1, is_leader=True)
    cathode = node(chain, "正极材料")
    target = make_target(cast.zone_a, "示例正极材料股份有限公司", cathode, headquarters="宁波")
    base = live_server.url
    page = browser.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, base, "promoter_a")

    # The chain map, reached from the navigation.
    page.get_by_role("link", name="产业链招商").first.click()
    page.wait_for_url(f"{base}/investment/")
    page.get_by_role("link", name=re.compile("产业链图谱")).first.click()
    page.wait_for_url(f"{base}/investment/chains/")
    page.get_by_role("link", name="新能源", exact=True).click()
    page.wait_for_url(f"{base}/investment/chains/{chain.pk}/")
    page.wait_for_function(
        "() => window.echarts && echarts.getInstanceByDom(document.getElementById('chain-map'))"
    )
    assert _axe_violations(page) == []
    gap = page.get_by_test_id(f"gap-{cathode.pk}")
    assert "正极材料" in gap.inner_text() and "缺失" in gap.inner_text()
    assert gap.get_by_test_id("gap-targets").inner_text() == "1"

    # The gap's targets, then the lead from the target's page.
    gap.get_by_role("link", name="查看目标企业").click()
    page.wait_for_url(f"{base}/investment/targets/?node={cathode.pk}")
    page.get_by_role("link", name="示例正极材料股份有限公司").click()
    page.wait_for_url(f"{base}/investment/targets/{target.pk}/")
    page.get_by_test_id("new-lead").click()
    page.wait_for_url(re.compile(rf"{base}/investment/leads/new/\?target={target.pk}"))
    assert page.get_by_label("链环节").input_value() == str(cathode.pk)
    page.get_by_label("线索来源").select_option(label="展会")
    page.get_by_label("联系人").fill("王总")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_test_id("lead-save").click()
    page.wait_for_url(re.compile(rf"{base}/investment/leads/\d+/$"))
    lead = Lead.objects.get(target=target)
    assert page.url == f"{base}/investment/leads/{lead.pk}/"
    assert lead.node_id == cathode.pk and lead.status == LeadStatus.NEW
    assert "13912345678" in page.content()  # the zone's promoter sees the number it has to call
    assert _axe_violations(page) == []

    # 转为项目: the form is filled from the lead.
    page.get_by_test_id("convert").click()
    page.wait_for_url(re.compile(rf"{base}/investment/projects/new/\?lead={lead.pk}"))
    assert page.get_by_label("项目名称").input_value() == "示例正极材料股份有限公司项目"
    page.get_by_label("计划总投资（万元）").fill("50000")
    page.get_by_label("用地（亩）").fill("120")
    page.get_by_test_id("project-save").click()
    page.wait_for_url(re.compile(rf"{base}/investment/projects/\d+/$"))
    project = Project.objects.get(lead=lead)
    assert page.url == f"{base}/investment/projects/{project.pk}/"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert project.node_id == cathode.pk and project.chain_id == chain.pk
    assert page.get_by_test_id("approval-checklist").count() == 0  # not before 签约
    assert _axe_violations(page) == []

    # 推进 to 签约 at an event: the approval checklist of an industrial project appears.
    advance = page.get_by_test_id("advance")
    advance.get_by_label("推进到").select_option(label="签约")
    advance.get_by_label("签约活动").fill("2026年长三角招商大会")
    page.get_by_test_id("advance-save").click()
    page.wait_for_url(re.compile(rf"{base}/investment/projects/{project.pk}/"))
    checklist = page.get_by_test_id("approval-checklist")
    checklist.wait_for()
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    expected = list(
        ApprovalTemplateItem.objects.filter(project_type=project.project_type).values_list("name", flat=True)
    )
    assert len(expected) >= 5
    shown = checklist.inner_text()
    assert all(name in shown for name in expected)
    assert project.approvals.count() == len(expected)
    assert csp == []
    assert _axe_violations(page) == []
