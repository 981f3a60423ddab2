"""The dispatcher's desk on the appeal page (智能分派建议, 相似诉求, 一键交办, 合并) and the intake panel
beside the appeal form: who sees them, who may act, and what the actions change."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from guanjia.appeals import lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Assignment, Channel, Status
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.dispatch.models import KeywordRule, RoutingModel, Source, Suggestion
from guanjia.dispatch.views.desk import source_line
from guanjia.testing import make_user

TAX_TEXT = (
    "增值税留抵退税申请进度咨询",
    "我司上月提交了增值税留抵退税申请，至今未到账，请帮助了解退税办理进度。",
)
# Two wordings of one problem (a road outside the plant), from two enterprises: a 共性问题 candidate.
ROAD_A = (
    "厂区门口道路破损严重影响货车通行",
    "园区纬三路我司厂门口路段路面塌陷坑洼，大货车进出困难，请尽快维修道路。",
)
ROAD_B = (
    "纬三路路面坑洼塌陷，货车进出厂区困难",
    "我公司门前的纬三路路面破损塌陷，货车进出很不方便，希望尽快修复这段道路。",
)


@pytest.fixture
def desk(cast):
    """Zone A routes 税费 to its 税务局 and 市场监管 to its 市场监管局; the rules know their words."""
    categories = ensure_default_categories()
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="d-zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    appeal_services.set_route(categories["tax"], cast.zone_a, tax_a, by=None)
    appeal_services.set_route(categories["market"], cast.zone_a, cast.market_a, by=None)
    appeal_services.set_route(categories["land"], cast.zone_a, cast.market_a, by=None)
    KeywordRule.objects.update_or_create(category=categories["tax"], defaults={"words": "留抵 退税 增值税"})
    KeywordRule.objects.update_or_create(
        category=categories["market"], defaults={"words": "营业执照 经营范围"}
    )
    return SimpleNamespace(cast=cast, categories=categories, tax_a=tax_a, dispatcher_b=_dispatcher_b(cast))


def _dispatcher_b(cast):
    return make_user("d_dispatcher_b", cast.centre_b, Role.DISPATCHER)


def _submit(cast, text, enterprise=None, by=None, category=None) -> Appeal:
    title, body = text
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title=title,
        body=body,
        channel=Channel.STEWARD if by is not None else Channel.PORTAL,
        by=by or cast.ent_user_a1,
        category=category,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the appeal page's cards -------------------------------------------------------------------------


def test_appeal_page_loads_both_cards_lazily_for_the_zones_desk(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    page = login(cast.dispatcher_a).get(reverse("appeals:detail", args=[appeal.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'hx-get="{reverse("dispatch:suggestions", args=[appeal.pk])}"' in html
    assert f'hx-get="{reverse("dispatch:similar", args=[appeal.pk])}"' in html
    assert 'hx-trigger="load"' in html
    # The page does not wait for the model: no suggestion was made while it was rendered.
    assert not Suggestion.objects.filter(appeal=appeal).exists()
    for reader in (cast.supervisor_a, cast.leader_a):
        assert (
            "智能分派建议" in login(reader).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
        )


def test_appeal_page_shows_no_card_to_those_off_the_desk(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    for user in (cast.ent_user_a1, cast.steward_a):
        html = login(user).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
        assert "智能分派建议" not in html and "dispatch-similar" not in html
    lifecycle.dispatch_appeal(appeal, to=desk.tax_a, by=cast.dispatcher_a)
    html = login(cast.dispatcher_a).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    # Dispatched: no more suggestions, but similar appeals still help (merge into it).
    assert "智能分派建议" not in html
    assert "dispatch-similar" in html


# --- 智能分派建议 ------------------------------------------------------------------------------------


def test_suggestions_from_the_rules_with_one_click_for_the_dispatcher(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    response = login(cast.dispatcher_a).get(reverse("dispatch:suggestions", args=[appeal.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "依据关键词规则（历史数据不足）" in html
    assert "高新区税务局" in html and "税费" in html
    assert "置信度 100%" in html and 'data-progress-width="100"' in html
    assert ">留抵<" in html and ">退税<" in html
    assert reverse("dispatch:take", args=[appeal.pk, 1]) in html
    assert Suggestion.objects.filter(appeal=appeal, source=Source.RULES).count() == 1


def test_suggestions_are_read_but_not_taken_by_supervisor_and_leader(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    for reader in (cast.supervisor_a, cast.leader_a):
        html = login(reader).get(reverse("dispatch:suggestions", args=[appeal.pk])).content.decode()
        assert "高新区税务局" in html
        assert "按此交办" not in html


def test_suggestions_refused_off_the_desk(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    url = reverse("dispatch:suggestions", args=[appeal.pk])
    assert login(cast.ent_user_a1).get(url).status_code == 403  # sees the appeal, not the desk
    assert login(cast.steward_a).get(url).status_code == 403
    for outsider in (desk.dispatcher_b, cast.handler_a, cast.sysadmin, cast.auditor, cast.outsider):
        assert login(outsider).get(url).status_code == 404, outsider
    assert not Suggestion.objects.filter(appeal=appeal).exists()
    assert login(cast.dispatcher_a).post(url).status_code == 405


def test_no_route_means_choose_by_hand(desk, login):
    cast = desk.cast
    appeal = _submit(cast, ("食堂菜品口味建议", "希望园区食堂增加面食种类。"))
    html = login(cast.dispatcher_a).get(reverse("dispatch:suggestions", args=[appeal.pk])).content.decode()
    assert "暂无建议，请人工选择" in html
    assert "按此交办" not in html


def test_a_dispatched_appeal_gets_no_suggestions(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    lifecycle.dispatch_appeal(appeal, to=desk.tax_a, by=cast.dispatcher_a)
    html = login(cast.dispatcher_a).get(reverse("dispatch:suggestions", args=[appeal.pk])).content.decode()
    assert "已不在待交办状态" in html
    assert "按此交办" not in html


def test_source_line_names_the_model_and_its_held_out_accuracy(cast):
    from datetime import UTC, datetime

    from guanjia.dispatch.routing import Suggestions

    # The nightly run at 02:30 Beijing time is still the day before in UTC: the line gives Beijing's day.
    at = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    model = RoutingModel(zone=cast.zone_a, created_at=at, held_out_accuracy=0.8349)
    line = source_line(Suggestions(source=Source.MODEL, model=model, routes=[]))
    assert line == "依据本园区历史诉求学习（2026-03-02 训练，留出集准确率 83%）"
    assert (
        source_line(Suggestions(source=Source.RULES, model=None, routes=[]))
        == "依据关键词规则（历史数据不足）"
    )


# --- 按此交办 ----------------------------------------------------------------------------------------


def test_one_click_dispatches_to_the_suggested_department(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    client.get(reverse("dispatch:suggestions", args=[appeal.pk]))
    response = client.post(reverse("dispatch:take", args=[appeal.pk, 1]), {"version": appeal.version})
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert "已按建议交办至 高新区税务局" in _messages(response)
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED
    assert appeal.category == desk.categories["tax"]
    lead = Assignment.objects.get(appeal=appeal, is_lead=True, is_current=True)
    assert lead.department == desk.tax_a
    row = Suggestion.objects.get(appeal=appeal)
    assert row.one_click and row.taken_rank == 1


def test_one_click_refused_changes_nothing(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    take = reverse("dispatch:take", args=[appeal.pk, 1])
    assert login(cast.supervisor_a).post(take).status_code == 403
    assert login(cast.leader_a).post(take).status_code == 403
    assert login(cast.ent_user_a1).post(take).status_code == 403
    for outsider in (desk.dispatcher_b, cast.handler_a, cast.sysadmin, cast.outsider):
        assert login(outsider).post(take).status_code == 404, outsider
    assert login(cast.dispatcher_a).get(take).status_code == 405
    client = login(cast.dispatcher_a)
    # A rank that was never suggested: the service's refusal, as the page's error message.
    response = client.post(reverse("dispatch:take", args=[appeal.pk, 3]))
    assert response.status_code == 302
    assert any("没有第 3 项建议" in m for m in _messages(response))
    # A page shown before someone else changed the appeal: refused, not applied.
    response = client.post(take, {"version": appeal.version - 1})
    assert any(m.startswith("未交办") for m in _messages(response))
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED
    assert not Assignment.objects.filter(appeal=appeal).exists()


def test_one_click_on_an_appeal_already_dispatched_is_refused(desk, login):
    cast = desk.cast
    appeal = _submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    client.get(reverse("dispatch:suggestions", args=[appeal.pk]))
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    response = client.post(reverse("dispatch:take", args=[appeal.pk, 1]))
    assert any(m.startswith("未交办") for m in _messages(response))
    assert Assignment.objects.filter(appeal=appeal).count() == 1
    assert Assignment.objects.get(appeal=appeal).department == cast.market_a


# --- 相似诉求 and 合并 --------------------------------------------------------------------------------


@pytest.fixture
def pair(desk):
    """A new appeal of ent_a1 and the same problem raised by ent_a2, already with a department."""
    cast = desk.cast
    handled = _submit(
        cast, ROAD_B, enterprise=cast.ent_a2, by=cast.steward_a2, category=desk.categories["land"]
    )
    lifecycle.dispatch_appeal(handled, by=cast.dispatcher_a)
    waiting = _submit(cast, ROAD_A, category=desk.categories["land"])
    unrelated = _submit(cast, TAX_TEXT)
    for appeal in (handled, waiting, unrelated):
        appeal.refresh_from_db()
    return SimpleNamespace(handled=handled, waiting=waiting, unrelated=unrelated)


def test_similar_card_offers_to_merge_a_waiting_appeal_into_one_being_handled(desk, pair, login):
    cast = desk.cast
    response = login(cast.dispatcher_a).get(reverse("dispatch:similar", args=[pair.waiting.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"#{pair.handled.pk} {pair.handled.title}" in html
    assert cast.ent_a2.name in html
    assert "其他企业 · 共性问题候选" in html
    assert "相似度" in html
    assert f"#{pair.unrelated.pk} " not in html
    assert reverse("dispatch:merge", args=[pair.waiting.pk, pair.handled.pk]) in html
    assert "合并到此诉求" in html
    # From the appeal being handled, the button goes the other way.
    html = login(cast.dispatcher_a).get(reverse("dispatch:similar", args=[pair.handled.pk])).content.decode()
    assert reverse("dispatch:merge", args=[pair.waiting.pk, pair.handled.pk]) in html
    assert "并入本诉求" in html


def test_similar_card_has_no_merge_button_for_readers_who_do_not_dispatch(desk, pair, login):
    cast = desk.cast
    html = login(cast.supervisor_a).get(reverse("dispatch:similar", args=[pair.waiting.pk])).content.decode()
    assert f"#{pair.handled.pk} " in html
    assert "合并到此诉求" not in html and "并入本诉求" not in html


def test_similar_card_refused_off_the_desk(desk, pair, login):
    cast = desk.cast
    url = reverse("dispatch:similar", args=[pair.waiting.pk])
    assert login(cast.ent_user_a1).get(url).status_code == 403
    assert login(cast.steward_a).get(url).status_code == 403
    for outsider in (desk.dispatcher_b, cast.handler_a, cast.sysadmin, cast.outsider):
        assert login(outsider).get(url).status_code == 404, outsider
    # The handling department sees the handled appeal, not the desk.
    assert login(cast.handler_a).get(reverse("dispatch:similar", args=[pair.handled.pk])).status_code == 403


def test_merge_from_the_similar_card(desk, pair, login):
    cast = desk.cast
    client = login(cast.dispatcher_a)
    url = reverse("dispatch:merge", args=[pair.waiting.pk, pair.handled.pk])
    response = client.post(url, {"version": pair.waiting.version})
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:detail", args=[pair.waiting.pk])
    assert f"已合并到诉求 #{pair.handled.pk}" in _messages(response)
    pair.waiting.refresh_from_db()
    assert pair.waiting.status == Status.MERGED
    assert pair.waiting.master_id == pair.handled.pk


def test_merge_refused_changes_nothing(desk, pair, login):
    cast = desk.cast
    url = reverse("dispatch:merge", args=[pair.waiting.pk, pair.handled.pk])
    assert login(cast.supervisor_a).post(url).status_code == 403
    assert login(cast.leader_a).post(url).status_code == 403
    # ent_user_a1 does not see ent_a2's appeal; zone B's dispatcher sees neither.
    for outsider in (cast.ent_user_a1, desk.dispatcher_b, cast.handler_a, cast.sysadmin, cast.outsider):
        assert login(outsider).post(url).status_code == 404, outsider
    assert login(cast.dispatcher_a).get(url).status_code == 405
    client = login(cast.dispatcher_a)
    # Into an appeal that no department handles yet: the lifecycle refuses.
    response = client.post(reverse("dispatch:merge", args=[pair.waiting.pk, pair.unrelated.pk]))
    assert any(m.startswith("未合并") for m in _messages(response))
    # A stale page.
    response = client.post(url, {"version": pair.waiting.version - 1})
    assert any(m.startswith("未合并") for m in _messages(response))
    pair.waiting.refresh_from_db()
    assert pair.waiting.status == Status.SUBMITTED and pair.waiting.master_id is None


# --- the intake panel ----------------------------------------------------------------------------------


def _draft(client, enterprise, text):
    title, body = text
    return client.get(
        reverse("dispatch:similar-draft"), {"enterprise": enterprise.pk, "title": title, "body": body}
    )


def test_submit_form_has_the_intake_panel(desk, login):
    cast = desk.cast
    html = login(cast.ent_user_a1).get(reverse("appeals:submit", args=[cast.ent_a1.pk])).content.decode()
    assert f'hx-get="{reverse("dispatch:similar-draft")}?enterprise={cast.ent_a1.pk}"' in html
    assert "from:#id_title" in html and "from:#id_body" in html and "delay:600ms" in html
    assert "您可能在重复提交" in html


def test_intake_panel_lists_only_what_the_user_sees(desk, pair, login):
    cast = desk.cast
    mine = _submit(cast, ROAD_B)  # ent_a1's own earlier appeal on the road
    # The enterprise user: its own appeal, never ent_a2's.
    html = _draft(login(cast.ent_user_a1), cast.ent_a1, ROAD_A).content.decode()
    assert f"#{pair.waiting.pk} " in html and f"#{mine.pk} " in html
    assert f"#{pair.handled.pk} " not in html
    assert cast.ent_a2.name not in html
    # The zone's dispatcher sees the other enterprise's appeal too (a 共性问题 candidate).
    html = _draft(login(cast.dispatcher_a), cast.ent_a1, ROAD_A).content.decode()
    assert f"#{pair.handled.pk} " in html
    assert "其他企业 · 共性问题候选" in html


def test_intake_panel_is_empty_without_text_or_match(desk, pair, login):
    cast = desk.cast
    client = login(cast.ent_user_a1)
    assert _draft(client, cast.ent_a1, ("", "")).content.decode().strip() == ""
    response = _draft(client, cast.ent_a1, ("食堂菜品口味建议", "希望园区食堂增加面食种类。"))
    assert response.status_code == 200
    assert "similar-appeal" not in response.content.decode()


def test_intake_panel_refused_for_an_enterprise_out_of_scope(desk, pair, login):
    cast = desk.cast
    assert _draft(login(cast.ent_user_a1), cast.ent_b1, ROAD_A).status_code == 404
    assert _draft(login(cast.ent_user_a1), cast.ent_a2, ROAD_A).status_code == 404
    assert _draft(login(desk.dispatcher_b), cast.ent_a1, ROAD_A).status_code == 404
    assert _draft(login(cast.handler_a), cast.ent_a1, ROAD_A).status_code == 404
    for nobody in (cast.outsider, cast.sysadmin, cast.secadmin, cast.auditor):
        assert _draft(login(nobody), cast.ent_a1, ROAD_A).status_code == 403, nobody
    assert login(cast.ent_user_a1).get(reverse("dispatch:similar-draft")).status_code == 404
