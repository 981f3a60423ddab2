"""The cockpit's tables as Excel: the same rows as the page, within the user's scope, masked for its
role (drill-down rows: confidential enterprises hidden, phone numbers per core.masking); every
export is audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from guanjia.appeals import kpi
from guanjia.appeals.exporting import _sheet_title, _xlsx_response
from guanjia.cockpit import drill, figures
from guanjia.cockpit.stewards import StewardRow
from guanjia.core import audit
from guanjia.core.models import User


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _workbook(title: str, headers: list[str], rows: Iterable[list[Any]]) -> tuple[Workbook, int]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    return workbook, count


def _send(user: User, title: str, headers: list[str], rows: Iterable[list[Any]], name: str) -> HttpResponse:
    workbook, count = _workbook(title, headers, rows)
    audit.record(
        user,
        "cockpit.export",
        summary=f"导出驾驶舱表格 {count} 行（{title}）",
        detail={"rows": count, "table": name},
    )
    return _xlsx_response(workbook, f"cockpit-{name}")


def _kpi_header() -> list[str]:
    headers = []
    for label in kpi.KPIS.values():
        headers += [str(label), f"{label} n"]
    return headers


def cockpit_table(
    user: User, name: str, tables: dict[str, Any], scope: figures.CockpitScope, period: kpi.Period
) -> HttpResponse:
    """One table of the cockpit page by its name: kpis, zones, visits, campaigns, or a chart's id."""
    where = f"{scope.label} {period.start:%Y-%m-%d}—{period.end:%Y-%m-%d}"
    if name == "kpis":
        rows = [
            [
                card.label,
                figures.show(card.current, card.code),
                card.current.numerator,
                card.current.denominator,
                figures.show(card.previous, card.code),
                card.previous.denominator,
                "" if card.delta is None else card.delta,
            ]
            for card in tables["kpis"]
        ]
        headers = ["指标", "本期", "分子", "分母 n", "上期", "上期 n", "变化（百分点/天）"]
        return _send(user, f"考核指标 {where}", headers, rows, name)
    if name == "zones":
        rows = []
        for row in tables["zones"]:
            cells: list[Any] = [row["zone"].name]
            for cell in row["cells"]:
                cells += [cell["value"], cell["n"]]
            rows.append(cells)
        return _send(user, f"园区对比 {where}", ["园区", *_kpi_header()], rows, name)
    if name == "visits":
        rows = [
            [
                row.zone.name,
                row.enterprises,
                row.overdue,
                _percent(1 - row.share if row.enterprises else None),
            ]
            for row in tables["visits"]
        ]
        return _send(user, f"走访 {where}", ["园区", "企业数", "走访逾期", "按时走访占比"], rows, name)
    if name == "campaigns":
        rows = [
            [
                c.campaign.name,
                c.campaign.starts_on.isoformat(),
                c.campaign.ends_on.isoformat(),
                c.visited,
                c.total,
                _percent(c.rate),
            ]
            for c in tables["campaigns"]
        ]
        headers = ["专项行动", "开始", "结束", "已走访", "目标企业", "覆盖率"]
        return _send(user, f"专项行动 {where}", headers, rows, name)
    for chart in tables["charts"]:
        if chart["id"] == name:
            rows = [[row["bar"].label, row["bar"].value] for row in chart["rows"]]
            return _send(user, f"{chart['title']} {where}", ["分组", "诉求数"], rows, name)
    raise Http404(_("没有这张表"))


def ranking_table(
    user: User,
    name: str,
    tables: dict[str, list[dict[str, Any]]],
    steward_rows: list[StewardRow] | None,
    period: kpi.Period,
) -> HttpResponse:
    """The rankings page's tables: department, zone, or steward (only where the page shows it)."""
    where = f"{period.start:%Y-%m-%d}—{period.end:%Y-%m-%d}"
    if name in ("department", "zone"):
        rows = []
        for row in tables[name]:
            score = row["score"]
            cells: list[Any] = [
                row["name"],
                "" if score.score is None else score.score,
                score.rank or _("样本不足"),
            ]
            for cell in row["cells"]:
                cells += [cell["value"], cell["n"], cell["rank"] or ""]
            rows.append(cells)
        headers = ["部门" if name == "department" else "园区", "综合得分", "综合排名"]
        for label in kpi.KPIS.values():
            headers += [str(label), f"{label} n", f"{label} 排名"]
        title = _("部门排名") if name == "department" else _("园区排名")
        return _send(user, f"{title} {where}", headers, rows, name)
    if name == "steward" and steward_rows is not None:
        rows = [
            [
                str(row.steward),
                row.enterprises,
                _percent(row.visits_on_time),
                row.campaign_visited,
                row.campaign_targets,
                _percent(row.campaign_coverage),
                row.raised,
                row.solved,
                row.rated,
                _percent(row.satisfaction),
            ]
            for row in steward_rows
        ]
        headers = [
            "服务管家",
            "服务企业",
            "按时走访占比",
            "专项行动已走访",
            "专项行动目标",
            "专项行动覆盖率",
            "走访提出诉求",
            "其中已解决",
            "企业评价数",
            "企业满意率",
        ]
        return _send(user, f"服务管家 {where}", headers, rows, name)
    raise Http404(_("没有这张表"))


def drill_table(user: User, target: drill.Drill, found: QuerySet[Any], *, title: str) -> HttpResponse:
    """Every row behind a figure (not one page), as the drill-down page shows them."""
    table = drill.table(target, found.iterator(chunk_size=1000), user)
    rows = list(table.rows)
    if table.total_days is not None:
        rows.append(["合计", *[""] * (len(table.columns) - 2), table.total_days])
    return _send(user, title, table.columns, rows, "drill")
