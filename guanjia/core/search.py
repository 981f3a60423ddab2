"""Chinese full-text search: the one module every feature shares (DESIGN.md, "What every part must hold").

A feature indexes a text when it saves it (`index`) and asks for hits of one kind (`search`),
restricted to what the asking user may see by passing its own `visible_to(user)` queryset as `within`.
Text is cut into words by jieba in search mode (so 营业执照 also yields 营业 and 执照), and the words are
stored space-separated in SearchEntry: title words (a knowledge entry's question and keywords) and
body words (its answer) apart, so that a word of the title weighs more.

The index itself is the database's: an FTS5 table on SQLite ranked by bm25, a GIN index on
to_tsvector('simple', ...) on PostgreSQL ranked by ts_rank (migration core 0008). A query matches
an entry sharing any of its words, so word order and form do not matter (企业开办 / 开办企业); entries
sharing more and rarer words, and sharing them in the title, come first.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


def unindex(kind: str, object_id: int) -> None:
    """Remove a text from the index (it was deleted, or is no longer to be found)."""
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


@dataclass(frozen=True)
class Hit:
    """One entry found: the feature's object id, the database's score (higher is better) and the
    indexed text, with the query's words to highlight."""

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


def search(kind: str, query: str, *, within: QuerySet | None = None, limit: int = 20) -> list[Hit]:
    """The entries of `kind` that share a word with `query`, best first.

    `within` is the feature's queryset of what the user may see (`Model.objects.visible_to(user)`,
    narrowed as the page needs): only its objects are returned, so scope is the feature's own rule.

    The database ranks the best candidates in the index alone; the scope is then checked on those
    candidates only (by primary key), and deeper only when too few of them were in scope: testing the
    scope on every match, or joining every match to its row, costs more than the ranking."""
    query_words = tuple(words(query))
    if not query_words or limit <= 0:
        return []
    candidates = max(_CANDIDATES, limit * 10)
    while True:
        ranked = _ranked(kind, query_words, candidates)
        if within is None:
            kept = ranked[:limit]
        else:
            allowed = set(
                within.order_by()
                .filter(pk__in=[object_id for object_id, _ in ranked])
                .values_list("pk", flat=True)
            )
            kept = [(object_id, score) for object_id, score in ranked if object_id in allowed][:limit]
        if len(kept) >= limit or len(ranked) < candidates:
            break
        candidates *= 8  # too few of the best were in scope: rank deeper
    texts = {
        object_id: (title, body)
        for object_id, title, body in SearchEntry.objects.filter(
            kind=kind, object_id__in=[object_id for object_id, _ in kept]
        ).values_list("object_id", "title", "body")
    }
    return [
        Hit(object_id, score, *texts[object_id], query_words)
        for object_id, score in kept
        if object_id in texts
    ]


_CANDIDATES = 200
_SQLITE_RANKED = (
    # bm25 is lower for better matches; the kind column weighs nothing, a title word four body words.
    # Ranked in the index alone: the rows' object ids are read for the candidates only (_ranked).
    "SELECT rowid, -bm25(core_search_fts, 0.0, 4.0, 1.0) AS score FROM core_search_fts "
    "WHERE core_search_fts MATCH %s ORDER BY score DESC, rowid DESC LIMIT %s"
)
_POSTGRES_RANKED = (
    # Weights {D, C, B, A}: a title word weighs four times a body word, as on SQLite.
    "SELECT e.object_id, ts_rank('{0.25, 0.25, 0.25, 1.0}', VECTOR, q, 1) AS score "
    "FROM core_searchentry e, to_tsquery('simple', %s) q "
    "WHERE e.kind = %s AND VECTOR @@ q ORDER BY score DESC, e.object_id DESC LIMIT %s"
)


def _ranked(kind: str, query_words: tuple[str, ...], candidates: int) -> list[tuple[int, float]]:
    """The best `candidates` entries of `kind` for the words, as (object id, score), best first."""
    if connection.vendor == "postgresql":
        sql = _POSTGRES_RANKED.replace("VECTOR", _PG_VECTOR)
        params: list[Any] = [" | ".join(_pg_quoted(word) for word in query_words), kind, candidates]
    else:
        # The kind is a column of the FTS5 index; the column filter keeps the query's words off it.
        words_match = " OR ".join(_fts_quoted(word) for word in query_words)
        sql = _SQLITE_RANKED
        params = [
            f"kind : {_fts_quoted(kind)} AND {{title_tokens body_tokens}} : ({words_match})",
            candidates,
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [(int(key), float(score)) for key, score in cursor.fetchall()]
    if connection.vendor == "postgresql":
        return rows
    object_ids = dict(
        SearchEntry.objects.filter(pk__in=[key for key, _ in rows]).values_list("pk", "object_id")
    )
    return [(object_ids[key], score) for key, score in rows if key in object_ids]


# PostgreSQL: the weighted tsvector of title and body words, a stored column with a GIN index (migration core 0008).
_PG_VECTOR = "e.search_vector"


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
