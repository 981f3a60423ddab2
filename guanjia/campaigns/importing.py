"""A campaign's target list from an uploaded list of USCCs (.xlsx or .csv), or the API's list.

The file has a header row with a column 统一社会信用代码 (other columns, e.g. 企业名称 for the
reader's benefit, are ignored). Every row is checked before anything is written: a code that is not
text (Excel turns 18 digits into a float and loses the last ones), a wrong check digit, a code no
enterprise has, an enterprise outside the campaign's zones, a code twice in the file. Any bad row
and nothing is written; the answer lists every bad row with its number and reason. All good: the
targets are added in one short transaction (services.add_target_pairs), those already on the list
skipped. The checks run outside that transaction (DESIGN.md "Long writes").
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign
from guanjia.core.errors import ServiceError
from guanjia.core.models import User
from guanjia.enterprises.importing import (
    LOOKUP_CHUNK,
    ImportFileError,
    check_table,
    file_kind,
    normalise_header,
    table_rows,
)
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.uscc import clean_uscc

USCC_HEADER = "统一社会信用代码"
# Lists are at most tens of thousands of enterprises; a longer file is refused before any check.
MAX_TARGET_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    """One bad row: its number in the file (the header is row 1; in an API list, its position from 1)."""

    row: int
    uscc: str
    error: str


class TargetRowsInvalid(ServiceError):
    """Some rows are bad; `rows` names every one of them. Nothing was written."""

    def __init__(self, rows: list[RowError]):
        super().__init__(_("有 %(n)d 行有误，未写入任何数据，请修正后重新提交") % {"n": len(rows)})
        self.rows = rows


def read_uscc_rows(fileobj: IO[bytes], filename: str) -> list[tuple[int, Any]]:
    """(row number, cell) of every data row that is not blank; ImportFileError for a file we cannot use."""
    rows = table_rows(fileobj, file_kind(filename))
    with closing(rows):  # on a refused header; check_table closes it after the data rows
        first = next(rows, None)
        if first is None:
            raise ImportFileError(_("文件是空的：第 1 行应为表头“统一社会信用代码”"))
        number, header = first
        if number != 1:
            raise ImportFileError(_("第 1 行应为表头“统一社会信用代码”，不要在表头上方插入行"))
        positions = [i for i, cell in enumerate(header) if normalise_header(cell) == USCC_HEADER]
        if not positions:
            raise ImportFileError(_("第 1 行（表头）缺少“统一社会信用代码”列"))
        if len(positions) > 1:
            raise ImportFileError(_("第 1 行（表头）中“统一社会信用代码”列出现了两次"))
        position = positions[0]

        def uscc_cell(number: int, cells: tuple) -> tuple[int, Any]:
            return number, cells[position] if position < len(cells) else None

        data, _total = check_table(
            rows,
            uscc_cell,
            max_rows=MAX_TARGET_ROWS,
            too_many=_("文件超过 %(max)d 行，请拆分后分批上传") % {"max": MAX_TARGET_ROWS},
        )
    if not data:
        raise ImportFileError(_("文件中没有数据行：请在表头下方每行填写一个统一社会信用代码"))
    return data


def check_rows(
    campaign: Campaign, rows: Iterable[tuple[int, Any]]
) -> tuple[list[tuple[int, int | None]], list[RowError]]:
    """(enterprise id, steward id) of every good row, and every bad row with its reason."""
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for number, value in rows:
        shown = "" if value is None else str(value).strip()
        try:
            code = clean_uscc("" if value is None else value)
        except ValidationError as exc:
            errors.append(RowError(number, shown, exc.messages[0]))
            continue
        if code in first_row:
            errors.append(RowError(number, code, _("与第 %(first)d 行重复") % {"first": first_row[code]}))
            continue
        first_row[code] = number
    codes = list(first_row)
    found: dict[str, tuple[int, int, int | None]] = {}
    for start in range(0, len(codes), LOOKUP_CHUNK):
        chunk = codes[start : start + LOOKUP_CHUNK]
        for uscc, pk, zone_id, steward_id in Enterprise.objects.filter(uscc__in=chunk).values_list(
            "uscc", "pk", "zone_id", "steward_id"
        ):
            found[uscc] = (pk, zone_id, steward_id)
    zones = set(services.zone_ids_of(campaign))
    pairs: list[tuple[int, int | None]] = []
    for code, number in first_row.items():
        enterprise = found.get(code)
        if enterprise is None:
            errors.append(RowError(number, code, _("平台中没有登记该统一社会信用代码的企业")))
        elif enterprise[1] not in zones:
            # Not which zone it is in: the uploader need not learn about other zones' enterprises.
            errors.append(RowError(number, code, _("该企业不属于本专项行动覆盖的园区")))
        else:
            pairs.append((enterprise[0], enterprise[2]))
    errors.sort(key=lambda error: error.row)
    return pairs, errors


def _add_checked(
    campaign: Campaign, rows: list[tuple[int, Any]], *, by: User, source: str, detail: dict[str, Any]
) -> services.AddResult:
    pairs, errors = check_rows(campaign, rows)
    if errors:
        raise TargetRowsInvalid(errors)
    return services.add_target_pairs(campaign, pairs, by=by, source=source, detail=detail)


def import_targets(campaign: Campaign, *, upload: Any, by: User) -> services.AddResult:
    """Targets from an uploaded file: every row checked first, then all written, or none."""
    # The right to act first: nobody learns what a file should look like without it.
    services.check_keeper(campaign, by)
    services.check_open(campaign)
    name = getattr(upload, "name", "") or ""
    if getattr(upload, "size", 0) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("“%(name)s”文件过大，最大允许 %(max)d MB")
            % {"name": name, "max": settings.IMPORT_MAX_BYTES // 1024 // 1024}
        )
    rows = read_uscc_rows(upload, name)
    return _add_checked(
        campaign, rows, by=by, source="upload", detail={"file": name[:100], "rows": len(rows)}
    )


def add_targets_by_usccs(campaign: Campaign, usccs: list[str], *, by: User) -> services.AddResult:
    """Targets from a list of codes (the API): row n is the n-th code, counted from 1."""
    services.check_keeper(campaign, by)
    services.check_open(campaign)
    if len(usccs) > MAX_TARGET_ROWS:
        raise ServiceError(_("一次最多提交 %(max)d 个统一社会信用代码") % {"max": MAX_TARGET_ROWS})
    rows = list(enumerate(usccs, start=1))
    return _add_checked(campaign, rows, by=by, source="api", detail={"rows": len(rows)})
