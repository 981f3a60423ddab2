"""The API of similar appeals: GET /api/appeals/{id}/similar/ (the dispatcher's desk) and POST
/api/similar-appeals/ (the intake check for API clients): paraphrases found and unrelated ones not, never
beyond the caller's visible_to, the enterprise hidden where the appeals pages hide it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Channel, Status
from guanjia.core.roles import Role
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import make_enterprise, make_user

pytestmark = pytest.mark.django_db

# Two wordings of one problem (a road outside the plant), from two enterprises: a 共性问题 candidate.
ROAD_A = (
    "厂区门口道路破损严重影响货车通行",
    "园区纬三路我司厂门口路段路面塌陷坑洼，大货车进出困难，请尽快维修道路。",
)
ROAD_B = (
    "纬三路路面坑洼塌陷，货车进出厂区困难",
    "我公司门前的纬三路路面破损塌陷，货车进出很不方便，希望尽快修复这段道路。",
)
ROAD_C = ("纬三路路面塌陷货车难以进出", "厂门口纬三路路面坑洼破损，货车进出困难，请安排修复道路。")
TAX = ("增值税留抵退税申请进度咨询", "我司上月提交了增值税留抵退税申请，至今未到账，请帮助了解退税办理进度。")
SIMILAR = "/api/similar-appeals/"


def submit(enterprise, by, text, *, channel=Channel.PORTAL, confidential=False) -> Appeal:
    title, body = text
    return lifecycle.submit_appeal(
        enterprise,
        title=title,
        body=body,
        channel=channel,
        by=by,
        confidential=confidential,
        external_ticket="12345-7" if channel == Channel.PHONE else "",
    )


@pytest.fixture
def roads(cast):
    """The road of zone A raised by ent_a1 and (confidentially) by ent_a2, both given to 市场监管局; a
    tax appeal of ent_a1; the same road words in zone B; and a steward who also handles in 市场监管局."""
    dispatcher_b = make_user("e_dispatcher_b", cast.centre_b, Role.DISPATCHER)
    road_a1 = submit(cast.ent_a1, cast.ent_user_a1, ROAD_A)
    road_a2 = submit(cast.ent_a2, cast.steward_a2, ROAD_B, channel=Channel.STEWARD, confidential=True)
    for appeal in (road_a1, road_a2):
        lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    tax = submit(cast.ent_a1, cast.ent_user_a1, TAX)
    road_b1 = submit(cast.ent_b1, dispatcher_b, ROAD_C, channel=Channel.PHONE)
    double = make_user("e_steward_handler", cast.market_a, Role.STEWARD, Role.HANDLER)
    served = make_enterprise(
        with_check_digit("91320500MA1E2P3T4"), "示例精密机械有限公司", cast.zone_a, double
    )
    return SimpleNamespace(
        road_a1=road_a1,
        road_a2=road_a2,
        tax=tax,
        road_b1=road_b1,
        dispatcher_b=dispatcher_b,
        double=double,
        served=served,
    )


def desk(client, appeal, **query):
    return client.get(f"/api/appeals/{appeal.pk}/similar/", query)


def intake(client, body):
    return client.post(SIMILAR, body, content_type="application/json")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["appeal"]["id"] for row in response.json()]


# --- the desk ---------------------------------------------------------------------------------------------


def test_the_desk_finds_the_paraphrase_of_another_enterprise(cast, login, roads):
    response = desk(login(cast.dispatcher_a), roads.road_a1)
    assert ids(response) == [roads.road_a2.pk]  # not the tax appeal, not zone B's road, not itself
    row = response.json()[0]
    assert row["same_enterprise"] is False and 0 < row["score"] <= 1
    assert row["appeal"] == {
        "id": roads.road_a2.pk,
        "title": ROAD_B[0],
        "status": Status.DISPATCHED,
        "submitted_at": row["appeal"]["submitted_at"],
        "enterprise": {"id": cast.ent_a2.pk, "name": "示例新材料科技有限公司"},  # the zone's staff see it
    }
    assert row["appeal"]["submitted_at"]
    for reader in (cast.supervisor_a, cast.leader_a, cast.leader_city):
        assert ids(desk(login(reader), roads.road_a2)) == [roads.road_a1.pk], reader
    assert ids(desk(login(cast.dispatcher_a), roads.tax)) == []


def test_a_same_enterprise_repeat_is_flagged(cast, login, roads):
    again = submit(cast.ent_a1, cast.ent_user_a1, ROAD_C)
    rows = desk(login(cast.dispatcher_a), again).json()
    by_id = {row["appeal"]["id"]: row for row in rows}
    assert by_id[roads.road_a1.pk]["same_enterprise"] is True
    assert by_id[roads.road_a2.pk]["same_enterprise"] is False
    assert roads.road_b1.pk not in by_id
    assert len(desk(login(cast.dispatcher_a), again, limit=1).json()) == 1


def test_the_desk_is_for_the_zones_readers_only(cast, login, client, roads):
    appeal = roads.road_a1
    for user in (cast.ent_user_a1, cast.steward_a, cast.handler_a, roads.double):  # they see it
        response = desk(login(user), appeal)
        assert response.status_code == 403, user
        assert "受理员" in response.json()["detail"]
    for user in (roads.dispatcher_b, cast.steward_b, cast.steward_a2, cast.promoter_a):
        assert desk(login(user), appeal).status_code == 404, user
    for user in (cast.sysadmin, cast.secadmin, cast.auditor, cast.outsider):
        assert desk(login(user), appeal).status_code == 403, user
    assert desk(client, appeal).status_code in (401, 403)
    assert login(cast.dispatcher_a).get("/api/appeals/99999999999999999999/similar/").status_code == 404


def test_the_desk_limit_is_named_when_refused(cast, login, roads):
    client = login(cast.dispatcher_a)
    for value in (0, 21, "五", 1.5):
        response = desk(client, roads.road_a1, limit=value)
        assert response.status_code == 400, value
        assert "limit" in response.json()


# --- intake -----------------------------------------------------------------------------------------------


def test_intake_finds_the_callers_own_similar_appeals_only(cast, login, roads):
    title, body = ROAD_C
    own = intake(login(cast.ent_user_a1), {"enterprise": cast.ent_a1.pk, "title": title, "body": body})
    assert ids(own) == [roads.road_a1.pk]  # ent_a2's paraphrase is not the enterprise user's to see
    assert own.json()[0]["same_enterprise"] is True
    assert own.json()[0]["appeal"]["enterprise"]["name"] == "示例智能制造有限公司"
    steward = intake(login(cast.steward_a), {"enterprise": cast.ent_a1.pk, "title": title, "body": body})
    assert ids(steward) == [roads.road_a1.pk]
    assert ids(
        intake(login(cast.steward_a2), {"enterprise": cast.ent_a2.pk, "title": title, "body": body})
    ) == [roads.road_a2.pk]
    dispatcher = intake(
        login(cast.dispatcher_a), {"enterprise": cast.ent_a2.pk, "title": title, "body": body}
    )
    rows = {row["appeal"]["id"]: row for row in dispatcher.json()}
    assert set(rows) == {roads.road_a1.pk, roads.road_a2.pk}  # never zone B's
    assert rows[roads.road_a2.pk]["same_enterprise"] is True
    assert rows[roads.road_a1.pk]["same_enterprise"] is False
    unrelated = intake(
        login(cast.dispatcher_a), {"enterprise": cast.ent_a1.pk, "title": "申请专利侵权维权援助"}
    )
    assert ids(unrelated) == []


def test_a_confidential_appeal_is_listed_without_its_enterprise_for_the_handling_department(
    cast, login, roads
):
    # A steward who also handles in 市场监管局 sees both road appeals through its department; ent_a2 asked
    # for confidentiality, so its name is hidden from the department, as on the appeals pages.
    title, body = ROAD_C
    response = intake(login(roads.double), {"enterprise": roads.served.pk, "title": title, "body": body})
    rows = {row["appeal"]["id"]: row for row in response.json()}
    assert set(rows) == {roads.road_a1.pk, roads.road_a2.pk}
    assert rows[roads.road_a2.pk]["appeal"]["enterprise"] is None
    assert rows[roads.road_a1.pk]["appeal"]["enterprise"] == {
        "id": cast.ent_a1.pk,
        "name": "示例智能制造有限公司",
    }
    assert "示例新材料科技有限公司" not in response.content.decode()


def test_intake_refuses_an_enterprise_out_of_scope_naming_the_field(cast, login, roads):
    title, body = ROAD_C
    cases = [
        (cast.ent_user_a1, cast.ent_a2.pk),  # another enterprise
        (cast.steward_a2, cast.ent_a1.pk),  # an enterprise it does not serve
        (roads.dispatcher_b, cast.ent_a1.pk),  # another zone's
        (cast.dispatcher_a, 99999999999999999999),
        (cast.dispatcher_a, "示例智能制造有限公司"),
    ]
    for user, enterprise in cases:
        response = intake(login(user), {"enterprise": enterprise, "title": title, "body": body})
        assert response.status_code == 400, (user, enterprise)
        assert "enterprise" in response.json(), response.json()
    message = intake(login(cast.ent_user_a1), {"enterprise": cast.ent_a2.pk, "title": title}).json()
    assert "企业" in message["enterprise"][0] and "不存在" in message["enterprise"][0]


def test_intake_refuses_bad_text_naming_the_field(cast, login, roads):
    client = login(cast.ent_user_a1)
    ent = cast.ent_a1.pk
    cases = [
        ({"title": "道路破损"}, "enterprise"),
        ({"enterprise": ent}, "title"),
        ({"enterprise": ent, "title": ""}, "title"),
        ({"enterprise": ent, "title": "长" * 101}, "title"),
        ({"enterprise": ent, "title": "道路", "body": "长" * 5001}, "body"),
        ({"enterprise": ent, "title": "道路", "limit": 21}, "limit"),
        ({"enterprise": ent, "title": "道路", "limit": 0}, "limit"),
    ]
    for body, field in cases:
        response = intake(client, body)
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())


def test_intake_is_for_those_who_may_submit(cast, login, client, roads):
    body = {"enterprise": cast.ent_a1.pk, "title": ROAD_C[0], "body": ROAD_C[1]}
    for user in (cast.handler_a, cast.supervisor_a, cast.leader_a, cast.promoter_a):
        assert intake(login(user), body).status_code == 403, user
    for user in (cast.sysadmin, cast.secadmin, cast.auditor, cast.outsider):
        assert intake(login(user), body).status_code == 403, user
    assert intake(client, body).status_code in (401, 403)
