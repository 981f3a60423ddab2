"""`guanjia routing evaluate FILE ...`: cross-validate the routing pipeline on an Excel or CSV export, so a
zone can check the model on its own history before trusting it; `guanjia routing train [--zone CODE]`:
train (and promote if no worse) the routing model of one zone or of every zone."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guanjia.dispatch import learning

TEXT_JOINER = "。"


class Command(BaseCommand):
    help = "智能分派模型：routing evaluate 用历史数据交叉验证；routing train 训练各园区的分派模型"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        evaluate = actions.add_parser("evaluate", help="对 Excel/CSV 导出做分层 k 折交叉验证")
        evaluate.add_argument("file", help="Excel（.xlsx）或 CSV 文件")
        evaluate.add_argument(
            "--text-column",
            action="append",
            required=True,
            dest="text_columns",
            help="文本列（可重复，多列以“。”连接）",
        )
        evaluate.add_argument("--label-column", required=True, help="类别列（如承办部门）")
        evaluate.add_argument("--folds", type=int, default=5)
        evaluate.add_argument("--seed", type=int, default=0)
        train = actions.add_parser("train", help="训练分派模型（不劣于现用模型才启用）")
        train.add_argument("--zone", help="园区编码；不填则训练全部园区")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "evaluate":
            self.evaluate(
                Path(options["file"]),
                options["text_columns"],
                options["label_column"],
                folds=options["folds"],
                seed=options["seed"],
            )
        else:
            self.train(options.get("zone"))

    def evaluate(
        self, path: Path, text_columns: list[str], label_column: str, *, folds: int, seed: int
    ) -> None:
        headers, rows = read_table(path)
        positions = {}
        for column in [*text_columns, label_column]:
            name = column.strip()
            if name not in headers:
                raise CommandError(
                    _("找不到列“%(column)s”，文件中的列：%(columns)s")
                    % {"column": name, "columns": "、".join(h for h in headers if h)}
                )
            positions[name] = headers.index(name)
        texts: list[str] = []
        labels: list[str] = []
        empty = 0
        for row in rows:
            parts = [cell_text(_at(row, positions[c.strip()])) for c in text_columns]
            text = TEXT_JOINER.join(part for part in parts if part)
            label = cell_text(_at(row, positions[label_column.strip()]))
            if not text or not label:
                empty += 1
                continue
            texts.append(text)
            labels.append(label)
        try:
            result = learning.cross_validate(texts, labels, folds=folds, seed=seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report(result, seed=seed, empty=empty))

    def train(self, zone_code: str | None) -> None:
        from guanjia.core.models import OrgUnit
        from guanjia.dispatch import routing

        zones = OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE).order_by("code")
        if zone_code:
            zones = zones.filter(code=zone_code)
            if not zones.exists():
                raise CommandError(_("找不到园区“%(code)s”。") % {"code": zone_code})
        for zone in zones:
            run = routing.retrain(zone)
            self.stdout.write(
                _(
                    "%(zone)s：%(state)s；样本 %(samples)d，类别 %(classes)d，留出 %(held_out)d，准确率 %(accuracy)s，宏平均F1 %(f1)s，原模型 %(previous)s。%(note)s"
                )
                % {
                    "zone": zone.name,
                    "state": _("已启用") if run.is_active else _("未启用"),
                    "samples": run.samples,
                    "classes": run.classes,
                    "held_out": run.held_out,
                    "accuracy": percent(run.held_out_accuracy),
                    "f1": percent(run.held_out_macro_f1),
                    "previous": percent(run.previous_accuracy),
                    "note": run.note,
                }
            )


def read_table(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(headers, rows) of the first sheet of an .xlsx, or of a CSV (UTF-8, else GB18030: a zone's CSV
    saved by Excel on a Chinese Windows is in GBK)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            rows = _xlsx_rows(path)
        elif suffix == ".csv":
            rows = _csv_rows(path.read_bytes())
        else:
            raise CommandError(
                _("不支持的文件类型“%(suffix)s”：请使用 .xlsx 或 .csv。") % {"suffix": path.suffix}
            )
    except CommandError:
        raise
    except FileNotFoundError as exc:
        raise CommandError(_("找不到文件：%(path)s") % {"path": path}) from exc
    except Exception as exc:  # openpyxl raises many kinds (zip, xml, key errors) on a damaged file
        raise CommandError(_("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc}) from exc
    if not rows:
        raise CommandError(_("文件 %(path)s 是空的。") % {"path": path})
    headers = [cell_text(cell) for cell in rows[0]]
    return headers, rows[1:]


def _xlsx_rows(path: Path) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[tuple[Any, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _at(row: tuple[Any, ...], index: int) -> Any:
    return row[index] if index < len(row) else None


def cell_text(value: Any) -> str:
    """A cell as text: Excel stores codes typed as numbers as floats, so 3.0 reads back as "3"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def report(result: learning.Evaluation, *, seed: int, empty: int) -> str:
    """The evaluation as plain text, the same for the same file and seed."""
    lines = [
        _("样本数：%(samples)d　类别数：%(classes)d　折数：%(folds)d　随机种子：%(seed)d")
        % {"samples": result.samples, "classes": len(result.classes), "folds": result.folds, "seed": seed},
    ]
    if empty:
        lines.append(_("跳过文本或类别为空的行：%(count)d") % {"count": empty})
    lines += [
        _("准确率：%(value)s") % {"value": percent(result.accuracy)},
        _("宏平均F1：%(value)s") % {"value": percent(result.macro_f1)},
        "",
        "\t".join([_("类别"), _("精确率"), _("召回率"), "F1", _("样本数")]),
    ]
    for row in result.classes:
        lines.append(
            "\t".join(
                [row.label, percent(row.precision), percent(row.recall), percent(row.f1), str(row.support)]
            )
        )
    if result.skipped:
        lines += [
            "",
            _("样本数少于折数、未参与评估的类别：%(classes)s")
            % {"classes": "、".join(f"{label}（{count}）" for label, count in result.skipped)},
        ]
    return "\n".join(lines)
