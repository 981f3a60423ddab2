"""The practice pages: the list with its counts per stage and filters, a practice with its adoptions, the
new page (a cadre from its own secondment: ?secondment=<pk>), edit, adoption new and advance, and the
effect page; and who may see and do what (zone B's supervisor 404, the leader reads but gets 403 on
writes, a cadre sees only the practices of its own secondments)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from guanjia.core.roles import Role
from guanjia.exchange import practices as services
from guanjia.exchange.models import Adoption, AdoptionStage, Practice
from guanjia.exchange.tests.helpers import make_cadre, make_pairing, make_secondment
from guanjia.testing import make_user


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-06-15 10:00 +0800", tick=False):
        yield


@pytest.fixture
def people(cast):
    cast.cadre_a = make_cadre("cadre_a", cast.zone_a)
    cast.cadre_a2 = make_cadre("cadre_a2", cast.zone_a)
    cast.supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    cast.secondment = make_secondment(pairing, cast.cadre_a, cast.supervisor_a)
    cast.secondment2 = make_secondment(
        pairing, cast.cadre_a2, cast.supervisor_a, host_unit="昆山市政务服务中心"
    )
    cast.from_cadre = services.create_practice(
        by=cast.cadre_a, secondment=cast.secondment, title="一窗通办", description="企业开办一窗受理。"
    )
    cast.plain = services.create_practice(
        by=cast.supervisor_a,
        zone=cast.zone_a,
        title="早九晚五、中午不下班",
        description="窗口中午轮流就餐。",
        seen_at="昆山高新区",
        learned_by="考察组",
    )
    cast.adoption = services.add_adoption(
        cast.plain,
        unit=cast.market_a,
        kpi="praise_rate",
        referenced_on=date(2026, 1, 10),
        by=cast.supervisor_a,
    )
    return cast


def _no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html), "on* handler"
    assert 'style="' not in html


def test_the_list_counts_practices_by_their_furthest_stage_and_filters(people, login):
    client = login(people.supervisor_a)
    page = client.get(reverse("exchange:practices"))
    html = page.content.decode()
    assert page.status_code == 200
    _no_inline_script(html)
    assert 'data-testid="count-all">2<' in html
    assert 'data-testid="count-none">1<' in html
    assert 'data-testid="count-reference">1<' in html
    assert 'data-testid="count-trial">0<' in html
    listed = client.get(reverse("exchange:practices"), {"stage": "none"}).content.decode()
    assert "一窗通办" in listed and "早九晚五" not in listed
    searched = client.get(reverse("exchange:practices"), {"search": "中午"}).content.decode()
    assert "早九晚五" in searched and "一窗通办" not in searched
    by_kpi = client.get(reverse("exchange:practices"), {"kpi": "praise_rate"}).content.decode()
    assert "早九晚五" in by_kpi and "一窗通办" not in by_kpi
    bad = client.get(reverse("exchange:practices"), {"stage": "done"}).content.decode()
    assert "invalid-feedback" in bad


def test_a_cadre_lists_only_its_own_secondments_practices(people, login):
    html = login(people.cadre_a).get(reverse("exchange:practices")).content.decode()
    assert "一窗通办" in html and "早九晚五" not in html
    html = login(people.cadre_a2).get(reverse("exchange:practices")).content.decode()
    assert "一窗通办" not in html


def test_the_practice_page_shows_what_where_who_its_secondment_and_adoptions(people, login):
    client = login(people.supervisor_a)
    html = client.get(reverse("exchange:practice", args=[people.from_cadre.pk])).content.decode()
    assert "企业开办一窗受理。" in html and "昆山高新区管委会" in html and str(people.cadre_a) in html
    assert reverse("exchange:secondment", args=[people.secondment.pk]) in html
    html = client.get(reverse("exchange:practice", args=[people.plain.pk])).content.decode()
    _no_inline_script(html)
    assert "2026-01-10" in html and "好评率" in html
    assert reverse("exchange:adoption", args=[people.adoption.pk]) in html
    assert reverse("exchange:adoption-advance", args=[people.adoption.pk]) in html
    assert reverse("exchange:adoption-new", args=[people.plain.pk]) in html
    # The leader reads the same page without the keeper's forms.
    html = login(people.leader_a).get(reverse("exchange:practice", args=[people.plain.pk])).content.decode()
    assert "2026-01-10" in html
    assert reverse("exchange:adoption-advance", args=[people.adoption.pk]) not in html
    assert reverse("exchange:practice-edit", args=[people.plain.pk]) not in html


def test_a_cadre_proposes_from_its_secondment_preselected(people, login):
    client = login(people.cadre_a)
    url = reverse("exchange:practice-new")
    form = client.get(url, {"secondment": people.secondment.pk}).content.decode()
    assert f'<option value="{people.secondment.pk}" selected>' in form
    assert f'value="{people.secondment2.pk}"' not in form  # another cadre's secondment is not offered
    assert 'name="zone"' not in form
    response = client.post(
        url, {"secondment": people.secondment.pk, "title": "并联审批", "description": "多部门并联。"}
    )
    practice = Practice.objects.get(title="并联审批")
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:practice", args=[practice.pk]
    )
    assert (practice.secondment, practice.seen_at) == (people.secondment, "昆山高新区管委会")
    # Another cadre's secondment is not a choice: the form says so beside the field.
    refused = client.post(
        url, {"secondment": people.secondment2.pk, "title": "并联审批二", "description": "内容"}
    )
    assert refused.status_code == 200 and "来自挂职：" in refused.content.decode()
    assert not Practice.objects.filter(title="并联审批二").exists()


def test_the_supervisor_records_a_practice_and_is_told_what_is_missing(people, login):
    client = login(people.supervisor_a)
    url = reverse("exchange:practice-new")
    missing = client.post(url, {"zone": people.zone_a.pk, "title": "周例会", "description": "每周会商。"})
    html = missing.content.decode()
    assert missing.status_code == 200 and "学习地点：不来自挂职时，请填写" in html
    ok = client.post(
        url,
        {
            "zone": people.zone_a.pk,
            "title": "周例会",
            "description": "每周会商。",
            "seen_at": "昆山",
            "learned_by": "考察组",
        },
    )
    assert ok.status_code == 302
    assert Practice.objects.get(title="周例会").zone == people.zone_a


def test_edit_by_the_cadre_and_a_stale_edit_is_refused(people, login):
    client = login(people.cadre_a)
    url = reverse("exchange:practice-edit", args=[people.from_cadre.pk])
    form = client.get(url).content.decode()
    assert 'name="secondment"' not in form  # stays with its secondment
    data = {
        "title": "一窗通办、一日办结",
        "description": "内容",
        "seen_at": "昆山",
        "learned_by": "张三",
        "version": 1,
    }
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "title": "又改"})
    assert stale.status_code == 200 and "刚被他人修改" in stale.content.decode()
    assert Practice.objects.get(pk=people.from_cadre.pk).title == "一窗通办、一日办结"


def test_an_adoption_is_recorded_and_advanced_one_step(people, login):
    client = login(people.supervisor_a)
    new = reverse("exchange:adoption-new", args=[people.plain.pk])
    form = client.get(new).content.decode()
    assert f'value="{people.market_a.pk}"' not in form  # already adopting
    assert f'value="{people.centre_a.pk}"' in form and f'value="{people.zone_a.pk}"' in form
    future = client.post(
        new, {"unit": people.centre_a.pk, "kpi": "praise_rate", "referenced_on": "2026-06-16"}
    )
    assert future.status_code == 200 and "借鉴日期：不能晚于今天" in future.content.decode()
    done = client.post(new, {"unit": people.centre_a.pk, "kpi": "praise_rate", "referenced_on": "2026-06-01"})
    assert done.status_code == 302
    adoption = Adoption.objects.get(unit=people.centre_a)
    advance = reverse("exchange:adoption-advance", args=[adoption.pk])
    prefix = f"advance-{adoption.pk}"
    early = client.post(
        advance, {f"{prefix}-to_stage": "trial", f"{prefix}-on": "2026-05-31", f"{prefix}-version": 1}
    )
    assert early.status_code == 200 and "试行日期：不能早于借鉴日期（2026-06-01）" in early.content.decode()
    skip = client.post(
        advance, {f"{prefix}-to_stage": "rollout", f"{prefix}-on": "2026-06-10", f"{prefix}-version": 1}
    )
    assert skip.status_code == 200 and "只能进入“试行”" in skip.content.decode()
    ok = client.post(
        advance, {f"{prefix}-to_stage": "trial", f"{prefix}-on": "2026-06-10", f"{prefix}-version": 1}
    )
    assert ok.status_code == 302
    adoption.refresh_from_db()
    assert (adoption.stage, adoption.trial_on) == (AdoptionStage.TRIAL, date(2026, 6, 10))
    assert client.get(advance).status_code == 405


def test_the_effect_page_shows_both_sides_with_n_a_dash_for_none_and_the_chart_data(people, login):
    html = (
        login(people.leader_a).get(reverse("exchange:adoption", args=[people.adoption.pk])).content.decode()
    )
    _no_inline_script(html)
    # Only 借鉴 on 2026-01-10: the pivot's quarter is 2026 Q1, left out; no appeal at all, so every n is 0.
    assert "2026年第1季度不计入前后任何一侧" in html
    assert "2025年第3季度" in html and "2025年第4季度" in html
    assert "2026年第2季度" in html and "2026年第3季度" in html
    assert 'data-testid="value">—<' in html and 'data-testid="value">0.0%<' not in html
    assert 'data-testid="effect-change">—<' in html
    assert "js/practices.js" in html
    found = re.search(r'<script id="effect-chart-data" type="application/json">(.*?)</script>', html)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["labels"] == ["2025Q3", "2025Q4", "2026Q2", "2026Q3"]
    assert data["n"] == [0, 0, 0, 0]
    assert data["series"][0]["values"] == [None, None, None, None]
    wider = login(people.leader_a).get(
        reverse("exchange:adoption", args=[people.adoption.pk]), {"quarters": 3}
    )
    assert "2025年第2季度" in wider.content.decode()


# --- who may -----------------------------------------------------------------------------------------------


def test_zone_bs_supervisor_gets_404_on_zone_as_practices(people, login):
    client = login(people.supervisor_b)
    assert "早九晚五" not in client.get(reverse("exchange:practices")).content.decode()
    for name, pk in (
        ("exchange:practice", people.plain.pk),
        ("exchange:practice-edit", people.plain.pk),
        ("exchange:adoption-new", people.plain.pk),
        ("exchange:adoption", people.adoption.pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    prefix = f"advance-{people.adoption.pk}"
    response = client.post(
        reverse("exchange:adoption-advance", args=[people.adoption.pk]),
        {f"{prefix}-to_stage": "trial", f"{prefix}-on": "2026-06-10", f"{prefix}-version": 1},
    )
    assert response.status_code == 404
    assert Adoption.objects.get(pk=people.adoption.pk).stage == AdoptionStage.REFERENCE


def test_the_leader_reads_and_gets_403_on_every_write(people, login):
    client = login(people.leader_a)
    assert client.get(reverse("exchange:practices")).status_code == 200
    assert client.get(reverse("exchange:adoption", args=[people.adoption.pk])).status_code == 200
    assert client.get(reverse("exchange:practice-new")).status_code == 403
    assert client.post(reverse("exchange:practice-new"), {"title": "x"}).status_code == 403
    assert client.get(reverse("exchange:practice-edit", args=[people.plain.pk])).status_code == 403
    assert client.get(reverse("exchange:adoption-new", args=[people.plain.pk])).status_code == 403
    prefix = f"advance-{people.adoption.pk}"
    response = client.post(
        reverse("exchange:adoption-advance", args=[people.adoption.pk]),
        {f"{prefix}-to_stage": "trial", f"{prefix}-on": "2026-06-10", f"{prefix}-version": 1},
    )
    assert response.status_code == 403
    assert Adoption.objects.get(pk=people.adoption.pk).stage == AdoptionStage.REFERENCE


def test_a_cadre_reads_its_own_practice_and_adoption_only_and_never_adopts(people, login):
    adoption = services.add_adoption(
        people.from_cadre,
        unit=people.zone_a,
        kpi="solved_rate",
        referenced_on=date(2026, 3, 1),
        by=people.supervisor_a,
    )
    own = login(people.cadre_a)
    assert own.get(reverse("exchange:practice", args=[people.from_cadre.pk])).status_code == 200
    assert own.get(reverse("exchange:adoption", args=[adoption.pk])).status_code == 200
    assert own.get(reverse("exchange:practice", args=[people.plain.pk])).status_code == 404
    assert own.get(reverse("exchange:adoption", args=[people.adoption.pk])).status_code == 404
    assert own.get(reverse("exchange:adoption-new", args=[people.from_cadre.pk])).status_code == 403
    other = login(people.cadre_a2)
    assert other.get(reverse("exchange:practice", args=[people.from_cadre.pk])).status_code == 404
    assert other.get(reverse("exchange:practice-edit", args=[people.from_cadre.pk])).status_code == 404
    for outsider in (people.handler_a, people.promoter_a, people.ent_user_a1):
        assert login(outsider).get(reverse("exchange:practices")).status_code == 403


def test_the_list_pages_and_its_queries_do_not_grow_with_rows(people, login, django_assert_max_num_queries):
    for n in range(25):
        services.create_practice(
            by=people.supervisor_a,
            zone=people.zone_a,
            title=f"做法 {n}",
            description="内容",
            seen_at="昆山",
            learned_by="组",
        )
    client = login(people.supervisor_a)
    # 13: the page's own, the session and user, and the navigation's (unread notices; service-unit staff).
    with django_assert_max_num_queries(13):
        page = client.get(reverse("exchange:practices"))
    html = page.content.decode()
    assert "1 / 2" in html and html.count('href="/exchange/practices/') >= 20
