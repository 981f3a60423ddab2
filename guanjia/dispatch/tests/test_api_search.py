"""GET /api/search/: the one full-text search over appeals, answers and the knowledge base, in Chinese,
ranked and highlighted, each kind within the caller's scope; q is required; the 三员 get none."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Channel, Outcome
from guanjia.core.roles import Role
from guanjia.knowledge import entries
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

SEARCH = "/api/search/"


def submit(enterprise, by, title, body, *, channel=Channel.PORTAL, confidential=False) -> Appeal:
    return lifecycle.submit_appeal(
        enterprise,
        title=title,
        body=body,
        channel=channel,
        by=by,
        confidential=confidential,
        external_ticket="12345-9" if channel == Channel.PHONE else "",
    )


@pytest.fixture
def texts(cast):
    """留抵退税 appeals of ent_a1 (answered by 市场监管局), ent_a2 and ent_b1, and a published entry."""
    dispatcher_b = make_user("e_dispatcher_b", cast.centre_b, Role.DISPATCHER)
    mine = submit(
        cast.ent_a1,
        cast.ent_user_a1,
        "增值税留抵退税审核进度咨询",
        "我司上月提交了增值税留抵退税申请，审核一直没有结果，请帮助了解进度。",
    )
    lifecycle.dispatch_appeal(mine, to=cast.market_a, by=cast.dispatcher_a)
    lifecycle.sign_appeal(mine, by=cast.handler_a)
    lifecycle.answer_appeal(
        mine,
        answer="经与税务部门核实，贵司留抵退税申请已审核通过，退税款预计五个工作日内到账。",
        outcome=Outcome.SOLVED,
        by=cast.handler_a,
    )
    neighbour = submit(
        cast.ent_a2,
        cast.steward_a2,
        "留抵退税到账太慢",
        "我公司申请留抵退税两个月仍未到账，资金周转困难。",
        channel=Channel.STEWARD,
    )
    far = submit(
        cast.ent_b1,
        dispatcher_b,
        "物流企业留抵退税审核",
        "经开区物流企业咨询留抵退税审核要求。",
        channel=Channel.PHONE,
    )
    road = submit(cast.ent_a1, cast.ent_user_a1, "厂区门口道路破损", "货车进出困难，请尽快修复路面。")
    entry = entries.create_entry(
        by=cast.handler_a,
        question="留抵退税需要满足哪些条件",
        answer="纳税信用等级为A级或B级，申请退税前36个月未发生骗取留抵退税等情形。",
    )
    entries.publish(entry, by=cast.handler_a, version=entry.version)
    return SimpleNamespace(
        mine=mine, neighbour=neighbour, far=far, road=road, entry=entry, dispatcher_b=dispatcher_b
    )


def found(client, **query) -> list[dict]:
    response = client.get(SEARCH, query)
    assert response.status_code == 200, response.content
    return response.json()


def ids(hits, kind) -> set[int]:
    return {hit["object_id"] for hit in hits if hit["kind"] == kind}


def test_the_dispatcher_finds_its_zones_appeals_ranked_and_highlighted(cast, login, texts):
    hits = found(login(cast.dispatcher_a), q="留抵退税 审核", kind="appeal")
    assert ids(hits, "appeal") == {texts.mine.pk, texts.neighbour.pk}  # not zone B's, not the road
    best = hits[0]
    assert best["object_id"] == texts.mine.pk  # both words, in the title
    assert "<mark>" in best["title_html"]
    assert best["url"] == f"/appeals/{texts.mine.pk}/"
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    assert set(best) == {"kind", "object_id", "url", "title_html", "snippet_html", "score"}


def test_words_in_any_order_find_the_same(cast, login, texts):
    client = login(cast.dispatcher_a)
    one = found(client, q="留抵退税 审核", kind="appeal")
    other = found(client, q="审核 留抵退税", kind="appeal")
    assert [hit["object_id"] for hit in one] == [hit["object_id"] for hit in other]
    assert ids(found(client, q="路面 破损 道路", kind="appeal"), "appeal") == {texts.road.pk}


def test_all_kinds_answers_and_knowledge(cast, login, texts):
    client = login(cast.dispatcher_a)
    everything = found(client, q="留抵退税")
    assert {hit["kind"] for hit in everything} == {"appeal", "answer", "knowledge"}
    answers = found(client, q="退税款 到账", kind="answer")
    assert len(answers) == 1 and answers[0]["url"].startswith(f"/appeals/{texts.mine.pk}/")
    knowledge = found(client, q="留抵退税 条件", kind="knowledge")
    assert ids(knowledge, "knowledge") == {texts.entry.pk}
    limited = found(client, q="留抵退税", kind="appeal", limit=1)
    assert len(limited) == 1 and limited[0]["object_id"] in {texts.mine.pk, texts.neighbour.pk}


def test_an_enterprise_user_finds_only_its_own_appeals_and_answers(cast, login, texts):
    hits = found(login(cast.ent_user_a1), q="留抵退税")
    assert ids(hits, "appeal") == {texts.mine.pk}
    assert len(ids(hits, "answer")) == 1
    assert ids(hits, "knowledge") == {texts.entry.pk}  # published, in its zone


def test_a_handler_finds_what_its_department_was_given_and_zone_b_its_own(cast, login, texts):
    assert ids(found(login(cast.handler_a), q="留抵退税", kind="appeal"), "appeal") == {texts.mine.pk}
    assert ids(found(login(cast.steward_a2), q="留抵退税", kind="appeal"), "appeal") == {texts.neighbour.pk}
    zone_b = found(login(texts.dispatcher_b), q="留抵退税")
    assert ids(zone_b, "appeal") == {texts.far.pk}
    assert not ids(zone_b, "answer") and not ids(zone_b, "knowledge")
    assert found(login(cast.outsider), q="留抵退税") == []  # no role: nothing in its scope


def test_q_is_required_and_bad_input_is_named(cast, login, texts):
    client = login(cast.dispatcher_a)
    cases = [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "长" * 201}, "q"),
        ({"q": "退税", "kind": "policy"}, "kind"),
        ({"q": "退税", "limit": 0}, "limit"),
        ({"q": "退税", "limit": 51}, "limit"),
        ({"q": "退税", "limit": "十"}, "limit"),
    ]
    for query, field in cases:
        response = client.get(SEARCH, query)
        assert response.status_code == 400, query
        assert field in response.json(), (query, response.json())
    assert found(client, q="没有这样的词语组合") == []


def test_admin_accounts_and_the_anonymous_do_not_search(cast, login, client, texts):
    for user in (cast.sysadmin, cast.secadmin, cast.auditor):
        response = login(user).get(SEARCH, {"q": "留抵退税"})
        assert response.status_code == 403, user
    assert client.get(SEARCH, {"q": "留抵退税"}).status_code in (401, 403)
