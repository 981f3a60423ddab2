"""A briefing as PDF (reportlab), in Chinese, made offline.

The text is set in Adobe's standard CJK font STSong-Light (Adobe-GB1), which reportlab knows
without any font file: the PDF names the font and carries the text as Unicode (UniGB-UCS2-H), and
the reader's viewer supplies the glyphs, as every Chinese-capable PDF viewer (Adobe, WPS, Foxit,
the browsers' viewers on a system with Chinese fonts) does. So nothing is downloaded, no font is
shipped, the file stays small, and its text can be searched, copied and extracted (pypdf reads it
back, which the tests check).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from guanjia.cockpit.briefing import BriefingData, KpiRanking
from guanjia.core.workcalendar import BEIJING

FONT = "STSong-Light"
PDF_RED_CARDS = 100  # the PDF lists this many red cards at most; the Excel lists them all

pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BASE = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13, wordWrap="CJK")
_CELL = ParagraphStyle("cell", parent=_BASE, fontSize=8.5, leading=11)
_TITLE = ParagraphStyle("title", parent=_BASE, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4)
_SUBTITLE = ParagraphStyle("subtitle", parent=_BASE, fontSize=9, alignment=TA_CENTER, textColor=colors.grey)
_HEADING = ParagraphStyle("heading", parent=_BASE, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4)
_SUBHEADING = ParagraphStyle("subheading", parent=_BASE, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2)
_NOTE = ParagraphStyle("note", parent=_BASE, fontSize=8, leading=11, textColor=colors.grey)

_TABLE_STYLE = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#adb5bd")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(_escape(text), style)


def _table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table([header, *rows], colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(_TABLE_STYLE)
    return table


def _kpi_table(data: BriefingData) -> Table:
    header = [_("指标"), _("本期"), _("n"), _("上期"), _("变化")]
    rows = [
        [_p(line.label), line.value_text, str(line.current.denominator), line.previous_text, line.change_text]
        for line in data.kpis
    ]
    return _table(header, rows, [52, 26, 18, 26, 40])


def _ranking_flowables(rankings: list[KpiRanking], unit_label: str, min_n: int) -> list[Flowable]:
    if not any(ranking.rows for ranking in rankings):
        return [_p(_("本期没有可比较的数据。"), _BASE)]
    parts: list[Flowable] = [
        _p(
            _("名次相同表示数值并列；计入的记录数（n）少于 %(min_n)s 的单位列出但不参与排名（样本不足）。")
            % {"min_n": min_n},
            _NOTE,
        )
    ]
    for ranking in rankings:
        if not ranking.rows:
            continue
        rows = [
            [
                str(row.rank) if row.rank is not None else _("样本不足"),
                _p(row.name),
                ranking.value_text(row),
                str(row.n),
            ]
            for row in ranking.rows
        ]
        parts.append(
            KeepTogether(
                [
                    _p(ranking.label, _SUBHEADING),
                    _table([_("名次"), unit_label, _("数值"), _("n")], rows, [20, 90, 30, 20]),
                ]
            )
        )
    return parts


def _red_card_flowables(data: BriefingData) -> list[Flowable]:
    parts: list[Flowable] = [
        _p(
            _("本期新增红牌 %(count)s 张（答复期限超过 3 个工作日仍未办结）。")
            % {"count": data.red_card_count},
            _BASE,
        )
    ]
    if not data.red_cards:
        return parts
    shown = data.red_cards[:PDF_RED_CARDS]
    rows = [
        [
            str(card.appeal_id),
            _p(card.title),
            _p(card.zone),
            _p(card.department),
            card.due.strftime("%Y-%m-%d") if card.due else "",
            str(card.overdue_days),
        ]
        for card in shown
    ]
    parts.append(
        _table(
            [_("编号"), _("标题"), _("园区"), _("主办部门"), _("答复期限"), _("超期工作日")],
            rows,
            [14, 62, 22, 36, 22, 20],
        )
    )
    if len(data.red_cards) > len(shown):
        parts.append(_p(_("仅列出超期最久的 %(n)s 张，完整名单见 Excel 版。") % {"n": len(shown)}, _NOTE))
    return parts


def _open_flowables(data: BriefingData) -> list[Flowable]:
    if not data.longest_open:
        return [_p(_("目前没有在办诉求。"), _BASE)]
    rows = [
        [
            str(item.appeal_id),
            _p(item.title),
            _p(item.zone),
            item.status,
            _p(item.department),
            item.submitted_at.astimezone(BEIJING).strftime("%Y-%m-%d"),
            str(item.open_days),
        ]
        for item in data.longest_open
    ]
    return [
        _p(_("截至简报生成时尚未办结、提交最早的 %(n)s 件诉求。") % {"n": len(data.longest_open)}, _NOTE),
        _table(
            [_("编号"), _("标题"), _("园区"), _("状态"), _("主办部门"), _("提交日期"), _("已历时（天）")],
            rows,
            [14, 56, 20, 18, 34, 20, 18],
        ),
    ]


def render(data: BriefingData) -> bytes:
    """The briefing as a PDF document (A4)."""
    buffer = BytesIO()
    title = data.title

    def page_frame(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, title)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, _("第 %(page)s 页") % {"page": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=_("管家平台"),
        subject=_("由平台根据办理数据自动生成"),
    )
    story: list[Flowable] = [
        _p(title, _TITLE),
        _p(
            _("生成时间：%(at)s　统计期间（北京时间）：%(period)s　对比上期：%(previous)s")
            % {"at": data.generated_text, "period": data.period_text, "previous": data.previous_text},
            _SUBTITLE,
        ),
        Spacer(1, 4 * mm),
        _p(_("一、主要指标"), _HEADING),
        _kpi_table(data),
    ]
    if data.provisional:
        story.append(
            _p(
                _(
                    "注：其中 %(n)s 条记录的期限落在工作日历尚未覆盖的年份，按周一至周五计算，日历补录后数值可能变化。"
                )
                % {"n": data.provisional},
                _NOTE,
            )
        )
    story += [
        _p(_("二、部门排名"), _HEADING),
        *_ranking_flowables(data.department_rankings, _("部门"), data.min_n),
    ]
    section = 3
    if data.zone_id is None:
        story += [
            _p(_("三、园区排名"), _HEADING),
            *_ranking_flowables(data.zone_rankings, _("园区"), data.min_n),
        ]
        section = 4
    numerals = {3: "三", 4: "四", 5: "五"}
    story += [_p(_("%(n)s、红牌督办") % {"n": numerals[section]}, _HEADING), *_red_card_flowables(data)]
    story += [
        _p(_("%(n)s、办理时间最长的在办诉求") % {"n": numerals[section + 1]}, _HEADING),
        *_open_flowables(data),
    ]
    doc.build(story, onFirstPage=page_frame, onLaterPages=page_frame)
    return buffer.getvalue()
