"""Loading the target library from a spreadsheet (.xlsx or .csv): the template, every row checked, one write.

The reading is the enterprise import's (guanjia/enterprises/importing.py: its template builder, its
streaming .xlsx reader, its CSV decoding, its header check, its cell rules, its Column and ErrorReport,
each given this file's columns), and so are the row rules that matter most: the USCC goes through the same check, and a numeric cell where an identifier is
expected (the USCC, the stock code) is refused with its row named, because Excel turns long digit
strings into floats and loses digits (DESIGN.md "Spreadsheets").

Every row is checked first, outside any transaction; if any row is bad, the answer lists every bad
row (row number, column, message) and nothing is written. Otherwise all rows are written in one
short transaction (DESIGN.md "Long writes"). A row whose USCC or name is already in the zone's
library updates that target: its filled cells replace the stored values, its empty cells keep them.
Files are at most MAX_ROWS rows, which is read and written within a request: no background job.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.importing import (
    LOOKUP_CHUNK,
    SCALE_BY_TEXT,
    SCALE_TEXT,
    CellChecker,
    Column,
    ErrorReport,
    ImportFileError,
    check_table,
    file_error,
    file_kind,
    open_table,
    template_workbook,
    workbook_bytes,
)
from guanjia.enterprises.models import Scale
from guanjia.investment import targets
from guanjia.investment.access import check_keeper
from guanjia.investment.models import ChainNode, Target

# A zone's library holds hundreds to a few thousand companies; a longer file is refused before any check.
MAX_ROWS = 5000

COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "企业名称",
        gettext_lazy("必填。企业全称，不超过 200 字；库中已有同名企业时更新该企业。"),
        required=True,
        width=32,
    ),
    Column(
        "uscc",
        "统一社会信用代码",
        gettext_lazy(
            "选填（境外企业可不填）。18 位统一社会信用代码（GB 32100），文本格式，不能是数字；"
            "校验位必须正确。库中已有该代码的企业时更新该企业。"
        ),
        text_format=True,
        refuse_numbers=True,
        width=24,
    ),
    Column("headquarters", "总部所在地", gettext_lazy("选填。如 江苏省苏州市，不超过 100 字。"), width=16),
    Column(
        "scale",
        "企业规模",
        gettext_lazy("选填。大型、中型、小型、微型 之一；新增企业留空按“中型”。"),
        width=10,
    ),
    Column("listed", "是否上市", gettext_lazy("选填。是 或 否；新增企业留空按“否”。"), width=10),
    Column(
        "stock_code",
        "股票代码",
        gettext_lazy(
            "选填，仅上市企业填写。文本格式，不能是数字（会丢失开头的 0），如 300750.SZ、00700.HK。"
        ),
        text_format=True,
        refuse_numbers=True,
        width=14,
    ),
    Column(
        "nodes",
        "覆盖环节",
        gettext_lazy(
            "选填。本园区产业链的环节名称，多个用顿号“、”或分号分隔，如 正极材料、电芯；"
            "同名环节在多条产业链中都有时写成“产业链/环节”，如 新能源/电芯。"
            "可选的环节见“本园区产业链环节”表。填写后替换该企业原有的覆盖环节。"
        ),
        width=36,
    ),
    Column("notes", "备注", gettext_lazy("选填。不超过 2000 字。"), width=40),
)

LISTED_TEXT = {True: "是", False: "否"}
LISTED_BY_TEXT = {text: value for value, text in LISTED_TEXT.items()}
_NODE_SPLIT = re.compile(r"[、;；\n]")
_PATH_SPLIT = re.compile(r"[/／]")
# Fields a new target takes when its row leaves them empty (the model's defaults).
NEW_DEFAULTS: dict[str, Any] = {
    "uscc": "",
    "headquarters": "",
    "scale": str(Scale.MEDIUM),
    "listed": False,
    "stock_code": "",
    "notes": "",
}


class TargetRowsInvalid(ServiceError):
    """Some rows are bad; `rows` lists every one ({row, column, message}). Nothing was written."""

    def __init__(self, rows: list[dict[str, Any]], count: int):
        super().__init__(_("有 %(n)d 处错误，未写入任何数据，请修正后重新上传") % {"n": count})
        self.rows = rows


@dataclass
class ParsedRow:
    """One good row: the cells it filled (cleaned), and the nodes it names (None: the cell was empty)."""

    row: int
    fields: dict[str, Any]
    nodes: list[int] | None


@dataclass
class Planned:
    """What the write will do: targets to create, and updates of existing ones at the version we read."""

    creates: list[ParsedRow] = field(default_factory=list)
    updates: list[tuple[int, int, ParsedRow]] = field(default_factory=list)  # (pk, version, row)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


# --- the template --------------------------------------------------------------------------------------


def build_template(zone_ids: list[int]) -> bytes:
    """The .xlsx template: the data sheet (identifier columns formatted as text), what each column
    means, and the nodes of the user's zones' chains that 覆盖环节 may name."""
    from openpyxl.styles import Font

    workbook = template_workbook(
        _("目标企业"),
        COLUMNS,
        choices=(("scale", SCALE_TEXT.values()), ("listed", LISTED_TEXT.values())),
        last_row=MAX_ROWS + 1,
        notes=(
            _("说明："),
            _("1. 第 1 行是表头，请勿修改或删除；从第 2 行起每行填写一家企业。带 * 的列必填。"),
            _("2. 企业归入的园区在上传页面选择，文件中不填写。"),
            _("3. 统一社会信用代码、股票代码已设为文本格式，请勿改成数字格式，否则会被拒绝。"),
            _(
                "4. 上传后平台会逐行校验并列出所有错误（第几行、哪一列、什么问题）；有错误时不会写入任何数据。"
            ),
            _("5. 库中已有同名或同代码的企业时更新该企业：填写了的单元格替换原值，留空的保持原值。"),
            _("6. 每个文件最多 %(n)d 行。也可以上传 UTF-8 或 GB18030 编码的 CSV 文件，表头与本模板相同。")
            % {"n": MAX_ROWS},
        ),
    )
    bold = Font(bold=True)
    catalogue = workbook.create_sheet(_("本园区产业链环节"))
    catalogue.append([_("园区"), _("产业链"), _("环节"), _("链段"), _("覆盖环节的写法")])
    for cell in catalogue[1]:
        cell.font = bold
    nodes = list(targets.zone_nodes(zone_ids).select_related("chain__zone"))
    names: dict[tuple[int, str], int] = {}
    for node in nodes:
        place = (node.chain.zone_id, node.name)
        names[place] = names.get(place, 0) + 1
    for node in nodes:
        ambiguous = names[(node.chain.zone_id, node.name)] > 1
        written = f"{node.chain.name}/{node.name}" if ambiguous else node.name
        catalogue.append(
            [node.chain.zone.name, node.chain.name, node.name, node.get_segment_display(), written]
        )
    for letter, width in zip("ABCDE", (14, 16, 20, 8, 28), strict=True):
        catalogue.column_dimensions[letter].width = width
    return workbook_bytes(workbook)


# --- reading -------------------------------------------------------------------------------------------


def kind_of(name: str, fileobj: IO[bytes]) -> str:
    """'xlsx' or 'csv': by the file name's extension; a name without one (some API clients send
    none) by the content, which the readers then check as for any file."""
    if posixpath.splitext(name.lower())[1]:
        return file_kind(name)
    fileobj.seek(0)
    head = fileobj.read(4)
    fileobj.seek(0)
    return "xlsx" if head.startswith(b"PK") else "csv"


# --- checking rows ---------------------------------------------------------------------------------------


class NodeDirectory:
    """The nodes of a zone's chains by name, and by “产业链/环节” where a name is in several chains."""

    def __init__(self, zone: OrgUnit):
        self.by_name: dict[str, list[ChainNode]] = {}
        self.by_path: dict[tuple[str, str], ChainNode] = {}
        self.chains: set[str] = set()
        for node in targets.zone_nodes([zone.pk]):
            self.by_name.setdefault(node.name, []).append(node)
            self.by_path[(node.chain.name, node.name)] = node
            self.chains.add(node.chain.name)

    def resolve(self, text: str) -> tuple[ChainNode | None, str]:
        """The node a name stands for, or None and why not."""
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            chains = [node.chain.name for node in found]
            return None, _(
                "环节“%(node)s”在多条产业链中都有（%(chains)s），请写成“产业链/环节”，如“%(example)s”"
            ) % {
                "node": text,
                "chains": "、".join(chains),
                "example": f"{chains[0]}/{text}",
            }
        parts = _PATH_SPLIT.split(text, maxsplit=1)
        if len(parts) == 2:
            chain, name = parts[0].strip(), parts[1].strip()
            if chain not in self.chains:
                return None, _("本园区没有名为“%(chain)s”的产业链") % {"chain": chain}
            node = self.by_path.get((chain, name))
            if node is None:
                return None, _("产业链“%(chain)s”中没有环节“%(node)s”") % {"chain": chain, "node": name}
            return node, ""
        return None, _("“%(node)s”不是本园区产业链的环节") % {"node": text}


class RowChecker(CellChecker):
    """Checks rows one by one, with the enterprise import's cell rules, and remembers what later rows
    must not repeat."""

    def __init__(self, zone: OrgUnit, positions: dict[str, int]):
        super().__init__(COLUMNS)
        self.positions = positions
        self.nodes = NodeDirectory(zone)
        self.first_name: dict[str, int] = {}
        self.first_uscc: dict[str, int] = {}

    def _cell(self, cells: tuple, key: str) -> Any:
        index = self.positions.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def _choice(self, row: int, key: str, value: Any, mapping: dict[str, Any]) -> tuple[bool, Any]:
        """(True, value) for a known word or an empty cell (value None), (False, None) after an error."""
        if isinstance(value, bool) and key == "listed":
            return True, value  # an Excel TRUE/FALSE cell
        text = self._text(row, key, value, 20)
        if text is None:
            return False, None
        if not text:
            return True, None
        if text not in mapping:
            self._not_one_of(row, key, text, mapping)
            return False, None
        return True, mapping[text]

    def _nodes(self, row: int, value: Any) -> tuple[bool, list[int] | None]:
        text = self._text(row, "nodes", value, 2000)
        if text is None:
            return False, None
        if not text:
            return True, None
        ids: list[int] = []
        ok = True
        for part in _NODE_SPLIT.split(text):
            name = part.strip()
            if not name:
                continue
            node, problem = self.nodes.resolve(name)
            if node is None:
                self.report.add(row, "nodes", problem)
                ok = False
            elif node.pk not in ids:
                ids.append(node.pk)
        return ok, ids

    def check(self, row: int, cells: tuple) -> ParsedRow | None:
        """The cleaned row, or None when something in it is wrong (the report says what)."""
        before = self.report.count
        given: dict[str, Any] = {}
        name = self._text(row, "name", self._cell(cells, "name"), 1000)
        if name is not None:
            given["name"] = name
        raw_uscc = self._cell(cells, "uscc")
        if raw_uscc is not None and not (isinstance(raw_uscc, str) and not raw_uscc.strip()):
            given["uscc"] = raw_uscc  # clean_uscc itself refuses a number, naming why
        for key, limit in (("headquarters", 1000), ("notes", 10000)):
            text = self._text(row, key, self._cell(cells, key), limit)
            if text:
                given[key] = text
        ok, scale = self._choice(row, "scale", self._cell(cells, "scale"), SCALE_BY_TEXT)
        if ok and scale is not None:
            given["scale"] = str(scale)
        ok, listed = self._choice(row, "listed", self._cell(cells, "listed"), LISTED_BY_TEXT)
        if ok and listed is not None:
            given["listed"] = listed
        stock_code = self._text(row, "stock_code", self._cell(cells, "stock_code"), 40)
        if stock_code:
            given["stock_code"] = stock_code
        _ok, nodes = self._nodes(row, self._cell(cells, "nodes"))
        cleaned, problems = targets.normalise(given)
        for key, message in problems:
            self.report.add(row, key, message)
        if "name" in cleaned:
            self._first_time(row, "name", cleaned["name"], self.first_name)
        if cleaned.get("uscc"):
            self._first_time(row, "uscc", cleaned["uscc"], self.first_uscc)
        if self.report.count != before:
            return None
        return ParsedRow(row=row, fields=cleaned, nodes=nodes)


@dataclass(frozen=True)
class _Known:
    pk: int
    name: str
    uscc: str
    listed: bool
    stock_code: str
    version: int


def plan(rows: list[ParsedRow], zone: OrgUnit, report: ErrorReport) -> Planned:
    """Match rows to the zone's library (by USCC, then by name) and check what depends on it."""
    known = [
        _Known(*values)
        for values in Target.objects.filter(zone=zone).values_list(
            "pk", "name", "uscc", "listed", "stock_code", "version"
        )
    ]
    by_name = {target.name: target for target in known}
    by_uscc = {target.uscc: target for target in known if target.uscc}
    planned = Planned()
    claimed: dict[int, int] = {}  # target pk → the row that updates it
    for parsed in rows:
        name, uscc = parsed.fields["name"], parsed.fields.get("uscc", "")
        by_code = by_uscc.get(uscc) if uscc else None
        named = by_name.get(name)
        match: _Known | None = None
        if by_code is not None and named is not None and by_code.pk != named.pk:
            report.add(
                parsed.row,
                "uscc",
                _("该代码属于库中的“%(coded)s”，而企业名称“%(name)s”是库中另一家企业，请核对")
                % {"coded": by_code.name, "name": name},
            )
            continue
        if by_code is not None:
            match = by_code
        elif named is not None:
            if uscc and named.uscc and named.uscc != uscc:
                report.add(
                    parsed.row,
                    "uscc",
                    _("库中的“%(name)s”登记的代码是 %(known)s，与本行不同；如需更正请在目标企业页面修改")
                    % {"name": name, "known": named.uscc},
                )
                continue
            match = named
        if match is None:
            merged = {**NEW_DEFAULTS, **parsed.fields}
        else:
            first = claimed.get(match.pk)
            if first is not None:
                report.add(
                    parsed.row,
                    "name",
                    _("与第 %(first)d 行指向库中同一家企业“%(name)s”") % {"first": first, "name": match.name},
                )
                continue
            claimed[match.pk] = parsed.row
            merged = {"listed": match.listed, "stock_code": match.stock_code, **parsed.fields}
        problem = targets.listing_problem(merged["listed"], merged["stock_code"])
        if problem:
            report.add(parsed.row, "stock_code", problem)
            continue
        if match is None:
            parsed.fields = merged
            planned.creates.append(parsed)
        else:
            planned.updates.append((match.pk, match.version, parsed))
    return planned


def check_file(fileobj: IO[bytes], kind: str, zone: OrgUnit) -> Planned:
    """Read and check every row; TargetRowsInvalid naming every bad row, ImportFileError for a file
    we cannot read. Runs outside any transaction."""
    positions, table = open_table(fileobj, kind, COLUMNS)
    checker = RowChecker(zone, positions)
    rows, total = check_table(
        table,
        checker.check,
        max_rows=MAX_ROWS,
        too_many=_("文件超过 %(n)d 行（不含表头），请拆分为多个文件分批导入") % {"n": MAX_ROWS},
    )
    if total == 0:
        raise ImportFileError(_("文件中没有目标企业：从第 2 行起每行填写一家企业"))
    planned = plan(rows, zone, checker.report)
    if checker.report.count:
        raise TargetRowsInvalid(checker.report.as_list(), checker.report.count)
    return planned


# --- writing ---------------------------------------------------------------------------------------------


def write(planned: Planned, zone: OrgUnit, *, by: User, file_name: str) -> ImportResult:
    """Write every planned row and one audit record in one short transaction, or nothing."""
    through = Target.nodes.through
    with transaction.atomic():
        renodes: dict[int, list[int]] = {}
        for pk, version, parsed in planned.updates:
            # The version read while checking: an edit made since then stops the whole import.
            moved = Target.objects.filter(pk=pk, version=version).update(
                **parsed.fields, version=F("version") + 1
            )
            if moved != 1:
                raise Conflict(
                    _("第 %(row)d 行的企业“%(name)s”在校验后被他人修改，未写入任何数据，请重新上传")
                    % {"row": parsed.row, "name": parsed.fields["name"]}
                )
            if parsed.nodes is not None:
                renodes[pk] = parsed.nodes
        created = Target.objects.bulk_create(
            [Target(zone=zone, created_by=by, **parsed.fields) for parsed in planned.creates]
        )
        if any(target.pk is None for target in created):  # a backend that returns no ids on bulk insert
            names = [target.name for target in created]
            ids: dict[str, int] = {}
            for start in range(0, len(names), LOOKUP_CHUNK):
                ids.update(
                    Target.objects.filter(
                        zone=zone, name__in=names[start : start + LOOKUP_CHUNK]
                    ).values_list("name", "pk")
                )
            for target in created:
                target.pk = ids[target.name]
        for target, parsed in zip(created, planned.creates, strict=True):
            if parsed.nodes:
                renodes[target.pk] = parsed.nodes
        replaced = [pk for pk, _version, parsed in planned.updates if parsed.nodes is not None]
        for start in range(0, len(replaced), LOOKUP_CHUNK):
            through.objects.filter(target_id__in=replaced[start : start + LOOKUP_CHUNK]).delete()
        through.objects.bulk_create(
            [through(target_id=pk, chainnode_id=node) for pk, nodes in renodes.items() for node in nodes],
            batch_size=1000,
        )
        result = ImportResult(created=len(created), updated=len(planned.updates))
        audit.record(
            by,
            "investment.target_import",
            zone,
            summary=_("导入%(zone)s目标企业：新增 %(created)d 家，更新 %(updated)d 家（%(file)s）")
            % {"zone": zone.name, "created": result.created, "updated": result.updated, "file": file_name},
            detail={
                "file": file_name,
                "created": result.created,
                "updated": result.updated,
                "updated_ids": [pk for pk, _version, _parsed in planned.updates][:1000],
            },
        )
    return result


def import_targets(*, upload: Any, zone: OrgUnit, by: User) -> ImportResult:
    """Check every row of an uploaded file, then write all of them, or none (TargetRowsInvalid)."""
    # The right to act first: nobody learns what a file should look like without it.
    check_keeper(by, zone.pk)
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("所属园区：“%(zone)s”不是园区或县区") % {"zone": zone})
    name = (getattr(upload, "name", "") or "")[-100:]
    if getattr(upload, "size", 0) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("“%(name)s”文件过大，最大允许 %(max)d MB")
            % {"name": name, "max": settings.IMPORT_MAX_BYTES // 1024 // 1024}
        )
    planned = check_file(upload, kind_of(name, upload), zone)
    try:
        return write(planned, zone, by=by, file_name=name)
    except IntegrityError:
        # Someone added one of these companies (or removed a node) between our check and our write.
        raise Conflict(_("导入期间目标企业库被他人修改，未写入任何数据，请重新上传")) from None


def file_problem(exc: ImportFileError) -> list[dict[str, Any]]:
    """A file-level refusal in the shape of the row list (row null)."""
    return file_error(str(exc))
