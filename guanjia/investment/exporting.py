"""The pipeline's figures and the projects list as Excel: the same numbers as the page, within the
user's scope; every export is audited. No personal data leaves here (no contact of a target)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from guanjia.core import audit
from guanjia.core.models import User
from guanjia.investment import access, pipeline
from guanjia.investment.models import STAGES, LeadSource, Project, ProjectKind, Stage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name, and names longer than 31.
    return "".join("-" if c in "[]:*?/\\" else c for c in title)[:31]


def _response(workbook: Workbook, name: str) -> HttpResponse:
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        content = buffer.read()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{name}-{timezone.localdate():%Y%m%d}.xlsx"
    )
    return response


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: Iterable[list[Any]]) -> int:
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    return count


def _rate(rate: pipeline.Rate) -> float | str:
    value = rate.value
    return "" if value is None else round(value, 4)


def _funnel_rows(steps: list[pipeline.Step]) -> list[list[Any]]:
    return [
        [
            step.label,
            step.count,
            _rate(step.from_previous),
            step.from_previous.denominator,
            _rate(step.from_first),
            step.from_first.denominator,
        ]
        for step in steps
    ]


FUNNEL_HEADERS = ["环节", "数量", "较上一环节转化率", "上一环节 n", "较首环节转化率", "首环节 n"]


def _grouped_rows(rows: list[pipeline.FunnelRow]) -> list[list[Any]]:
    return [
        [row.label, *[step.count for step in row.steps], *[_rate(step.from_first) for step in row.steps[1:]]]
        for row in rows
    ]


def _grouped_headers(first: str) -> list[str]:
    labels = [label for _key, label in pipeline.lead_step_definitions()]
    return [first, *labels, *[f"线索→{label}" for label in labels[1:]]]


def _times(rows: list[pipeline.StageTime]) -> list[list[Any]]:
    return [
        [
            row.label,
            row.n,
            row.still,
            "" if row.mean_days is None else row.mean_days,
            "" if row.median_days is None else row.median_days,
        ]
        for row in rows
    ]


TIME_HEADERS = ["状态/阶段", "n", "其中仍在该状态（计至今日）", "平均天数", "中位天数"]


def _investment(rows: list[pipeline.InvestmentRow], total: pipeline.InvestmentRow) -> list[list[Any]]:
    return [[row.label, row.signed, row.counted, row.arrived] for row in [*rows, total]]


INVESTMENT_HEADERS = ["签约项目数", "计入投资额（万元）", "到资（万元）"]


def pipeline_workbook(user: User, figures: pipeline.Figures) -> HttpResponse:
    """Every table of the pipeline page, one sheet each."""
    scope = figures.scope
    workbook = Workbook(write_only=True)
    period = "月份" if figures.by == "month" else "季度"
    sheets = [
        (f"线索漏斗 {figures.year}", FUNNEL_HEADERS, _funnel_rows(figures.lead_funnel)),
        ("项目漏斗（全部项目）", FUNNEL_HEADERS, _funnel_rows(figures.project_funnel)),
        ("线索漏斗按产业链", _grouped_headers("产业链"), _grouped_rows(figures.by_chain)),
        ("线索漏斗按来源", _grouped_headers("线索来源"), _grouped_rows(figures.by_source)),
        ("线索各状态用时", TIME_HEADERS, _times(figures.lead_times)),
        ("项目各阶段用时", TIME_HEADERS, _times(figures.project_times)),
        (
            f"投资按{period} {figures.year}",
            [period, *INVESTMENT_HEADERS],
            _investment(figures.investment, figures.investment_total),
        ),
        (
            f"投资按产业链 {figures.year}",
            ["产业链", *INVESTMENT_HEADERS],
            _investment(figures.investment_chains, figures.investment_chains_total),
        ),
    ]
    rows = sum(_sheet(workbook, title, headers, body) for title, headers, body in sheets)
    audit.record(
        user,
        "investment.export",
        summary=f"导出招商漏斗与投资统计（{scope.label} {figures.year} 年）",
        detail={
            "table": "pipeline",
            "rows": rows,
            "year": figures.year,
            "zone": scope.zone.pk if scope.zone else None,
            "chain": scope.chain.pk if scope.chain else None,
            "source": scope.source,
        },
    )
    return _response(workbook, "investment-pipeline")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _money(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal("0")


def project_headers() -> list[str]:
    headers = [
        "项目名称",
        "园区",
        "产业链",
        "链环节",
        "线索来源",
        "项目性质",
        "当前阶段",
        "计划总投资（万元）",
        "增资前已投资（万元）",
        "计入投资额（万元）",
        "已到资（万元）",
        "用地（亩）",
        "招商专员",
    ]
    for stage in STAGES:
        label = Stage(stage).label
        headers += [f"{label}约定日期", f"{label}实际日期", f"{label}逾期"]
    return [*headers, "逾期节点数"]


def project_rows(projects: QuerySet[Project], day: date) -> Iterable[list[Any]]:
    sources = dict(LeadSource.choices)
    kinds = dict(ProjectKind.choices)
    for project in projects:
        chain = project.chain or (project.node.chain if project.node else None)
        milestones = {m.stage: m for m in project.milestones.all()}
        cells: list[Any] = [
            project.name,
            project.zone.name,
            chain.name if chain else _("未关联产业链"),
            project.node.name if project.node else "",
            str(sources.get(project.source, project.source)),
            str(kinds.get(project.kind, project.kind)),
            project.get_stage_display(),
            project.investment_planned,
            project.investment_base,
            _money(project.counted),  # type: ignore[attr-defined]
            _money(project.arrived_total),  # type: ignore[attr-defined]
            project.land_mu,
            str(project.owner),
        ]
        overdue = 0
        for stage in STAGES:
            milestone = milestones.get(stage)
            promised = milestone.promised_on if milestone else None
            reached = milestone.reached_on if milestone else None
            flag = pipeline.milestone_flag(promised, reached, day)
            overdue += promised is not None and reached is None and promised < day
            cells += [_day(promised), _day(reached), flag]
        cells.append(overdue)
        yield cells


def projects_workbook(
    user: User, scope: pipeline.Scope, projects: QuerySet[Project], *, stage: str
) -> HttpResponse:
    """The projects list with counted investment, arrived money, each stage's dates and overdue flags."""
    day = access.today()
    workbook = Workbook(write_only=True)
    count = _sheet(workbook, "招商项目", project_headers(), project_rows(projects, day))
    audit.record(
        user,
        "investment.export",
        summary=f"导出招商项目 {count} 个（{scope.label}）",
        detail={
            "table": "projects",
            "rows": count,
            "zone": scope.zone.pk if scope.zone else None,
            "chain": scope.chain.pk if scope.chain else None,
            "source": scope.source,
            "stage": stage,
        },
    )
    return _response(workbook, "investment-projects")
