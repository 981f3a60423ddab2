"""The investment part of `guanjia demo-data`: the issue's numbers, every state and stage, dates that
tell a consistent story, and the second zone's data kept out of the first zone's sight."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from stdnum.cn import uscc as stdnum_uscc

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays, workdays_between
from guanjia.enterprises.models import Enterprise
from guanjia.investment import chains as chain_reads
from guanjia.investment.access import promoters_of_zone, today
from guanjia.investment.demo import DEMO_PROMOTER, SECOND_ZONE_PROMOTER
from guanjia.investment.models import (
    STAGES,
    ApprovalTemplateItem,
    ChainNode,
    FinancingNeed,
    FinancingNeedStatus,
    FinancingOutcome,
    Fund,
    IndustryChain,
    Lead,
    LeadSource,
    LeadStatus,
    Project,
    ProjectKind,
    Roadshow,
    Stage,
    Strength,
    Target,
    stage_index,
)

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module (about 15 s) and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def zone(demo_area, db) -> OrgUnit:
    promoter = User.objects.get(username=DEMO_PROMOTER)
    return OrgUnit.objects.get(pk=promoter.zone_ids()[0])


def test_two_chains_of_30_nodes_show_strong_weak_and_missing_links_and_a_thin_leader(zone):
    chains = list(IndustryChain.objects.filter(zone=zone))
    assert {chain.name for chain in chains} == {"半导体和电子信息", "新能源"}
    nodes = ChainNode.objects.filter(chain__in=chains)
    assert nodes.count() >= 30
    assert nodes.filter(parent__isnull=False).count() >= 5
    strengths = chain_reads.strengths_by_chain(chains)
    found = Counter(s.strength for by_node in strengths.values() for s in by_node.values())
    assert found[Strength.STRONG] >= 3 and found[Strength.WEAK] >= 3 and found[Strength.MISSING] >= 3
    thin = [link for chain in chains for link in chain_reads.thin_supply(chain, strengths[chain.pk])]
    assert any(link.few_suppliers and link.node.name == "晶圆制造" for link in thin)
    gaps = [gap for chain in chains for gap in chain_reads.gaps(chain, strengths[chain.pk])]
    # The target library aims at the gaps: most missing links have candidates to fill them.
    missing = [gap for gap in gaps if gap.strength.strength == Strength.MISSING]
    assert sum(1 for gap in missing if gap.targets) > len(missing) // 2


def test_a_hundred_fictional_targets_with_valid_codes_that_no_enterprise_has(zone):
    targets = list(Target.objects.filter(zone=zone).prefetch_related("nodes"))
    assert len(targets) >= 100
    codes = [t.uscc for t in targets if t.uscc]
    assert len(targets) - len(codes) >= 3  # foreign companies, no USCC
    assert len(codes) == len(set(codes)) and all(stdnum_uscc.is_valid(code) for code in codes)
    assert not Enterprise.objects.filter(uscc__in=codes).exists()
    assert len({t.headquarters for t in targets}) >= 10
    zone_nodes = set(ChainNode.objects.filter(chain__zone=zone).values_list("pk", flat=True))
    for target in targets:
        covered = {node.pk for node in target.nodes.all()}
        assert 1 <= len(covered) <= 2 and covered <= zone_nodes, target.name
        assert bool(target.stock_code) == target.listed, target.name
    assert any(t.listed for t in targets) and any(not t.listed for t in targets)


def test_leads_in_every_state_from_every_source_with_a_consistent_history(zone):
    leads = list(
        Lead.objects.filter(zone=zone)
        .prefetch_related("transitions", "contacts", "logs")
        .select_related("target")
    )
    assert {lead.status for lead in leads} == set(LeadStatus.values)
    assert {lead.source for lead in leads} == set(LeadSource.values)
    promoters = set(promoters_of_zone(zone))
    assert len({lead.owner for lead in leads}) >= 2 and {lead.owner for lead in leads} <= promoters
    year_ago = today() - timedelta(days=366)
    for lead in leads:
        moves = list(lead.transitions.all())
        states = [LeadStatus.NEW] + [move.to_status for move in moves]
        assert [move.from_status for move in moves] == states[:-1], lead.pk
        assert states[-1] == lead.status, lead.pk
        times = [lead.created_at] + [move.at for move in moves]
        assert times == sorted(times) and lead.status_changed_at == times[-1], lead.pk
        assert lead.created_at.date() >= year_ago and times[-1].date() <= today()
        assert (lead.status == LeadStatus.ABANDONED) == bool(lead.abandon_reason), lead.pk
        assert lead.node_id in {node.pk for node in lead.target.nodes.all()}
        assert lead.contacts.all() and all(
            c.phone.startswith("139") and len(c.phone) == 11 for c in lead.contacts.all()
        )
        if lead.status != LeadStatus.NEW:
            assert lead.logs.all(), lead.pk
        assert all(times[0].date() <= log.happened_on <= today() for log in lead.logs.all())
    converted = [lead for lead in leads if lead.status == LeadStatus.CONVERTED]
    assert all(Project.objects.filter(lead=lead).exists() for lead in converted)


def test_projects_in_every_stage_with_milestones_signings_and_arrivals(zone):
    projects = list(
        Project.objects.filter(zone=zone).prefetch_related("milestones", "signings", "arrivals", "events")
    )
    assert {p.stage for p in projects} == set(Stage.values)
    assert sum(1 for p in projects if p.lead_id) > len(projects) / 2
    assert any(p.lead_id is None for p in projects)
    increase = [p for p in projects if p.kind == ProjectKind.CAPITAL_INCREASE]
    assert len(increase) == 1 and increase[0].investment_base > 0
    assert increase[0].enterprise is not None and increase[0].enterprise.zone_id == zone.pk
    assert increase[0].investment_counted == increase[0].investment_planned - increase[0].investment_base
    overdue = 0
    for project in projects:
        k = stage_index(project.stage)
        milestones = {m.stage: m for m in project.milestones.all()}
        reached = [milestones[stage].reached_on or date.max for stage in STAGES[: k + 1]]
        assert reached == sorted(reached) and reached[-1] <= today(), project.name
        later = [milestones[stage] for stage in STAGES[k + 1 :] if stage in milestones]
        assert all(m.reached_on is None and m.promised_on for m in later), project.name
        overdue += sum(1 for m in later if (m.promised_on or date.max) < today())
        signings = list(project.signings.all())
        if k >= stage_index(Stage.SIGNED):
            assert signings and signings[0].signed_on == milestones[Stage.SIGNED].reached_on, project.name
            arrived = sum(a.amount for a in project.arrivals.all())
            assert arrived <= project.investment_counted, project.name
        else:
            assert not signings and not project.arrivals.exists(), project.name
        events = list(project.events.all())
        assert events[0].kind == "create" and events[-1].to_stage == project.stage, project.name
    assert overdue >= 2
    twice = [p for p in projects if len(p.signings.all()) == 2]
    assert len(twice) == 1
    names = [s.event for s in twice[0].signings.all()]
    assert "长三角招商大会" in names[0] and "秋季云签约" in names[1]


def test_signed_projects_have_their_approval_checklist_run_by_an_agent(zone):
    promoters = set(promoters_of_zone(zone))
    states: Counter[str] = Counter()
    for project in Project.objects.filter(zone=zone).prefetch_related("approvals", "milestones"):
        items = list(project.approvals.all())
        if stage_index(project.stage) < stage_index(Stage.SIGNED):
            assert not items and project.agent is None
            continue
        assert project.agent in promoters
        template = ApprovalTemplateItem.objects.filter(project_type=project.project_type)
        assert [item.name for item in items] == [t.name for t in template], project.name
        started_works = next(
            (m.reached_on for m in project.milestones.all() if m.stage == Stage.STARTED), None
        )
        for item in items:
            if item.finished_on is not None:
                assert item.started_on is not None
                states["finished"] += 1
                assert item.actual_days == workdays_between(item.started_on, item.finished_on) >= 1
                assert item.finished_on <= (started_works or today())
            elif item.started_on is not None:
                states["running"] += 1
            else:
                states["waiting"] += 1
                assert item.promised_by is None
            if item.started_on is not None:
                assert item.promised_by == add_workdays(item.started_on, item.promised_days)
                assert item.started_on >= min(s.signed_on for s in project.signings.all())
            if started_works is not None:
                assert item.finished_on is not None, project.name
    assert states["finished"] and states["running"] and states["waiting"]


def test_funds_needs_a_roadshow_and_its_outcome(zone):
    funds = list(Fund.objects.filter(zone=zone).prefetch_related("focus_chains", "focus_nodes"))
    assert len(funds) == 2
    for fund in funds:
        assert fund.focus_chains.all() and fund.focus_nodes.all() and fund.kinds == ["equity"]
        assert fund.stages and fund.ticket_min <= fund.ticket_max
    enterprise_user = User.objects.get(username="gj_enterprise")
    own = FinancingNeed.objects.visible_to(enterprise_user)
    assert own.filter(status=FinancingNeedStatus.OPEN).exists()
    assert FinancingNeed.objects.filter(enterprise__zone=zone).values("enterprise").distinct().count() >= 4
    roadshow = Roadshow.objects.get(zone=zone)
    assert roadshow.funds.count() == 2 and roadshow.needs.count() >= 2
    assert roadshow.needs.filter(pk__in=own.values("pk")).exists()
    outcome = FinancingOutcome.objects.select_related("need").get(need__enterprise__zone=zone)
    assert outcome.need.status == FinancingNeedStatus.FULFILLED and outcome.roadshow == roadshow
    assert roadshow.held_on < outcome.invested_on < today()


def test_second_zone_has_its_own_promoter_and_data_that_the_first_zone_does_not_see(zone):
    promoter = User.objects.get(username=DEMO_PROMOTER)
    promoter_b = User.objects.get(username=SECOND_ZONE_PROMOTER)
    assert promoter_b.has_role(Role.PROMOTER) and promoter_b.zone_ids() != promoter.zone_ids()
    zone_b = OrgUnit.objects.get(pk=promoter_b.zone_ids()[0])
    assert Lead.objects.filter(zone=zone_b).exists() and Project.objects.filter(zone=zone_b).exists()
    assert IndustryChain.objects.filter(zone=zone_b).exists()
    assert not Lead.objects.visible_to(promoter).filter(zone=zone_b).exists()
    assert not Project.objects.visible_to(promoter_b).filter(zone=zone).exists()
    assert not FinancingNeed.objects.visible_to(promoter).filter(enterprise__zone=zone_b).exists()
    city_leader = User.objects.get(username="gj_city_leader")
    assert {p.zone_id for p in Project.objects.visible_to(city_leader)} == {zone.pk, zone_b.pk}
    assert not Lead.objects.visible_to(User.objects.get(username="gj_sysadmin")).exists()
