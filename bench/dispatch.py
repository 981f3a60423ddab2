"""Benchmark smart dispatch (issue 10) on N appeals: index build, suggestion, similar-appeal lookup, search.

Fills a fresh database with N appeals (default 1,000,000) of one city (two zones, 3:1, the first
measured), their texts made from the labelled appeals of guanjia/appeals/data/appeals_zh.csv:
sentences and clauses of appeals of the same category recombined, some dropped and shuffled, words
swapped for their everyday variants, numbers, dates, roads and enterprise names varied, so that
near-duplicates exist (about 3% are paraphrases of an earlier appeal: 共性问题) but most appeals
differ. About half are answered, each with an answer text; a few were first dispatched to the wrong
department and returned. Rows are written in bulk (guanjia.core.bulk), not through the services.

Then builds, timing each apart:

1. the search index of appeals and answers: the SearchEntry rows are exactly those
   guanjia.dispatch.searching.index_appeal / index_answer write through guanjia.core.search.index (the
   calls are captured, the words cut by jieba in --workers processes and the rows written in batches;
   one appeal and one answer are then indexed the ordinary way and must come out identical);
2. the similarity bands (guanjia.dispatch.similar.rebuild);
3. the routing model of the measured zone (guanjia.dispatch.routing.retrain: its most recent labelled
   appeals, at most 50,000 (or --train-cap), made the zone's active RoutingModel).

Step 2 computes the bands with similar.band_keys in --workers processes and writes them in bulk; one
appeal is then indexed by similar.remember() and must get the same bands (--rebuild: similar.rebuild()).

and measures, over --queries new texts or queries (p50, p95, max; --runs passes):

- suggestion: routing.suggest_text(zone, title, body) (the model is loaded on the first call and cached
  after it: that first call is printed apart and not counted);
- similar lookup: similar.similar_to_text(zone_id, title, body, within=Appeal.objects.visible_to(dispatcher)),
  half of the texts new, half paraphrases of appeals in the database;
- search: searching.find(dispatcher, q, kind="appeal") and kind=None, q being 1-3 words of an appeal's
  text in shuffled order;

and prints EXPLAIN (SQLite: EXPLAIN QUERY PLAN) of the lookup's and the search's SQL once.

--keep leaves the database in place; --reuse then measures again on it without filling or building
anything (a 1,000,000-appeal database takes about an hour to build): the queries are made afresh from
a sample of its appeals.
Targets (p95): suggestion < 20 ms, lookup < 50 ms, search < 50 ms; exit status 1 if one is missed.

SQLite: a fresh file under var/bench/dispatch-sqlite/. PostgreSQL: set DATABASE_URL (or
--database-url); the database named there (its name must contain "bench") is dropped and created
afresh, and dropped again at the end unless --keep.

    .venv/bin/python bench/dispatch.py                        # 1,000,000 appeals, SQLite
    .venv/bin/python bench/dispatch.py --appeals 20000 --train-cap 3000   # a few minutes
    .venv/bin/python bench/dispatch.py --keep && .venv/bin/python bench/dispatch.py --reuse
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanjia_bench_dispatch .venv/bin/python bench/dispatch.py
"""

from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
BENCH_DIR = REPO / "var" / "bench"
SOURCE_CSV = REPO / "guanjia" / "appeals" / "data" / "appeals_zh.csv"
CHUNK = 10_000  # appeals written per transaction
INDEX_BATCH = 20_000  # texts read, cut and written per step of the search index build
HISTORY_DAYS = 3 * 365  # the appeals span three years ...
LIVE_DAYS = 548  # ... the last eighteen months of them on the platform, with their answers' texts
SAMPLE = 5000  # texts of the measured zone kept to make the queries from
TARGETS_MS = {"suggestion": 20.0, "lookup": 50.0, "search": 50.0}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# --- realistic texts ------------------------------------------------------------------------------


def _listed(words: str) -> list[str]:
    return words.split()


# Roads named in the source appeals, replaced by one of ROADS in each generated text.
SOURCE_ROADS = _listed(
    "纬三路 经五路 海棠路 科创路 滨河路 天工路 智造路 技三路 兴业路 创新路 纬二路 创三路 长江路 技五路 港城路 "
    "经三路 纬五路 丰源路 创二路 纬四路 黄山路 锦程路"
)
ROADS = [f"{a}{b}路" for a in "经纬创技" for b in "一二三四五六七八九十"] + _listed(
    "海棠路 科创路 滨河路 天工路 智造路 兴业路 创新路 长江路 港城路 丰源路 黄山路 锦程路 星湖路 金鸡湖路 "
    "青丘街 松涛街 方洲路 苏虹路 唯亭路 娄葑路 东富路 旺墩路 现代大道 华池街 若水路 仁爱路 独墅湖大道 "
    "阳澄湖大道 凤里街 钟园路 通园路 江浦路 淞江路 葑亭大道"
)
PLACES = _listed(
    "苏州 无锡 常州 南通 昆山 江阴 张家港 太仓 嘉兴 宁波 绍兴 湖州 杭州 上海 南京 扬州 镇江 泰州"
)
BRANDS = _listed(
    "恒达 华创 金盛 瑞丰 博远 天成 鼎新 中科 联创 宏图 新锐 卓越 汇通 永安 嘉禾 泰和 盛世 智源 东方 科华 "
    "海纳 凯特 恒信 景润 星辰 致远 启明 佳禾 同方 锦宏 晨光 隆达 华宇 精工 德尔 安捷 赛特 优品 朗润 思源"
)
INDUSTRIES = _listed(
    "精密机械 电子科技 新材料 生物医药 智能装备 汽车零部件 光电 半导体 新能源 环保科技 食品 物流 纺织 "
    "医疗器械 软件 化工 包装 模具 检测技术 供应链管理"
)
PRODUCTS = _listed(
    "精密模具 锂电池隔膜 医用敷料 工业机器人 光伏支架 汽车线束 芯片封装 环保涂料 冷链物流 注塑件 "
    "伺服电机 传感器 不锈钢管件 无纺布 电路板 食品包装 高端轴承 数控机床 工业软件 检测试剂"
)
SURNAMES = _listed("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗")
# Everyday variants of the same word: a generated text takes any of its group.
SYNONYMS = [
    ("我司", "我们公司", "本公司", "我公司"),
    ("请问", "想问一下", "想咨询一下"),
    ("能不能", "能否", "可不可以", "是否可以"),
    ("尽快", "抓紧", "早日"),
    ("帮忙", "协助", "帮助"),
    ("现在", "目前", "眼下"),
    ("希望", "恳请", "期望"),
    ("麻烦", "烦请", "劳驾"),
    ("一直", "始终", "总是"),
    ("已经", "早已"),
    ("园区", "开发区", "高新区"),
    ("企业", "公司"),
]
_SYNONYM_OF = {word: group for group in SYNONYMS for word in group}
_SYNONYM_RE = re.compile("|".join(sorted(_SYNONYM_OF, key=len, reverse=True)))
_ROAD_RE = re.compile("|".join(SOURCE_ROADS))
_NUMBER_RE = re.compile(r"(\d+(?:\.\d+)?)([月号日年点]?)")
_CLAUSE_RE = re.compile(r"(?<=[，。！？；])")
OPENINGS = (
    "",
    "",
    "",
    "",
    "您好，",
    "企业反映：",
    "我们是园区内一家{industry}企业，",
    "我司是做{product}的，",
    "{enterprise}反映：",
    "位于{road}{number}号的{enterprise}反映，",
    "{surname}经理来电：",
)
CLOSINGS = (
    "",
    "",
    "",
    "盼复。",
    "麻烦尽快处理，谢谢！",
    "请帮忙协调解决。",
    "望尽快给予答复。",
    "联系人：{surname}经理。",
    "此事已影响正常生产，恳请重视。",
)
TITLE_FORMS = ("{t}", "{t}", "{t}", "{t}", "关于{t}的诉求", "{t}（再次反映）", "咨询：{t}", "{road}{t}")
ANSWER_FORMS = (
    "经{dept}核实，您反映的“{title}”一事{detail}。{advice}",
    "收到诉求后，{dept}于{month}月{day}日安排专人上门了解情况：{clause}{detail}。{advice}",
    "关于“{title}”，根据现行规定，{detail}。{advice}",
    "您好！您提出的“{clause}”{dept}已收悉，{detail}，{advice}",
    "您反映的问题已纳入{year}年工作计划，{detail}。{advice}",
)
ANSWER_DETAILS = (
    "已协调解决",
    "相关手续已办理完毕",
    "已督促责任单位限期整改",
    "材料已转交审批窗口加快办理",
    "因不符合现行政策条件，暂不能支持",
    "已安排专场对接会，邀请相关银行参加",
    "已联系供电公司上门勘察，预计两周内完成",
    "已在系统中补录信息，请重新提交申请",
    "已与施工单位沟通，调整了作业时间",
    "经现场查看，情况属实，已列入整改清单",
    "补贴资金已拨付至企业账户",
    "已开通绿色通道，安排专人跟进",
)
ANSWER_ADVICE = (
    "",
    "如有疑问请联系{dept}窗口。",
    "后续如仍有困难，可通过管家再次反映。",
    "请企业按要求补齐材料后到政务服务中心办理。",
    "感谢您对园区工作的支持。",
)


@dataclass(frozen=True)
class Source:
    category: str  # the category's name, as in the CSV
    department: str  # the department that answered it (its name without the zone)
    title: str
    clauses: tuple[str, ...]


def load_sources() -> list[Source]:
    with SOURCE_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Source(
            row["category"],
            row["department"],
            row["title"],
            tuple(clause for clause in _CLAUSE_RE.split(row["body"]) if clause),
        )
        for row in rows
    ]


class TextMaker:
    """Appeal and answer texts recombined from the source appeals (deterministic for an rng)."""

    def __init__(self, sources: list[Source], rng: random.Random) -> None:
        self.sources = sources
        self.rng = rng
        self.by_category: dict[str, list[Source]] = defaultdict(list)
        for source in sources:
            self.by_category[source.category].append(source)
        # Whole sentences of each category, to borrow into other appeals of the category.
        self.sentences: dict[str, list[str]] = defaultdict(list)
        for source in sources:
            sentence = ""
            for clause in source.clauses:
                sentence += clause
                if clause[-1] in "。！？；":
                    self.sentences[source.category].append(sentence)
                    sentence = ""

    def enterprise_name(self) -> str:
        rng = self.rng
        return f"{rng.choice(PLACES)}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}有限公司"

    def _fill(self, template: str) -> str:
        rng = self.rng
        if "{" not in template:
            return template
        return template.format(
            industry=rng.choice(INDUSTRIES),
            product=rng.choice(PRODUCTS),
            enterprise=self.enterprise_name(),
            road=rng.choice(ROADS),
            number=rng.randint(1, 399),
            surname=rng.choice(SURNAMES),
        )

    def vary(self, text: str, *, words: float = 0.5) -> str:
        """Numbers, dates, roads varied; each word with everyday variants swapped with chance `words`."""
        rng = self.rng

        def number(match: re.Match[str]) -> str:
            value, unit = match.group(1), match.group(2)
            if unit == "月":
                return f"{rng.randint(1, 12)}月"
            if unit in ("号", "日"):
                return f"{rng.randint(1, 28)}{unit}"
            if unit == "年":
                return f"{rng.randint(2019, 2026)}年"
            if unit == "点":
                return f"{rng.randint(1, 12)}点"
            scaled = float(value) * rng.uniform(0.5, 2.0)
            shown = f"{scaled:.1f}" if "." in value else str(max(1, round(scaled)))
            return shown + unit

        text = _NUMBER_RE.sub(number, text)
        text = _ROAD_RE.sub(lambda _m: rng.choice(ROADS), text)
        return _SYNONYM_RE.sub(
            lambda m: rng.choice(_SYNONYM_OF[m.group(0)]) if rng.random() < words else m.group(0), text
        )

    def appeal(self, category: str | None = None) -> tuple[Source, str, str]:
        """(source, title, body) of a new appeal: its source's first clause (the gist), the rest of its
        clauses thinned and partly shuffled, sentences of other appeals of the category mixed in."""
        rng = self.rng
        source = rng.choice(self.by_category[category]) if category else rng.choice(self.sources)
        first, rest = source.clauses[0], list(source.clauses[1:])
        rest = [clause for clause in rest if rng.random() > 0.2]
        if len(rest) > 2 and rng.random() < 0.4:
            i = rng.randrange(len(rest) - 1)
            rest[i], rest[i + 1] = rest[i + 1], rest[i]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            borrowed = rng.choice(self.sentences[source.category])
            if borrowed in source.clauses or borrowed.startswith(first):
                continue
            # At a sentence's end only, so that no sentence is cut in two.
            ends = [i + 1 for i, clause in enumerate(rest) if clause[-1] in "。！？；"]
            if first[-1] in "。！？；":
                ends.append(0)
            rest.insert(rng.choice(ends) if ends else len(rest), borrowed)
        body = self._fill(rng.choice(OPENINGS)) + first + "".join(rest)
        if body[-1] not in "。！？；":
            body = body.rstrip("，、") + "。"
        body = self.vary(body + self._fill(rng.choice(CLOSINGS)))
        title = self.vary(source.title, words=0.3)
        title = rng.choice(TITLE_FORMS).format(t=title, road=rng.choice(ROADS))
        return source, title[:100], body

    def paraphrase(self, title: str, body: str) -> tuple[str, str]:
        """The same problem raised again (by another enterprise): numbers and a few words changed,
        maybe a clause dropped, another opening."""
        rng = self.rng
        clauses = [clause for clause in _CLAUSE_RE.split(body) if clause]
        if len(clauses) > 3:
            del clauses[rng.randrange(1, len(clauses))]
        body = self.vary("".join(clauses), words=0.3)
        return self.vary(title, words=0.2)[:100], body

    def answer(self, title: str, body: str, department: str) -> str:
        rng = self.rng
        # The gist: the longest of the first clauses (the first may be an opening, "企业反映：").
        clause = max(_CLAUSE_RE.split(body)[:3], key=len).rstrip("，。！？；：")
        return rng.choice(ANSWER_FORMS).format(
            dept=department,
            title=title,
            clause=clause[:40],
            detail=rng.choice(ANSWER_DETAILS),
            advice=rng.choice(ANSWER_ADVICE).format(dept=department),
            month=rng.randint(1, 12),
            day=rng.randint(1, 28),
            year=rng.randint(2024, 2027),
        )


# --- measuring --------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def timed(label: str, calls: list[Callable[[], Any]], runs: int, target_ms: float | None) -> tuple[bool, str]:
    """Time each call (`runs` passes over them); print p50/p95/max and the verdict against the target."""
    samples: list[float] = []
    results = 0
    for _ in range(runs):
        for call in calls:
            started = time.perf_counter()
            result = call()
            samples.append((time.perf_counter() - started) * 1000)
            results += len(result) if hasattr(result, "__len__") else 1
    p50, p95, worst = percentiles(samples)
    verdict, ok = "", True
    if target_ms is not None:
        ok = p95 < target_ms
        verdict = f"  target p95 < {target_ms:g} ms: {'PASS' if ok else 'FAIL'}"
    line = (
        f"{label:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {worst:7.1f} ms  "
        f"({len(samples)} calls, {results / len(samples):.1f} results each){verdict}"
    )
    print(line, flush=True)
    return ok, line


@contextmanager
def step(label: str) -> Iterator[None]:
    print(f"{label} ...", flush=True)
    started = time.perf_counter()
    yield
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)


# --- the search index, in bulk --------------------------------------------------------------------


def _cut(items: list[tuple[str, int, str, str, str]]) -> list[tuple[str, int, str, str, str, str]]:
    """In a worker process: the words of each captured text, as guanjia.core.search.index stores them."""
    from guanjia.core import search

    return [
        (kind, object_id, title[:300], body, search._joined(title, keywords), search._joined(body))
        for kind, object_id, title, body, keywords in items
    ]


@contextmanager
def captured_index() -> Iterator[list[tuple[str, int, str, str, str]]]:
    """While inside, guanjia.core.search.index records its arguments instead of writing: the texts the
    feature's own indexing code gives it, to be cut in bulk."""
    from guanjia.core import search
    from guanjia.dispatch import searching

    calls: list[tuple[str, int, str, str, str]] = []

    def record(kind: str, object_id: int, *, title: str, body: str = "", keywords: str = "") -> None:
        calls.append((kind, object_id, title, body, keywords))

    patched = [(search, "index", search.index)]
    if getattr(searching, "index", None) is search.index:  # `from guanjia.core.search import index`
        patched.append((searching, "index", searching.index))  # type: ignore[attr-defined]
    for module, name, _original in patched:
        setattr(module, name, record)
    try:
        yield calls
    finally:
        for module, name, original in patched:
            setattr(module, name, original)


def build_search_index(workers: int) -> tuple[int, int]:
    """Index every appeal and answer; returns (appeals, answers) indexed."""
    from django.db import connection, transaction
    from django.db.models import Q
    from django.utils import timezone

    from guanjia.appeals.models import Appeal, Assignment
    from guanjia.core import bulk, search
    from guanjia.core.models import SearchEntry
    from guanjia.dispatch import searching

    search.words("预热分词词典")  # jieba's dictionary, loaded once here and shared by the forked workers
    connection.close()  # the workers never touch the database; the parent reconnects
    pool = multiprocessing.get_context("fork").Pool(workers)
    now = bulk.db_value(SearchEntry, "updated_at")(timezone.now())
    names = ("kind", "object_id", "title", "body", "title_tokens", "body_tokens", "updated_at")
    counted = {"appeal": 0, "answer": 0}
    written: set[tuple[str, int]] = set()

    def appeals() -> Iterator[tuple[Any, Appeal]]:
        """Every appeal, as it was submitted (ids follow the submission time)."""
        queryset = Appeal.objects.select_related("enterprise", "category", "zone").order_by("pk")
        last = 0
        while objects := list(queryset.filter(pk__gt=last)[:INDEX_BATCH]):
            last = objects[-1].pk
            yield from ((appeal.submitted_at, appeal) for appeal in objects)

    def answers() -> Iterator[tuple[Any, Assignment]]:
        """The answers with a text, as they were given (each appeal here has at most one answered
        assignment, so no co-department's opinion is missed by leaving the others out)."""
        queryset = (
            Assignment.objects.select_related("appeal", "department")
            .filter(answered_at__isnull=False)
            .exclude(answer="")
            .order_by("answered_at", "pk")
        )
        after: tuple[Any, int] | None = None
        while True:
            page = queryset
            if after is not None:
                page = page.filter(Q(answered_at__gt=after[0]) | Q(answered_at=after[0], pk__gt=after[1]))
            objects = list(page[:INDEX_BATCH])
            if not objects:
                return
            after = (objects[-1].answered_at, objects[-1].pk)
            yield from ((answer.answered_at, answer) for answer in objects)

    def batches() -> Iterator[list[tuple[str, int, str, str, str]]]:
        """Captured index calls, INDEX_BATCH objects at a time, appeals and answers in the order
        they happened: the order the receivers index them in, which the search's id order follows."""
        merged = heapq.merge(appeals(), answers(), key=lambda pair: pair[0])
        while chunk := list(itertools.islice(merged, INDEX_BATCH)):
            with captured_index() as calls:
                for _when, obj in chunk:
                    if isinstance(obj, Appeal):
                        searching.index_appeal(obj)
                    else:
                        searching.index_answer(obj)
            # An answer is indexed with the other answers of its appeal: each entry once.
            unique: dict[tuple[str, int], tuple[str, int, str, str, str]] = {}
            for call in calls:
                if (call[0], call[1]) not in written:
                    unique[call[0], call[1]] = call
            written.update(unique)
            for kind, _object_id in unique:
                counted["appeal" if kind == searching.APPEAL_KIND else "answer"] += 1
            yield list(unique.values())

    def write(rows: list[tuple[str, int, str, str, str, str]]) -> None:
        with transaction.atomic():
            bulk.insert(SearchEntry, names, [(*row, now) for row in rows])

    try:
        pending = None
        for calls in batches():
            # The workers cut this batch while the parent writes the one before and reads the next.
            share = max(1, len(calls) // (workers * 4))
            result = pool.map_async(_cut, [calls[i : i + share] for i in range(0, len(calls), share)])
            if pending is not None:
                write([row for part in pending.get() for row in part])
            pending = result
        if pending is not None:
            write([row for part in pending.get() for row in part])
    finally:
        pool.close()
        pool.join()
    return counted["appeal"], counted["answer"]


def check_search_index(appeal_id: int, assignment_id: int) -> list[str]:
    """Index one appeal and one answer the ordinary way; their rows must equal the bulk-written ones."""
    from django.db import transaction

    from guanjia.appeals.models import Appeal, Assignment
    from guanjia.core.models import SearchEntry
    from guanjia.dispatch import searching

    fields = ("kind", "object_id", "title", "body", "title_tokens", "body_tokens")
    problems = []
    cases: list[tuple[str, Any, Callable[[Any], None]]] = [
        (searching.APPEAL_KIND, Appeal.objects.get(pk=appeal_id), searching.index_appeal),
        (searching.ANSWER_KIND, Assignment.objects.get(pk=assignment_id), searching.index_answer),
    ]
    for kind, obj, index in cases:
        bulk_rows = list(SearchEntry.objects.filter(object_id=obj.pk, kind=kind).values_list(*fields))
        with transaction.atomic():
            index(obj)
        real_rows = list(SearchEntry.objects.filter(object_id=obj.pk, kind=kind).values_list(*fields))
        if not real_rows:
            problems.append(f"{kind} #{obj.pk}: index_* wrote no row of kind {kind!r}")
        elif bulk_rows != real_rows:
            problems.append(f"{kind} #{obj.pk}: bulk row {bulk_rows} != ordinary row {real_rows}")
    return problems


# --- the similarity bands, in bulk -----------------------------------------------------------------


def _bands(items: list[tuple[int, int, str, str]]) -> list[tuple[int, int, int]]:
    """In a worker process: the AppealBand rows (key, appeal, zone) of each appeal, by similar's own code."""
    from guanjia.dispatch import similar

    return [
        (key, pk, zone_id) for pk, zone_id, title, body in items for key in similar.band_keys(title, body)
    ]


def build_bands(workers: int) -> int:
    """The bands of every appeal a lookup may list (open, or closed within similar.RECENT_DAYS, not
    merged: what similar.prune() keeps), computed by similar.band_keys in `workers` processes and
    written in bulk: what similar.rebuild() writes, faster. Returns how many appeals were indexed."""
    from django.db import connection, transaction

    from guanjia.appeals.models import Appeal
    from guanjia.core import bulk, search
    from guanjia.dispatch import similar
    from guanjia.dispatch.models import AppealBand

    search.words("预热分词词典")
    connection.close()
    pool = multiprocessing.get_context("fork").Pool(workers)
    names = ("key", "appeal_id", "zone_id")
    count = 0

    def write(parts: list[list[tuple[int, int, int]]]) -> None:
        with transaction.atomic():
            bulk.insert(AppealBand, names, [row for part in parts for row in part])

    try:
        pending = None
        last = 0
        while True:
            batch = list(
                Appeal.objects.filter(similar._listable())
                .order_by("pk")
                .filter(pk__gt=last)
                .values_list("pk", "zone_id", "title", "body")[:INDEX_BATCH]
            )
            if not batch:
                break
            last = batch[-1][0]
            count += len(batch)
            share = max(1, len(batch) // (workers * 4))
            result = pool.map_async(_bands, [batch[i : i + share] for i in range(0, len(batch), share)])
            if pending is not None:
                write(pending.get())
            pending = result
        if pending is not None:
            write(pending.get())
    finally:
        pool.close()
        pool.join()
    return count


def check_bands(appeal_id: int) -> list[str]:
    """similar.remember() of one appeal must write the very bands the bulk path wrote."""
    from django.db import transaction

    from guanjia.appeals.models import Appeal
    from guanjia.dispatch import similar
    from guanjia.dispatch.models import AppealBand

    def bands() -> list[tuple[int, int]]:
        return sorted(AppealBand.objects.filter(appeal_id=appeal_id).values_list("key", "zone_id"))

    bulk_rows = bands()
    with transaction.atomic():
        similar.remember(Appeal.objects.get(pk=appeal_id))
    real_rows = bands()
    if not real_rows or bulk_rows != real_rows:
        return [
            f"bands of appeal #{appeal_id}: bulk {bulk_rows[:3]}… ({len(bulk_rows)}) != remember() {real_rows[:3]}… ({len(real_rows)})"
        ]
    return []


# --- EXPLAIN ------------------------------------------------------------------------------------------


def explain(label: str, call: Callable[[], Any]) -> None:
    """Run `call` once, capturing its SQL, and print the plan of each SELECT it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    prefix = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    print(f"\n--- {label}: {len(captured.captured_queries)} queries")
    for n, query in enumerate(captured.captured_queries, start=1):
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            print(f"[{n}] ({float(query['time']) * 1000:.1f} ms) {sql[:200]}")
            continue
        shown = re.sub(r"IN \(([^()]{200})[^()]*\)", r"IN (\1 …)", sql)
        print(f"[{n}] ({float(query['time']) * 1000:.1f} ms) {shown[:600]}")
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            # SQLite: (id, parent, notused, detail); PostgreSQL: one line of text. A plan repeating
            # itself (one arm per band) is shown once, with its count.
            lines = [str(row[-1]) for row in cursor.fetchall()]
        for line, count in Counter(lines).items():
            print(f"      {line}" + (f"   (×{count})" if count > 1 else ""))


# --- filling ------------------------------------------------------------------------------------------


@dataclass
class Filled:
    zones: list[Any]
    dispatchers: dict[int, Any]
    departments: dict[int, dict[str, Any]]  # zone pk -> department name (without the zone) -> OrgUnit
    categories: dict[str, Any]  # name -> AppealCategory
    enterprises: dict[int, list[int]]
    open_texts: list[tuple[str, str]]  # (title, body) of some open appeals of the measured zone
    texts: list[tuple[str, str]]  # (title, body) of some appeals of the measured zone


def fill(n_appeals: int, n_zones: int, maker: TextMaker, rng: random.Random) -> Filled:  # noqa: C901, PLR0915
    """The organisation, people and enterprises, then the appeals and their assignments (bulk)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guanjia.appeals.defaults import ensure_default_categories
    from guanjia.appeals.models import (
        OPEN_STATUSES,
        Appeal,
        Assignment,
        CategoryRoute,
        Channel,
        Outcome,
        Status,
    )
    from guanjia.core import bulk
    from guanjia.core.models import OrgUnit, RoleGrant, User
    from guanjia.core.roles import Role
    from guanjia.enterprises.models import Enterprise
    from guanjia.enterprises.uscc import with_check_digit

    city = OrgUnit.objects.create(name="基准市", code="bench-city", kind=OrgUnit.Kind.CITY)
    department_names = sorted({source.department for source in maker.sources})
    categories = {category.name: category for category in ensure_default_categories().values()}
    zones, dispatchers, departments, handlers = [], {}, {}, {}
    users, grants = [], []
    for z in range(n_zones):
        zone = OrgUnit.objects.create(
            name=f"基准园区{z}", code=f"bench-z{z}", kind=OrgUnit.Kind.ZONE, parent=city
        )
        zones.append(zone)
        centre = OrgUnit.objects.create(
            name=f"基准园区{z}企业服务中心",
            code=f"bench-z{z}-centre",
            kind=OrgUnit.Kind.DEPARTMENT,
            parent=zone,
            is_dispatch_desk=True,
        )
        departments[zone.pk] = {
            name: OrgUnit.objects.create(
                name=f"基准园区{z}{name}", code=f"bench-z{z}-d{d}", kind=OrgUnit.Kind.DEPARTMENT, parent=zone
            )
            for d, name in enumerate(department_names)
        }
        dispatcher = User(username=f"dispatcher{z}", full_name=f"受理员{z}", unit=centre)
        dispatcher.set_unusable_password()
        dispatchers[zone.pk] = dispatcher
        users.append(dispatcher)
        grants.append((dispatcher, Role.DISPATCHER))
        for d, (name, unit) in enumerate(departments[zone.pk].items()):
            handler = User(username=f"handler{z}-{d}", full_name=f"{name}承办人", unit=unit)
            handler.set_unusable_password()
            handlers[unit.pk] = handler
            users.append(handler)
            grants.append((handler, Role.HANDLER))
        # The routing table: each category to the department that answers most of its source appeals.
        for category_name, sources in maker.by_category.items():
            counts: dict[str, int] = defaultdict(int)
            for source in sources:
                counts[source.department] += 1
            CategoryRoute.objects.create(
                category=categories[category_name],
                zone=zone,
                lead_department=departments[zone.pk][max(counts, key=lambda name: counts[name])],
            )
    User.objects.bulk_create(users)
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=role) for user, role in grants])

    enterprises: dict[int, list[int]] = {zone.pk: [] for zone in zones}
    batch = []
    for i in range(max(200, n_appeals // 50)):
        serial, k = "", i
        for _ in range(8):
            k, digit = divmod(k, len(USCC_ALPHABET))
            serial = USCC_ALPHABET[digit] + serial
        zone = zones[0] if i % 4 else zones[-1]  # 3:1, like the appeals
        batch.append(
            Enterprise(
                uscc=with_check_digit(f"91320599{serial}0"), name=f"{maker.enterprise_name()}{i}", zone=zone
            )
        )
    for enterprise in Enterprise.objects.bulk_create(batch, batch_size=5000):
        enterprises[enterprise.zone_id].append(enterprise.pk)

    dt = bulk.db_value(Appeal, "submitted_at")
    now = timezone.now()
    appeal_names = (
        "id",
        "zone_id",
        "enterprise_id",
        "category_id",
        "title",
        "body",
        "channel",
        "urgent",
        "status",
        "submitted_by_id",
        "submitted_at",
        "accept_due",
        "accepted_at",
        "decline_reason",
        "decline_advice",
        "answered_at",
        "rate_due",
        "closed_at",
    )
    assignment_names = (
        "appeal_id",
        "department_id",
        "is_lead",
        "kind",
        "is_current",
        "dispatched_at",
        "sign_due",
        "signed_at",
        "signed_by_id",
        "returned_at",
        "return_reason",
        "answer_due",
        "original_answer_due",
        "answer_days",
        "answered_at",
        "answered_by_id",
        "outcome",
        "answer",
    )
    # Appeals arrive evenly over HISTORY_DAYS, in id order as in life. Their state follows their age:
    # the last days' are waiting or in hand, the last month's partly answered, older ones closed.
    by_age = [
        (
            3,
            [
                (Status.SUBMITTED, 30),
                (Status.DISPATCHED, 30),
                (Status.SIGNED, 32),
                (Status.DECLINED, 5),
                (Status.RETURNED, 3),
            ],
        ),
        (
            30,
            [
                (Status.SIGNED, 35),
                (Status.WAITING, 5),
                (Status.ANSWERED, 20),
                (Status.CLOSED, 35),
                (Status.DECLINED, 3),
                (Status.RETURNED, 2),
            ],
        ),
        (None, [(Status.CLOSED, 96), (Status.DECLINED, 3), (Status.SIGNED, 1)]),
    ]
    mixes = [
        (days, [state for state, _w in mix], list(itertools.accumulate(w for _s, w in mix)))
        for days, mix in by_age
    ]
    # The platform went live LIVE_DAYS ago: the history before was imported with its departments but
    # without the answers' texts, so about half of the appeals have an answer to search.
    live_since = now - timedelta(days=LIVE_DAYS)
    zone_weights = list(itertools.accumulate([3] + [1] * (n_zones - 1)))
    channels = list(Channel.values)
    outcomes = list(Outcome.values)
    next_id = 1
    recent: list[tuple[str, str, str, str]] = []  # (category, department, title, body) to paraphrase
    open_texts: list[tuple[str, str]] = []
    texts: list[tuple[str, str]] = []
    seen_zone0 = 0
    started = time.perf_counter()
    done = 0
    while done < n_appeals:
        size = min(CHUNK, n_appeals - done)
        ids = bulk.reserve_ids(Appeal, size) or list(range(next_id, next_id + size))
        next_id = ids[-1] + 1
        appeal_rows: list[tuple[Any, ...]] = []
        assignment_rows: list[tuple[Any, ...]] = []
        for position, appeal_id in enumerate(ids, start=done):
            zone = rng.choices(zones, cum_weights=zone_weights)[0]
            age_days = HISTORY_DAYS * (1 - (position + rng.random()) / n_appeals)
            submitted = now - timedelta(days=age_days)
            for days, states, weights in mixes:
                if days is None or age_days < days:
                    status = rng.choices(states, cum_weights=weights)[0]
                    break
            if recent and rng.random() < 0.03:
                category_name, department_name, title, body = rng.choice(recent)
                title, body = maker.paraphrase(title, body)
            else:
                source, title, body = maker.appeal()
                category_name, department_name = source.category, source.department
                if rng.random() < 0.01:  # history is noisy: another department answered it
                    department_name = rng.choice(department_names)
                if rng.random() < 0.002:  # a problem other enterprises will raise in the weeks after
                    recent.append((category_name, department_name, title, body))
                    del recent[:-100]
            is_open = status in OPEN_STATUSES
            accepted = (
                None if status in (Status.SUBMITTED, Status.DECLINED) else submitted + timedelta(hours=2)
            )
            answered = rate_due = closed = None
            if status in (Status.CLOSED, Status.ANSWERED):
                answered = submitted + timedelta(days=rng.uniform(0.3, min(12.0, age_days * 0.9)))
                rate_due = answered + timedelta(days=3)
                closed = min(rate_due, now) if status == Status.CLOSED else None
            if zone is zones[0]:
                # Samples of the zone's texts (reservoir), and of its open ones, for the queries.
                seen_zone0 += 1
                if len(texts) < SAMPLE:
                    texts.append((title, body))
                elif rng.randrange(seen_zone0) < SAMPLE:
                    texts[rng.randrange(SAMPLE)] = (title, body)
                if is_open and status != Status.SUBMITTED:
                    open_texts.append((title, body))
                    del open_texts[:-SAMPLE]
            declined = status == Status.DECLINED
            appeal_rows.append(
                (
                    appeal_id,
                    zone.pk,
                    rng.choice(enterprises[zone.pk]),
                    categories[category_name].pk,
                    title,
                    body,
                    rng.choice(channels),
                    rng.random() < 0.05,
                    status.value,
                    dispatchers[zone.pk].pk,
                    dt(submitted),
                    dt(submitted + timedelta(days=1)),
                    dt(accepted),
                    "不属于受理范围" if declined else "",
                    "建议向有关部门反映" if declined else "",
                    dt(answered),
                    dt(rate_due),
                    dt(closed),
                )
            )
            if accepted is None:
                continue
            department = departments[zone.pk][department_name]
            dispatched = accepted + timedelta(hours=rng.uniform(1, 20))
            kind = Assignment.Kind.DISPATCH
            if status == Status.RETURNED or rng.random() < 0.04:
                # First sent to a department that returned it (the label is the one that answered).
                wrong = departments[zone.pk][rng.choice(department_names)]
                assignment_rows.append(
                    (
                        appeal_id,
                        wrong.pk,
                        True,
                        Assignment.Kind.DISPATCH.value,
                        False,
                        dt(dispatched),
                        dt(dispatched + timedelta(days=1)),
                        None,
                        None,
                        dt(dispatched + timedelta(hours=5)),
                        "不属于本部门职责",
                        dt(dispatched + timedelta(days=7)),
                        dt(dispatched + timedelta(days=7)),
                        5,
                        None,
                        None,
                        "",
                        "",
                    )
                )
                if status == Status.RETURNED:
                    continue
                dispatched += timedelta(hours=8)
                kind = Assignment.Kind.REDISPATCH
            handler = handlers[department.pk]
            signed = None if status == Status.DISPATCHED else dispatched + timedelta(hours=3)
            answer = maker.answer(title, body, department.name) if answered and submitted > live_since else ""
            assignment_rows.append(
                (
                    appeal_id,
                    department.pk,
                    True,
                    kind.value,
                    True,
                    dt(dispatched),
                    dt(dispatched + timedelta(days=1)),
                    dt(signed),
                    handler.pk if signed else None,
                    None,
                    "",
                    dt(dispatched + timedelta(days=7)),
                    dt(dispatched + timedelta(days=7)),
                    5,
                    dt(answered),
                    handler.pk if answered else None,
                    rng.choice(outcomes) if answered else "",
                    answer,
                )
            )
        with transaction.atomic():
            bulk.insert(Appeal, appeal_names, appeal_rows)
            bulk.insert(Assignment, assignment_names, assignment_rows)
        done += size
        if done % 100_000 == 0 or done == n_appeals:
            print(f"  filled {done:,} appeals in {time.perf_counter() - started:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # explicit ids were written: move the sequence past them
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('appeals_appeal', 'id'), "
                "(SELECT MAX(id) FROM appeals_appeal))"
            )
    print(
        f"filled {Appeal.objects.count():,} appeals, {Assignment.objects.count():,} assignments "
        f"({Assignment.objects.filter(answered_at__isnull=False).count():,} answered) "
        f"in {time.perf_counter() - started:.0f} s (not counted)"
    )
    return Filled(zones, dispatchers, departments, categories, enterprises, open_texts, texts)


def refill(rng: random.Random) -> Filled:
    """What fill() returned, read back from a kept database (--reuse): the measured zone, its
    dispatcher, and samples of its appeals' texts to make the queries from."""
    from guanjia.appeals.models import OPEN_STATUSES, Appeal, Status
    from guanjia.core.models import OrgUnit, User

    zone = OrgUnit.objects.get(code="bench-z0")
    dispatcher = User.objects.get(username="dispatcher0")
    ids = list(Appeal.objects.filter(zone=zone).values_list("pk", flat=True))
    if not ids:
        raise SystemExit("--reuse: the kept database holds no appeals of zone bench-z0; build it with --keep")
    picked = Appeal.objects.filter(pk__in=rng.sample(ids, min(SAMPLE, len(ids))))
    texts = list(picked.order_by("pk").values_list("title", "body"))
    open_texts = list(
        Appeal.objects.filter(zone=zone, status__in=OPEN_STATUSES)
        .exclude(status=Status.SUBMITTED)
        .order_by("-pk")
        .values_list("title", "body")[:SAMPLE]
    )
    return Filled([zone], {zone.pk: dispatcher}, {}, {}, {}, open_texts, texts)


def analyze() -> None:
    """What autovacuum (PostgreSQL) or `guanjia` maintenance (SQLite ANALYZE) does after a load."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"  ANALYZE in {time.perf_counter() - started:.0f} s (not counted)")


def build(
    args: argparse.Namespace, maker: TextMaker, rng: random.Random, failures: list[str], summary: list[str]
) -> Filled:  # noqa: PLR0915
    """Migrate, fill, and build the search index, the similarity bands and the routing model, each timed."""
    from django.core.management import call_command
    from django.db import connection

    from guanjia.appeals.models import Appeal, Assignment
    from guanjia.core.models import SearchEntry
    from guanjia.dispatch import routing, similar
    from guanjia.dispatch.models import AppealBand, RoutingModel

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {args.appeals:,} appeals")
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    filled = fill(args.appeals, args.zones, maker, rng)
    analyze()
    zone = filled.zones[0]

    print("\nindex build:")
    started = time.perf_counter()
    appeals_indexed, answers_indexed = build_search_index(args.workers)
    elapsed = time.perf_counter() - started
    line = (
        f"(1) search index: {appeals_indexed:,} appeals + {answers_indexed:,} answers in {elapsed:.1f} s "
        f"({args.workers} processes cutting words; {SearchEntry.objects.count():,} entries)"
    )
    print(line, flush=True)
    summary.append(line)
    sample = (
        Assignment.objects.filter(answered_at__isnull=False, appeal__zone=zone)
        .exclude(answer="")
        .values_list("appeal_id", "pk")
        .order_by("pk")[rng.randrange(100)]
    )
    problems = check_search_index(*sample)
    if problems:
        failures.extend(problems)
        print("    FAIL: bulk index differs from the ordinary one:\n      " + "\n      ".join(problems))
    else:
        print(
            f"    check: appeal #{sample[0]} and answer #{sample[1]} indexed the ordinary way: identical rows"
        )

    started = time.perf_counter()
    if args.rebuild:
        bands_indexed, how = similar.rebuild(), "similar.rebuild()"
    else:
        bands_indexed, how = build_bands(args.workers), f"{args.workers} processes, bulk writes"
    elapsed = time.perf_counter() - started
    line = (
        f"(2) similarity bands: {bands_indexed:,} appeals in {elapsed:.1f} s "
        f"({how}; {AppealBand.objects.count():,} band rows)"
    )
    print(line, flush=True)
    summary.append(line)
    listed = Appeal.objects.filter(similar._listable()).order_by("-pk").values_list("pk", flat=True).first()
    problems = check_bands(listed or sample[0])
    if problems:
        failures.extend(problems)
        print("    FAIL: " + "; ".join(problems))
    else:
        print(f"    check: appeal #{listed} indexed by similar.remember(): identical bands")

    if args.train_cap:
        # A shorter history for a quick run: retrain() reads it through routing.history().
        full_history, train_cap = routing.history, args.train_cap

        def capped_history(zone: Any, *, cap: int = train_cap) -> Any:
            return full_history(zone, cap=min(cap, train_cap))

        routing.history = capped_history
    started = time.perf_counter()
    model = routing.retrain(zone)
    elapsed = time.perf_counter() - started
    model = RoutingModel.objects.get(pk=model.pk)
    line = (
        f"(3) routing model: {model.samples:,} samples, {model.classes} classes, trained and scored on "
        f"{model.held_out:,} held out in {elapsed:.1f} s; accuracy {model.held_out_accuracy}, "
        f"macro-F1 {model.held_out_macro_f1}, active {model.is_active}"
    )
    print(line, flush=True)
    summary.append(line)
    if not model.is_active:
        failures.append("routing model: the first model trained was not made active")
    analyze()

    return filled


# --- main ---------------------------------------------------------------------------------------------


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to fill (default 1000000)")
    parser.add_argument(
        "--zones", type=int, default=2, help="zones of the city (default 2; the first measured)"
    )
    parser.add_argument("--queries", type=int, default=200, help="new texts / queries timed (default 200)")
    parser.add_argument("--runs", type=int, default=1, help="passes over the texts / queries (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="processes cutting words (default 2)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="postgres://…")
    parser.add_argument(
        "--train-cap",
        type=int,
        default=0,
        help="train on at most this many appeals (default: routing.HISTORY_CAP, as the nightly run)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="write the bands with similar.rebuild() (one process, ORM)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure again on the database a run with --keep left (nothing filled or built; kept again)",
    )
    args = parser.parse_args()
    args.keep = args.keep or args.reuse

    from appeals import drop_and_create_postgres  # bench/appeals.py: the same fresh-database rule

    # Settings read the environment once, at django.setup(): set everything first.
    data_dir = BENCH_DIR / ("dispatch-postgresql" if args.database_url else "dispatch-sqlite")
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    elif not data_dir.is_dir():
        raise SystemExit(f"--reuse: nothing kept at {data_dir}; run with --keep first")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANJIA_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanjia.settings"
    os.environ.setdefault("GUANJIA_LOG_LEVEL", "WARNING")
    if args.database_url:
        if not args.reuse:
            drop_and_create_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()

    from django.db import connection

    from guanjia.appeals.models import Appeal
    from guanjia.core.models import SearchEntry, User
    from guanjia.dispatch import routing, searching, similar
    from guanjia.dispatch.models import AppealBand

    rng = random.Random(args.seed)
    maker = TextMaker(load_sources(), rng)
    failures: list[str] = []
    summary: list[str] = []
    try:
        if args.reuse:
            filled = refill(rng)
            print(
                f"database: {connection.vendor} ({connection.settings_dict['NAME']}), reused: "
                f"{Appeal.objects.count():,} appeals, {SearchEntry.objects.count():,} search entries, "
                f"{AppealBand.objects.count():,} band rows"
            )
        else:
            filled = build(args, maker, rng, failures, summary)
        zone = filled.zones[0]
        dispatcher = User.objects.get(pk=filled.dispatchers[zone.pk].pk)

        # --- timings ------------------------------------------------------------------------------
        from guanjia.core import search

        q_rng = random.Random(args.seed + 1)
        new_texts = [maker.appeal()[1:] for _ in range(args.queries)]
        lookup_texts = []
        for i in range(args.queries):
            if i % 2 and filled.open_texts:
                lookup_texts.append(maker.paraphrase(*q_rng.choice(filled.open_texts)))
            else:
                lookup_texts.append(new_texts[i])
        queries: list[str] = []
        while len(queries) < args.queries:
            title, body = q_rng.choice(filled.texts)
            words = search.words(title + "。" + body)
            if not words:
                continue
            picked = q_rng.sample(words, min(len(words), q_rng.randint(1, 3)))
            q_rng.shuffle(picked)
            queries.append(" ".join(picked))
        within = Appeal.objects.visible_to(dispatcher)

        print(f"\ntimings ({args.queries} texts / queries, {args.runs} pass(es); zone {zone.name}):")
        started = time.perf_counter()
        first = routing.suggest_text(zone, *new_texts[0])
        print(
            f"suggestion, first call (loads and caches the model): {(time.perf_counter() - started) * 1000:.0f} ms, "
            f"source {first.source}"
        )
        similar.similar_to_text(
            zone_id=zone.pk, title=lookup_texts[0][0], body=lookup_texts[0][1], within=within
        )
        searching.find(dispatcher, queries[0], kind="appeal")
        searching.find(dispatcher, queries[0])

        def suggestion_call(title: str, body: str) -> Callable[[], Any]:
            return lambda: routing.suggest_text(zone, title, body).routes

        def lookup_call(title: str, body: str) -> Callable[[], Any]:
            return lambda: similar.similar_to_text(zone_id=zone.pk, title=title, body=body, within=within)

        def search_call(query: str, kind: str | None) -> Callable[[], Any]:
            return lambda: searching.find(dispatcher, query, kind=kind)

        measured = [
            ("suggestion (routing.suggest_text)", [suggestion_call(*t) for t in new_texts], "suggestion"),
            ("similar lookup (similar.similar_to_text)", [lookup_call(*t) for t in lookup_texts], "lookup"),
            ('search appeals (find, kind="appeal")', [search_call(q, "appeal") for q in queries], "search"),
            ("search all kinds (find, kind=None)", [search_call(q, None) for q in queries], "search"),
        ]
        for label, calls, target in measured:
            ok, line = timed(label, calls, args.runs, TARGETS_MS[target])
            summary.append(line)
            if not ok:
                failures.append(line.strip())

        # --- plans --------------------------------------------------------------------------------
        print("\nplans (one call each):")
        explain(
            "similar lookup",
            lookup_call(*lookup_texts[1 if len(lookup_texts) > 1 else 0]),
        )
        explain('search, kind="appeal"', search_call(queries[0], "appeal"))
    finally:
        connection.close()
        if args.database_url and not args.keep:
            drop_and_create_postgres(args.database_url, create=False)
        if args.keep:
            print(f"kept: {args.database_url or data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    print("\nsummary:\n  " + "\n  ".join(summary))
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
