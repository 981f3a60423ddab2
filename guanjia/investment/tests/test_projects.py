"""Projects (招商项目, 七个一批): creation, forward-only stage moves, audited corrections, signings counted
once, capital increases counting their increment, promised milestones and their overdue flag, arrivals,
and registration as an enterprise of the zone's registry with a steward."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import Enterprise, StewardAssignment
from guanjia.investment import projects
from guanjia.investment.models import (
    ApprovalItem,
    LeadStatus,
    Project,
    ProjectEvent,
    ProjectKind,
    ProjectMilestone,
    ProjectSigning,
    ProjectType,
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
from guanjia.testing import USCC_A1

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 2)
NEW_USCC = "91110000802100433B"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=BJ), tick=False):
        yield


def signed_at_the_fair(cast, **fields) -> Project:
    """Signed on 2026-10-20 at 秋季招商大会."""
    return signed_project(cast, signed_on=date(2026, 10, 20), event="秋季招商大会", **fields)


def reached(project: Project) -> dict[str, date | None]:
    return dict(ProjectMilestone.objects.filter(project=project).values_list("stage", "reached_on"))


# --- creating ---------------------------------------------------------------------------------------------


def test_a_direct_project_starts_in_planning_with_a_milestone_per_stage(cast):
    project = new_project(cast, promised={Stage.SIGNED: date(2026, 12, 1), Stage.STARTED: date(2027, 3, 1)})

    assert project.stage == Stage.PLANNING
    milestones = {m.stage: m for m in project.milestones.all()}
    assert list(milestones) == list(Stage.values) or set(milestones) == set(Stage.values)
    assert milestones[Stage.PLANNING].reached_on == date(2026, 9, 1)
    assert all(m.reached_on is None for s, m in milestones.items() if s != Stage.PLANNING)
    assert milestones[Stage.SIGNED].promised_on == date(2026, 12, 1)
    assert ProjectEvent.objects.get(project=project).kind == ProjectEvent.Kind.CREATE
    assert AuditRecord.objects.filter(action="investment.project_create", object_id=str(project.pk)).exists()


def test_a_project_from_a_lead_takes_the_leads_facts_and_converts_it(cast):
    chain = make_chain(cast.zone_a, cast.promoter_a)
    target = make_target(cast.zone_a, "宁德示例新能源股份有限公司")
    lead = make_lead(target, cast.promoter_a, node=node(chain, "电芯"))

    project = projects.create_project(
        lead=lead, name="电芯项目", owner=cast.promoter_a, by=cast.promoter_a, investment_planned=Decimal("1")
    )

    assert (project.zone, project.target, project.node, project.chain) == (
        cast.zone_a,
        target,
        lead.node,
        chain,
    )
    assert project.source == lead.source and project.lead == lead
    assert project.stage == Stage.PLANNING
    assert reached(project)[Stage.PLANNING] == TODAY
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED


def test_a_negotiating_lead_starts_its_project_in_negotiation_on_the_day_it_entered_it(cast):
    target = make_target(cast.zone_a)
    lead = make_lead(
        target,
        cast.promoter_a,
        status=LeadStatus.NEGOTIATING,
        status_changed_at=datetime(2026, 10, 15, 9, tzinfo=BJ),
    )

    project = projects.create_project(
        lead=lead, name="洽谈项目", owner=cast.promoter_a, by=cast.promoter_a, investment_planned=Decimal("1")
    )

    assert project.stage == Stage.NEGOTIATING
    days = reached(project)
    assert days[Stage.PLANNING] == days[Stage.NEGOTIATING] == date(2026, 10, 15)
    assert days[Stage.SIGNED] is None


def test_a_converted_lead_cannot_become_a_second_project(cast):
    lead = make_lead(make_target(cast.zone_a), cast.promoter_a)
    projects.create_project(
        lead=lead, name="一号项目", owner=cast.promoter_a, by=cast.promoter_a, investment_planned=Decimal("1")
    )

    with pytest.raises(ServiceError, match="不能转为项目"):
        projects.create_project(
            lead=lead,
            name="二号项目",
            owner=cast.promoter_a,
            by=cast.promoter_a,
            investment_planned=Decimal("1"),
        )
    assert Project.objects.filter(lead=lead).count() == 1


def test_a_capital_increase_names_an_enterprise_of_the_zone_and_its_base(cast):
    with pytest.raises(ServiceError, match="项目企业"):
        new_project(cast, kind=ProjectKind.CAPITAL_INCREASE, investment_base=Decimal("100"))
    with pytest.raises(ServiceError, match="不是本园区的企业"):
        new_project(cast, kind=ProjectKind.CAPITAL_INCREASE, enterprise=cast.ent_b1)
    with pytest.raises(ServiceError, match="计划总投资"):
        new_project(
            cast,
            kind=ProjectKind.CAPITAL_INCREASE,
            enterprise=cast.ent_a1,
            investment_planned=Decimal("100"),
            investment_base=Decimal("300"),
        )
    with pytest.raises(ServiceError, match="增资前已投资：只有增资扩股项目填写"):
        new_project(cast, investment_base=Decimal("300"))

    project = new_project(
        cast,
        kind=ProjectKind.CAPITAL_INCREASE,
        enterprise=cast.ent_a1,
        investment_planned=Decimal("8000"),
        investment_base=Decimal("5000"),
    )
    assert project.investment_counted == Decimal("3000")


def test_bad_input_names_the_field(cast):
    with pytest.raises(ServiceError, match="^计划总投资：不能为负数"):
        new_project(cast, investment_planned=Decimal("-1"))
    with pytest.raises(ServiceError, match="^谋划日期：不能晚于今天"):
        new_project(cast, on=date(2026, 11, 3))
    with pytest.raises(ServiceError, match="^项目名称：不能为空"):
        new_project(cast, name="  ")
    with pytest.raises(ServiceError, match="^招商专员"):
        projects.create_project(
            zone=cast.zone_a,
            name="x",
            owner=cast.leader_a,
            by=cast.promoter_a,
            investment_planned=Decimal("1"),
        )
    with pytest.raises(ServiceError, match="^约定日期：签约的约定日期不能早于洽谈"):
        new_project(cast, promised={Stage.NEGOTIATING: date(2026, 12, 1), Stage.SIGNED: date(2026, 11, 1)})
    chain_b = make_chain(cast.zone_b, cast.promoter_a, name="经开区链")
    with pytest.raises(ServiceError, match="^链环节|^产业链"):
        new_project(cast, node=node(chain_b, "电芯"))
    assert not Project.objects.exists()


def test_only_a_promoter_of_the_zone_creates_projects(cast, promoter_b):
    for who in (cast.leader_a, promoter_b, cast.steward_a, cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            projects.create_project(
                zone=cast.zone_a, name="x", owner=cast.promoter_a, by=who, investment_planned=Decimal("1")
            )
    assert not Project.objects.exists()


# --- stage moves ----------------------------------------------------------------------------------------------


def test_advance_moves_forward_and_skipped_stages_take_the_same_date(cast, approval_templates):
    project = new_project(cast)

    projects.advance_project(project, to=Stage.STARTED, on=date(2026, 10, 28), by=cast.promoter_a)

    project.refresh_from_db()
    assert project.stage == Stage.STARTED
    days = reached(project)
    assert days[Stage.NEGOTIATING] == days[Stage.SIGNED] == days[Stage.STARTED] == date(2026, 10, 28)
    assert days[Stage.BUILDING] is None
    # Skipping 签约 still records the signing (直接签约) and creates the checklist.
    assert list(ProjectSigning.objects.filter(project=project).values_list("event", flat=True)) == [
        "直接签约"
    ]
    assert ApprovalItem.objects.filter(project=project).count() == len(approval_templates["industrial"])
    audit = AuditRecord.objects.get(action="investment.project_advance", object_id=str(project.pk))
    assert audit.detail["from"] == Stage.PLANNING and audit.detail["to"] == Stage.STARTED


def test_advance_backwards_or_to_the_same_stage_is_refused(cast):
    project = new_project(cast)
    projects.advance_project(project, to=Stage.NEGOTIATING, on=date(2026, 10, 1), by=cast.promoter_a)

    for to in (Stage.PLANNING, Stage.NEGOTIATING):
        with pytest.raises(ServiceError, match="只能向后推进"):
            projects.advance_project(project, to=to, on=TODAY, by=cast.promoter_a)
    project.refresh_from_db()
    assert project.stage == Stage.NEGOTIATING
    assert reached(project)[Stage.NEGOTIATING] == date(2026, 10, 1)


def test_advance_dates_are_neither_in_the_future_nor_before_the_previous_stage(cast):
    project = new_project(cast)
    projects.advance_project(project, to=Stage.NEGOTIATING, on=date(2026, 10, 20), by=cast.promoter_a)

    with pytest.raises(ServiceError, match="^日期：不能晚于今天"):
        projects.advance_project(project, to=Stage.SIGNED, on=date(2026, 11, 3), by=cast.promoter_a)
    with pytest.raises(ServiceError, match="^日期：不能早于上一阶段的日期（2026-10-20）"):
        projects.advance_project(project, to=Stage.SIGNED, on=date(2026, 10, 19), by=cast.promoter_a)
    assert Project.objects.get(pk=project.pk).stage == Stage.NEGOTIATING


def test_reaching_signed_creates_the_signing_and_the_checklist_of_the_projects_type(cast, approval_templates):
    project = new_project(cast, project_type=ProjectType.RESEARCH)
    assert not ApprovalItem.objects.filter(project=project).exists()

    projects.advance_project(
        project, to=Stage.SIGNED, on=date(2026, 10, 20), by=cast.promoter_a, event="云签约"
    )

    signing = ProjectSigning.objects.get(project=project)
    assert (signing.event, signing.signed_on) == ("云签约", date(2026, 10, 20))
    names = list(
        ApprovalItem.objects.filter(project=project).order_by("position").values_list("name", flat=True)
    )
    assert names == [name for name, _s, _p in approval_templates["research"]]
    item = ApprovalItem.objects.get(project=project, name="环境影响评价审批")
    assert (item.statutory_days, item.promised_days, item.started_on) == (30, 15, None)


def test_a_stale_advance_loses_with_a_conflict(cast):
    project = new_project(cast)
    mine = Project.objects.get(pk=project.pk)
    theirs = Project.objects.get(pk=project.pk)
    projects.advance_project(theirs, to=Stage.NEGOTIATING, on=TODAY, by=cast.promoter_a)

    with pytest.raises(Conflict):
        projects.advance_project(mine, to=Stage.SIGNED, on=TODAY, by=cast.promoter_a)
    assert Project.objects.get(pk=project.pk).stage == Stage.NEGOTIATING
    assert not ProjectSigning.objects.filter(project=project).exists()


def test_a_correction_goes_back_with_a_reason_clears_later_dates_and_is_audited(cast, approval_templates):
    project = signed_at_the_fair(cast)
    projects.advance_project(project, to=Stage.STARTED, on=date(2026, 10, 25), by=cast.promoter_a)

    with pytest.raises(ServiceError, match="^更正原因：不能为空"):
        projects.correct_project(project, to=Stage.NEGOTIATING, reason=" ", by=cast.promoter_a)
    with pytest.raises(ServiceError, match="更正只能退回"):
        projects.correct_project(project, to=Stage.BUILDING, reason="录错", by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        projects.correct_project(project, to=Stage.NEGOTIATING, reason="录错", by=cast.leader_a)

    projects.correct_project(
        project, to=Stage.NEGOTIATING, reason="协议尚未正式签署，误录为签约", by=cast.promoter_a
    )

    project.refresh_from_db()
    assert project.stage == Stage.NEGOTIATING
    days = reached(project)
    assert days[Stage.NEGOTIATING] == date(2026, 10, 20)
    assert days[Stage.SIGNED] is None and days[Stage.STARTED] is None
    event = ProjectEvent.objects.filter(project=project).last()
    assert event is not None
    assert (event.kind, event.from_stage, event.to_stage) == ("correct", Stage.STARTED, Stage.NEGOTIATING)
    audit = AuditRecord.objects.get(action="investment.project_correct", object_id=str(project.pk))
    assert audit.actor == cast.promoter_a
    assert audit.detail == {
        "from": Stage.STARTED,
        "to": Stage.NEGOTIATING,
        "reason": "协议尚未正式签署，误录为签约",
    }
    # No longer signed: it does not count as a signed project.
    assert projects.signed_totals(Project.objects.all(), date(2026, 1, 1), date(2026, 12, 31)) == (
        0,
        Decimal("0"),
    )


def test_advancing_again_after_a_correction_keeps_one_checklist(cast, approval_templates):
    project = signed_at_the_fair(cast)
    projects.correct_project(project, to=Stage.NEGOTIATING, reason="误录", by=cast.promoter_a)
    projects.advance_project(
        project, to=Stage.SIGNED, on=date(2026, 10, 30), by=cast.promoter_a, event="秋季招商大会"
    )

    assert ApprovalItem.objects.filter(project=project).count() == len(approval_templates["industrial"])
    assert ProjectSigning.objects.filter(project=project).count() == 1
    assert reached(project)[Stage.SIGNED] == date(2026, 10, 30)


# --- counting: once per project, increments only ---------------------------------------------------------------


def test_a_project_at_two_signing_events_counts_once(cast, approval_templates):
    project = signed_at_the_fair(cast, investment_planned=Decimal("50000"))
    projects.add_signing(project, event="2026 云签约", signed_on=date(2026, 10, 28), by=cast.promoter_a)
    projects.add_signing(project, event="长三角招商大会", signed_on=date(2026, 11, 1), by=cast.promoter_a)

    assert ProjectSigning.objects.filter(project=project).count() == 3
    year = (date(2026, 1, 1), date(2026, 12, 31))
    assert projects.signed_totals(Project.objects.all(), *year) == (1, Decimal("50000"))
    # The period is the 签约 milestone's: a later event does not move the project into another period.
    assert projects.signed_totals(Project.objects.all(), date(2026, 11, 1), date(2026, 11, 30)) == (
        0,
        Decimal("0"),
    )


def test_a_capital_increase_counts_only_its_increment(cast, approval_templates):
    signed_at_the_fair(cast, investment_planned=Decimal("50000"))
    signed_at_the_fair(
        cast,
        name="示例智能制造增资扩股项目",
        kind=ProjectKind.CAPITAL_INCREASE,
        enterprise=cast.ent_a1,
        investment_planned=Decimal("8000"),
        investment_base=Decimal("5000"),
    )
    new_project(cast, name="仍在谋划的项目", investment_planned=Decimal("99999"))

    assert projects.signed_totals(Project.objects.all(), date(2026, 1, 1), date(2026, 12, 31)) == (
        2,
        Decimal("53000"),
    )


def test_a_signing_event_is_for_signed_projects_and_named_once(cast, approval_templates):
    project = new_project(cast)
    with pytest.raises(ServiceError, match="项目签约后才能登记签约活动"):
        projects.add_signing(project, event="云签约", signed_on=TODAY, by=cast.promoter_a)
    signed = signed_at_the_fair(cast, name="另一个项目")
    with pytest.raises(ServiceError, match="已登记过“秋季招商大会”"):
        projects.add_signing(signed, event="秋季招商大会", signed_on=TODAY, by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        projects.add_signing(signed, event="云签约", signed_on=TODAY, by=cast.leader_a)


def test_arrivals_add_up_and_may_exceed_the_counted_investment(cast, approval_templates):
    project = signed_at_the_fair(cast, investment_planned=Decimal("100"))
    projects.record_arrival(project, amount=Decimal("60"), arrived_on=date(2026, 10, 25), by=cast.promoter_a)
    projects.record_arrival(project, amount=Decimal("70"), arrived_on=date(2026, 11, 1), by=cast.promoter_a)

    assert projects.arrived_of(project) == Decimal("130")
    assert projects.arrived_total(Project.objects.all(), date(2026, 11, 1), date(2026, 11, 30)) == Decimal(
        "70"
    )
    with pytest.raises(ServiceError, match="^到资金额：必须大于 0"):
        projects.record_arrival(project, amount=Decimal("0"), arrived_on=TODAY, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="项目签约后才能登记到资"):
        projects.record_arrival(new_project(cast), amount=Decimal("1"), arrived_on=TODAY, by=cast.promoter_a)


# --- promised milestones --------------------------------------------------------------------------------------------


def test_a_milestone_promised_before_today_and_not_reached_is_overdue(cast):
    late = new_project(cast, name="逾期项目", promised={Stage.NEGOTIATING: date(2026, 10, 31)})
    on_time = new_project(cast, name="按期项目", promised={Stage.NEGOTIATING: date(2026, 11, 2)})
    done = new_project(cast, name="已达成项目", promised={Stage.NEGOTIATING: date(2026, 10, 1)})
    projects.advance_project(done, to=Stage.NEGOTIATING, on=date(2026, 10, 5), by=cast.promoter_a)

    overdue = projects.overdue_milestones(Project.objects.all())
    assert [(m.project_id, m.stage) for m in overdue] == [(late.pk, Stage.NEGOTIATING)]
    assert list(projects.only_overdue(Project.objects.all())) == [late]
    counts = {p.pk: p.overdue_count for p in projects.with_figures(Project.objects.all())}  # type: ignore[attr-defined]
    assert counts == {late.pk: 1, on_time.pk: 0, done.pk: 0}
    steps = {s.stage: s for s in projects.timeline(late)}
    assert steps[Stage.NEGOTIATING].overdue and not steps[Stage.SIGNED].overdue


def test_set_promised_keeps_the_dates_in_stage_order(cast):
    project = new_project(cast, promised={Stage.SIGNED: date(2026, 12, 1)})

    projects.set_promised(project, Stage.STARTED, date(2027, 2, 1), by=cast.promoter_a)
    with pytest.raises(ServiceError, match="^约定日期：开工的约定日期不能早于签约"):
        projects.set_promised(project, Stage.STARTED, date(2026, 11, 30), by=cast.promoter_a)
    projects.set_promised(project, Stage.SIGNED, None, by=cast.promoter_a)

    promised = dict(ProjectMilestone.objects.filter(project=project).values_list("stage", "promised_on"))
    assert promised[Stage.SIGNED] is None and promised[Stage.STARTED] == date(2027, 2, 1)
    with pytest.raises(NotAllowed):
        projects.set_promised(project, Stage.STARTED, date(2027, 3, 1), by=cast.leader_a)


# --- editing ------------------------------------------------------------------------------------------------------------


def test_update_is_optimistic_and_keeps_the_increment_rule(cast):
    project = new_project(cast)
    projects.update_project(project, version=project.version, by=cast.promoter_a, land_mu=Decimal("120"))
    assert Project.objects.get(pk=project.pk).land_mu == Decimal("120")

    with pytest.raises(Conflict):
        projects.update_project(project, version=1, by=cast.promoter_a, name="改名")
    with pytest.raises(ServiceError, match="增资前已投资：只有增资扩股项目填写"):
        projects.update_project(
            project, version=project.version, by=cast.promoter_a, investment_base=Decimal("5")
        )
    with pytest.raises(NotAllowed):
        projects.update_project(project, version=project.version, by=cast.leader_a, name="改名")
    assert Project.objects.get(pk=project.pk).name == "储能电站项目"


# --- registration ----------------------------------------------------------------------------------------------------


def test_a_signed_project_registers_as_an_enterprise_with_a_steward(cast, approval_templates):
    project = signed_at_the_fair(cast)

    enterprise = projects.register_project_enterprise(
        project, uscc=NEW_USCC, name="示例储能科技有限公司", by=cast.promoter_a
    )

    stored = Enterprise.objects.get(uscc=NEW_USCC)
    assert stored == enterprise and stored.zone == cast.zone_a
    # The lightest-loaded steward of the zone (steward_a serves a 重点 enterprise, steward_a2 a 一般 one).
    assert stored.steward == cast.steward_a2
    assignment = StewardAssignment.objects.get(enterprise=stored, ended_at__isnull=True)
    assert assignment.reason == "招商项目落地"
    assert Project.objects.get(pk=project.pk).enterprise == stored
    assert AuditRecord.objects.filter(action="enterprise.create", object_id=str(stored.pk)).exists()
    assert AuditRecord.objects.filter(
        action="investment.project_register", object_id=str(project.pk)
    ).exists()


def test_registration_takes_the_named_steward(cast, approval_templates):
    project = signed_at_the_fair(cast)
    enterprise = projects.register_project_enterprise(
        project, uscc=NEW_USCC, name="示例储能科技有限公司", steward=cast.steward_a, by=cast.promoter_a
    )
    assert enterprise.steward == cast.steward_a
    with pytest.raises(ServiceError, match="^注册落地：该项目已关联企业"):
        projects.register_project_enterprise(project, uscc=NEW_USCC, name="again", by=cast.promoter_a)


def test_registration_refuses_bad_codes_other_zones_stewards_and_unsigned_or_increase_projects(
    cast, approval_templates
):
    project = signed_at_the_fair(cast)
    with pytest.raises(projects.UsccInvalid, match="18 位"):
        projects.register_project_enterprise(project, uscc="9111", name="示例", by=cast.promoter_a)
    with pytest.raises(projects.UsccInvalid, match="已登记"):
        projects.register_project_enterprise(project, uscc=USCC_A1, name="示例", by=cast.promoter_a)
    with pytest.raises(ServiceError, match="^服务管家"):
        projects.register_project_enterprise(
            project, uscc=NEW_USCC, name="示例", steward=cast.steward_b, by=cast.promoter_a
        )
    with pytest.raises(NotAllowed):
        projects.register_project_enterprise(project, uscc=NEW_USCC, name="示例", by=cast.leader_a)
    with pytest.raises(ServiceError, match="项目签约后才能注册"):
        projects.register_project_enterprise(
            new_project(cast), uscc=NEW_USCC, name="示例", by=cast.promoter_a
        )
    increase = signed_at_the_fair(
        cast,
        name="增资项目",
        kind=ProjectKind.CAPITAL_INCREASE,
        enterprise=cast.ent_a1,
        investment_planned=Decimal("10"),
        investment_base=Decimal("5"),
    )
    with pytest.raises(ServiceError, match="增资扩股项目已有企业"):
        projects.register_project_enterprise(increase, uscc=NEW_USCC, name="示例", by=cast.promoter_a)
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()
    assert Project.objects.get(pk=project.pk).enterprise is None
