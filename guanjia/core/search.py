"""Chinese full-text search: the one module every feature shares (DESIGN.md, "What every part must hold").

A feature indexes a text when it saves it (`index`) and asks for hits of one kind (`search`),
restricted to what the asking user may see by passing its own `visible_to(user)` queryset as `within`.
Text is cut into words by jieba in search mode (so 营业执照 also yields 营业 and 执照), and the words are
stored space-separated in SearchEntry: title words (a knowledge entry's question and keywords) and
body words (its answer) apart, so that a word of the title weighs more.

The index itself is the database's: an FTS5 table on SQLite, a GIN index on a stored
to_tsvector('simple', ...) column on PostgreSQL (migration core 0008). A query matches the entries
holding all its words, else any of its discriminating words, so word order and form do not matter
(企业开办 / 开办企业); entries sharing more and rarer words, and sharing them in the title, come
first. The work per query is bounded whatever the size of the index (see "bounded work" below).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from guanjia.core import bulk
from guanjia.core.models import SearchEntry

# Words that carry no subject of their own in an enterprise's question (how, what, may I, we ...).
_STOP_WORDS_TEXT = """
    的 了 吗 呢 吧 啊 呀 么 和 与 及 或 在 是 有 要 我 我们 我司 你 您 你们 他 她 它 这 那 这个 那个 哪 哪个
    怎么 怎样 怎么样 如何 什么 哪些 多少 是否 能否 能不能 可不可以 可以 可否 需要 需不需要 请问 请 问 想 想要
    一下 一个 以及 还是 还有 就 都 也 又 被 把 对 从 到 给 让 为 为了 关于 对于 有关 相关 情况 问题 咨询
    怎么办 会 不会 能 不能 没 没有 一直 已经 以后 之后 后 时候 什么时候
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Terms of enterprise services that jieba's general dictionary would cut apart.
SERVICE_TERMS = (
    "企业开办",
    "拿地",
    "加层",
    "营业执照",
    "电子营业执照",
    "统一社会信用代码",
    "高新技术企业",
    "专精特新",
    "研发费用",
    "加计扣除",
    "留抵退税",
    "出口退税",
    "不动产权证",
    "施工许可",
    "规划许可",
    "容积率",
    "排污许可",
    "环评",
    "稳岗补贴",
    "社保",
    "公积金",
    "人才公寓",
    "一网通办",
    "帮办代办",
    "延时服务",
    "预约服务",
)
_WORD = re.compile(r"^\w+$")
_jieba_ready = threading.Lock()
_jieba = None


def _segmenter():  # noqa: ANN202 - jieba has no type information
    """jieba, with its dictionary loaded once per process (about a second) and the service terms added."""
    global _jieba
    with _jieba_ready:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            for term in SERVICE_TERMS:
                jieba.add_word(term)
            _jieba = jieba
    return _jieba


def words(text: str) -> list[str]:
    """The words of `text` as the index holds them: jieba's search-mode cut, lower-cased, without
    punctuation and stop words, in order of first appearance, each once."""
    seen: dict[str, None] = {}
    for word in _segmenter().cut_for_search(text or ""):
        word = word.strip().lower()
        if word and word not in STOP_WORDS and _WORD.match(word):
            seen.setdefault(word, None)
    return list(seen)


def _joined(*texts: str) -> str:
    return " ".join(word for text in texts for word in words(text))


def index(kind: str, object_id: int, *, title: str, body: str = "", keywords: str = "") -> None:
    """Index (or re-index) one text of a feature; call it in the transaction that saves the text."""
    SearchEntry.objects.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "title": title[:300],
            "body": body,
            "title_tokens": _joined(title, keywords),
            "body_tokens": _joined(body),
            "updated_at": timezone.now(),
        },
    )


def index_many(kind: str, texts: list[tuple[int, str, str]]) -> None:
    """Index (or re-index) many texts of one kind at once, each (object id, title, body): the rows
    index() would write, replaced with two statements. For rebuilds (guanjia reindex_appeals),
    where a statement per text costs the database a flush of its full-text index per text."""
    if not texts:
        return
    now = bulk.db_value(SearchEntry, "updated_at")(timezone.now())
    SearchEntry.objects.filter(kind=kind, object_id__in=[object_id for object_id, _, _ in texts]).delete()
    bulk.insert(
        SearchEntry,
        ("kind", "object_id", "title", "body", "title_tokens", "body_tokens", "updated_at"),
        [
            (kind, object_id, title[:300], body, _joined(title), _joined(body), now)
            for object_id, title, body in texts
        ],
    )


def unindex(kind: str, object_id: int) -> None:
    """Remove a text from the index (it was deleted, or is no longer to be found)."""
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


@dataclass(frozen=True)
class Hit:
    """One entry found: the feature's object id, its score (higher is better) and the indexed text,
    with the query's words to highlight."""

    object_id: int
    score: float
    title: str
    body: str
    words: tuple[str, ...]

    @property
    def title_html(self) -> SafeString:
        return highlight(self.title, self.words)

    def snippet_html(self, length: int = 120) -> SafeString:
        return snippet(self.body, self.words, length)


# --- bounded work per query -----------------------------------------------------------------------
#
# Ranking every entry that shares a word with the query grows with the index: at 100,000 entries a
# common word makes bm25 / ts_rank score tens of thousands of rows (p50 164 / 214 ms), and the
# database's own bm25 even counts each word's matches over the whole index. So a query does a
# bounded amount of work, whatever the number of entries:
#
# 1. How common is each word? Its matches are counted up to _COUNT_CAP, newest first; beyond that
#    its frequency is estimated from how far back the _COUNT_CAP-th match lies.
# 2. Candidates are the entries holding ALL the query's words (those it cannot hold, found nowhere,
#    left out), read from the index newest first, a page at a time, each page's scope checked on
#    its primary keys. Only when too few are found, entries holding ANY of the query's rarer words
#    (those under _COUNT_CAP matches; the too common ones discriminate nothing and would make every
#    entry a candidate). Both reads are served by the index in rowid / id order and stop at the
#    page's LIMIT: nothing is scored there.
# 3. A narrow scope (an enterprise's few appeals among a million) would leave most pages empty: once
#    a first page shows it, the scope's own entries (at most _SMALL_SCOPE) are matched directly.
# 4. The candidates in scope (at most _RANKED, newest first) are ranked here by BM25F over the
#    title and body words (a title word weighs four body words), with the word frequencies of step
#    1 -- the same ranking on SQLite and on PostgreSQL.

_COUNT_CAP = 1000
_PAGE = 200
_PAGES = 8
_SMALL_SCOPE = 3000
_RANKED = 200
_TITLE_WEIGHT = 4.0
_K1 = 1.2
_B = 0.75
_EXACT_SIZE = 10_000  # a kind this small is counted at every query; a larger one every few minutes
_SIZE_TTL = 300.0
_sizes: dict[str, tuple[float, int]] = {}
_estimates: dict[tuple[str, str, str], tuple[float, float]] = {}  # common words' frequencies
_ESTIMATES_KEPT = 10_000
_sizes_lock = threading.Lock()


def search(kind: str, query: str, *, within: QuerySet | Scope | None = None, limit: int = 20) -> list[Hit]:
    """The entries of `kind` that best match `query`, best first: those holding all its words, else
    any of its discriminating words; word order and form do not matter.

    `within` is the feature's queryset of what the user may see (`Model.objects.visible_to(user)`,
    narrowed as the page needs): only its objects are returned, so scope is the feature's own rule.
    A feature whose scope is better checked another way passes its own `Scope` instead.
    The work done is bounded (see above): among a very large number of matches, the newest are ranked."""
    query_words = tuple(words(query))
    if not query_words or limit <= 0:
        return []
    facts = _Kind.of(kind)
    counts = {word: _frequency(facts, word) for word in query_words}
    present = [word for word in query_words if counts[word] > 0]
    if not present:
        return []
    rare = [word for word in present if counts[word] < _COUNT_CAP] or present
    pool: dict[int, int] = {}  # entry id -> object id, in scope
    scope = within if isinstance(within, Scope) else Scope(within)
    _gather(facts, present, "AND", scope, pool, limit)
    if len(pool) < limit and (len(present) > 1 or rare != present):
        _gather(facts, rare, "OR", scope, pool, limit)
    if not pool:
        return []
    ranked = _rank(facts, pool, present, counts)[:limit]
    texts = {
        pk: (title, body)
        for pk, title, body in SearchEntry.objects.filter(pk__in=[pk for pk, _, _ in ranked]).values_list(
            "pk", "title", "body"
        )
    }
    return [Hit(object_id, score, *texts[pk], query_words) for pk, object_id, score in ranked if pk in texts]


class Scope:
    """The user's scope as the search meets it: checked on a page of candidates by primary key, or,
    when it is small, listed once (its object ids) and searched on its own entries.

    A feature may subclass it where its queryset answers one of the two questions slowly (answers
    scoped by their appeal: dispatch.searching.AnswerScope): `allowed` and `list_small` are asked."""

    def __init__(self, within: QuerySet | None) -> None:
        self.within = within
        self.small: list[int] | None = None
        self.sized = False

    def allowed(self, object_ids: list[int]) -> set[int]:
        """Which of `object_ids` are in the scope."""
        assert self.within is not None
        return set(self.within.order_by().filter(pk__in=object_ids).values_list("pk", flat=True))

    def list_small(self, most: int) -> list[int] | None:
        """The scope's object ids when there are at most `most` of them, else None."""
        assert self.within is not None
        ids = list(self.within.order_by().values_list("pk", flat=True)[: most + 1])
        return ids if len(ids) <= most else None

    def keep(self, candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if self.within is None or not candidates:
            return candidates
        allowed = self.allowed([object_id for _, object_id in candidates])
        return [(pk, object_id) for pk, object_id in candidates if object_id in allowed]

    def small_ids(self) -> list[int] | None:
        """The scope's object ids when there are at most _SMALL_SCOPE of them (asked once)."""
        if self.within is not None and not self.sized:
            self.sized = True
            self.small = self.list_small(_SMALL_SCOPE)
        return self.small


@dataclass(frozen=True)
class _Kind:
    """What one search needs to know of its kind, read once per search: its size, whether it is
    large (see _fts_query) and the newest entry id of the index (see _frequency)."""

    name: str
    size: int
    large: bool
    newest: int

    @classmethod
    def of(cls, kind: str) -> _Kind:
        size = _kind_size(kind)
        newest = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
        return cls(kind, size, size >= _EXACT_SIZE and size * 4 >= newest, newest)


def _gather(
    kind: _Kind, query_words: list[str], op: str, scope: Scope, pool: dict[int, int], limit: int
) -> None:
    """Add to `pool` the newest in-scope entries matching the words (all of them, or any), until
    there are _RANKED of them, or `limit` after the first page, or the page budget is spent."""
    before: int | None = None
    for page in range(_PAGES):
        candidates = _page(kind, query_words, op, before)
        kept = scope.keep(
            [(pk, object_id) for pk, object_id in candidates if pk not in pool and object_id != _OTHER_KIND]
        )
        for pk, object_id in kept:
            if len(pool) >= _RANKED:
                return
            pool[pk] = object_id
        if len(candidates) < _PAGE or len(pool) >= _RANKED or (page > 0 and len(pool) >= limit):
            return
        if page == 0 and len(pool) < limit:
            small = scope.small_ids()
            if small is not None:
                for pk, object_id in _in_small_scope(kind, query_words, op, small):
                    if len(pool) >= _RANKED:
                        return
                    pool.setdefault(pk, object_id)
                return
        before = candidates[-1][0]


def _page(kind: _Kind, query_words: list[str], op: str, before: int | None) -> list[tuple[int, int]]:
    """One page of (entry id, object id) of `kind` matching the words, newest first, below `before`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id, object_id FROM core_searchentry WHERE kind = %s "
                "AND search_vector @@ to_tsquery('simple', %s) AND id < %s ORDER BY id DESC LIMIT %s",
                [kind.name, _pg_query(query_words, op), before if before is not None else _NO_BOUND, _PAGE],
            )
            return [(int(pk), int(object_id)) for pk, object_id in cursor.fetchall()]
        cursor.execute(
            "SELECT rowid FROM core_search_fts WHERE core_search_fts MATCH %s AND rowid < %s "
            "ORDER BY rowid DESC LIMIT %s",
            [_fts_query(kind, query_words, op), before if before is not None else _NO_BOUND, _PAGE],
        )
        rowids = [int(rowid) for (rowid,) in cursor.fetchall()]
        if not rowids:
            return []
        # The kind is checked here too: a large kind is left out of the MATCH (_fts_query).
        placeholders = ", ".join(["%s"] * len(rowids))
        cursor.execute(
            f"SELECT id, object_id FROM core_searchentry WHERE kind = %s AND id IN ({placeholders})",  # noqa: S608 - placeholders only
            [kind.name, *rowids],
        )
        object_ids = dict(cursor.fetchall())
    return [(rowid, object_ids.get(rowid, _OTHER_KIND)) for rowid in rowids]


def _in_small_scope(
    kind: _Kind, query_words: list[str], op: str, object_ids: list[int]
) -> list[tuple[int, int]]:
    """The entries of a small scope's objects holding the words, newest first: the tokens of a few
    thousand entries are read directly, where the index would list every match in the kind."""
    if not object_ids:
        return []
    find = "strpos(%s, %s)" if connection.vendor == "postgresql" else "instr(%s, %s)"
    text = "' ' || title_tokens || ' ' || body_tokens || ' '"
    condition = f" {op} ".join(find % (text, "%s") + " > 0" for _ in query_words)
    placeholders = ", ".join(["%s"] * len(object_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, object_id FROM core_searchentry WHERE kind = %s AND object_id IN ({placeholders}) "  # noqa: S608 - placeholders only
            f"AND ({condition}) ORDER BY id DESC",
            [kind.name, *object_ids, *(f" {word} " for word in query_words)],
        )
        return [(int(pk), int(object_id)) for pk, object_id in cursor.fetchall()]


_NO_BOUND = 2**62
_OTHER_KIND = -1  # a candidate of another kind (a page of a kind left out of the MATCH)


def _frequency(kind: _Kind, word: str) -> float:
    """How many entries of `kind` hold `word`: counted up to _COUNT_CAP (newest first), estimated
    beyond it from how far back the _COUNT_CAP-th match lies among all entries.

    An estimate (a common word), and any count in a kind of _EXACT_SIZE entries or more, is kept
    for _SIZE_TTL: among tens of thousands of entries it barely moves, and the kinds left out of the
    MATCH (_fts_query) share it, so a search of all kinds counts a word once. A smaller kind is
    counted at every query."""
    vendor = connection.vendor
    if vendor == "postgresql":
        sql = (
            "SELECT count(*), min(id) FROM (SELECT id FROM core_searchentry WHERE kind = %s "
            "AND search_vector @@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT %s) AS matches"
        )
        params: list[str | int] = [kind.name, _pg_quoted(word), _COUNT_CAP]
    else:
        sql = (
            "SELECT count(*), min(rowid) FROM (SELECT rowid FROM core_search_fts "
            "WHERE core_search_fts MATCH %s ORDER BY rowid DESC LIMIT %s)"
        )
        params = [_fts_query(kind, [word], "AND"), _COUNT_CAP]
    key = (str(connection.settings_dict["NAME"]), vendor, str(params[:-1]))
    now = time.monotonic()
    with _sizes_lock:
        cached = _estimates.get(key)
    if cached is not None and now - cached[0] < _SIZE_TTL:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted, oldest = cursor.fetchone()
    if counted < _COUNT_CAP:
        if kind.size < _EXACT_SIZE:
            return float(counted)
        estimate = float(counted)
    else:
        # Entries of every kind are numbered as they come: the share of ids at or after the oldest of
        # the newest matches that are matches estimates the word's frequency over all ids.
        newest = max(kind.newest, oldest)
        estimate = max(float(_COUNT_CAP), _COUNT_CAP * newest / max(1, newest - oldest + 1))
    with _sizes_lock:
        if len(_estimates) >= _ESTIMATES_KEPT:
            _estimates.clear()
        _estimates[key] = (now, estimate)
    return estimate


def _kind_size(kind: str) -> int:
    """How many entries `kind` has: counted when small, else counted every few minutes."""
    now = time.monotonic()
    with _sizes_lock:
        cached = _sizes.get(kind)
    if cached is not None and now - cached[0] < _SIZE_TTL:
        return cached[1]  # only large kinds are cached: a small one is counted exactly each time
    small = SearchEntry.objects.filter(kind=kind).order_by().values("pk")[:_EXACT_SIZE].count()
    if small < _EXACT_SIZE:
        return small
    size = SearchEntry.objects.filter(kind=kind).count()
    with _sizes_lock:
        _sizes[kind] = (now, size)
    return size


def _rank(
    kind: _Kind, pool: dict[int, int], query_words: list[str], counts: dict[str, float]
) -> list[tuple[int, int, float]]:
    """(entry id, object id, score) of the pool, best first: BM25F over the title and body words."""
    size = max(kind.size, 1)
    weights = {
        word: math.log(1.0 + (size - min(counts[word], size) + 0.5) / (min(counts[word], size) + 0.5))
        for word in query_words
    }
    rows = list(
        SearchEntry.objects.filter(pk__in=list(pool)).values_list("pk", "title_tokens", "body_tokens")
    )
    shaped = []
    for pk, title_tokens, body_tokens in rows:
        title_words, body_words = title_tokens.split(), body_tokens.split()
        shaped.append(
            (pk, set(title_words), set(body_words), _TITLE_WEIGHT * len(title_words) + len(body_words))
        )
    average = sum(length for *_, length in shaped) / max(1, len(shaped)) or 1.0
    scored = []
    for pk, title_set, body_set, length in shaped:
        norm = _K1 * (1.0 - _B + _B * length / average)
        score = 0.0
        for word, weight in weights.items():
            frequency = _TITLE_WEIGHT * (word in title_set) + (word in body_set)
            if frequency:
                score += weight * frequency * (_K1 + 1.0) / (frequency + norm)
        scored.append((pk, pool[pk], score))
    scored.sort(key=lambda row: (-row[2], -row[1]))
    return scored


def _fts_query(kind: _Kind, query_words: list[str], op: str) -> str:
    """The FTS5 query of the words (the column filter keeps them off the kind column).

    The kind is a phrase of the index's kind column ("appeals.appeal" is two tokens), and FTS5 reads
    a phrase's positions at every entry of the kind: for a large kind that costs more than the
    words themselves (17 ms for a word of 565 matches among 200,000 entries, against 0.1 ms).
    So a kind holding a large share of the index is left out of the MATCH and checked on each
    page's rows (_page); its word counts then include the other kinds' entries, an estimate."""
    joined = f" {op} ".join(_fts_quoted(word) for word in query_words)
    words_match = f"{{title_tokens body_tokens}} : ({joined})"
    if kind.large:  # holding at least a quarter of the index (entries are numbered across kinds)
        return words_match
    return f"kind : {_fts_quoted(kind.name)} AND {words_match}"


def _pg_query(query_words: list[str], op: str) -> str:
    return (" & " if op == "AND" else " | ").join(_pg_quoted(word) for word in query_words)


def _pg_quoted(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def _fts_quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _pattern(query_words: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({word for word in query_words if word}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(word) for word in ordered), re.IGNORECASE)


def highlight(text: str, query_words: Iterable[str]) -> SafeString:
    """`text`, escaped, with every occurrence of a query word in <mark>."""
    pattern = _pattern(query_words)
    if pattern is None:
        return escape(text)
    parts: list[str] = []
    position = 0
    for found in pattern.finditer(text):
        parts.append(escape(text[position : found.start()]))
        parts.append(f"<mark>{escape(found.group(0))}</mark>")
        position = found.end()
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of the text is escaped above


def snippet(text: str, query_words: Iterable[str], length: int = 120) -> SafeString:
    """About `length` characters of `text` around its first query word, highlighted."""
    query_words = tuple(query_words)
    pattern = _pattern(query_words)
    found = pattern.search(text) if pattern else None
    start = max(0, found.start() - length // 4) if found else 0
    piece = text[start : start + length]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + length < len(text) else ""
    return mark_safe(prefix + highlight(piece, query_words) + suffix)  # noqa: S308 - highlight escapes
