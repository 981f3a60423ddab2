"""The search page /search/ and the top bar's search box: who gets them, the tabs and their counts,
the hits, and a confidential appeal's enterprise never named to its handling department."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanjia.appeals import lifecycle
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.core import search
from guanjia.dispatch import searching
from guanjia.dispatch.views import search as search_view

URL = "/search/"


@pytest.fixture
def appeals(cast):
    land = ensure_default_categories()["land"]
    secret = lifecycle.submit_appeal(
        cast.ent_a1,
        title="兴业大道夜间施工噪声扰民",
        body="兴业大道夜间施工噪声很大，影响员工休息，请协调施工单位调整作业时间。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        confidential=True,
    )
    lifecycle.dispatch_appeal(secret, to=cast.market_a, by=cast.dispatcher_a)
    return secret


def test_the_url_is_the_search_page() -> None:
    assert reverse("dispatch:search") == URL


def test_anonymous_visitors_are_sent_to_log_in(client) -> None:
    response = client.get(URL, {"q": "施工噪声"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_accounts_get_403(cast, login) -> None:
    for user in (cast.sysadmin, cast.secadmin, cast.auditor):
        assert login(user).get(URL, {"q": "施工噪声"}).status_code == 403


def test_an_empty_query_shows_a_hint(cast, login) -> None:
    response = login(cast.dispatcher_a).get(URL)
    assert response.status_code == 200
    assert b'data-testid="search-hint"' in response.content
    assert b'data-testid="search-tabs"' not in response.content


def test_tabs_counts_and_hits(cast, login, appeals) -> None:
    response = login(cast.dispatcher_a).get(URL, {"q": "施工 噪声"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-kind="all"' in html and "诉求" in html and "答复" in html and "知识库" in html
    assert f'href="/appeals/{appeals.pk}/"' in html
    assert "<mark>噪声</mark>" in html
    assert cast.ent_a1.name in html  # the zone's dispatcher sees who raised it
    assert "已交办" in html


def test_the_handling_department_never_sees_a_confidential_enterprise(cast, login, appeals) -> None:
    html = login(cast.handler_a).get(URL, {"q": "施工 噪声"}).content.decode()
    assert f'href="/appeals/{appeals.pk}/"' in html
    assert cast.ent_a1.name not in html
    assert "企业要求保密" in html


def test_a_kind_tab_shows_that_kind_only(cast, login, appeals) -> None:
    html = login(cast.dispatcher_a).get(URL, {"q": "施工 噪声", "kind": "answer"}).content.decode()
    assert 'data-testid="search-none"' in html
    assert f'href="/appeals/{appeals.pk}/"' not in html


def test_counts_are_capped(cast, login, monkeypatch) -> None:
    monkeypatch.setattr(search_view, "RESULTS", 2)
    for n in range(4):
        search.index(searching.APPEAL_KIND, n + 1, title=f"留抵退税 {n}", body="")
    # Index entries without appeals are out of every scope: count through the page's own rule.
    monkeypatch.setattr(
        searching,
        "find_each",
        lambda user, q, limit: {"appeal": [object()] * limit, "answer": [], "knowledge": []},
    )
    monkeypatch.setattr(searching, "merge", lambda each, limit: [])
    html = login(cast.dispatcher_a).get(URL, {"q": "留抵退税"}).content.decode()
    assert "2+" in html


def test_no_hit_says_so(cast, login, appeals) -> None:
    html = login(cast.steward_b).get(URL, {"q": "施工 噪声"}).content.decode()
    assert 'data-testid="search-none"' in html


def test_the_top_bar_has_the_search_box_for_business_accounts_only(cast, login) -> None:
    assert b'id="topbar-search"' in login(cast.handler_a).get("/").content
    assert b'id="topbar-search"' in login(cast.ent_user_a1).get("/").content
    assert b'id="topbar-search"' not in login(cast.secadmin).get("/").content
    # The box is hidden on small screens; a link to the search page stands in for it there.
    assert b'data-testid="topbar-search-link"' in login(cast.ent_user_a1).get("/").content
    assert b'data-testid="topbar-search-link"' not in login(cast.secadmin).get("/").content
