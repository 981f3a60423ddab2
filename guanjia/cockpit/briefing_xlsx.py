"""A briefing as an Excel workbook (openpyxl): the same content as the PDF, as tables to work with.

Sheets: 概况 (the KPIs against the previous period), 部门排名, 园区排名 (the city's briefing only),
红牌督办 (every red card of the period) and 在办最久诉求. Figures are numbers (shares formatted as
percentages), so that they can be sorted and charted; text typed by people (appeal titles) is
always written as text, never as a formula.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from guanjia.cockpit.briefing import DAY_KPIS, BriefingData, KpiRanking
from guanjia.core.workcalendar import BEIJING

SHEET_OVERVIEW = "概况"
SHEET_DEPARTMENTS = "部门排名"
SHEET_ZONES = "园区排名"
SHEET_RED_CARDS = "红牌督办"
SHEET_OPEN = "在办最久诉求"

_BOLD = Font(bold=True)


def _text(sheet: WriteOnlyWorksheet, value: str, *, bold: bool = False) -> WriteOnlyCell:
    """A text cell: a title such as "=1+1" stays text (openpyxl would take it for a formula)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if bold:
        cell.font = _BOLD
    return cell


def _header(sheet: WriteOnlyWorksheet, names: list[str]) -> None:
    sheet.append([_text(sheet, name, bold=True) for name in names])


def _figure(sheet: WriteOnlyWorksheet, code: str, value: float | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "0.00" if code in DAY_KPIS else "0.0%"
    return cell


def _overview(workbook: Workbook, data: BriefingData) -> None:
    sheet = workbook.create_sheet(SHEET_OVERVIEW)
    sheet.append([_text(sheet, data.title, bold=True)])
    sheet.append([_text(sheet, _("生成时间")), _text(sheet, data.generated_text)])
    sheet.append([_text(sheet, _("统计期间")), _text(sheet, data.period_text)])
    sheet.append([_text(sheet, _("对比上期")), _text(sheet, data.previous_text)])
    sheet.append([_text(sheet, _("本期新增红牌")), data.red_card_count])
    sheet.append([])
    _header(sheet, [_("指标"), _("本期"), _("分子"), _("n"), _("上期"), _("上期 n"), _("变化"), _("说明")])
    for line in data.kpis:
        note = (
            _("含 %(n)s 条期限在工作日历未覆盖年份的记录") % {"n": line.current.provisional}
            if line.current.provisional
            else ""
        )
        sheet.append(
            [
                _text(sheet, line.label),
                _figure(sheet, line.code, line.current.value),
                line.current.numerator,
                line.current.denominator,
                _figure(sheet, line.code, line.previous.value),
                line.previous.denominator,
                _text(sheet, line.change_text),
                _text(sheet, note),
            ]
        )


def _ranking_sheet(
    workbook: Workbook, title: str, unit_label: str, rankings: list[KpiRanking], min_n: int
) -> None:
    sheet = workbook.create_sheet(title)
    _header(sheet, [_("指标"), _("名次"), unit_label, _("数值"), _("分子"), _("n"), _("说明")])
    for ranking in rankings:
        for row in ranking.rows:
            sheet.append(
                [
                    _text(sheet, ranking.label),
                    row.rank,
                    _text(sheet, row.name),
                    _figure(sheet, ranking.code, row.value.value),
                    row.value.numerator,
                    row.n,
                    _text(
                        sheet,
                        ""
                        if row.rank is not None
                        else _("样本不足（n < %(min_n)s），不排名") % {"min_n": min_n},
                    ),
                ]
            )


def _red_cards(workbook: Workbook, data: BriefingData) -> None:
    sheet = workbook.create_sheet(SHEET_RED_CARDS)
    _header(
        sheet, [_("编号"), _("标题"), _("园区"), _("主办部门"), _("答复期限"), _("超期工作日"), _("红牌时间")]
    )
    for card in data.red_cards:
        sheet.append(
            [
                card.appeal_id,
                _text(sheet, card.title),
                _text(sheet, card.zone),
                _text(sheet, card.department),
                card.due,
                card.overdue_days,
                _text(sheet, card.escalated_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")),
            ]
        )


def _longest_open(workbook: Workbook, data: BriefingData) -> None:
    sheet = workbook.create_sheet(SHEET_OPEN)
    _header(
        sheet, [_("编号"), _("标题"), _("园区"), _("状态"), _("主办部门"), _("提交时间"), _("已历时（天）")]
    )
    for item in data.longest_open:
        sheet.append(
            [
                item.appeal_id,
                _text(sheet, item.title),
                _text(sheet, item.zone),
                _text(sheet, item.status),
                _text(sheet, item.department),
                _text(sheet, item.submitted_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")),
                item.open_days,
            ]
        )


def sheet_names(data: BriefingData) -> list[str]:
    """The workbook's sheets, in order."""
    names = [SHEET_OVERVIEW, SHEET_DEPARTMENTS]
    if data.zone_id is None:
        names.append(SHEET_ZONES)
    return [*names, SHEET_RED_CARDS, SHEET_OPEN]


def render(data: BriefingData) -> bytes:
    """The briefing as an .xlsx workbook."""
    workbook = Workbook(write_only=True)
    builders: dict[str, Any] = {
        SHEET_OVERVIEW: lambda: _overview(workbook, data),
        SHEET_DEPARTMENTS: lambda: _ranking_sheet(
            workbook, SHEET_DEPARTMENTS, _("部门"), data.department_rankings, data.min_n
        ),
        SHEET_ZONES: lambda: _ranking_sheet(workbook, SHEET_ZONES, _("园区"), data.zone_rankings, data.min_n),
        SHEET_RED_CARDS: lambda: _red_cards(workbook, data),
        SHEET_OPEN: lambda: _longest_open(workbook, data),
    }
    for name in sheet_names(data):
        builders[name]()
    workbook.properties.title = data.title
    workbook.properties.creator = _("管家平台")
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
