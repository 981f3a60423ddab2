"""The listing pipeline as Excel for the monthly report: one row per candidate the user sees (with the
list's filters), identifiers (USCC, stock code) written as text cells so that Excel never turns them
into numbers, every export audited. No personal data leaves here (firms are named, never their
contacts' phones)."""

from __future__ import annotations

from collections import defaultdict
from tempfile import SpooledTemporaryFile
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from guanjia.capital import listings
from guanjia.capital.access import today
from guanjia.capital.models import (
    Board,
    IntermediaryRole,
    ListingCandidate,
    ListingIntermediary,
    ListingStage,
)
from guanjia.core import audit
from guanjia.core.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADERS = (
    "企业",
    "统一社会信用代码",
    "园区",
    "产业链",
    "拟上市板块",
    "阶段",
    "进入阶段日期",
    "在本阶段天数",
    "计划上市年份",
    "股票代码",
    "中介机构",
    "未解决问题数",
    "支持金额合计（万元）",
)


def _text(sheet: Any, value: str) -> WriteOnlyCell:
    """A string cell whatever it looks like: never a number (an 18-digit USCC, a stock code such as
    000001), never a formula."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def _intermediaries(candidate_ids: list[int]) -> dict[int, str]:
    firms: dict[int, list[str]] = defaultdict(list)
    order = list(IntermediaryRole.values)
    rows = ListingIntermediary.objects.filter(candidate_id__in=candidate_ids).order_by("pk")
    for row in sorted(rows, key=lambda row: (order.index(row.role), row.pk)):  # 券商, 律所, 会计师事务所
        firms[row.candidate_id].append(f"{IntermediaryRole(row.role).label}：{row.firm}")
    return {pk: "；".join(names) for pk, names in firms.items()}


def export_listings(
    candidates: QuerySet[ListingCandidate], user: User, *, filters: dict[str, Any]
) -> HttpResponse:
    """An .xlsx of `candidates` (already limited to what `user` sees, and filtered); audited."""
    day = today()
    rows = list(
        listings.with_figures(candidates)
        .select_related("enterprise", "zone")
        .order_by("zone_id", "stage", "pk")
    )
    ids = [candidate.pk for candidate in rows]
    chains = listings.chains_of(ids)
    firms = _intermediaries(ids)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("上市后备企业"))
    sheet.append(list(HEADERS))
    for candidate in rows:
        sheet.append(
            [
                _text(sheet, candidate.enterprise.name),
                _text(sheet, candidate.enterprise.uscc),
                _text(sheet, candidate.zone.name),
                _text(sheet, "、".join(chains.get(candidate.pk, [])) or listings.NO_CHAIN),
                str(Board(candidate.board).label),
                str(ListingStage(candidate.stage).label),
                candidate.stage_entered_on.isoformat(),
                listings.days_in_stage(candidate, day),
                candidate.planned_year or "",
                _text(sheet, candidate.stock_code),
                _text(sheet, firms.get(candidate.pk, "")),
                candidate.open_problems,  # type: ignore[attr-defined]
                candidate.support_total,  # type: ignore[attr-defined]
            ]
        )
    audit.record(
        user,
        "capital.listing_export",
        summary=f"导出上市后备企业 {len(rows)} 家",
        detail={"rows": len(rows), "filters": filters},
        object_type="capital.listingcandidate",
    )
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        content = buffer.read()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''listing-candidates-{day:%Y%m%d}.xlsx"
    return response
