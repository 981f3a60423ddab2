"""The project pages: the list with stage counts and the overdue filter, a new project from a lead, the
project page (timeline, figures, checklist, forms), its writes, the acceleration report — and who may
not: another zone's promoter (404), the leader on writes (403), stewards and enterprise users (403)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import Enterprise
from guanjia.investment import approvals, projects
from guanjia.investment.models import (
    ApprovalItem,
    CapitalArrival,
    LeadStatus,
    Project,
    ProjectSigning,
    Stage,
)
from guanjia.investment.tests.helpers import (
    make_chain,
    make_lead,
    make_target,
    new_project,
    node,
    signed_project,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_2026_11_20", "approval_templates")]

NEW_USCC = "91110000802100433B"


def url(name: str, *args) -> str:
    return reverse(f"investment:{name}", args=args)


# --- the list ----------------------------------------------------------------------------------------------


def test_the_list_shows_stage_counts_and_filters_overdue_projects(cast, login):
    late = new_project(cast, "逾期项目", promised={Stage.NEGOTIATING: date(2026, 11, 1)})
    signed_project(cast, "已签约项目")
    new_project(cast, "谋划项目")

    client = login(cast.leader_a)
    html = client.get(url("projects")).content.decode()
    assert "逾期项目" in html and "已签约项目" in html
    assert 'data-testid="stage-counts"' in html
    assert 'data-stage="planning"' in html
    counts = client.get(url("projects")).context["stage_counts"]
    assert [(stage, n) for stage, _label, n in counts][:3] == [
        (Stage.PLANNING, 2),
        (Stage.NEGOTIATING, 0),
        (Stage.SIGNED, 1),
    ]
    assert 'data-testid="overdue-badge"' in html

    overdue = client.get(url("projects"), {"overdue": "yes"})
    assert [p.pk for p in overdue.context["page"]] == [late.pk]
    by_stage = client.get(url("projects"), {"stage": Stage.SIGNED}).content.decode()
    assert "已签约项目" in by_stage and "谋划项目" not in by_stage
    # The leader reads: no "new project" button.
    assert url("project-new") not in html


def test_the_list_costs_the_same_queries_for_more_projects(cast, login, django_assert_max_num_queries):
    for n in range(3):
        signed_project(cast, f"项目{n}")
    client = login(cast.promoter_a)
    client.get(url("projects"))
    for n in range(3, 12):
        signed_project(cast, f"项目{n}")
    with django_assert_max_num_queries(14):
        assert client.get(url("projects")).status_code == 200


def test_the_list_and_pages_are_for_the_zones_promoters_and_leaders(cast, login, promoter_b):
    project = new_project(cast)
    for who in (cast.steward_a, cast.ent_user_a1, cast.dispatcher_a, cast.sysadmin):
        client = login(who)
        assert client.get(url("projects")).status_code == 403
        assert client.get(url("project", project.pk)).status_code == 403
        assert client.get(url("approvals-report")).status_code == 403
    other = login(promoter_b)
    assert "储能电站项目" not in other.get(url("projects")).content.decode()
    assert other.get(url("project", project.pk)).status_code == 404
    assert other.get(url("project-edit", project.pk)).status_code == 404
    assert login(cast.leader_city).get(url("project", project.pk)).status_code == 200


# --- creating ----------------------------------------------------------------------------------------------


def test_a_new_project_from_a_lead_is_prefilled_and_converts_the_lead(cast, login):
    chain = make_chain(cast.zone_a, cast.promoter_a)
    target = make_target(cast.zone_a, "宁德示例新能源股份有限公司")
    lead = make_lead(target, cast.promoter_a, node=node(chain, "电芯"), status=LeadStatus.NEGOTIATING)
    client = login(cast.promoter_a)
    page = f"{url('project-new')}?lead={lead.pk}"

    response = client.get(page)
    html = response.content.decode()
    assert response.context["form"]["name"].value() == "宁德示例新能源股份有限公司项目"
    assert 'data-testid="project-save"' in html and 'data-testid="project-lead"' in html
    assert "电芯" in html and 'name="target"' not in html

    response = client.post(
        page,
        {
            "name": "宁德示例新能源股份有限公司项目",
            "kind": "new",
            "project_type": "industrial",
            "owner": cast.promoter_a.pk,
            "investment_planned": "30000",
            "promised_signed": "2026-12-20",
        },
    )

    project = Project.objects.get(lead=lead)
    assert response.status_code == 302 and response["Location"] == url("project", project.pk)
    assert (project.target, project.node, project.chain) == (target, node(chain, "电芯"), chain)
    assert project.stage == Stage.NEGOTIATING
    assert project.milestones.get(stage=Stage.SIGNED).promised_on == date(2026, 12, 20)
    # A second click: refused with the reason, no second project.
    again = client.post(
        page,
        {
            "name": "再来一次",
            "kind": "new",
            "project_type": "industrial",
            "owner": cast.promoter_a.pk,
            "investment_planned": "1",
        },
    )
    assert again.status_code == 200 and "不能转为项目" in again.content.decode()
    assert Project.objects.count() == 1


def test_a_lead_of_another_zone_is_not_found(cast, login, promoter_b):
    lead = make_lead(make_target(cast.zone_a), cast.promoter_a)
    assert login(promoter_b).get(f"{url('project-new')}?lead={lead.pk}").status_code == 404
    assert login(cast.promoter_a).get(f"{url('project-new')}?lead=abc").status_code == 404


def test_a_capital_increase_is_entered_with_the_enterprises_code(cast, login):
    client = login(cast.promoter_a)
    data = {
        "zone": cast.zone_a.pk,
        "name": "示例智能制造增资项目",
        "kind": "increase",
        "project_type": "industrial",
        "owner": cast.promoter_a.pk,
        "investment_planned": "8000",
        "investment_base": "5000",
        "source": "other",
        "enterprise_uscc": cast.ent_b1.uscc,
    }
    refused = client.post(url("project-new"), data)
    assert "不是本园区已登记的企业" in refused.content.decode()

    client.post(url("project-new"), {**data, "enterprise_uscc": cast.ent_a1.uscc})

    project = Project.objects.get()
    assert (project.enterprise, project.investment_counted) == (cast.ent_a1, Decimal("3000"))


def test_the_leader_may_not_create_or_edit(cast, login):
    project = new_project(cast)
    client = login(cast.leader_a)
    assert client.get(url("project-new")).status_code == 403
    assert client.post(url("project-new"), {"name": "x"}).status_code == 403
    assert client.get(url("project-edit", project.pk)).status_code == 403


def test_the_edit_page_saves_with_the_version_read(cast, login):
    project = new_project(cast)
    client = login(cast.promoter_a)
    form = client.get(url("project-edit", project.pk)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(name="储能电站二期项目", land_mu="150")

    response = client.post(url("project-edit", project.pk), data)

    assert response.status_code == 302
    stored = Project.objects.get(pk=project.pk)
    assert (stored.name, stored.land_mu) == ("储能电站二期项目", Decimal("150"))
    stale = client.post(url("project-edit", project.pk), {**data, "name": "又改"})
    assert "刚被他人修改" in stale.content.decode()


# --- the project page --------------------------------------------------------------------------------------------


def test_the_project_page_shows_the_timeline_figures_and_checklist(cast, login):
    project = signed_project(cast, promised={Stage.STARTED: date(2026, 11, 1)})
    projects.record_arrival(
        project, amount=Decimal("60000"), arrived_on=date(2026, 11, 1), by=cast.promoter_a
    )
    filing = ApprovalItem.objects.get(project=project, name="企业投资项目备案")
    approvals.start_item(filing, on=date(2026, 11, 2), by=cast.promoter_a)

    html = login(cast.promoter_a).get(url("project", project.pk)).content.decode()

    assert 'data-testid="stage-timeline"' in html and 'data-testid="milestone-overdue"' in html
    assert 'data-testid="approval-checklist"' in html and "环境影响评价审批" in html
    assert 'data-testid="approval-overdue"' in html  # 备案 promised within 1 working day
    assert 'data-testid="over-arrived"' in html  # 60000 arrived against 50000 counted
    assert 'data-testid="advance"' in html and 'data-testid="advance-save"' in html
    assert "更正阶段（需填写原因）" in html
    assert 'data-testid="register"' in html


def test_the_advance_form_offers_only_later_stages(cast, login):
    project = signed_project(cast)
    form = login(cast.promoter_a).get(url("project", project.pk)).context["advance_form"]
    assert [value for value, _label in form.fields["to"].choices] == [
        Stage.STARTED,
        Stage.BUILDING,
        Stage.PRODUCING,
        Stage.AT_CAPACITY,
    ]


def test_the_leader_reads_the_page_without_forms_and_may_not_write(cast, login):
    project = signed_project(cast)
    client = login(cast.leader_a)
    html = client.get(url("project", project.pk)).content.decode()
    assert 'data-testid="approval-checklist"' in html
    assert 'data-testid="advance"' not in html and "更正阶段（需填写原因）" not in html
    item = ApprovalItem.objects.filter(project=project).first()
    assert item is not None
    for name, args in (
        ("project-advance", [project.pk]),
        ("project-correct", [project.pk]),
        ("project-signing", [project.pk]),
        ("project-arrival", [project.pk]),
        ("project-register", [project.pk]),
        ("approval-start", [item.pk]),
    ):
        assert client.post(url(name, *args), {}).status_code == 403, name
    assert client.get(url("project-advance", project.pk)).status_code == 405


def test_another_zones_promoter_gets_404_on_every_write(cast, login, promoter_b):
    project = signed_project(cast)
    item = ApprovalItem.objects.filter(project=project).first()
    assert item is not None
    client = login(promoter_b)
    for name, args in (
        ("project-advance", [project.pk]),
        ("project-correct", [project.pk]),
        ("project-agent", [project.pk]),
        ("approval-start", [item.pk]),
        ("approval-finish", [item.pk]),
    ):
        assert client.post(url(name, *args), {"advance-to": "started"}).status_code == 404, name
    assert Project.objects.get(pk=project.pk).stage == Stage.SIGNED


def test_advance_and_correct_from_the_page(cast, login):
    project = new_project(cast)
    client = login(cast.promoter_a)

    response = client.post(
        url("project-advance", project.pk),
        {
            "advance-to": Stage.SIGNED,
            "advance-on": "2026-11-18",
            "advance-event": "云签约",
            "advance-version": 1,
        },
    )
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).stage == Stage.SIGNED
    assert ProjectSigning.objects.get(project=project).event == "云签约"
    assert ApprovalItem.objects.filter(project=project).exists()

    backwards = client.post(
        url("project-advance", project.pk),
        {"advance-to": Stage.NEGOTIATING, "advance-on": "2026-11-18", "advance-version": 2},
    )
    assert backwards.status_code == 200  # the form again: 洽谈 is not among its choices
    assert backwards.context["advance_form"].errors

    no_reason = client.post(
        url("project-correct", project.pk), {"correct-to": Stage.NEGOTIATING, "correct-version": 2}
    )
    assert no_reason.status_code == 200 and no_reason.context["correct_form"].errors
    response = client.post(
        url("project-correct", project.pk),
        {"correct-to": Stage.NEGOTIATING, "correct-reason": "误录", "correct-version": 2},
    )
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).stage == Stage.NEGOTIATING
    assert AuditRecord.objects.filter(action="investment.project_correct").count() == 1


def test_a_stale_advance_shows_the_fresh_page_with_the_reason(cast, login):
    project = new_project(cast)
    projects.advance_project(project, to=Stage.NEGOTIATING, on=date(2026, 11, 1), by=cast.promoter_a)
    response = login(cast.promoter_a).post(
        url("project-advance", project.pk),
        {"advance-to": Stage.SIGNED, "advance-on": "2026-11-18", "advance-version": 1},
        follow=True,
    )
    assert "刚被他人调整" in response.content.decode()
    assert Project.objects.get(pk=project.pk).stage == Stage.NEGOTIATING


def test_signing_arrival_agent_promised_and_approval_forms(cast, login):
    project = signed_project(cast)
    client = login(cast.promoter_a)

    client.post(
        url("project-signing", project.pk),
        {"signing-event": "长三角招商大会", "signing-signed_on": "2026-11-18"},
    )
    client.post(
        url("project-arrival", project.pk), {"arrival-amount": "1200", "arrival-arrived_on": "2026-11-18"}
    )
    client.post(url("project-agent", project.pk), {"agent-agent": cast.promoter_a.pk})
    client.post(
        url("project-promised", project.pk),
        {"promised-stage": Stage.STARTED, "promised-promised_on": "2027-01-10"},
    )
    client.post(
        url("project-approval-add", project.pk),
        {"approval-name": "水土保持方案审批", "approval-statutory_days": "20", "approval-promised_days": "8"},
    )

    assert ProjectSigning.objects.filter(project=project).count() == 2
    assert CapitalArrival.objects.get(project=project).amount == Decimal("1200")
    stored = Project.objects.get(pk=project.pk)
    assert stored.agent == cast.promoter_a
    assert stored.milestones.get(stage=Stage.STARTED).promised_on == date(2027, 1, 10)
    assert ApprovalItem.objects.filter(project=project, name="水土保持方案审批").exists()
    assert projects.signed_totals(Project.objects.all(), date(2026, 1, 1), date(2026, 12, 31))[0] == 1

    bad = client.post(
        url("project-arrival", project.pk), {"arrival-amount": "0", "arrival-arrived_on": "2026-11-18"}
    )
    assert bad.status_code == 200 and bad.context["arrival_form"].errors


def test_start_and_finish_an_approval_from_the_page(cast, login):
    project = signed_project(cast)
    item = ApprovalItem.objects.get(project=project, name="建筑工程施工许可证")
    client = login(cast.promoter_a)

    client.post(url("approval-start", item.pk), {"on": "2026-09-29"})
    response = client.post(url("approval-finish", item.pk), {"on": "2026-10-12"}, follow=True)

    item.refresh_from_db()
    assert (item.promised_by, item.actual_days) == (date(2026, 10, 9), 5)
    assert "用时 5 个工作日" in response.content.decode()
    early = client.post(url("approval-finish", item.pk), {"on": "2026-10-13"}, follow=True)
    assert "已于 2026-10-12 办结" in early.content.decode()


def test_registration_from_the_page_shows_code_errors_on_the_field(cast, login):
    project = signed_project(cast)
    client = login(cast.promoter_a)

    bad = client.post(
        url("project-register", project.pk),
        {"register-name": "示例储能科技有限公司", "register-uscc": "12345"},
    )
    assert bad.status_code == 200 and bad.context["register_form"].errors["uscc"]

    response = client.post(
        url("project-register", project.pk),
        {"register-name": "示例储能科技有限公司", "register-uscc": NEW_USCC},
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert enterprise.zone == cast.zone_a and enterprise.steward is not None
    html = client.get(url("project", project.pk)).content.decode()
    assert 'data-testid="register"' not in html and NEW_USCC in html


# --- the acceleration report -------------------------------------------------------------------------------------


def test_the_acceleration_report_defaults_to_this_year_and_shows_n(cast, login):
    project = signed_project(cast)
    item = ApprovalItem.objects.get(project=project, name="企业投资项目备案")
    approvals.start_item(item, on=date(2026, 11, 2), by=cast.promoter_a)
    approvals.finish_item(item, on=date(2026, 11, 3), by=cast.promoter_a)

    response = login(cast.leader_a).get(url("approvals-report"))

    report = response.context["report"]
    assert (report.start, report.end) == (date(2026, 1, 1), date(2026, 12, 31))
    html = response.content.decode()
    assert 'data-testid="acceleration"' in html and "企业投资项目备案" in html
    assert report.overall.n == 1 and report.overall.speedup_percent == 67
    assert "67%" in html
    previous = login(cast.promoter_a).get(
        url("approvals-report"), {"start": "2025-01-01", "end": "2025-12-31"}
    )
    assert previous.context["report"].overall.n == 0
    wrong = login(cast.promoter_a).get(url("approvals-report"), {"start": "2026-12-01", "end": "2026-01-01"})
    assert wrong.context["report"] is None and wrong.context["form"].errors["end"]
