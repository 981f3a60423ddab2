"""Similar appeals (共性问题 candidates): MinHash LSH bands in the AppealBand table, kept up to date as
appeals arrive; candidates re-scored on their text.

Two steps, because the appeals that say the same thing in other words share few words (on the 24
paraphrase pairs of the shipped appeals_zh.csv, word-set Jaccard 0.04–0.3, overlapping unrelated pairs):

1. **Candidates** (the index). An appeal's features are its words (core.search.words of title and
   body) less stop words, numbers and COMMON_WORDS. Its MinHash signature takes BANDS × ROWS minima
   under a fixed, seeded family of multiply-shift hashes; each band (its number and its rows' minima)
   is folded into one signed 64-bit key, one AppealBand row. Appeals sharing any key are candidates.
   With ROWS = 1 the index has a low threshold on purpose: two appeals whose word sets overlap by J
   share a band with probability 1 − (1 − J)^BANDS, 0.80 at J = 0.04 and 0.985 at J = 0.1 with 40
   bands, so paraphrases become candidates: on the shipped set 23.2 of the 24 duplicates are expected
   to find their master among their candidates (22.6 with 32 bands, 23.5 with 48), and with this
   seed 23 do, among about 38 candidates of 240. 40 bands is the trade between that recall and the
   size of the table (one row per band and appeal: 40 million rows for a million appeals).
   The words of every appeal (园区, 企业, 申请, 材料 ...) must not make everything a candidate, hence
   COMMON_WORDS: a frozen list of the words found in more than one appeal in twenty of the shipped
   240 (in core.search.words' cut), written out below rather than derived at start-up, so that the
   stored bands never change with a data file: only a deliberate edit here (then
   `guanjia reindex_appeals`) changes them.
   A lookup is one query: for each band key, the newest PER_BAND appeals of the zone holding it (an
   index-only range scan of appealband_lookup_idx, read backwards; a LATERAL join over the keys on
   PostgreSQL, a UNION ALL on SQLite); a crowded bucket never reads more than PER_BAND rows, so the
   cost is bounded by BANDS × PER_BAND whatever the volume. Candidates sharing more bands come first;
   the best CANDIDATES of them go on.
2. **Re-score** (the text). A second query reads the text of the candidates in scope (the caller's
   `within`, the zone, open or submitted within RECENT_DAYS), each is scored against the appeal, and
   a third reads the few listed whole, with their enterprise. The score is the cosine of TF-IDF
   vectors of character 2- and 3-grams (within runs of letters, as sklearn's char_wb, punctuation
   dropped). The IDF is that of the 240 shipped appeals (appeals_zh.csv, read once per process): a
   fixed yardstick of what is common in enterprises' appeals, where the zone's own candidates would
   be too few and too alike to weigh anything; an n-gram absent from it weighs as the rarest. On the
   shipped set this puts the master among the three best of all 239 others for 24 of 24 duplicates.
   MIN_SCORE = 0.06 is chosen from the same data: 99% of the pairs that are not duplicates score
   below 0.055, no pair of clearly different categories (物流交通 / 知识产权, 融资信贷 / 水电气网 ...)
   reaches 0.045, and 23 of the 24 duplicate pairs score 0.066 or more.

Merged appeals: an appeal merged into a master (master set) is represented by its master, so it is
never a candidate (one would otherwise be offered as a master to merge into, which merge_appeal
refuses). For an appeal that is itself merged, its master is not listed (it is shown as its master,
not as a candidate), nor are the children already merged into the appeal.
"""

from __future__ import annotations

import csv
import hashlib
import math
import operator
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from guanjia.appeals.models import OPEN_STATUSES, Appeal, Status
from guanjia.core.search import words
from guanjia.dispatch.models import AppealBand

BANDS = 40
ROWS = 1  # minima per band: a low threshold, candidates are re-scored
PER_BAND = 40  # newest appeals read per band key: bounds a lookup whatever a bucket holds
CANDIDATES = 100  # candidates re-scored on their text, those sharing most bands first
RECENT_DAYS = 90  # a closed (or declined) appeal is still listed this long after it was submitted
MIN_SCORE = 0.06  # see the module docstring
_SEED = 20261128
_BATCH = 1000

# Words in more than one of twenty of the 240 shipped appeals (core.search.words' cut of title and
# body): they carry no subject of their own here, and would make most appeals candidates of each other.
_COMMON_WORDS_TEXT = """
    园区 企业 公司 月 申请 做 说 现在 还 今年 员工 不 上 有没有 部门 建议 但 或者 许可 办 按 去年 材料
    厂房 时间 人 要求 希望 申报 万元 服务 只能 一次 两个 一家 走 厂 个 来 提交 听说 系统 过 里 去 等 用
    施工 约 政策 找 部分 才 工业 大概 银行 帮忙 这种 许可证 处理 几个 客户 时 直接 晚上 尽快 电话 协调
    设备 合同 生产 再 网上 补贴 几家 开 项目 标准 年 安排 车间 先 万 专利 产品 多 通知 了解 产权 最近
    不是 提供 路 贷款 人员 费用 下 奖励 只有
    """
COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())

_CORPUS = Path(__file__).resolve().parents[1] / "appeals" / "data" / "appeals_zh.csv"


@dataclass(frozen=True)
class SimilarAppeal:
    appeal: Appeal
    score: float  # 0..1, higher is more similar
    same_enterprise: bool


# --- the index --------------------------------------------------------------------------------------

_random = np.random.default_rng(_SEED)
# h_i(x) = a_i·x + b_i mod 2^64 with odd a_i: a multiply-shift family, one per minimum taken.
_MULTIPLIERS = _random.integers(1, 2**63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _random.integers(0, 2**63, size=BANDS * ROWS, dtype=np.uint64)


def features(title: str, body: str) -> list[str]:
    """The words that decide an appeal's bands: its words less stop words, numbers and COMMON_WORDS."""
    return [word for word in words(f"{title}\n{body}") if word not in COMMON_WORDS and not word.isdigit()]


def _word_hash(word: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(word.encode(), digest_size=8, person=b"gj-similar").digest(), "little"
    )


def band_keys(title: str, body: str) -> list[int]:
    """The appeal's BANDS keys (signed 64-bit), or none for a text without features."""
    found = features(title, body)
    if not found:
        return []
    hashes = np.array([_word_hash(word) for word in found], dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping is the modulo 2^64
        permuted = hashes[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]
    minima = permuted.min(axis=0).reshape(BANDS, ROWS)
    keys = []
    for band, rows in enumerate(minima):
        folded = hashlib.blake2b(band.to_bytes(2, "little") + rows.tobytes(), digest_size=8).digest()
        keys.append(int.from_bytes(folded, "little", signed=True))
    return keys


def remember(appeal: Appeal) -> None:
    """Write (or rewrite) the appeal's bands; called when it is submitted (receivers.py)."""
    with transaction.atomic():
        AppealBand.objects.filter(appeal_id=appeal.pk).delete()
        _insert([(key, appeal.pk, appeal.zone_id) for key in band_keys(appeal.title, appeal.body)])


def forget(appeal_id: int) -> None:
    """Remove an appeal from the index."""
    AppealBand.objects.filter(appeal_id=appeal_id).delete()


def _listable() -> Q:
    """The appeals a lookup may list, or may come to list: not merged, and open, or closed within
    RECENT_DAYS of their submission. A closed appeal is closed for good (only an answered one is
    reopened), so once it is older than that its bands only slow every lookup down."""
    return Q(master__isnull=True) & (~Q(status=Status.CLOSED) | Q(submitted_at__gte=_recent()))


def _recent() -> datetime:
    return timezone.now() - timedelta(days=RECENT_DAYS)


def prune() -> int:
    """Remove the bands of appeals no lookup can list any more (see _listable); returns how many
    appeals were removed. Nightly (tasks.py): the table holds a city's live appeals, not its archive."""
    removed = 0
    while True:
        stale = list(
            AppealBand.objects.filter(
                Q(appeal__master__isnull=False)
                | Q(appeal__status=Status.CLOSED, appeal__submitted_at__lt=_recent())
            )
            .values_list("appeal_id", flat=True)
            .distinct()[:_BATCH]
        )
        if not stale:
            return removed
        with transaction.atomic():
            AppealBand.objects.filter(appeal_id__in=stale).delete()
        removed += len(stale)


def rebuild(zone_id: int | None = None) -> int:
    """Rewrite the bands of every appeal a lookup may list (of one zone); returns how many appeals
    were indexed.

    In batches by primary key, each in its own short transaction, so that submits are never held up
    for long; running it twice writes the same rows. Appeals no lookup can list are left out (and
    their bands, if any, removed by prune())."""
    appeals = Appeal.objects.filter(_listable()).order_by("pk")
    if zone_id is not None:
        appeals = appeals.filter(zone_id=zone_id)
    count = 0
    last = 0
    while True:
        batch = list(appeals.filter(pk__gt=last).values_list("pk", "zone_id", "title", "body")[:_BATCH])
        if not batch:
            return count
        # The bands are computed before the transaction opens: it holds the write lock for the writes only.
        rows = [(key, pk, zone) for pk, zone, title, body in batch for key in band_keys(title, body)]
        with transaction.atomic():
            AppealBand.objects.filter(appeal_id__in=[pk for pk, *_ in batch]).delete()
            _insert(rows)
        count += len(batch)
        last = batch[-1][0]


def _insert(rows: list[tuple[int, int, int]]) -> None:
    """Insert (key, appeal id, zone id) rows: a plain executemany, in key order (the index's), is four
    times quicker than bulk_create on SQLite, where a rebuild writes BANDS rows per appeal."""
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(AppealBand._meta.db_table)} ({quote('key')}, {quote('appeal_id')}, "
        f"{quote('zone_id')}) VALUES (%s, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, sorted(rows))


def candidate_ids(zone_id: int, keys: Sequence[int]) -> list[int]:
    """The appeals of the zone sharing a band key, those sharing most first (then the newest), at most
    CANDIDATES: one query, at most PER_BAND index entries read per key."""
    if not keys:
        return []
    quote = connection.ops.quote_name
    table = quote(AppealBand._meta.db_table)
    key, appeal, zone = quote("key"), quote("appeal_id"), quote("zone_id")
    if connection.vendor == "postgresql":
        # One plan for every lookup: 40 arms of a UNION ALL cost PostgreSQL more to plan than to run.
        sql = (
            f"SELECT band.{appeal} FROM unnest(%s::bigint[]) AS wanted(k) CROSS JOIN LATERAL "
            f"(SELECT {appeal} FROM {table} WHERE {key} = wanted.k AND {zone} = %s "
            f"ORDER BY {appeal} DESC LIMIT %s) AS band"
        )
        params: list[Any] = [list(keys), zone_id, PER_BAND]
    else:
        arm = (
            f"SELECT {appeal} FROM (SELECT {appeal} FROM {table} WHERE {key} = %s AND {zone} = %s "
            f"ORDER BY {appeal} DESC LIMIT %s) AS band_{{n}}"
        )
        sql = " UNION ALL ".join(arm.format(n=n) for n in range(len(keys)))
        params = [value for band_key in keys for value in (band_key, zone_id, PER_BAND)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        shared = Counter(appeal_id for (appeal_id,) in cursor.fetchall())
    ranked = sorted(shared.items(), key=lambda item: (-item[1], -item[0]))
    return [appeal_id for appeal_id, _ in ranked[:CANDIDATES]]


# --- the re-score -----------------------------------------------------------------------------------

_RUN = re.compile(r"\w+")
_idf_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def _grams(text: str) -> list[str]:
    found: list[str] = []
    for run in _RUN.findall(text.lower()):
        padded = f" {run} "
        found += [padded[i : i + 2] for i in range(len(padded) - 1)]
        found += [padded[i : i + 3] for i in range(len(padded) - 2)]
    return found


def _corpus_idf() -> tuple[dict[str, float], float]:
    """IDF of the n-grams of the shipped appeals, and the weight of an n-gram absent from them."""
    global _idf
    with _idf_lock:
        if _idf is None:
            try:
                with _CORPUS.open(encoding="utf-8") as handle:
                    texts = [f"{row['title']}\n{row['body']}" for row in csv.DictReader(handle)]
            except OSError:
                texts = []  # without the corpus every n-gram weighs the same
            counts = Counter(gram for text in texts for gram in set(_grams(text)))
            total = len(texts)
            _idf = (
                {gram: math.log((1 + total) / (1 + count)) + 1 for gram, count in counts.items()},
                math.log(1 + total) + 1,
            )
    return _idf


def _vector(title: str, body: str) -> dict[str, float]:
    """The unit TF-IDF vector of the text's character 2- and 3-grams."""
    idf, rarest = _corpus_idf()
    weights = {
        gram: count * idf.get(gram, rarest) for gram, count in Counter(_grams(f"{title}\n{body}")).items()
    }
    norm = math.hypot(*weights.values())
    return {gram: weight / norm for gram, weight in weights.items()} if norm else {}


def score(vector: dict[str, float], title: str, body: str) -> float:
    """The cosine of `vector` (a _vector) and the text's vector: the re-score of one candidate.

    Written for speed, as it runs on every candidate of a lookup: the text's norm is summed by C-level
    maps, and its weights are looked up for the n-grams it shares with `vector` only."""
    idf, rarest = _corpus_idf()
    counts = Counter(_grams(f"{title}\n{body}"))
    norm = math.hypot(*map(operator.mul, counts.values(), map(idf.get, counts.keys(), repeat(rarest))))
    if not norm or not vector:
        return 0.0
    shared = counts.keys() & vector.keys()
    return sum(vector[gram] * counts[gram] * idf.get(gram, rarest) for gram in shared) / norm


# --- lookups ----------------------------------------------------------------------------------------


def _lookup(
    *,
    zone_id: int,
    title: str,
    body: str,
    within: QuerySet[Appeal],
    enterprise_id: int | None,
    exclude: Iterable[int],
    limit: int,
) -> list[SimilarAppeal]:
    if limit <= 0:
        return []
    ids = candidate_ids(zone_id, band_keys(title, body))
    if not ids:
        return []
    recent = timezone.now() - timedelta(days=RECENT_DAYS)
    in_scope = (
        within.order_by()
        # master__isnull: merged appeals, its own children among them, are represented by their master.
        .filter(pk__in=ids, zone_id=zone_id, master__isnull=True)
        .filter(Q(status__in=OPEN_STATUSES) | Q(submitted_at__gte=recent))
        .exclude(pk__in=list(exclude))
        .values_list("pk", "title", "body")
    )
    vector = _vector(title, body)
    scored = [(score(vector, text_title, text_body), pk) for pk, text_title, text_body in in_scope]
    best = sorted(
        ((value, pk) for value, pk in scored if value >= MIN_SCORE), key=lambda item: (-item[0], -item[1])
    )
    best = best[:limit]
    if not best:
        return []
    # The few listed, read whole (a page shows them): cheaper than reading every candidate so. They
    # were read through `within` just above, which need not be evaluated again.
    appeals = Appeal.objects.select_related("enterprise").in_bulk([pk for _, pk in best])
    return [
        SimilarAppeal(
            appeal=appeals[pk],
            score=round(min(value, 1.0), 4),
            same_enterprise=enterprise_id is not None and appeals[pk].enterprise_id == enterprise_id,
        )
        for value, pk in best
        if pk in appeals
    ]


def similar_to(appeal: Appeal, *, within: QuerySet[Appeal], limit: int = 5) -> list[SimilarAppeal]:
    """The open and recent appeals of its zone most similar to `appeal`, among `within` (the asking
    user's visible_to), best first; `appeal` itself excluded."""
    exclude = [appeal.pk] + ([appeal.master_id] if appeal.master_id else [])
    return _lookup(
        zone_id=appeal.zone_id,
        title=appeal.title,
        body=appeal.body,
        within=within,
        enterprise_id=appeal.enterprise_id,
        exclude=exclude,
        limit=limit,
    )


def similar_to_text(
    *,
    zone_id: int,
    title: str,
    body: str,
    within: QuerySet[Appeal],
    enterprise_id: int | None = None,
    limit: int = 5,
) -> list[SimilarAppeal]:
    """The same for a text being written (the intake form)."""
    return _lookup(
        zone_id=zone_id,
        title=title,
        body=body,
        within=within,
        enterprise_id=enterprise_id,
        exclude=(),
        limit=limit,
    )
