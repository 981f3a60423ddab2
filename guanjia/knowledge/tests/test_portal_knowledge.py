"""The enterprise portal's knowledge base: search before writing an appeal, say whether the answer
solved the question, and — when nothing is found — the two next steps: an appeal, or an appointment."""

from __future__ import annotations

import re

import pytest

from guanjia.knowledge.models import Feedback, Query
from guanjia.knowledge.tests.entries_helpers import ent_user_b1, entry, handler_b
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = pytest.mark.django_db

PORTAL = "/portal/knowledge/"


def test_the_portal_finds_published_answers_of_the_enterprises_zone_highlighted(cast, login):
    entry(cast.handler_a, "营业执照经营范围怎么变更", "携带变更登记申请书到窗口办理。")
    entry(cast.handler_a, "营业执照草稿", published=False)
    entry(handler_b(cast), "经开区营业执照变更")
    response = login(cast.ent_user_a1).get(PORTAL, {"q": "营业执照变更"})
    page = response.content.decode()
    assert [f.entry.question for f in response.context["found"]] == ["营业执照经营范围怎么变更"]
    assert "<mark>营业执照</mark>" in page and "携带变更登记申请书到窗口办理。" in page
    assert "问题已解决" in page and "没有解决" in page
    assert "没有找到相关解答" not in page


def test_no_result_says_so_and_offers_an_appeal_and_an_appointment(cast, login):
    response = login(cast.ent_user_a1).get(PORTAL, {"q": "厂房租金补贴"})
    page = response.content.decode()
    assert "没有找到相关解答" in page
    assert f'href="/appeals/new/{cast.ent_a1.pk}/?title=' in page and "提交诉求" in page
    assert 'href="/portal/appointments/new/"' in page and "预约窗口办理" in page
    logged = Query.objects.get()
    assert (logged.text, logged.hits, logged.zone, logged.enterprise) == (
        "厂房租金补贴",
        0,
        cast.zone_a,
        cast.ent_a1,
    )


def test_the_search_box_has_its_label(cast, login):
    page = login(cast.ent_user_a1).get(PORTAL).content.decode()
    assert re.search(r'<label class="form-label" for="portal-q">', page)
    assert 'id="portal-q"' in page
    assert not Query.objects.exists()  # an empty page is not a search


def test_resolved_counts_once_a_day_and_returns_to_the_search(cast, login):
    made = entry(cast.handler_a, "营业执照经营范围怎么变更")
    client = login(cast.ent_user_a1)
    response = client.post(f"/portal/knowledge/{made.pk}/feedback/", {"resolved": "1", "q": "执照变更"})
    assert response.status_code == 302 and response["Location"].startswith(PORTAL + "?q=")
    client.post(f"/portal/knowledge/{made.pk}/feedback/", {"resolved": "1", "q": "执照变更"})
    assert Feedback.objects.filter(entry=made, resolved=True).count() == 1


def test_not_resolved_leads_to_the_appeal_form_prefilled(cast, login):
    made = entry(cast.handler_a, "营业执照经营范围怎么变更")
    client = login(cast.ent_user_a1)
    response = client.post(f"/portal/knowledge/{made.pk}/feedback/", {"resolved": "0", "q": "执照变更"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/appeals/new/{cast.ent_a1.pk}/?title=")
    form = client.get(response["Location"]).context["form"]
    assert form["title"].value() == "执照变更"
    assert Feedback.objects.get(entry=made).resolved is False


def test_who_may_not_give_feedback(cast, login):
    made = entry(cast.handler_a, "营业执照经营范围怎么变更")
    assert (
        login(cast.steward_a).post(f"/portal/knowledge/{made.pk}/feedback/", {"resolved": "1"}).status_code
        == 403
    )
    assert (
        login(ent_user_b1(cast)).post(f"/portal/knowledge/{made.pk}/feedback/", {"resolved": "1"}).status_code
        == 404
    )
    draft = entry(cast.handler_a, "草稿", published=False)
    assert (
        login(cast.ent_user_a1).post(f"/portal/knowledge/{draft.pk}/feedback/", {"resolved": "1"}).status_code
        == 404
    )
    assert login(cast.ent_user_a1).get(f"/portal/knowledge/{made.pk}/feedback/").status_code == 405
    assert not Feedback.objects.exists()


def test_the_steward_searches_without_feedback_buttons_and_staff_may_not(cast, login):
    entry(cast.handler_a, "营业执照经营范围怎么变更")
    page = login(cast.steward_a).get(PORTAL, {"q": "营业执照"}).content.decode()
    assert "营业执照经营范围怎么变更" in page and "问题已解决" not in page
    assert not Query.objects.exists()  # only the enterprises' searches are counted
    assert login(cast.dispatcher_a).get(PORTAL).status_code == 403
    assert login(cast.sysadmin).get(PORTAL).status_code == 403


def test_the_portal_home_links_to_the_knowledge_base(cast, login):
    assert 'href="/portal/knowledge/"' in login(cast.ent_user_a1).get("/portal/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_portal_search_passes_axe_and_the_appeal_form_shows_the_panel(browser, live_server):  # noqa: F811
    from guanjia.testing import build_cast

    cast = build_cast()
    entry(cast.handler_a, "营业执照经营范围怎么变更", "携带变更登记申请书到窗口办理。")
    base = live_server.url
    page = browser.new_context().new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, base, "ent_user_a1")
    page.goto(f"{base}/portal/knowledge/")
    page.get_by_label("您想问什么？").fill("营业执照变更")
    page.get_by_role("button", name="搜索").click()
    page.get_by_test_id("kb-results").wait_for()
    assert "携带变更登记申请书到窗口办理。" in page.inner_text("main")
    assert _axe_violations(page) == []
    page.get_by_label("您想问什么？").fill("厂房租金补贴")
    page.get_by_role("button", name="搜索").click()
    page.get_by_test_id("kb-no-result").wait_for()
    assert _axe_violations(page) == []
    page.get_by_role("link", name="提交诉求").click()
    page.wait_for_url(f"{base}/appeals/new/{cast.ent_a1.pk}/?title=*")
    assert page.get_by_label("标题").input_value() == "厂房租金补贴"
    page.get_by_label("标题").fill("营业执照怎么变更")
    page.locator("#kb-panel details").first.wait_for()
    assert "营业执照经营范围怎么变更" in page.inner_text("#kb-panel")
    assert csp == []
