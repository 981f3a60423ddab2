"""Approval agency (审批代办): the checklist a signed project gets, its agent, working-day arithmetic in the
official calendar (holidays skipped, 调休 Saturdays counted), overdue items, custom items, and the
acceleration report (行政审批加速度) — who may, and who may not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.investment import approvals, projects
from guanjia.investment.models import ApprovalItem, Project, ProjectType, Stage
from guanjia.investment.tests.helpers import make_promoter, new_project, signed_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_2026_11_20", "approval_templates")]


def signed(cast, name="储能电站项目", **fields) -> Project:
    """An industrial project of 1,000 万元 signed on 2026-09-10: its checklist's deadlines run from there."""
    fields.setdefault("project_type", ProjectType.INDUSTRIAL)
    return signed_project(
        cast, name, investment_planned=Decimal("1000"), signed_on=date(2026, 9, 10), **fields
    )


def item(project: Project, name: str) -> ApprovalItem:
    return ApprovalItem.objects.get(project=project, name=name)


def test_the_checklist_appears_at_signing_with_the_templates_items(cast, approval_templates):
    project = new_project(
        cast,
        "服务业项目",
        project_type=ProjectType.SERVICE,
        investment_planned=Decimal("1"),
        on=date(2026, 9, 1),
    )
    projects.advance_project(project, to=Stage.NEGOTIATING, on=date(2026, 9, 5), by=cast.promoter_a)
    assert not ApprovalItem.objects.filter(project=project).exists()

    projects.advance_project(project, to=Stage.SIGNED, on=date(2026, 9, 10), by=cast.promoter_a)

    rows = list(
        ApprovalItem.objects.filter(project=project).values_list("name", "statutory_days", "promised_days")
    )
    assert rows == list(approval_templates["service"])


def test_started_before_national_day_holidays_are_skipped_and_the_adjusted_saturday_counts(cast):
    project = signed(cast)
    filing = item(project, "建筑工程施工许可证")  # statutory 7, promised 3 working days

    approvals.start_item(filing, on=date(2026, 9, 29), by=cast.promoter_a)

    # 9-30 is the 1st working day; 10-1 … 10-7 are 国庆 holidays; 10-8 and 10-9 the 2nd and 3rd.
    assert item(project, "建筑工程施工许可证").promised_by == date(2026, 10, 9)
    planning = item(project, "建设用地规划许可证")  # promised 5
    approvals.start_item(planning, on=date(2026, 9, 29), by=cast.promoter_a)
    # … and Saturday 10-10 is a 调休 working day: the 4th, so the 5th is Monday 10-12.
    assert item(project, "建设用地规划许可证").promised_by == date(2026, 10, 12)

    approvals.finish_item(item(project, "建设用地规划许可证"), on=date(2026, 10, 12), by=cast.promoter_a)

    done = item(project, "建设用地规划许可证")
    assert (done.finished_on, done.actual_days) == (date(2026, 10, 12), 5)
    assert not approvals.is_overdue(done) and not approvals.finished_late(done)
    assert AuditRecord.objects.filter(action="investment.approval_finish", object_id=str(done.pk)).exists()


def test_an_unfinished_item_past_its_promised_day_is_overdue(cast):
    project = signed(cast)
    approvals.start_item(
        item(project, "企业投资项目备案"), on=date(2026, 11, 17), by=cast.promoter_a
    )  # promised 1
    approvals.start_item(item(project, "施工图审查"), on=date(2026, 11, 17), by=cast.promoter_a)  # promised 7

    late = item(project, "企业投资项目备案")
    assert late.promised_by == date(2026, 11, 18)
    assert approvals.is_overdue(late)
    assert not approvals.is_overdue(item(project, "施工图审查"))
    assert list(approvals.overdue_items(ApprovalItem.objects.all())) == [late]

    approvals.finish_item(late, on=date(2026, 11, 20), by=cast.promoter_a)
    assert not approvals.is_overdue(item(project, "企业投资项目备案"))
    assert approvals.finished_late(item(project, "企业投资项目备案"))


def test_start_and_finish_are_checked(cast):
    project = signed(cast)
    filing = item(project, "企业投资项目备案")
    stale = item(project, "企业投资项目备案")  # another promoter's page, read before the start
    with pytest.raises(ServiceError, match="尚未受理"):
        approvals.finish_item(filing, on=date(2026, 11, 1), by=cast.promoter_a)
    with pytest.raises(ServiceError, match="^受理日期：不能晚于今天"):
        approvals.start_item(filing, on=date(2026, 11, 21), by=cast.promoter_a)
    approvals.start_item(filing, on=date(2026, 11, 2), by=cast.promoter_a)
    with pytest.raises(ServiceError, match="已于 2026-11-02 受理"):
        approvals.start_item(item(project, "企业投资项目备案"), on=date(2026, 11, 3), by=cast.promoter_a)
    with pytest.raises(Conflict):
        approvals.start_item(stale, on=date(2026, 11, 3), by=cast.promoter_a)
    with pytest.raises(ServiceError, match="^办结日期：不能早于受理日期"):
        approvals.finish_item(item(project, "企业投资项目备案"), on=date(2026, 11, 1), by=cast.promoter_a)
    assert item(project, "企业投资项目备案").started_on == date(2026, 11, 2)


def test_only_promoters_of_the_zone_start_and_finish(cast, promoter_b):
    project = signed(cast)
    filing = item(project, "企业投资项目备案")
    for who in (cast.leader_a, promoter_b, cast.steward_a):
        with pytest.raises(NotAllowed):
            approvals.start_item(filing, on=date(2026, 11, 2), by=who)
    assert item(project, "企业投资项目备案").started_on is None


def test_the_agent_is_a_promoter_of_the_zone(cast, promoter_b):
    project = signed(cast)
    colleague = make_promoter("promoter_a2", cast.zone_a)

    approvals.assign_agent(project, agent=colleague, by=cast.promoter_a)

    assert Project.objects.get(pk=project.pk).agent == colleague
    for agent in (promoter_b, cast.steward_a):
        with pytest.raises(ServiceError, match="^代办员"):
            approvals.assign_agent(project, agent=agent, by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        approvals.assign_agent(project, agent=cast.promoter_a, by=cast.leader_a)


def test_a_custom_item_is_added_with_its_days(cast):
    project = signed(cast)
    custom = approvals.add_item(
        project, name="水土保持方案审批", statutory_days=20, promised_days=8, by=cast.promoter_a
    )
    assert (custom.statutory_days, custom.promised_days) == (20, 8)
    assert custom.position > item(project, "建筑工程施工许可证").position

    with pytest.raises(ServiceError, match="^承诺时限：不能超过法定时限"):
        approvals.add_item(project, name="某审批", statutory_days=5, promised_days=6, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="清单中已有"):
        approvals.add_item(
            project, name="水土保持方案审批", statutory_days=20, promised_days=8, by=cast.promoter_a
        )
    unsigned = new_project(cast, "谋划项目", investment_planned=Decimal("1"))
    with pytest.raises(ServiceError, match="项目签约后"):
        approvals.add_item(unsigned, name="某审批", statutory_days=5, promised_days=2, by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        approvals.add_item(project, name="某审批", statutory_days=5, promised_days=2, by=cast.leader_a)


def test_acceleration_per_approval_and_overall_in_the_period(cast, promoter_b):
    first, second = signed(cast, name="一号项目"), signed(cast, name="二号项目")
    other_zone = signed(cast, zone=cast.zone_b, by=promoter_b, name="经开区项目")
    # 备案 (statutory 3): 1 and 3 working days; 规划许可 (statutory 20): 5 working days.
    for project, name, start, end in (
        (first, "企业投资项目备案", date(2026, 11, 2), date(2026, 11, 3)),  # Mon → Tue: 1
        (second, "企业投资项目备案", date(2026, 11, 2), date(2026, 11, 5)),  # Mon → Thu: 3
        (first, "建设用地规划许可证", date(2026, 11, 2), date(2026, 11, 9)),  # Mon → Mon: 5
        (other_zone, "企业投资项目备案", date(2026, 11, 2), date(2026, 11, 3)),
    ):
        by = promoter_b if project == other_zone else cast.promoter_a
        approvals.start_item(item(project, name), on=start, by=by)
        approvals.finish_item(item(project, name), on=end, by=by)
    # Finished outside the period, and one still running: neither counts.
    approvals.start_item(item(first, "施工图审查"), on=date(2026, 10, 8), by=cast.promoter_a)
    approvals.finish_item(item(first, "施工图审查"), on=date(2026, 10, 30), by=cast.promoter_a)
    approvals.start_item(item(second, "施工图审查"), on=date(2026, 11, 2), by=cast.promoter_a)

    report = approvals.acceleration([cast.zone_a.pk], date(2026, 11, 1), date(2026, 11, 30))

    rows = {row.name: row for row in report.rows}
    assert set(rows) == {"企业投资项目备案", "建设用地规划许可证"}
    filing = rows["企业投资项目备案"]
    assert (filing.n, filing.statutory, filing.promised, filing.actual) == (2, 3.0, 1.0, 2.0)
    assert filing.on_time == 1  # the 3-day one missed its 1-day promise
    assert filing.speedup == pytest.approx(1 - 2 / 3)
    planning = rows["建设用地规划许可证"]
    assert (planning.n, planning.actual, planning.speedup) == (1, 5.0, 0.75)
    overall = report.overall
    assert overall.n == 3
    assert overall.statutory == pytest.approx(round(26 / 3, 2))
    assert overall.actual == 3.0
    assert overall.speedup == pytest.approx(1 - 3.0 / round(26 / 3, 2))
    empty = approvals.acceleration([cast.zone_a.pk], date(2025, 1, 1), date(2025, 12, 31))
    assert (empty.rows, empty.overall.n, empty.overall.speedup) == ([], 0, None)
