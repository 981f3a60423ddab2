"""The knowledge base's API: scoped reads, ranked search, the keepers' writes with their refusals, and
the enterprises' feedback."""

from __future__ import annotations

import pytest

from guanjia.knowledge.models import Entry, EntryStatus, Feedback
from guanjia.knowledge.tests.entries_helpers import consult_appeal, ent_user_b1, entry, handler_b

pytestmark = pytest.mark.django_db

ENTRIES = "/api/knowledge/entries/"
SEARCH = "/api/knowledge/search/"


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_scoped_and_drafts_are_the_keepers(cast, login):
    published = entry(cast.handler_a, "社保怎么开户")
    draft = entry(cast.handler_a, "草稿", published=False)
    entry(handler_b(cast), "经开区条目")
    assert ids(login(cast.ent_user_a1).get(ENTRIES)) == [published.pk]
    assert set(ids(login(cast.handler_a).get(ENTRIES))) == {published.pk, draft.pk}
    assert ids(login(cast.handler_a).get(ENTRIES, {"status": "draft"})) == [draft.pk]
    assert login(cast.sysadmin).get(ENTRIES).status_code == 403
    assert login(cast.outsider).get(ENTRIES).status_code == 403


def test_q_ranks_the_list(cast, login):
    best = entry(cast.handler_a, "企业开办需要哪些材料", "营业执照申请书。")
    other = entry(cast.handler_a, "公司注销", "开办时的材料不必再交。")
    entry(cast.handler_a, "人才公寓")
    response = login(cast.steward_a).get(ENTRIES, {"q": "开办企业材料"})
    assert ids(response) == [best.pk, other.pk]
    assert response.json()["results"][0]["resolved_count"] == 0


def test_a_bad_id_filter_is_a_400(cast, login):
    assert login(cast.handler_a).get(ENTRIES, {"department": "1.5"}).status_code == 400


def test_a_keeper_creates_patches_publishes_and_archives(cast, login):
    client = login(cast.handler_a)
    response = client.post(
        ENTRIES, {"question": "社保怎么开户", "answer": "网上办理。"}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["department"] == cast.market_a.pk
    url = f"{ENTRIES}{body['id']}/"
    response = client.patch(url, {"keywords": "社保 开户", "version": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["keywords"] == "社保 开户"
    assert response.json()["question"] == "社保怎么开户"
    assert (
        client.patch(url, {"keywords": "旧", "version": 1}, content_type="application/json").status_code
        == 409
    )
    response = client.post(f"{url}publish/", {"version": 2}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "published"
    response = client.post(f"{url}archive/", {"version": 3}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert client.post(f"{url}archive/", {"version": 4}, content_type="application/json").status_code == 400


def test_bad_input_names_the_field(cast, login):
    response = login(cast.handler_a).post(
        ENTRIES, {"question": "  ", "answer": "解答"}, content_type="application/json"
    )
    assert response.status_code == 400 and "question" in response.json()
    assert not Entry.objects.exists()


def test_who_may_not_write(cast, login):
    made = entry(cast.handler_a, "社保怎么开户")
    body = {"question": "问", "answer": "答"}
    assert login(cast.leader_a).post(ENTRIES, body, content_type="application/json").status_code == 403
    assert login(cast.dispatcher_a).post(ENTRIES, body, content_type="application/json").status_code == 403
    patch = {"keywords": "改", "version": made.version}
    assert (
        login(cast.dispatcher_a)
        .patch(f"{ENTRIES}{made.pk}/", patch, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        login(handler_b(cast))
        .patch(f"{ENTRIES}{made.pk}/", patch, content_type="application/json")
        .status_code
        == 404
    )
    assert Entry.objects.get(pk=made.pk).keywords == ""


def test_a_dispatcher_turns_an_answered_consultation_into_an_entry(cast, login):
    appeal = consult_appeal(cast)
    response = login(cast.dispatcher_a).post(
        ENTRIES,
        {
            "question": "变更经营范围要什么材料",
            "answer": "申请书。",
            "source_appeal": appeal.pk,
            "department": cast.market_a.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["source_appeal"] == appeal.pk
    other_zone = login(ent_user_b1(cast))
    response = other_zone.post(
        ENTRIES,
        {"question": "问", "answer": "答", "source_appeal": appeal.pk},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_feedback_by_the_enterprise_user(cast, login):
    made = entry(cast.handler_a, "社保怎么开户")
    url = f"{ENTRIES}{made.pk}/feedback/"
    response = login(cast.ent_user_a1).post(
        url, {"resolved": True, "query": "社保"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["resolved"] is True
    assert (
        login(cast.steward_a).post(url, {"resolved": True}, content_type="application/json").status_code
        == 403
    )
    assert (
        login(ent_user_b1(cast)).post(url, {"resolved": True}, content_type="application/json").status_code
        == 404
    )
    assert Feedback.objects.count() == 1
    assert login(cast.handler_a).get(f"{ENTRIES}{made.pk}/").json()["resolved_count"] == 1


def test_search_is_ranked_highlighted_and_scoped(cast, login):
    mine = entry(cast.handler_a, "企业开办需要哪些材料", "营业执照申请书、章程。")
    entry(cast.handler_a, "企业开办草稿", published=False)
    entry(handler_b(cast), "经开区企业开办")
    response = login(cast.ent_user_a1).get(SEARCH, {"q": "开办企业"})
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [mine.pk]
    assert "<mark>" in rows[0]["question_html"] and rows[0]["status"] == EntryStatus.PUBLISHED
    assert len(login(cast.handler_a).get(SEARCH, {"q": "开办企业"}).json()) == 2
    assert login(cast.ent_user_a1).get(SEARCH).status_code == 400
    assert login(cast.sysadmin).get(SEARCH, {"q": "开办"}).status_code == 403
