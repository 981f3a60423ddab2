"""The routing page (智能分派模型): the model and its runs, the adoption figures, the retrain button and the
keyword rules' edit form — who reads, who keeps, and who gets nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.dispatch.models import KeywordRule, RoutingModel, Source, Suggestion
from guanjia.testing import make_user

URL = "dispatch:routing"


@pytest.fixture
def rule(cast) -> KeywordRule:
    category = ensure_default_categories()["tax"]
    rule, _created = KeywordRule.objects.update_or_create(
        category=category, defaults={"words": "留抵 退税 发票"}
    )
    return rule


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the page -------------------------------------------------------------------------------------------


def test_dispatcher_reads_the_page_and_keeps_the_routing(cast, rule, login):
    response = login(cast.dispatcher_a).get(reverse(URL))
    html = response.content.decode()
    assert response.status_code == 200
    assert "智能分派模型 · 高新区" in html
    assert "尚无模型，使用关键词规则" in html
    assert "尚未训练过" in html
    assert ">留抵<" in html and ">发票<" in html
    assert reverse("dispatch:retrain") in html and "重新训练" in html
    assert f"{reverse('dispatch:rule-edit', args=[rule.pk])}?zone={cast.zone_a.pk}" in html
    assert 'name="zone"' in html and "<select" not in html  # one zone: no zone select


def test_supervisor_and_leader_read_without_keeping(cast, rule, login):
    for reader in (cast.supervisor_a, cast.leader_a):
        html = login(reader).get(reverse(URL)).content.decode()
        assert ">留抵<" in html
        assert "重新训练" not in html
        assert reverse("dispatch:rule-edit", args=[rule.pk]) not in html


def test_a_city_leader_chooses_among_its_zones(cast, rule, login):
    client = login(cast.leader_city)
    html = client.get(reverse(URL)).content.decode()
    assert 'id="routing-zone"' in html and "高新区" in html and "经开区" in html
    assert "智能分派模型 · 经开区" in client.get(reverse(URL), {"zone": cast.zone_b.pk}).content.decode()


def test_the_page_refused_to_those_without_a_zone_to_read(cast, rule, login):
    for user in (cast.ent_user_a1, cast.steward_a, cast.handler_a, cast.promoter_a, cast.outsider):
        assert login(user).get(reverse(URL)).status_code == 403, user
    for admin in (cast.secadmin, cast.auditor):
        assert login(admin).get(reverse(URL)).status_code == 403, admin
    # Another zone than one's own does not exist for the user; nor does garbage.
    assert login(cast.dispatcher_a).get(reverse(URL), {"zone": cast.zone_b.pk}).status_code == 404
    assert login(cast.dispatcher_a).get(reverse(URL), {"zone": "x"}).status_code == 404
    assert login(cast.dispatcher_a).post(reverse(URL)).status_code == 405


def test_the_system_admin_keeps_every_zones_routing(cast, rule, login):
    client = login(cast.sysadmin)
    html = client.get(reverse(URL), {"zone": cast.zone_b.pk}).content.decode()
    assert "智能分派模型 · 经开区" in html
    assert "重新训练" in html


def test_the_active_model_and_the_runs(cast, rule, login):
    now = timezone.now()
    RoutingModel.objects.create(
        zone=cast.zone_a,
        created_at=now - timedelta(days=2),
        trained_by=cast.dispatcher_a,
        algorithm="tfidf+linear",
        samples=420,
        classes=9,
        held_out=84,
        held_out_accuracy=0.8214,
        held_out_macro_f1=0.7712,
        is_active=True,
        note="留出集准确率 82.1%，已启用",
        blob=b"pipeline",
    )
    RoutingModel.objects.create(
        zone=cast.zone_a,
        created_at=now - timedelta(days=1),
        algorithm="tfidf+linear",
        samples=430,
        classes=9,
        held_out=86,
        held_out_accuracy=0.71,
        previous_accuracy=0.78,
        note="留出集准确率 71.0% 低于当前模型的 78.0%，未启用",
        blob=b"",
    )
    RoutingModel.objects.create(  # another zone's run is not listed
        zone=cast.zone_b, created_at=now, algorithm="x", note="经开区的训练", blob=b""
    )
    html = login(cast.supervisor_a).get(reverse(URL)).content.decode()
    assert "尚无模型" not in html
    assert "420" in html and "0.771" in html
    assert 'data-testid="active-accuracy">82%' in html
    assert "当前使用" in html and "未启用" in html
    assert "71.0% 低于当前模型的 78.0%，未启用" in html
    assert html.count('class="routing-run"') == 2
    assert "经开区的训练" not in html


def test_adoption_over_the_last_thirty_days(cast, rule, login):
    now = timezone.now()
    appeal = lifecycle.submit_appeal(
        cast.ent_a1, title="留抵退税", body="进度咨询", channel=Channel.PORTAL, by=cast.ent_user_a1
    )

    def round_(rank: int, *, one_click: bool = False, days: int = 1, zone=None) -> None:
        Suggestion.objects.create(
            appeal=appeal,
            zone=zone or cast.zone_a,
            source=Source.RULES,
            created_at=now - timedelta(days=days),
            dispatched_at=now - timedelta(days=days),
            dispatched_department=cast.market_a,
            taken_rank=rank,
            one_click=one_click,
        )

    round_(1, one_click=True)
    round_(1)
    round_(2)
    round_(0)
    round_(1, days=40)  # before the period
    round_(1, zone=cast.zone_b)  # another zone
    html = login(cast.dispatcher_a).get(reverse(URL)).content.decode()
    assert 'data-testid="first-rate">50%' in html
    assert 'data-testid="top3-rate">75%' in html
    assert 'data-testid="one-click">1<' in html
    assert 'data-testid="dispatched">4<' in html


# --- 重新训练 ---------------------------------------------------------------------------------------------


def test_retrain_runs_the_zones_training(cast, rule, login):
    response = login(cast.dispatcher_a).post(reverse("dispatch:retrain"), {"zone": cast.zone_a.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(URL)}?zone={cast.zone_a.pk}"
    assert "已开始训练，完成后刷新本页查看" in _messages(response)
    run = RoutingModel.objects.get(zone=cast.zone_a)  # HUEY immediate in the tests: it has run
    assert run.trained_by == cast.dispatcher_a
    assert not run.is_active and "历史数据不足" in run.note
    assert "历史数据不足" in login(cast.dispatcher_a).get(reverse(URL)).content.decode()


def test_retrain_refused_to_readers_and_other_zones(cast, rule, login):
    url = reverse("dispatch:retrain")
    for reader in (cast.supervisor_a, cast.leader_a, cast.leader_city):
        assert login(reader).post(url, {"zone": cast.zone_a.pk}).status_code == 403, reader
    for nobody in (cast.ent_user_a1, cast.handler_a, cast.outsider, cast.secadmin, cast.auditor):
        assert login(nobody).post(url, {"zone": cast.zone_a.pk}).status_code == 403, nobody
    dispatcher = login(cast.dispatcher_a)
    assert dispatcher.post(url, {"zone": cast.zone_b.pk}).status_code == 404
    assert dispatcher.post(url, {"zone": "x"}).status_code == 404
    assert dispatcher.get(url).status_code == 405
    assert not RoutingModel.objects.exists()
    # The system admin may, for any zone.
    assert login(cast.sysadmin).post(url, {"zone": cast.zone_b.pk}).status_code == 302
    assert RoutingModel.objects.filter(zone=cast.zone_b).count() == 1


# --- 关键词规则 --------------------------------------------------------------------------------------------


def test_dispatcher_edits_a_rule(cast, rule, login):
    url = reverse("dispatch:rule-edit", args=[rule.pk]) + f"?zone={cast.zone_a.pk}"
    client = login(cast.dispatcher_a)
    page = client.get(url)
    assert page.status_code == 200
    assert "留抵 退税 发票" in page.content.decode()
    response = client.post(url, {"words": "留抵，退税 发票 出口退税", "version": rule.version})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(URL)}?zone={cast.zone_a.pk}"
    rule.refresh_from_db()
    assert rule.word_list() == ["留抵", "退税", "发票", "出口退税"]
    assert rule.version == 2 and rule.updated_by == cast.dispatcher_a
    assert AuditRecord.objects.filter(action="routing.rule").exists()


def test_a_stale_rule_form_gets_the_conflict_message(cast, rule, login):
    url = reverse("dispatch:rule-edit", args=[rule.pk])
    first, second = (
        login(cast.dispatcher_a),
        login(make_user("d_dispatcher_a2", cast.centre_a, Role.DISPATCHER)),
    )
    assert first.post(url, {"words": "留抵 退税", "version": 1}).status_code == 302
    response = second.post(url, {"words": "发票", "version": 1})
    assert response.status_code == 200
    assert "关键词规则已被他人修改，请刷新后重试" in response.content.decode()
    rule.refresh_from_db()
    assert rule.word_list() == ["留抵", "退税"]


def test_bad_words_are_shown_on_the_form(cast, rule, login):
    url = reverse("dispatch:rule-edit", args=[rule.pk])
    client = login(cast.dispatcher_a)
    response = client.post(url, {"words": "", "version": rule.version})
    assert response.status_code == 200 and "关键词：" in response.content.decode()
    too_many = " ".join(f"词{i}" for i in range(201))
    response = client.post(url, {"words": too_many, "version": rule.version})
    html = response.content.decode()
    assert response.status_code == 200
    assert "关键词：最多 200 个" in html
    rule.refresh_from_db()
    assert rule.version == 1 and rule.word_list() == ["留抵", "退税", "发票"]


def test_rule_edit_refused_to_those_who_do_not_keep(cast, rule, login):
    url = reverse("dispatch:rule-edit", args=[rule.pk])
    for user in (
        cast.supervisor_a,
        cast.leader_a,
        cast.ent_user_a1,
        cast.handler_a,
        cast.outsider,
        cast.auditor,
    ):
        assert login(user).get(url).status_code == 403, user
        assert login(user).post(url, {"words": "发票", "version": 1}).status_code == 403, user
    assert login(cast.sysadmin).get(url).status_code == 200
    assert login(cast.dispatcher_a).get(reverse("dispatch:rule-edit", args=[999999])).status_code == 404
    rule.refresh_from_db()
    assert rule.version == 1


# --- the home page's card --------------------------------------------------------------------------------


def test_home_card_for_the_dispatcher_only(cast, rule, login):
    html = login(cast.dispatcher_a).get(reverse("home")).content.decode()
    assert "智能分派（近30天）" in html and reverse(URL) in html
    for user in (cast.supervisor_a, cast.ent_user_a1, cast.handler_a, cast.sysadmin):
        assert "智能分派（近30天）" not in login(user).get(reverse("home")).content.decode(), user
