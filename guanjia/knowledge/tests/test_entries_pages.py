"""The knowledge base's staff pages: the list with its search, filters and counts, an entry, the keepers'
forms and buttons, an appeal turned into an entry, the unanswered searches and the HTMX panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.core.roles import Role
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry, EntryStatus
from guanjia.knowledge.tests.entries_helpers import consult_appeal, entry, handler_b
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

LIST = "/knowledge/"
PANEL = "/knowledge/panel/"


def listed(response) -> list[str]:
    return [row["entry"].question for row in response.context["rows"]]


def test_the_list_searches_ranked_and_highlighted_within_the_readers_scope(cast, login):
    entry(cast.handler_a, "企业开办需要哪些材料")
    entry(cast.handler_a, "人才公寓申请")
    entry(handler_b(cast), "经开区企业开办")
    response = login(cast.steward_a).get(LIST, {"q": "开办企业"})
    assert response.status_code == 200
    assert listed(response) == ["企业开办需要哪些材料"]
    assert (
        "<mark>企业</mark>" in response.content.decode() or "<mark>开办</mark>" in response.content.decode()
    )


def test_the_list_shows_drafts_to_keepers_only_and_filters_by_status(cast, login):
    entry(cast.handler_a, "草稿条目", published=False)
    entry(cast.handler_a, "已发布条目")
    assert set(listed(login(cast.handler_a).get(LIST))) == {"草稿条目", "已发布条目"}
    assert listed(login(cast.handler_a).get(LIST, {"status": "draft"})) == ["草稿条目"]
    assert listed(login(cast.steward_a).get(LIST)) == ["已发布条目"]
    assert listed(login(cast.steward_a).get(LIST, {"status": "draft"})) == []


def test_a_bad_filter_is_named_not_a_500(cast, login):
    response = login(cast.handler_a).get(LIST, {"department": "abc"})
    assert response.status_code == 200 and listed(response) == []
    assert response.context["filters"].errors


def test_the_list_shows_the_resolved_counts_and_this_months_totals(cast, login):
    made = entry(cast.handler_a, "社保怎么开户")
    entries.record_feedback(made, by=cast.ent_user_a1, resolved=True)
    entries.log_query(cast.ent_user_a1, "厂房租金", 0)
    response = login(cast.dispatcher_a).get(LIST)
    assert response.context["rows"][0]["resolved"] == 1
    assert response.context["top"] == [made]
    assert response.context["totals"].resolved == 1 and response.context["totals"].unanswered == 1


def test_the_list_sorts_by_resolved_count(cast, login):
    solved = entry(cast.handler_a, "较早的条目")
    entry(cast.handler_a, "较新的条目")
    entries.record_feedback(solved, by=cast.ent_user_a1, resolved=True)
    client = login(cast.handler_a)
    assert listed(client.get(LIST)) == ["较新的条目", "较早的条目"]
    assert listed(client.get(LIST, {"order": "resolved"})) == ["较早的条目", "较新的条目"]


def test_the_list_query_count_is_constant(cast, login):
    client = login(cast.handler_a)
    entry(cast.handler_a, "条目 0")
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for i in range(1, 8):
        entry(cast.handler_a, f"条目 {i}")
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(few) == len(many)


@pytest.mark.parametrize("who", ["ent_user_a1", "outsider", "sysadmin"])
def test_the_staff_pages_are_not_for_enterprise_users_nor_accounts_without_a_role(cast, login, who):
    made = entry(cast.handler_a, "社保怎么开户")
    client = login(getattr(cast, who))
    assert client.get(LIST).status_code == 403
    assert client.get(f"/knowledge/{made.pk}/").status_code == 403


def test_another_zones_entry_is_not_found(cast, login):
    made = entry(handler_b(cast), "经开区条目")
    assert login(cast.dispatcher_a).get(f"/knowledge/{made.pk}/").status_code == 404
    assert login(cast.steward_a).get(f"/knowledge/{made.pk}/").status_code == 404


def test_a_keeper_creates_edits_publishes_and_archives(cast, login):
    client = login(cast.handler_a)
    response = client.post(
        "/knowledge/new/", {"question": "社保怎么开户", "answer": "网上办理。", "keywords": "社保 开户"}
    )
    made = Entry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/knowledge/{made.pk}/"
    response = client.post(
        f"/knowledge/{made.pk}/edit/",
        {"question": "单位社保如何开户", "answer": "网上办理。", "keywords": "", "version": made.version},
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.question == "单位社保如何开户"
    client.post(f"/knowledge/{made.pk}/publish/", {"version": made.version})
    made.refresh_from_db()
    assert made.status == EntryStatus.PUBLISHED
    client.post(f"/knowledge/{made.pk}/archive/", {"version": made.version})
    made.refresh_from_db()
    assert made.status == EntryStatus.ARCHIVED


def test_a_stale_edit_shows_the_conflict_and_changes_nothing(cast, login):
    made = entry(cast.handler_a, "社保怎么开户")
    response = login(cast.handler_a).post(
        f"/knowledge/{made.pk}/edit/",
        {"question": "改过的问题", "answer": "改过的解答", "keywords": "", "version": made.version - 1},
    )
    assert response.status_code == 200
    assert "刚被他人修改" in response.content.decode()
    made.refresh_from_db()
    assert made.question == "社保怎么开户"


def test_an_empty_answer_is_named(cast, login):
    response = login(cast.handler_a).post("/knowledge/new/", {"question": "社保怎么开户", "answer": " "})
    assert response.status_code == 200
    assert "answer" in response.context["form"].errors
    assert "解答：该字段是必填项" in response.content.decode()
    assert not Entry.objects.exists()


def test_who_may_not_write(cast, login):
    made = entry(cast.handler_a, "社保怎么开户")
    other = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    assert login(cast.leader_a).get("/knowledge/new/").status_code == 403
    assert login(cast.leader_a).post("/knowledge/new/", {"question": "问", "answer": "答"}).status_code == 403
    assert login(cast.dispatcher_a).get(f"/knowledge/{made.pk}/edit/").status_code == 403
    assert login(other).get(f"/knowledge/{made.pk}/edit/").status_code == 403
    assert login(other).post(f"/knowledge/{made.pk}/archive/", {"version": made.version}).status_code == 403
    assert login(handler_b(cast)).get(f"/knowledge/{made.pk}/edit/").status_code == 404
    assert Entry.objects.get(pk=made.pk).status == EntryStatus.PUBLISHED


def test_an_answered_consultation_becomes_an_entry_from_its_page(cast, login):
    appeal = consult_appeal(cast)
    client = login(cast.handler_a)
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert f"/knowledge/from-appeal/{appeal.pk}/" in page  # 转为知识条目
    response = client.get(f"/knowledge/from-appeal/{appeal.pk}/")
    form = response.context["form"]
    assert form.initial["question"] == appeal.title
    assert form.initial["answer"] == "携带变更登记申请书和章程修正案到窗口办理。"
    response = client.post(
        f"/knowledge/from-appeal/{appeal.pk}/",
        {
            "question": "变更经营范围要什么材料",
            "answer": "申请书、章程修正案。",
            "department": cast.market_a.pk,
        },
    )
    made = Entry.objects.get()
    assert response["Location"] == f"/knowledge/{made.pk}/"
    assert made.source_appeal == appeal and made.status == EntryStatus.DRAFT


def test_the_button_is_not_shown_where_the_appeal_cannot_become_an_entry(cast, login):
    appeal = consult_appeal(cast, answered=False)
    assert (
        "/knowledge/from-appeal/" not in login(cast.handler_a).get(f"/appeals/{appeal.pk}/").content.decode()
    )
    assert login(cast.handler_a).get(f"/knowledge/from-appeal/{appeal.pk}/").status_code == 403
    answered = consult_appeal(cast, title="另一个咨询")
    assert (
        "/knowledge/from-appeal/"
        not in login(cast.supervisor_a).get(f"/appeals/{answered.pk}/").content.decode()
    )
    assert login(cast.supervisor_a).get(f"/knowledge/from-appeal/{answered.pk}/").status_code == 403


def test_the_unanswered_searches_page(cast, login):
    entries.log_query(cast.ent_user_a1, "厂房租金补贴", 0)
    entries.log_query(cast.ent_user_a1, "厂房租金补贴", 0)
    response = login(cast.handler_a).get("/knowledge/unanswered/")
    assert [(row["text"], row["count"]) for row in response.context["rows"]] == [("厂房租金补贴", 2)]
    assert login(cast.steward_a).get("/knowledge/unanswered/").status_code == 403
    assert login(cast.ent_user_a1).get("/knowledge/unanswered/").status_code == 403


def test_the_panel_answers_the_appeal_forms_title_with_published_entries(cast, login):
    entry(cast.handler_a, "企业开办需要哪些材料", "营业执照申请书。")
    entry(cast.handler_a, "企业开办草稿", published=False)
    response = login(cast.ent_user_a1).get(PANEL, {"title": "开办企业"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "<details" in body and "营业执照申请书" in body and "草稿" not in body
    nothing = login(cast.dispatcher_a).get(PANEL, {"q": "人才公寓"}).content.decode()
    assert "没有找到相关解答" in nothing
    assert login(cast.outsider).get(PANEL, {"q": "开办"}).status_code == 403


def test_the_submit_page_and_the_queue_carry_the_panel(cast, login):
    submit = (
        login(cast.ent_user_a1).get(f"/appeals/new/{cast.ent_a1.pk}/", {"title": "企业开办"}).content.decode()
    )
    assert 'hx-get="/knowledge/panel/"' in submit
    assert 'value="企业开办"' in submit  # ?title= prefills the form
    queue = login(cast.dispatcher_a).get("/appeals/queue/").content.decode()
    assert 'hx-get="/knowledge/panel/"' in queue
