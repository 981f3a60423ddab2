"""The financing pages: the enterprise's portal, the promoters' and leaders' pages, who may and who may not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from guanjia.enterprises.models import EnterpriseMembership
from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import FinancingNeed, FinancingNeedStatus, FinancingOutcome, Fund, Roadshow
from guanjia.investment.tests.helpers import need_fields
from guanjia.investment.tests.test_financing_matching import Scene, make_fund, make_need

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


# --- the enterprise's portal -----------------------------------------------------------------------


def test_the_portal_links_to_the_enterprises_financing_needs(cast, login):
    html = text(login(cast.ent_user_a1).get(reverse("enterprises:portal")))
    assert reverse("investment:my-needs") in html


def test_an_enterprise_user_sees_only_its_own_enterprises_needs(cast, login):
    own = make_need(cast.ent_a1, cast.ent_user_a1, purpose="本企业的产线扩建")
    other = make_need(cast.ent_a2, cast.promoter_a, purpose="别家企业的并购")
    client = login(cast.ent_user_a1)

    html = text(client.get(reverse("investment:my-needs")))
    assert "本企业的产线扩建" in html and "别家企业的并购" not in html
    assert client.get(reverse("investment:my-need", args=[own.pk])).status_code == 200
    assert client.get(reverse("investment:my-need", args=[other.pk])).status_code == 404
    assert client.get(reverse("investment:my-need-edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("investment:my-need-withdraw", args=[other.pk])).status_code == 404
    assert FinancingNeed.objects.get(pk=other.pk).status == FinancingNeedStatus.OPEN


def test_an_enterprise_user_cannot_reach_the_staff_pages(cast, login):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    client = login(cast.ent_user_a1)
    for url in (
        reverse("investment:funds"),
        reverse("investment:fund", args=[fund.pk]),
        reverse("investment:fund-new"),
        reverse("investment:needs"),
        reverse("investment:need", args=[need.pk]),
        reverse("investment:roadshows"),
    ):
        assert client.get(url).status_code == 403, url


def test_an_enterprise_user_posts_a_need_from_the_portal(cast, login):
    client = login(cast.ent_user_a1)
    page = text(client.get(reverse("investment:my-need-new")))
    assert 'type="hidden" name="enterprise"' in page  # one enterprise: nothing to choose

    response = client.post(reverse("investment:my-need-new"), need_fields(enterprise=cast.ent_a1.pk))

    need = FinancingNeed.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "investment:my-need", args=[need.pk]
    )
    assert (need.enterprise, need.amount, need.created_by) == (cast.ent_a1, Decimal("800"), cast.ent_user_a1)


def test_an_enterprise_user_cannot_post_for_an_enterprise_it_does_not_belong_to(cast, login):
    response = login(cast.ent_user_a1).post(
        reverse("investment:my-need-new"), need_fields(enterprise=cast.ent_a2.pk)
    )
    assert response.status_code == 200 and "enterprise" in response.context["form"].errors
    assert not FinancingNeed.objects.exists()


def test_an_enterprise_user_of_several_enterprises_chooses_which(cast, login):
    EnterpriseMembership.objects.create(user=cast.ent_user_a1, enterprise=cast.ent_b1)
    client = login(cast.ent_user_a1)
    page = text(client.get(reverse("investment:my-need-new")))
    assert '<select name="enterprise"' in page and cast.ent_b1.name in page
    client.post(reverse("investment:my-need-new"), need_fields(enterprise=cast.ent_b1.pk))
    assert FinancingNeed.objects.get().enterprise == cast.ent_b1


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_the_amount_must_be_positive_and_the_message_names_the_field(cast, login, amount):
    response = login(cast.ent_user_a1).post(
        reverse("investment:my-need-new"), need_fields(enterprise=cast.ent_a1.pk, amount=amount)
    )
    assert response.status_code == 200
    assert "融资金额（万元）：必须大于 0" in text(response)
    assert not FinancingNeed.objects.exists()


def test_a_need_in_the_past_is_refused_naming_the_field(cast, login):
    response = login(cast.ent_user_a1).post(
        reverse("investment:my-need-new"), need_fields(enterprise=cast.ent_a1.pk, needed_by="2001-01-01")
    )
    assert "需求时间：不能早于今天" in text(response)
    assert not FinancingNeed.objects.exists()


def test_the_enterprise_edits_and_withdraws_its_need_and_a_withdrawn_need_cannot_be_edited(cast, login):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    client = login(cast.ent_user_a1)
    edit = reverse("investment:my-need-edit", args=[need.pk])

    client.post(edit, need_fields(amount="1200", version=need.version))
    need.refresh_from_db()
    assert need.amount == Decimal("1200")
    client.post(reverse("investment:my-need-withdraw", args=[need.pk]), {"version": need.version})
    need.refresh_from_db()
    assert need.status == FinancingNeedStatus.WITHDRAWN

    page = client.get(edit, follow=True)
    assert "该融资需求已撤回，不能修改" in text(page)
    response = client.post(edit, need_fields(amount="1", version=need.version), follow=True)
    assert "该融资需求已撤回，不能修改" in text(response)
    need.refresh_from_db()
    assert need.amount == Decimal("1200")
    detail = text(client.get(reverse("investment:my-need", args=[need.pk])))
    assert "已撤回" in detail and edit not in detail


def test_the_portal_shows_status_roadshows_and_outcomes_but_no_fund_scores(cast, login):
    scene = Scene(cast)
    fund = scene.fund("电芯基金", focus_nodes=[scene.cell])
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    roadshow = financing.create_roadshow(
        zone=cast.zone_a, by=cast.promoter_a, title="春季路演", held_on=today()
    )
    financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund], needs=[need])
    financing.record_outcome(need, by=cast.promoter_a, amount=Decimal("1000"), invested_on=today(), fund=fund)

    html = text(login(cast.ent_user_a1).get(reverse("investment:my-need", args=[need.pk])))

    assert "春季路演" in html and "电芯基金" in html and "已融资" in html
    assert "匹配度" not in html and "need-matches" not in html
    assert reverse("investment:roadshow", args=[roadshow.pk]) not in html


# --- the staff's pages -----------------------------------------------------------------------------


def test_the_need_page_ranks_the_funds_with_their_reasons(cast, login):
    scene = Scene(cast)
    scene.fund("A 电芯基金", focus_nodes=[scene.cell], stages=["early"])
    scene.fund("B 综合基金", stages=["seed"])
    need = make_need(cast.ent_a1, cast.ent_user_a1, stage="early")

    for user in (cast.promoter_a, cast.leader_a):
        response = login(user).get(reverse("investment:need", args=[need.pk]))
        assert [(m.fund.name, m.score) for m in response.context["matches"]] == [
            ("A 电芯基金", 100),
            ("B 综合基金", 40),
        ]
        html = text(response)
        assert "关注环节：电芯 ✓" in html and "投资阶段不符（基金投：种子期）" in html


def test_a_steward_sees_its_enterprises_need_but_not_the_funds(cast, login):
    make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    other = make_need(cast.ent_a2, cast.promoter_a)
    client = login(cast.steward_a)  # serves ent_a1, not ent_a2
    response = client.get(reverse("investment:need", args=[need.pk]))
    assert response.status_code == 200 and response.context["matches"] is None
    assert "科创基金" not in text(response)
    assert client.get(reverse("investment:need", args=[other.pk])).status_code == 404
    assert client.get(reverse("investment:funds")).status_code == 403


def test_another_zones_promoter_sees_none_of_zone_as_financing(cast, login, promoter_b):
    fund = make_fund(cast.zone_a, cast.promoter_a, "高新区基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1, purpose="高新区企业的需求")
    roadshow = financing.create_roadshow(
        zone=cast.zone_a, by=cast.promoter_a, title="高新区路演", held_on=today()
    )
    client = login(promoter_b)

    assert "高新区企业的需求" not in text(client.get(reverse("investment:needs")))
    assert "高新区基金" not in text(client.get(reverse("investment:funds")))
    assert "高新区路演" not in text(client.get(reverse("investment:roadshows")))
    for url in (
        reverse("investment:need", args=[need.pk]),
        reverse("investment:need-edit", args=[need.pk]),
        reverse("investment:fund", args=[fund.pk]),
        reverse("investment:fund-edit", args=[fund.pk]),
        reverse("investment:roadshow", args=[roadshow.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("investment:need-withdraw", args=[need.pk])).status_code == 404
    assert (
        client.post(
            reverse("investment:roadshow-invite", args=[roadshow.pk]), {"needs": [need.pk]}
        ).status_code
        == 404
    )


def test_the_needs_list_filters_by_kind_status_and_enterprise(cast, login):
    make_need(cast.ent_a1, cast.ent_user_a1, purpose="股权-甲")
    make_need(cast.ent_a2, cast.promoter_a, purpose="贷款-乙", kind="loan", stage="")
    withdrawn = make_need(cast.ent_a1, cast.ent_user_a1, purpose="撤回-丙")
    financing.withdraw_need(withdrawn, by=cast.ent_user_a1, version=withdrawn.version)
    client = login(cast.leader_a)

    def shown(**query) -> set[str]:
        page = client.get(reverse("investment:needs"), query).context["page"]
        return {n.purpose for n in page}

    assert shown() == {"股权-甲", "贷款-乙", "撤回-丙"}
    assert shown(kind="loan") == {"贷款-乙"}
    assert shown(status="open") == {"股权-甲", "贷款-乙"}
    assert shown(enterprise=cast.ent_a1.pk) == {"股权-甲", "撤回-丙"}


def test_a_leader_reads_funds_with_the_phone_masked_a_promoter_in_full(cast, login):
    fund = make_fund(
        cast.zone_a, cast.promoter_a, "科创基金", contact_name="张经理", contact_phone="13912345678"
    )
    for url in (reverse("investment:funds"), reverse("investment:fund", args=[fund.pk])):
        assert "139****5678" in text(login(cast.leader_a).get(url))
        assert "13912345678" not in text(login(cast.leader_a).get(url))
        assert "13912345678" in text(login(cast.promoter_a).get(url))


def test_a_leader_cannot_write(cast, login):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    client = login(cast.leader_a)
    assert client.get(reverse("investment:fund-new")).status_code == 403
    assert client.get(reverse("investment:fund-edit", args=[fund.pk])).status_code == 403
    assert (
        client.post(reverse("investment:need-fulfil", args=[need.pk]), {"version": need.version}).status_code
        == 403
    )
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.OPEN


def test_a_promoter_adds_and_edits_a_fund(cast, login):
    scene = Scene(cast)
    client = login(cast.promoter_a)
    response = client.post(
        reverse("investment:fund-new"),
        {
            "zone": cast.zone_a.pk,
            "name": "新能源一号基金",
            "manager": "示例资本",
            "size": "50000",
            "kinds": ["equity"],
            "stages": ["early", "growth"],
            "ticket_min": "500",
            "ticket_max": "3000",
            "focus_chains": [scene.energy.pk],
            "focus_nodes": [scene.cell.pk],
            "contact_name": "张经理",
            "contact_phone": "13912345678",
        },
    )
    fund = Fund.objects.get()
    assert response["Location"] == reverse("investment:fund", args=[fund.pk])
    assert list(fund.focus_nodes.all()) == [scene.cell]

    form = client.get(reverse("investment:fund-edit", args=[fund.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(ticket_min="100", ticket_max="50")
    response = client.post(
        reverse("investment:fund-edit", args=[fund.pk]), {k: v for k, v in data.items() if v is not None}
    )
    assert "单笔投资上限（万元）：不能低于单笔投资下限" in text(response)
    data.update(ticket_max="5000")
    client.post(
        reverse("investment:fund-edit", args=[fund.pk]), {k: v for k, v in data.items() if v is not None}
    )
    fund.refresh_from_db()
    assert (fund.ticket_min, fund.ticket_max, fund.version) == (Decimal("100"), Decimal("5000"), 2)


def test_a_promoter_records_a_need_for_an_enterprise_from_its_page(cast, login):
    client = login(cast.promoter_a)
    detail = text(client.get(reverse("enterprises:detail", args=[cast.ent_a1.pk])))
    assert f"{reverse('investment:needs')}?enterprise={cast.ent_a1.pk}" in detail
    page = client.get(reverse("investment:need-new"), {"enterprise": cast.ent_a2.pk})
    assert page.context["form"]["enterprise"].value() == cast.ent_a2.pk
    client.post(reverse("investment:need-new"), need_fields(enterprise=cast.ent_a2.pk))
    assert FinancingNeed.objects.get().enterprise == cast.ent_a2
    response = client.post(reverse("investment:need-new"), need_fields(enterprise=cast.ent_b1.pk))
    assert "enterprise" in response.context["form"].errors  # not of its zone


def test_a_roadshow_from_plan_to_outcome(cast, login):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    client = login(cast.promoter_a)

    client.post(
        reverse("investment:roadshow-new"),
        {"zone": cast.zone_a.pk, "title": "秋季路演", "held_on": today().isoformat(), "location": "会展中心"},
    )
    roadshow = Roadshow.objects.get()
    client.post(
        reverse("investment:roadshow-invite", args=[roadshow.pk]), {"funds": [fund.pk], "needs": [need.pk]}
    )
    assert list(roadshow.needs.all()) == [need] and list(roadshow.funds.all()) == [fund]

    response = client.post(
        reverse("investment:roadshow-outcome", args=[roadshow.pk]),
        {"need": need.pk, "fund": fund.pk, "amount": "0", "invested_on": today().isoformat()},
        follow=True,
    )
    assert "投资金额（万元）：必须大于 0" in text(response)
    response = client.post(
        reverse("investment:roadshow-outcome", args=[roadshow.pk]),
        {"need": need.pk, "fund": fund.pk, "amount": "1000", "invested_on": today().isoformat()},
        follow=True,
    )
    assert "该融资需求已标记为已融资" in text(response)
    outcome = FinancingOutcome.objects.get()
    assert (outcome.roadshow, outcome.fund, outcome.amount) == (roadshow, fund, Decimal("1000"))
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.FULFILLED

    totals = client.get(reverse("investment:roadshows")).context
    assert [(t.name, t.amount) for t in totals["per_fund"]] == [("科创基金", Decimal("1000"))]
    assert totals["grand_total"] == Decimal("1000")


def test_a_promoter_marks_a_need_fulfilled_and_records_an_outcome_from_the_need_page(cast, login):
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    client = login(cast.promoter_a)
    client.post(
        reverse("investment:need-outcome", args=[need.pk]),
        {"investor": "某商业银行", "amount": "300", "invested_on": today().isoformat()},
    )
    assert FinancingOutcome.objects.get().investor == "某商业银行"
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.OPEN
    need.refresh_from_db()
    client.post(reverse("investment:need-fulfil", args=[need.pk]), {"version": need.version})
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.FULFILLED
    # A stale page's second click is refused with a message, nothing changes.
    response = client.post(
        reverse("investment:need-withdraw", args=[need.pk]), {"version": need.version}, follow=True
    )
    assert "不能撤回" in text(response)


def test_the_list_pages_take_a_fixed_number_of_queries(cast, login, django_assert_max_num_queries):
    scene = Scene(cast)
    for i in range(3):
        scene.fund(f"基金{i}", contact_phone="13912345678")
        make_need(cast.ent_a1, cast.ent_user_a1)
    client = login(cast.promoter_a)
    client.get(reverse("investment:needs"))  # warm the session
    with django_assert_max_num_queries(12):
        client.get(reverse("investment:needs"))
    with django_assert_max_num_queries(12):
        client.get(reverse("investment:funds"))
    portal = login(cast.ent_user_a1)
    portal.get(reverse("investment:my-needs"))
    with django_assert_max_num_queries(12):
        portal.get(reverse("investment:my-needs"))
