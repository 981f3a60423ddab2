"""The financing API: scoping, who may write, the rules' messages, matches, roadshows and totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import FinancingNeed, FinancingNeedStatus, Fund, Roadshow
from guanjia.investment.tests.helpers import need_fields
from guanjia.investment.tests.test_financing_matching import Scene, make_fund, make_need

pytestmark = pytest.mark.django_db

NEEDS = "/api/investment/financing-needs/"
FUNDS = "/api/investment/funds/"
ROADSHOWS = "/api/investment/roadshows/"
OUTCOMES = "/api/investment/financing-outcomes/"


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- financing needs -------------------------------------------------------------------------------


def test_an_enterprise_user_lists_only_its_own_enterprises_needs(cast, login, promoter_b):
    own = make_need(cast.ent_a1, cast.ent_user_a1)
    other = make_need(cast.ent_a2, cast.promoter_a)
    elsewhere = make_need(cast.ent_b1, promoter_b)
    client = login(cast.ent_user_a1)

    assert ids(client.get(NEEDS)) == {own.pk}
    assert client.get(f"{NEEDS}{own.pk}/").json()["enterprise"] == cast.ent_a1.pk
    for need in (other, elsewhere):
        assert client.get(f"{NEEDS}{need.pk}/").status_code == 404
        assert (
            client.patch(f"{NEEDS}{need.pk}/", {"version": 1}, content_type="application/json").status_code
            == 404
        )
    assert ids(login(cast.promoter_a).get(NEEDS)) == {own.pk, other.pk}
    assert ids(login(promoter_b).get(NEEDS)) == {elsewhere.pk}
    assert ids(login(cast.steward_a).get(NEEDS)) == {own.pk}  # serves ent_a1 only


def test_an_enterprise_user_posts_edits_and_withdraws_its_need(cast, login):
    client = login(cast.ent_user_a1)
    created = client.post(NEEDS, need_fields(), content_type="application/json")
    assert created.status_code == 201, created.json()
    need = created.json()
    assert (need["enterprise"], need["status"], need["amount"], need["raised"]) == (
        cast.ent_a1.pk,
        "open",
        "800.00",
        "0.00",
    )

    patched = client.patch(
        f"{NEEDS}{need['id']}/",
        {"amount": "900", "version": need["version"]},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["amount"] == "900.00"
    stale = client.post(
        f"{NEEDS}{need['id']}/withdraw/", {"version": need["version"]}, content_type="application/json"
    )
    assert stale.status_code == 409
    done = client.post(
        f"{NEEDS}{need['id']}/withdraw/",
        {"version": patched.json()["version"]},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"

    refused = client.patch(
        f"{NEEDS}{need['id']}/",
        {"amount": "1", "version": done.json()["version"]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["detail"] == "该融资需求已撤回，不能修改"


@pytest.mark.parametrize("amount", ["0", "-1"])
def test_the_api_refuses_a_non_positive_amount_naming_the_field(cast, login, amount):
    response = login(cast.ent_user_a1).post(
        NEEDS, need_fields(amount=amount), content_type="application/json"
    )
    assert response.status_code == 400 and "融资金额" in response.json()["detail"]
    assert not FinancingNeed.objects.exists()


def test_an_enterprise_user_cannot_post_for_another_enterprise(cast, login):
    response = login(cast.ent_user_a1).post(
        NEEDS, need_fields(enterprise=cast.ent_a2.pk), content_type="application/json"
    )
    assert response.status_code == 400 and "enterprise" in response.json()
    assert not FinancingNeed.objects.exists()


def test_a_promoter_must_name_the_enterprise_and_a_leader_cannot_post(cast, login):
    assert (
        login(cast.promoter_a).post(NEEDS, need_fields(), content_type="application/json").status_code == 400
    )
    created = login(cast.promoter_a).post(
        NEEDS, need_fields(enterprise=cast.ent_a2.pk), content_type="application/json"
    )
    assert created.status_code == 201
    assert (
        login(cast.leader_a)
        .post(NEEDS, need_fields(enterprise=cast.ent_a2.pk), content_type="application/json")
        .status_code
        == 403
    )
    assert (
        login(cast.steward_a)
        .post(NEEDS, need_fields(enterprise=cast.ent_a1.pk), content_type="application/json")
        .status_code
        == 403
    )


def test_matches_are_for_promoters_and_leaders_only(cast, login):
    scene = Scene(cast)
    scene.fund("电芯基金", focus_nodes=[scene.cell], stages=["early"])
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    url = f"{NEEDS}{need.pk}/matches/"
    for user in (cast.promoter_a, cast.leader_a):
        [match] = login(user).get(url).json()
        assert (match["fund_name"], match["score"], match["focus"], match["stage"], match["ticket"]) == (
            "电芯基金",
            100,
            40,
            30,
            30,
        )
        assert "关注环节：电芯 ✓" in match["reasons"]
    for user in (cast.ent_user_a1, cast.steward_a):
        assert login(user).get(url).status_code == 403


def test_the_kind_and_status_filters(cast, login):
    equity = make_need(cast.ent_a1, cast.ent_user_a1)
    loan = make_need(cast.ent_a1, cast.ent_user_a1, kind="loan", stage="")
    financing.withdraw_need(loan, by=cast.ent_user_a1, version=loan.version)
    client = login(cast.promoter_a)
    assert ids(client.get(NEEDS, {"kind": "loan"})) == {loan.pk}
    assert ids(client.get(NEEDS, {"status": "open"})) == {equity.pk}
    assert client.get(NEEDS, {"status": "nonsense"}).status_code == 400


# --- funds -----------------------------------------------------------------------------------------


def test_funds_are_for_the_zones_promoters_and_leaders(cast, login, promoter_b):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金", contact_phone="13912345678")
    assert login(cast.promoter_a).get(f"{FUNDS}{fund.pk}/").json()["contact_phone"] == "13912345678"
    assert login(cast.leader_a).get(f"{FUNDS}{fund.pk}/").json()["contact_phone"] == "139****5678"
    assert login(promoter_b).get(f"{FUNDS}{fund.pk}/").status_code == 404
    assert login(promoter_b).get(FUNDS).json()["results"] == []
    for user in (cast.ent_user_a1, cast.steward_a, cast.sysadmin, cast.outsider):
        assert login(user).get(FUNDS).status_code == 403


def test_a_promoter_creates_and_edits_a_fund(cast, login):
    scene = Scene(cast)
    client = login(cast.promoter_a)
    created = client.post(
        FUNDS,
        {
            "name": "新能源一号基金",
            "manager": "示例资本",
            "size": "50000",
            "stages": ["early"],
            "ticket_max": "3000",
            "focus_nodes": [scene.cell.pk],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    fund = created.json()
    assert (fund["zone"], fund["kinds"], fund["ticket_min"], fund["focus_nodes"]) == (
        cast.zone_a.pk,
        ["equity"],
        "0.00",
        [scene.cell.pk],
    )

    bad = client.patch(
        f"{FUNDS}{fund['id']}/", {"ticket_min": "5000", "version": 1}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["detail"] == "单笔投资上限：不能低于单笔投资下限"
    ok = client.patch(
        f"{FUNDS}{fund['id']}/", {"ticket_max": "8000", "version": 1}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert (
        client.patch(
            f"{FUNDS}{fund['id']}/", {"name": "x", "version": 1}, content_type="application/json"
        ).status_code
        == 409
    )
    assert (
        login(cast.leader_a)
        .patch(f"{FUNDS}{fund['id']}/", {"version": 2}, content_type="application/json")
        .status_code
        == 403
    )


def test_a_fund_cannot_focus_on_another_zones_chain(cast, login, promoter_b):
    zone_a_chain = Scene(cast).energy
    response = login(promoter_b).post(
        FUNDS,
        {
            "name": "经开区基金",
            "manager": "某",
            "size": "1",
            "ticket_max": "1",
            "focus_chains": [zone_a_chain.pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and "focus_chains" in response.json()
    assert not Fund.objects.exists()


def test_a_funds_matches(cast, login):
    scene = Scene(cast)
    fund = scene.fund("电芯基金", focus_nodes=[scene.cell])
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    rows = login(cast.leader_a).get(f"{FUNDS}{fund.pk}/matches/").json()
    assert [(r["need"], r["enterprise_name"], r["score"]) for r in rows] == [(need.pk, cast.ent_a1.name, 80)]


# --- roadshows, outcomes, totals -------------------------------------------------------------------


def test_a_roadshow_through_the_api(cast, login):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    client = login(cast.promoter_a)

    created = client.post(
        ROADSHOWS, {"title": "秋季路演", "held_on": today().isoformat()}, content_type="application/json"
    )
    assert created.status_code == 201
    roadshow = created.json()["id"]
    invited = client.post(
        f"{ROADSHOWS}{roadshow}/invite/",
        {"funds": [fund.pk], "needs": [need.pk]},
        content_type="application/json",
    )
    assert invited.json() == {"funds": 1, "needs": 1}
    recorded = client.post(
        f"{ROADSHOWS}{roadshow}/outcomes/",
        {"need": need.pk, "fund": fund.pk, "amount": "1000", "invested_on": today().isoformat()},
        content_type="application/json",
    )
    assert recorded.status_code == 201 and recorded.json()["investor_name"] == "科创基金"
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.FULFILLED
    assert [o["amount"] for o in client.get(f"{ROADSHOWS}{roadshow}/outcomes/").json()] == ["1000.00"]

    seen = login(cast.ent_user_a1).get(f"{NEEDS}{need.pk}/").json()
    assert seen["status"] == "fulfilled" and seen["raised"] == "1000.00"
    assert [r["title"] for r in seen["roadshows"]] == ["秋季路演"]
    assert login(cast.ent_user_a1).get(f"{ROADSHOWS}{roadshow}/").status_code == 403
    assert (
        login(cast.leader_a)
        .post(f"{ROADSHOWS}{roadshow}/invite/", {"funds": [fund.pk]}, content_type="application/json")
        .status_code
        == 403
    )


def test_an_outcome_on_the_need_and_the_totals(cast, login, promoter_b):
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="5000")
    client = login(cast.promoter_a)
    url = f"{NEEDS}{need.pk}/outcomes/"
    refused = client.post(
        url, {"amount": "100", "invested_on": today().isoformat()}, content_type="application/json"
    )
    assert refused.status_code == 400 and "出资方" in refused.json()["detail"]
    ok = client.post(
        url,
        {"investor": "某银行", "amount": "100", "invested_on": today().isoformat()},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert (
        login(cast.ent_user_a1)
        .post(
            url,
            {"investor": "x", "amount": "1", "invested_on": today().isoformat()},
            content_type="application/json",
        )
        .status_code
        == 403
    )

    totals = login(cast.leader_a).get(f"{OUTCOMES}totals/").json()
    assert (totals["amount"], totals["count"]) == ("100.00", 1)
    assert totals["by_fund"] == [{"fund": None, "name": "其他出资方", "amount": "100.00", "count": 1}]
    assert login(promoter_b).get(f"{OUTCOMES}totals/").json()["count"] == 0
    assert ids(login(cast.leader_a).get(OUTCOMES)) == {ok.json()["id"]}
    assert (
        login(cast.leader_a)
        .get(f"{OUTCOMES}totals/", {"start": "2026-05-01", "end": "2026-04-01"})
        .status_code
        == 400
    )
    assert login(cast.ent_user_a1).get(OUTCOMES).status_code == 403
    assert Roadshow.objects.count() == 0
    assert Decimal(totals["amount"]) == financing.raised_total(need)
