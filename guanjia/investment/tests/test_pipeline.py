"""招商漏斗与投资统计: the funnel, time in stage and investment figures on a hand-built book of leads
and projects, the pipeline page and the investment home, and who may see them.

The book (zone A unless said), frozen at 2026-06-15 10:00 Beijing time:

  lead      created     moves                                          now          node / source
  new       01-10       —                                              新线索        电芯 / 展会
  dropped   01-21       →接触中 02-01, →放弃 02-11                       放弃          电芯 / 基金
  talking   02-20       →接触中 03-01, →洽谈中 03-11                      洽谈中        — / 展会
  won       01-01       →接触中 01-05, →洽谈中 01-15, →转为项目 02-01       转为项目      正极材料 / 以商招商
  old       2025-11-03  →接触中 2025-12-01                                接触中        电芯 / 展会

  project   from    stage  reached                                     money (万元)
  won       won     开工   谋划 02-01 洽谈 02-01 签约 03-01 开工 05-01      50000 planned; arrived 1000 on 03-15
                           signed at two events (03-01, 04-10)            and 500 on 2025-12-20 (last year)
  increase  —       签约   谋划 04-01 洽谈 04-10 签约 04-20                 30000 planned on a base of 20000:
                           开工 promised 06-01, not reached (overdue)      counts 10000; arrived 2000 on 05-05

Zone B: one lead (2026-02-02) and one project signed 2026-02-01 (7000, arrived 100 on 02-10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.investment import pipeline
from guanjia.investment.models import (
    CapitalArrival,
    Lead,
    LeadSource,
    LeadStatus,
    LeadTransition,
    Project,
    ProjectKind,
    ProjectMilestone,
    ProjectSigning,
    Stage,
)
from guanjia.investment.tests.helpers import make_chain, make_target, node
from guanjia.investment.views.pipeline import SECTIONS

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=BEIJING)
TODAY = NOW.date()


def at(day: str) -> datetime:
    """Midnight of a Beijing date."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=BEIJING)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _lead(target, owner, created: str, moves: list[tuple[str, str, str]], **fields) -> Lead:
    status = moves[-1][1] if moves else LeadStatus.NEW
    if status == LeadStatus.ABANDONED:
        fields.setdefault("abandon_reason", "对方战略调整")
    lead = Lead.objects.create(
        zone=target.zone,
        target=target,
        owner=owner,
        created_by=owner,
        created_at=at(created),
        status=status,
        **fields,
    )
    for from_status, to_status, day in moves:
        LeadTransition.objects.create(
            lead=lead, from_status=from_status, to_status=to_status, at=at(day), by=owner
        )
    return lead


def _project(zone, owner, name: str, stage: str, reached: dict[str, str], **fields) -> Project:
    project = Project.objects.create(
        zone=zone, name=name, owner=owner, created_by=owner, stage=stage, **fields
    )
    for milestone_stage, day in reached.items():
        ProjectMilestone.objects.create(
            project=project, stage=milestone_stage, reached_on=date.fromisoformat(day)
        )
    return project


@dataclass
class Book:
    cast: Any
    chain: Any
    leads: dict[str, Lead]
    projects: dict[str, Project]


def build_book(cast, promoter_b) -> Book:
    owner = cast.promoter_a
    chain = make_chain(cast.zone_a, owner)
    cell, cathode = node(chain, "电芯"), node(chain, "正极材料")
    target = make_target(cast.zone_a, "宁德示例电池有限公司")
    new, contacting, talking = LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.NEGOTIATING
    leads = {
        "new": _lead(target, owner, "2026-01-10", [], node=cell, source=LeadSource.EXPO),
        "dropped": _lead(
            target,
            owner,
            "2026-01-21",
            [(new, contacting, "2026-02-01"), (contacting, LeadStatus.ABANDONED, "2026-02-11")],
            node=cell,
            source=LeadSource.FUND,
        ),
        "talking": _lead(
            target,
            owner,
            "2026-02-20",
            [(new, contacting, "2026-03-01"), (contacting, talking, "2026-03-11")],
            source=LeadSource.EXPO,
        ),
        "won": _lead(
            target,
            owner,
            "2026-01-01",
            [
                (new, contacting, "2026-01-05"),
                (contacting, talking, "2026-01-15"),
                (talking, LeadStatus.CONVERTED, "2026-02-01"),
            ],
            node=cathode,
            source=LeadSource.REFERRAL,
        ),
        "old": _lead(
            target, owner, "2025-11-03", [(new, contacting, "2025-12-01")], node=cell, source=LeadSource.EXPO
        ),
    }
    won = _project(
        cast.zone_a,
        owner,
        "储能电芯生产基地",
        Stage.STARTED,
        {
            "planning": "2026-02-01",
            "negotiating": "2026-02-01",
            "signed": "2026-03-01",
            "started": "2026-05-01",
        },
        lead=leads["won"],
        target=target,
        chain=chain,
        node=cathode,
        source=LeadSource.REFERRAL,
        investment_planned=Decimal("50000"),
    )
    ProjectMilestone.objects.create(project=won, stage=Stage.BUILDING, promised_on=date(2026, 12, 1))
    ProjectSigning.objects.create(
        project=won, event="春季重大项目集中签约", signed_on=date(2026, 3, 1), by=owner
    )
    ProjectSigning.objects.create(project=won, event="投洽会", signed_on=date(2026, 4, 10), by=owner)
    CapitalArrival.objects.create(project=won, arrived_on=date(2026, 3, 15), amount=Decimal("1000"), by=owner)
    CapitalArrival.objects.create(project=won, arrived_on=date(2025, 12, 20), amount=Decimal("500"), by=owner)
    increase = _project(
        cast.zone_a,
        owner,
        "示例新材料增资扩产",
        Stage.SIGNED,
        {"planning": "2026-04-01", "negotiating": "2026-04-10", "signed": "2026-04-20"},
        node=cell,
        kind=ProjectKind.CAPITAL_INCREASE,
        enterprise=cast.ent_a1,
        source=LeadSource.OTHER,
        investment_planned=Decimal("30000"),
        investment_base=Decimal("20000"),
    )
    ProjectMilestone.objects.create(project=increase, stage=Stage.STARTED, promised_on=date(2026, 6, 1))
    CapitalArrival.objects.create(
        project=increase, arrived_on=date(2026, 5, 5), amount=Decimal("2000"), by=owner
    )
    # Zone B's own book.
    target_b = make_target(cast.zone_b, "经开区目标企业")
    leads["zone_b"] = _lead(target_b, promoter_b, "2026-02-02", [], source=LeadSource.EXPO)
    project_b = _project(
        cast.zone_b,
        promoter_b,
        "经开区装备项目",
        Stage.SIGNED,
        {"planning": "2026-01-10", "negotiating": "2026-01-20", "signed": "2026-02-01"},
        investment_planned=Decimal("7000"),
    )
    CapitalArrival.objects.create(
        project=project_b, arrived_on=date(2026, 2, 10), amount=Decimal("100"), by=promoter_b
    )
    return Book(cast, chain, leads, {"won": won, "increase": increase, "zone_b": project_b})


@pytest.fixture
def book(cast, promoter_b, frozen) -> Book:
    return build_book(cast, promoter_b)


def counts(steps: list[pipeline.Step]) -> dict[str, int]:
    return {step.key: step.count for step in steps}


def scope_a(book: Book, **narrow) -> pipeline.Scope:
    return pipeline.scope_for(book.cast.promoter_a, **narrow)


# --- the funnel ------------------------------------------------------------------------------------------


def test_lead_funnel_counts_the_years_leads_by_how_far_they_came(book):
    steps = pipeline.lead_funnel(scope_a(book), 2026)
    # The abandoned lead counts as contacted; the lead of 2025 is not in 2026's funnel.
    assert counts(steps) == {
        "leads": 4,
        "contacted": 3,
        "negotiated": 2,
        "converted": 1,
        "signed": 1,
        "started": 1,
        "producing": 0,
        "at_capacity": 0,
    }
    contacted, negotiated = steps[1], steps[2]
    assert (contacted.from_previous.numerator, contacted.from_previous.denominator) == (3, 4)
    assert (negotiated.from_previous.numerator, negotiated.from_previous.denominator) == (2, 3)
    assert (negotiated.from_first.numerator, negotiated.from_first.denominator) == (2, 4)
    assert steps[-2].from_previous.value == 0  # 投产 of 1 started
    assert steps[-1].from_previous.value is None  # 达产 of 0 producing: no rate
    assert counts(pipeline.lead_funnel(scope_a(book), 2025)) == {
        **dict.fromkeys(counts(steps), 0),
        "leads": 1,
        "contacted": 1,
    }


def test_a_rate_over_nothing_has_no_value(book):
    steps = pipeline.lead_funnel(scope_a(book), 2024)
    assert steps[0].count == 0
    assert steps[1].from_previous.value is None
    assert steps[1].from_previous.percent == "—"


def test_project_funnel_counts_every_project_including_those_entered_directly(book):
    steps = counts(pipeline.project_funnel(scope_a(book)))
    assert steps == {
        "planning": 2,
        "negotiating": 2,
        "signed": 2,
        "started": 1,
        "building": 0,
        "producing": 0,
        "at_capacity": 0,
    }


def test_a_project_that_skipped_a_milestone_still_counts_at_the_stages_before_its_own(book):
    # Entered directly at 开工 with no milestone at all: it reached 谋划 to 开工 all the same.
    Project.objects.create(
        zone=book.cast.zone_a,
        name="直接登记的开工项目",
        owner=book.cast.promoter_a,
        created_by=book.cast.promoter_a,
        stage=Stage.STARTED,
    )
    steps = counts(pipeline.project_funnel(scope_a(book)))
    assert (steps["planning"], steps["signed"], steps["started"], steps["building"]) == (3, 3, 2, 0)


def test_funnel_per_chain_and_per_source(book):
    by_chain = {row.label: counts(row.steps) for row in pipeline.lead_funnel_by(scope_a(book), 2026, "chain")}
    assert list(by_chain) == ["新能源", "未关联产业链"]
    assert by_chain["新能源"] == {
        **by_chain["新能源"],
        "leads": 3,
        "contacted": 2,
        "negotiated": 1,
        "converted": 1,
        "signed": 1,
    }
    assert (by_chain["未关联产业链"]["leads"], by_chain["未关联产业链"]["negotiated"]) == (1, 1)
    by_source = {row.key: counts(row.steps) for row in pipeline.lead_funnel_by(scope_a(book), 2026, "source")}
    assert list(by_source) == [LeadSource.FUND, LeadSource.REFERRAL, LeadSource.EXPO]  # LeadSource's order
    assert (by_source["expo"]["leads"], by_source["expo"]["contacted"], by_source["expo"]["converted"]) == (
        2,
        1,
        0,
    )
    assert (by_source["fund"]["leads"], by_source["fund"]["contacted"], by_source["fund"]["negotiated"]) == (
        1,
        1,
        0,
    )
    assert by_source["referral"]["started"] == 1


def test_chain_and_source_filters_narrow_every_figure(book):
    chain_scope = scope_a(book, chain=book.chain)
    assert counts(pipeline.lead_funnel(chain_scope, 2026))["leads"] == 3
    # The capital increase names only a node: it belongs to the node's chain.
    assert counts(pipeline.project_funnel(chain_scope))["signed"] == 2
    expo = scope_a(book, source=LeadSource.EXPO)
    assert counts(pipeline.lead_funnel(expo, 2026)) == {
        **counts(pipeline.lead_funnel(expo, 2026)),
        "leads": 2,
        "contacted": 1,
    }
    assert counts(pipeline.project_funnel(expo))["planning"] == 0


# --- time in stage -----------------------------------------------------------------------------------


def test_lead_time_in_stage_counts_an_open_stint_up_to_now(book):
    times = {row.key: row for row in pipeline.lead_time_in_stage(scope_a(book), 2026)}
    # 新线索: 156 d 10 h (still new), 11, 9, 4 → mean 45.1, median 10.
    assert (times["new"].n, times["new"].still) == (4, 1)
    assert times["new"].mean_days == Decimal("45.1")
    assert times["new"].median_days == Decimal("10.0")
    # 接触中: 10 days each for the dropped, the talking and the won lead.
    assert (times["contacting"].n, times["contacting"].still, times["contacting"].mean_days) == (
        3,
        0,
        Decimal("10.0"),
    )
    # 洽谈中: 17 days (won) and 96 d 10 h so far (talking).
    assert (times["negotiating"].n, times["negotiating"].still) == (2, 1)
    assert times["negotiating"].mean_days == Decimal("56.7")
    assert times["negotiating"].median_days == Decimal("56.7")


def test_lead_time_in_stage_moves_with_the_clock(book):
    with time_machine.travel(datetime(2026, 6, 25, 10, 0, tzinfo=BEIJING), tick=False):
        times = {row.key: row for row in pipeline.lead_time_in_stage(scope_a(book), 2026)}
    # Ten more days for the one lead still new: (166.4 + 11 + 9 + 4) / 4.
    assert times["new"].mean_days == Decimal("47.6")
    assert times["contacting"].mean_days == Decimal("10.0")  # nobody is still there


def test_project_time_in_stage_between_reached_dates(book):
    times = {row.key: row for row in pipeline.project_time_in_stage(scope_a(book))}
    assert (times["planning"].n, times["planning"].mean_days, times["planning"].median_days) == (
        2,
        Decimal("4.5"),
        Decimal("4.5"),
    )
    assert (times["negotiating"].n, times["negotiating"].mean_days) == (2, Decimal("19.0"))
    # 签约: 61 days for the won project; the capital increase is still there since 04-20 (56 days).
    assert (times["signed"].n, times["signed"].still, times["signed"].mean_days) == (2, 1, Decimal("58.5"))
    assert (times["started"].n, times["started"].still, times["started"].mean_days) == (1, 1, Decimal("45.0"))
    assert times["building"].n == 0 and times["building"].mean_days is None
    assert "at_capacity" not in times  # the last stage has no end


# --- investment --------------------------------------------------------------------------------------


def test_investment_per_month_counts_a_project_once_and_an_increase_by_its_increment(book):
    rows = {row.key: row for row in pipeline.investment_by_period(scope_a(book), 2026, "month")}
    assert len(rows) == 12
    # Signed at two events, counted once, in the month of its 签约 milestone.
    assert (rows["3"].signed, rows["3"].counted, rows["3"].arrived) == (1, Decimal("50000"), Decimal("1000"))
    assert (rows["4"].signed, rows["4"].counted, rows["4"].arrived) == (1, Decimal("10000"), Decimal("0"))
    assert (rows["5"].signed, rows["5"].arrived) == (0, Decimal("2000"))
    total = pipeline.total(list(rows.values()))
    # The arrival of 2025-12-20 is not 2026's.
    assert (total.signed, total.counted, total.arrived) == (2, Decimal("60000"), Decimal("3000"))


def test_investment_per_quarter_and_per_chain(book):
    quarters = {row.key: row for row in pipeline.investment_by_period(scope_a(book), 2026, "quarter")}
    assert [(q.signed, q.counted, q.arrived) for q in quarters.values()] == [
        (1, Decimal("50000"), Decimal("1000")),
        (1, Decimal("10000"), Decimal("2000")),
        (0, Decimal("0"), Decimal("0")),
        (0, Decimal("0"), Decimal("0")),
    ]
    chains = pipeline.investment_by_chain(scope_a(book), 2026)
    assert [(row.label, row.signed, row.counted, row.arrived) for row in chains] == [
        ("新能源", 2, Decimal("60000"), Decimal("3000"))
    ]
    last_year = pipeline.investment_by_chain(scope_a(book), 2025)
    assert [(row.signed, row.arrived) for row in last_year] == [(0, Decimal("500"))]


def test_a_project_without_a_chain_is_totalled_as_unlinked(book):
    Project.objects.filter(pk=book.projects["increase"].pk).update(node=None)
    chains = {row.key: row for row in pipeline.investment_by_chain(scope_a(book), 2026)}
    assert chains[pipeline.NO_CHAIN].label == "未关联产业链"
    assert (chains[pipeline.NO_CHAIN].counted, chains[pipeline.NO_CHAIN].arrived) == (
        Decimal("10000"),
        Decimal("2000"),
    )


# --- the home figures --------------------------------------------------------------------------------


def test_home_figures(book):
    figures = pipeline.home_figures(scope_a(book), TODAY)
    assert figures.open_leads == 3  # new, talking, and last year's contacting lead
    assert {stage: n for stage, _label, n in figures.stages} == {
        "planning": 0,
        "negotiating": 0,
        "signed": 1,
        "started": 1,
        "building": 0,
        "producing": 0,
        "at_capacity": 0,
    }
    assert (figures.signed, figures.signed_counted, figures.arrived) == (2, Decimal("60000"), Decimal("3000"))
    # 开工 of the capital increase was promised for 06-01; 建设 of the won project is promised for December.
    assert figures.overdue_milestones == 1


# --- pages -------------------------------------------------------------------------------------------


def _table_counts(html: str, testid: str) -> dict[str, int]:
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S)
    assert table, testid
    return {
        key: int(n)
        for key, n in re.findall(r'<tr data-step="(\w+)">.*?data-count>(\d+)<', table.group(0), re.S)
    }


def test_pipeline_page_shows_the_funnel_chart_and_the_same_numbers_in_a_table(book, login):
    response = login(book.cast.promoter_a).get(reverse("investment:pipeline"), {"year": 2026})
    assert response.status_code == 200
    html = response.content.decode()
    assert _table_counts(html, "funnel-table") == counts(pipeline.lead_funnel(scope_a(book), 2026))
    assert _table_counts(html, "project-funnel-table")["signed"] == 2
    assert 'data-pipeline-chart="lead-funnel-data"' in html
    assert '<script id="lead-funnel-data" type="application/json">' in html
    assert '"kind": "funnel"' in html
    for testid in (
        "chain-table",
        "source-table",
        "lead-times-table",
        "project-times-table",
        "investment-table",
    ):
        assert f'data-testid="{testid}"' in html
    assert "60000.00" in html  # the year's counted investment
    assert "style=" not in html and "onclick" not in html


def test_pipeline_page_defaults_to_this_year_and_refuses_a_bad_year_with_a_message(book, login):
    client = login(book.cast.leader_a)
    assert client.get(reverse("investment:pipeline")).context["figures"].year == 2026
    response = client.get(reverse("investment:pipeline"), {"year": "二〇二六"})
    assert response.status_code == 200
    assert "年度：请填写四位数年份" in response.content.decode()
    assert response.context["figures"].year == 2026


def test_other_zone_promoter_sees_only_its_own_zone(book, login, promoter_b):
    client = login(promoter_b)
    figures = client.get(reverse("investment:pipeline"), {"year": 2026}).context["figures"]
    assert counts(figures.lead_funnel)["leads"] == 1  # zone B's lead; none of zone A's four
    assert counts(figures.project_funnel)["signed"] == 1
    assert (figures.investment_total.counted, figures.investment_total.arrived) == (
        Decimal("7000"),
        Decimal("100"),
    )
    # Zone A's zone or chain is not found for zone B's promoter.
    assert client.get(reverse("investment:pipeline"), {"zone": book.cast.zone_a.pk}).status_code == 404
    assert client.get(reverse("investment:pipeline"), {"chain": book.chain.pk}).status_code == 404
    assert client.get(reverse("investment:index"), {"zone": book.cast.zone_a.pk}).status_code == 404
    home = client.get(reverse("investment:index")).context["figures"]
    assert (home.open_leads, home.signed, home.overdue_milestones) == (1, 1, 0)


def test_city_leader_sees_every_zone_or_one(book, login):
    client = login(book.cast.leader_city)
    everything = client.get(reverse("investment:pipeline"), {"year": 2026})
    assert 'name="zone"' in everything.content.decode()  # the zone filter is offered
    assert counts(everything.context["figures"].lead_funnel)["leads"] == 5
    zone_a = client.get(reverse("investment:pipeline"), {"year": 2026, "zone": book.cast.zone_a.pk})
    assert counts(zone_a.context["figures"].lead_funnel)["leads"] == 4
    assert zone_a.context["figures"].investment_total.counted == Decimal("60000")


def test_a_chain_of_another_zone_than_the_chosen_one_is_dropped_with_a_message(book, login):
    response = login(book.cast.leader_city).get(
        reverse("investment:pipeline"), {"year": 2026, "zone": book.cast.zone_b.pk, "chain": book.chain.pk}
    )
    assert response.status_code == 200
    assert "不属于经开区，已按整个园区统计" in response.content.decode()
    figures = response.context["figures"]
    assert figures.scope.chain is None
    assert counts(figures.lead_funnel)["leads"] == 1


def test_zone_promoter_gets_no_zone_filter(book, login):
    html = login(book.cast.promoter_a).get(reverse("investment:pipeline")).content.decode()
    assert 'name="zone"' not in html


@pytest.mark.parametrize(
    "name",
    ["investment:index", "investment:pipeline", "investment:pipeline-export", "investment:projects-export"],
)
def test_roles_without_investment_data_are_refused(book, login, name):
    for user in (book.cast.steward_a, book.cast.ent_user_a1, book.cast.dispatcher_a, book.cast.sysadmin):
        assert login(user).get(reverse(name)).status_code == 403, user
    assert login(book.cast.leader_a).get(reverse(name)).status_code == 200


def test_pipeline_page_queries_do_not_grow_with_the_data(book, login):
    client = login(book.cast.leader_a)
    url = reverse("investment:pipeline")
    client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"year": 2026})
    target = book.leads["new"].target
    for index in range(15):
        lead = _lead(
            target,
            book.cast.promoter_a,
            "2026-03-02",
            [(LeadStatus.NEW, LeadStatus.CONTACTING, "2026-03-05")],
        )
        project = _project(
            book.cast.zone_a,
            book.cast.promoter_a,
            f"批量项目{index}",
            Stage.SIGNED,
            {"planning": "2026-03-01", "signed": "2026-03-20"},
            lead=lead,
            chain=book.chain,
        )
        CapitalArrival.objects.create(
            project=project, arrived_on=date(2026, 4, 1), amount=Decimal("1"), by=book.cast.promoter_a
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"year": 2026})
    assert counts(response.context["figures"].lead_funnel)["leads"] == 19
    assert len(many) == len(few)
    assert len(many) <= 30


def test_home_shows_the_key_figures_and_links_to_the_investment_pages(book, login):
    response = login(book.cast.promoter_a).get(reverse("investment:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-testid="open-leads">3<', html)
    assert re.search(r'data-testid="signed">2<', html)
    assert re.search(r'data-testid="overdue-milestones">1<', html)
    assert 'data-stage="started">1<' in html
    for name, _label, _hint in SECTIONS:
        assert f'href="{reverse(name)}"' in html, name


def test_home_queries_are_bounded(book, login):
    client = login(book.cast.leader_a)
    client.get(reverse("investment:index"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("investment:index"))
    assert len(queries) <= 20  # sessions, roles and messages included
