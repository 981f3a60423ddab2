# ruff: noqa: F811 - the book fixture is imported from test_pipeline.py and named by each test
"""The pipeline's Excel export and the projects export: they open with openpyxl, hold the page's
numbers, stay within the user's scope and are audited."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.core.models import AuditRecord
from guanjia.investment.models import LeadSource, Stage
from guanjia.investment.tests.test_pipeline import _table_counts, book, frozen  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _workbook(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(BytesIO(response.content))


def _rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_pipeline_export_holds_the_same_numbers_as_the_page(book, login):
    client = login(book.cast.promoter_a)
    page = client.get(reverse("investment:pipeline"), {"year": 2026}).content.decode()
    workbook = _workbook(client.get(reverse("investment:pipeline-export"), {"year": 2026}))
    assert workbook.sheetnames == [
        "线索漏斗 2026",
        "项目漏斗（全部项目）",
        "线索漏斗按产业链",
        "线索漏斗按来源",
        "线索各状态用时",
        "项目各阶段用时",
        "投资按月份 2026",
        "投资按产业链 2026",
    ]
    funnel = _rows(workbook["线索漏斗 2026"])
    assert funnel[0][:2] == ["环节", "数量"]
    page_counts = list(_table_counts(page, "funnel-table").values())
    assert [row[1] for row in funnel[1:]] == page_counts == [4, 3, 2, 1, 1, 1, 0, 0]
    assert funnel[2][2] == 0.75 and funnel[2][3] == 4  # 接触: 3 of 4
    projects = _rows(workbook["项目漏斗（全部项目）"])
    assert [row[1] for row in projects[1:]] == list(_table_counts(page, "project-funnel-table").values())
    months = _rows(workbook["投资按月份 2026"])
    assert months[3] == ["3月", 1, 50000, 1000]
    assert months[-1] == ["合计", 2, 60000, 3000]
    chains = _rows(workbook["投资按产业链 2026"])
    assert chains[1] == ["新能源", 2, 60000, 3000]
    times = {row[0]: row for row in _rows(workbook["线索各状态用时"])[1:]}
    assert times["新线索"][1:] == [4, 1, 45.1, 10]
    record = AuditRecord.objects.filter(action="investment.export").latest("pk")
    assert record.actor == book.cast.promoter_a
    assert record.detail["table"] == "pipeline" and record.detail["year"] == 2026


def test_pipeline_export_by_quarter_and_within_scope(book, login, promoter_b):
    workbook = _workbook(
        login(promoter_b).get(reverse("investment:pipeline-export"), {"year": 2026, "by": "quarter"})
    )
    quarters = _rows(workbook["投资按季度 2026"])
    assert len(quarters) == 1 + 4 + 1
    assert quarters[1] == ["第1季度", 1, 7000, 100]  # zone B's project only
    assert [row[1] for row in _rows(workbook["线索漏斗 2026"])[1:3]] == [1, 0]
    assert (
        login(promoter_b)
        .get(reverse("investment:pipeline-export"), {"zone": book.cast.zone_a.pk})
        .status_code
        == 404
    )


def test_projects_export_lists_counted_investment_arrivals_and_overdue_milestones(book, login):
    workbook = _workbook(login(book.cast.leader_a).get(reverse("investment:projects-export")))
    rows = _rows(workbook.active)
    headers = rows[0]
    by_name = {row[0]: dict(zip(headers, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"储能电芯生产基地", "示例新材料增资扩产"}  # zone B's project is not here
    increase = by_name["示例新材料增资扩产"]
    assert (increase["计划总投资（万元）"], increase["增资前已投资（万元）"]) == (30000, 20000)
    assert (increase["计入投资额（万元）"], increase["已到资（万元）"]) == (10000, 2000)
    assert increase["产业链"] == "新能源"  # through its node
    assert increase["签约实际日期"] == "2026-04-20"
    assert (increase["开工约定日期"], increase["开工实际日期"], increase["开工逾期"]) == (
        "2026-06-01",
        None,
        "已逾期",
    )
    assert increase["逾期节点数"] == 1
    won = by_name["储能电芯生产基地"]
    # Both arrivals, last year's too: the list shows what arrived in all.
    assert (won["计入投资额（万元）"], won["已到资（万元）"]) == (50000, 1500)
    assert (won["建设约定日期"], won["建设逾期"], won["逾期节点数"]) == ("2026-12-01", None, 0)
    assert AuditRecord.objects.filter(action="investment.export", detail__table="projects").count() == 1


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"stage": Stage.SIGNED}, {"示例新材料增资扩产"}),
        ({"source": LeadSource.REFERRAL}, {"储能电芯生产基地"}),
        ({"stage": Stage.AT_CAPACITY}, set()),
    ],
)
def test_projects_export_filters(book, login, query, names):
    rows = _rows(
        _workbook(login(book.cast.promoter_a).get(reverse("investment:projects-export"), query)).active
    )
    assert {row[0] for row in rows[1:]} == names


def test_projects_export_by_chain_and_out_of_scope_chain(book, login, promoter_b):
    client = login(book.cast.promoter_a)
    rows = _rows(
        _workbook(client.get(reverse("investment:projects-export"), {"chain": book.chain.pk})).active
    )
    assert len(rows) == 3
    assert (
        login(promoter_b).get(reverse("investment:projects-export"), {"chain": book.chain.pk}).status_code
        == 404
    )
    rows_b = _rows(_workbook(login(promoter_b).get(reverse("investment:projects-export"))).active)
    assert [row[0] for row in rows_b[1:]] == ["经开区装备项目"]
    assert rows_b[1][9] == 7000  # 计入投资额
