"""Finding entries for a user: ranked by the shared Chinese search, within what the user may read —
another zone's entries and, for enterprise users and stewards, drafts are never found — in a constant
number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.knowledge import finding
from guanjia.knowledge.models import Entry
from guanjia.knowledge.tests.entries_helpers import ent_user_b1, entry, handler_b

pytestmark = pytest.mark.django_db


def questions(found: list[finding.Found]) -> list[str]:
    return [f.entry.question for f in found]


def test_word_order_does_not_matter_and_the_title_weighs_more(cast):
    title = entry(cast.handler_a, "企业开办需要准备哪些材料", "营业执照申请书、公司章程、股东身份证明。")
    body_only = entry(cast.handler_a, "公司注销流程", "注销前须结清税款；开办时的材料不必再交。")
    entry(cast.handler_a, "人才公寓怎么申请", "向人社局提交申请。")
    found = finding.find(cast.ent_user_a1, "开办企业要什么材料")
    assert [f.entry for f in found] == [title, body_only]
    assert "<mark>" in found[0].hit.title_html


def test_another_zones_entries_are_not_found(cast):
    entry(cast.handler_a, "高新区企业开办材料")
    entry(handler_b(cast), "经开区企业开办材料")
    assert questions(finding.find(cast.ent_user_a1, "企业开办")) == ["高新区企业开办材料"]
    assert questions(finding.find(ent_user_b1(cast), "企业开办")) == ["经开区企业开办材料"]
    assert questions(finding.find(cast.steward_b, "企业开办")) == ["经开区企业开办材料"]
    assert finding.find(cast.sysadmin, "企业开办") == []
    assert finding.find(cast.outsider, "企业开办") == []


def test_enterprise_users_and_stewards_find_published_entries_only(cast):
    entry(cast.handler_a, "企业开办材料（草稿）", published=False)
    published = entry(cast.handler_a, "企业开办材料")
    for reader in (cast.ent_user_a1, cast.steward_a):
        assert [f.entry for f in finding.find(reader, "企业开办")] == [published]
        assert [f.entry for f in finding.find(reader, "企业开办", published_only=False)] == [published]
    assert len(finding.find(cast.handler_a, "企业开办")) == 2
    assert len(finding.find(cast.dispatcher_a, "企业开办")) == 2
    assert [f.entry for f in finding.find(cast.dispatcher_a, "企业开办", published_only=True)] == [published]


def test_within_narrows_the_search(cast):
    first = entry(cast.handler_a, "企业开办材料")
    entry(cast.handler_a, "企业开办地点")
    within = Entry.objects.visible_to(cast.handler_a).filter(pk=first.pk)
    assert [f.entry for f in finding.find(cast.handler_a, "企业开办", within=within)] == [first]


def test_an_empty_or_stop_word_query_finds_nothing(cast):
    entry(cast.handler_a, "企业开办材料")
    assert finding.find(cast.ent_user_a1, "") == []
    assert finding.find(cast.ent_user_a1, "请问怎么办？") == []


def test_the_query_count_does_not_grow_with_the_hits(cast):
    def count(n: int) -> int:
        for i in range(n):
            entry(cast.handler_a, f"企业开办材料 {i}")
        reader = type(cast.ent_user_a1).objects.get(pk=cast.ent_user_a1.pk)
        with CaptureQueriesContext(connection) as queries:
            found = finding.find(reader, "企业开办", limit=50)
            [f.entry.department.name for f in found]
        return len(queries)

    few = count(1)
    many = count(6)
    assert few == many
