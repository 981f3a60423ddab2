"""The shared Chinese search module (guanjia.core.search), on whichever database the suite runs on."""

from __future__ import annotations

import pytest

from guanjia.core import search
from guanjia.core.models import OrgUnit, SearchEntry

pytestmark = pytest.mark.django_db

KIND = "test.entry"


def test_words_are_cut_lowered_and_stripped_of_stop_words_and_punctuation() -> None:
    assert search.words("请问开办企业需要哪些材料？") == ["开办", "企业", "材料"]
    # Search mode also yields the parts of a long word; the service terms stay whole as well.
    assert {"营业", "执照", "营业执照"} <= set(search.words("营业执照怎么办理"))
    assert search.words("ABC 公司") == ["abc", "公司"]
    assert search.words("的了吗？！") == []


def test_words_that_ask_rather_than_name_are_dropped_and_service_terms_stay_whole() -> None:
    # Without the service terms jieba cuts 拿地 into 拿 / 地 and glues 想加层 into one unknown word;
    # 后, 一直, 没, 会 say nothing of the subject and would match half the knowledge base.
    assert search.words("拿地后一直没开工会被收回吗") == ["拿地", "开工", "收回"]
    assert search.words("厂房想加层") == ["厂房", "加层"]


def test_words_in_another_order_find_the_entry_best_first() -> None:
    search.index(KIND, 1, title="企业开办需要哪些材料", body="申请人身份证明、公司章程、住所证明。")
    search.index(KIND, 2, title="企业注销流程", body="先清税，再办理注销登记。")
    search.index(KIND, 3, title="食堂卫生许可", body="与企业开办无关的餐饮许可。")
    hits = search.search(KIND, "开办企业要准备什么")
    # Entry 3 shares 企业 and 开办 in its body only, entry 2 only 企业: both rank below the title match.
    assert [hit.object_id for hit in hits][0] == 1
    assert {hit.object_id for hit in hits} == {1, 2, 3}
    assert hits[0].score > hits[1].score


def test_nothing_shared_finds_nothing() -> None:
    search.index(KIND, 1, title="企业开办需要哪些材料")
    assert search.search(KIND, "食堂排污") == []
    assert search.search(KIND, "？？") == []


def test_kinds_are_apart_and_within_limits_the_hits_to_the_callers_scope() -> None:
    zone_a = OrgUnit.objects.create(name="甲区", code="s-a", kind=OrgUnit.Kind.ZONE)
    zone_b = OrgUnit.objects.create(name="乙区", code="s-b", kind=OrgUnit.Kind.ZONE)
    search.index(KIND, zone_a.pk, title="高新技术企业认定")
    search.index(KIND, zone_b.pk, title="高新技术企业认定条件")
    search.index("test.other", zone_a.pk, title="高新技术企业")
    assert {hit.object_id for hit in search.search(KIND, "高新技术企业")} == {zone_a.pk, zone_b.pk}
    within = OrgUnit.objects.filter(code="s-b")
    assert [hit.object_id for hit in search.search(KIND, "高新技术企业", within=within)] == [zone_b.pk]
    assert search.search(KIND, "高新技术企业", within=OrgUnit.objects.none()) == []


def test_reindexing_replaces_the_words_and_unindex_removes_them() -> None:
    search.index(KIND, 7, title="社保补缴")
    search.index(KIND, 7, title="公积金提取")
    assert SearchEntry.objects.filter(kind=KIND).count() == 1
    assert search.search(KIND, "社保") == []
    assert [hit.object_id for hit in search.search(KIND, "公积金")] == [7]
    search.unindex(KIND, 7)
    assert search.search(KIND, "公积金") == []


def test_quotes_and_operators_in_a_query_are_words_not_syntax() -> None:
    search.index(KIND, 1, title="出口退税 OR 留抵退税")
    for query in ['"出口', "退税'", "NOT 退税", "退税 | 出口 & (", "NEAR(退税"]:
        assert [hit.object_id for hit in search.search(KIND, query)] == [1], query


def test_highlight_escapes_the_text_and_marks_every_word() -> None:
    html = search.highlight("<b>营业执照</b>与执照", ["执照", "营业执照"])
    assert html == "&lt;b&gt;<mark>营业执照</mark>&lt;/b&gt;与<mark>执照</mark>"
    snippet = search.snippet("甲" * 100 + "退税" + "乙" * 100, ["退税"], length=40)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>退税</mark>" in snippet


def test_the_kind_is_not_a_word_to_find() -> None:
    search.index(KIND, 1, title="出口退税")
    # KIND is "test.entry": its words live in the index's kind column, where queries never look.
    assert search.search(KIND, "test entry") == []
    assert [hit.object_id for hit in search.search(KIND, "退税")] == [1]


def test_a_narrow_scope_still_finds_its_entry_behind_many_better_ones() -> None:
    zones = [OrgUnit.objects.create(name=f"区{n}", code=f"s-{n}", kind=OrgUnit.Kind.ZONE) for n in range(260)]
    for zone in zones[:-1]:
        search.index(KIND, zone.pk, title="出口退税 出口退税", body="出口退税")
    search.index(KIND, zones[-1].pk, title="办理出口退税的材料")
    within = OrgUnit.objects.filter(pk=zones[-1].pk)
    assert [hit.object_id for hit in search.search(KIND, "出口退税", within=within, limit=5)] == [
        zones[-1].pk
    ]


def test_a_common_word_s_estimate_is_counted_once_and_shared_by_the_large_kinds(monkeypatch) -> None:
    """Beyond _COUNT_CAP matches a word's frequency is an estimate, kept a few minutes, as is any
    count in a kind of _EXACT_SIZE entries or more; two kinds that each hold a large share of the
    index (searched without the kind in the MATCH on SQLite) share it, so a search of all kinds
    counts the word once. A small kind's words are counted at every search."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(search, "_COUNT_CAP", 3)
    monkeypatch.setattr(search, "_EXACT_SIZE", 4)
    monkeypatch.setattr(search, "_estimates", {})
    monkeypatch.setattr(search, "_sizes", {})
    for n in range(6):
        search.index("test.first", n, title="年报")
        search.index("test.second", n, title="年报" if n < 4 else "注销")
    search.index("test.small", 1, title="注销")  # 1 of 13 entries: a small kind

    def counts(kind: str, query: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert search.search(kind, query)
        return sum("count(*)" in query["sql"] for query in captured.captured_queries)

    assert counts("test.first", "年报") == 1
    assert counts("test.first", "年报") == 0  # the estimate, kept
    if connection.vendor == "sqlite":
        assert counts("test.second", "年报") == 0  # the same count: no kind in the MATCH
    assert counts("test.second", "注销") == 1 and counts("test.second", "注销") == 0  # big kind: kept
    assert counts("test.small", "注销") == 1 and counts("test.small", "注销") == 1  # small: counted


def test_index_many_writes_the_rows_index_writes_and_replaces_old_ones() -> None:
    fields = ("kind", "object_id", "title", "body", "title_tokens", "body_tokens")
    search.index(KIND, 1, title="增值税留抵退税审核进度", body="申请提交一个月，审核没有结果。")
    one = list(SearchEntry.objects.filter(kind=KIND, object_id=1).values_list(*fields))
    search.index(KIND, 2, title="旧标题", body="旧内容")
    SearchEntry.objects.filter(kind=KIND, object_id=1).delete()
    search.index_many(
        KIND,
        [
            (1, "增值税留抵退税审核进度", "申请提交一个月，审核没有结果。"),
            (2, "厂区停电", "兴业大道停电三次"),
        ],
    )
    assert list(SearchEntry.objects.filter(kind=KIND, object_id=1).values_list(*fields)) == one
    assert SearchEntry.objects.filter(kind=KIND, object_id=2).count() == 1  # replaced, not added
    assert [hit.object_id for hit in search.search(KIND, "停电 兴业大道")] == [2]
    assert search.search(KIND, "旧内容") == []
