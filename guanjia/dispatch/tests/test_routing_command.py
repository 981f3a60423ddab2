"""`guanjia routing evaluate` on the exports a zone really has: UTF-8 or GBK CSV, Excel with codes
typed as numbers, columns named in Chinese; and `guanjia routing train`."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from guanjia.dispatch.models import RoutingModel

APPEALS = Path(__file__).resolve().parents[2] / "appeals" / "data" / "appeals_zh.csv"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("routing", *args, stdout=out)
    return out.getvalue()


def appeal_rows() -> list[dict[str, str]]:
    with APPEALS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def five_departments() -> list[dict[str, str]]:
    """The appeals of the five largest departments: enough for 3 folds, quick to fit."""
    rows = appeal_rows()
    largest = [name for name, _count in Counter(r["department"] for r in rows).most_common(5)]
    return [r for r in rows if r["department"] in largest]


def test_evaluate_prints_the_scores_and_is_deterministic_for_a_seed():
    args = [
        "evaluate",
        str(APPEALS),
        "--text-column",
        "title",
        "--text-column",
        "body",
        "--label-column",
        "department",
    ]
    first = run(*args, "--folds", "5", "--seed", "0")
    assert run(*args) == first  # --folds 5 --seed 0 are the defaults
    lines = first.splitlines()
    assert lines[0] == "样本数：238　类别数：21　折数：5　随机种子：0"
    assert re.fullmatch(r"准确率：\d{1,3}\.\d%", lines[1])
    assert re.fullmatch(r"宏平均F1：\d{1,3}\.\d%", lines[2])
    assert lines[4] == "类别\t精确率\t召回率\tF1\t样本数"
    table = [line.split("\t") for line in lines[5:26]]
    assert table[0][0] == "市场监督管理局" and table[0][4] == "23"
    assert all(re.fullmatch(r"\d{1,3}\.\d%", cell) for row in table for cell in row[1:4])
    assert lines[-1] == "样本数少于折数、未参与评估的类别：燃气公司（2）"


def test_evaluate_reads_excel_with_department_codes_typed_as_numbers(tmp_path):
    rows = five_departments()
    codes = {name: float(i) for i, name in enumerate(sorted({r["department"] for r in rows}), start=1)}
    book = Workbook()
    sheet = book.active
    sheet.append([" 标题 ", "内容", "部门编码"])  # headers are matched after strip()
    for row in rows:
        sheet.append([row["title"], row["body"], codes[row["department"]]])
    sheet.append(["", "", 1.0])  # no text
    sheet.append(["只有标题", "没有部门", None])  # no label
    path = tmp_path / "导出.xlsx"
    book.save(path)

    out = run(
        "evaluate",
        str(path),
        "--text-column",
        "标题",
        "--text-column",
        "内容",
        "--label-column",
        "部门编码",
        "--folds",
        "3",
    )
    assert out.splitlines()[0] == f"样本数：{len(rows)}　类别数：5　折数：3　随机种子：0"
    assert "跳过文本或类别为空的行：2" in out
    labels = {line.split("\t")[0] for line in out.splitlines() if "\t" in line} - {"类别"}
    assert labels == {"1", "2", "3", "4", "5"}
    assert ".0\t" not in out


def test_evaluate_reads_a_gbk_csv_exported_by_excel_as_it_reads_utf8(tmp_path):
    rows = five_departments()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["标题", "内容", "部门"])
    for row in rows:
        writer.writerow([row["title"], row["body"], row["department"]])
    gbk, utf8 = tmp_path / "gbk.csv", tmp_path / "utf8.csv"
    gbk.write_bytes(text.getvalue().encode("gb18030"))
    utf8.write_bytes(text.getvalue().encode("utf-8-sig"))
    args = ["--text-column", "标题", "--text-column", "内容", "--label-column", "部门", "--folds", "3"]

    from_gbk = run("evaluate", str(gbk), *args)
    assert from_gbk == run("evaluate", str(utf8), *args)
    assert "市场监督管理局" in from_gbk and "跳过" not in from_gbk


def test_a_missing_column_is_named_with_the_files_columns(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("标题,内容,部门\n停电,厂区停电,供电公司\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run("evaluate", str(path), "--text-column", "诉求内容", "--label-column", "部门")
    assert str(error.value) == "找不到列“诉求内容”，文件中的列：标题、内容、部门"
    with pytest.raises(CommandError, match="找不到列“承办部门”"):
        run("evaluate", str(path), "--text-column", "内容", "--label-column", "承办部门")


def test_unreadable_files_are_refused_clearly(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    with pytest.raises(CommandError, match="无法读取文件"):
        run("evaluate", str(broken), "--text-column", "a", "--label-column", "b")
    with pytest.raises(CommandError, match="找不到文件"):
        run("evaluate", str(tmp_path / "none.csv"), "--text-column", "a", "--label-column", "b")
    text = tmp_path / "export.txt"
    text.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        run("evaluate", str(text), "--text-column", "a", "--label-column", "b")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="是空的"):
        run("evaluate", str(empty), "--text-column", "a", "--label-column", "b")


def test_too_few_samples_per_class_is_a_command_error(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("内容,部门\n厂区停电,供电公司\n园区停水,水务公司\n线路跳闸,供电公司\n", encoding="utf-8")
    with pytest.raises(CommandError, match="无法做分层交叉验证"):
        run("evaluate", str(path), "--text-column", "内容", "--label-column", "部门")
    with pytest.raises(CommandError, match="折数至少为 2"):
        run("evaluate", str(path), "--text-column", "内容", "--label-column", "部门", "--folds", "1")


@pytest.mark.django_db
def test_train_runs_for_one_zone_or_every_zone(cast):
    out = run("train", "--zone", cast.zone_a.code)
    assert out.startswith(f"{cast.zone_a.name}：")
    assert RoutingModel.objects.filter(zone=cast.zone_a).count() == 1
    assert not RoutingModel.objects.filter(zone=cast.zone_b).exists()

    every = run("train")
    # One line per zone, in the order of their codes (zone-a, zone-b).
    assert [line.split("：")[0] for line in every.splitlines()] == [cast.zone_a.name, cast.zone_b.name]
    assert RoutingModel.objects.filter(zone=cast.zone_b).count() == 1
    with pytest.raises(CommandError, match="找不到园区“nowhere”"):
        run("train", "--zone", "nowhere")
