"""The appeal API: who sees which appeals, who may submit, the loop through the lifecycle services,
stale versions, and that list and detail answers match the committed schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from guanjia.appeals import lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, AppealEvent, Assignment, Channel, Rating, Status
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.enterprises.tests.test_api import assert_matches_schema, openapi  # noqa: F401 - a fixture
from guanjia.testing import make_user

LIST_URL = "/api/appeals/"


def url(appeal: Appeal, action: str = "") -> str:
    return f"/api/appeals/{appeal.pk}/{action + '/' if action else ''}"


def post(client: Client, path: str, body: dict[str, Any]):
    return client.post(path, body, content_type="application/json")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def routed(cast):
    """The cast, with land appeals of zone A routed to its 市场监管局, a department head there,
    and a second department (税务局) with its own handler."""
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    cast.land = land
    cast.head_a = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    cast.tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    cast.handler_tax = make_user("handler_tax", cast.tax_a, Role.HANDLER)
    return cast


def _submit(cast, enterprise=None, by=None, channel=Channel.PORTAL, **kwargs) -> Appeal:
    kwargs.setdefault("category", cast.land)
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title="二期厂房容积率调整",
        body="想了解提高容积率的程序。",
        channel=channel,
        by=by or cast.ent_user_a1,
        **kwargs,
    )


@pytest.fixture
def appeals(routed):
    """a1: ent_a1, dispatched to 市场监管局; a2: ent_a2 (by its steward), still submitted;
    b1: zone B, submitted by its steward."""
    cast = routed
    a1 = _submit(cast)
    lifecycle.dispatch_appeal(a1, by=cast.dispatcher_a)
    a2 = _submit(cast, enterprise=cast.ent_a2, by=cast.steward_a2, channel=Channel.STEWARD)
    b1 = _submit(cast, enterprise=cast.ent_b1, by=cast.steward_b, channel=Channel.STEWARD, category=None)
    return a1, a2, b1


# --- Scoping -----------------------------------------------------------------------


def test_list_is_scoped_to_each_role(routed, appeals, login):
    cast = routed
    a1, a2, b1 = appeals
    assert ids(login(cast.ent_user_a1).get(LIST_URL)) == {a1.pk}
    assert ids(login(cast.steward_a).get(LIST_URL)) == {a1.pk}
    assert ids(login(cast.steward_a2).get(LIST_URL)) == {a2.pk}
    assert ids(login(cast.dispatcher_a).get(LIST_URL)) == {a1.pk, a2.pk}
    assert ids(login(cast.leader_city).get(LIST_URL)) == {a1.pk, a2.pk, b1.pk}
    assert ids(login(cast.handler_a).get(LIST_URL)) == {a1.pk}  # its department was given a1
    assert ids(login(cast.handler_tax).get(LIST_URL)) == set()  # another department
    for who in (cast.outsider, cast.promoter_a, cast.sysadmin, cast.secadmin, cast.auditor):
        assert ids(login(who).get(LIST_URL)) == set(), who


def test_out_of_scope_is_not_found(routed, appeals, login):
    cast = routed
    a1, a2, b1 = appeals
    assert login(cast.dispatcher_a).get(url(b1)).status_code == 404
    assert login(cast.handler_tax).get(url(a1)).status_code == 404
    assert login(cast.ent_user_a1).get(url(a2)).status_code == 404
    assert login(cast.handler_a).get(url(a1)).status_code == 200
    # A transition on an appeal out of scope is 404 too, not 403.
    response = post(login(cast.handler_tax), url(a1, "sign"), {"version": a1.version})
    assert response.status_code == 404


def test_anonymous_caller_is_refused(routed, appeals):
    assert Client().get(LIST_URL).status_code in (401, 403)


def test_list_filters(routed, appeals, login):
    cast = routed
    a1, a2, b1 = appeals
    client = login(cast.dispatcher_a)
    assert ids(client.get(LIST_URL, {"status": "dispatched"})) == {a1.pk}
    assert ids(client.get(LIST_URL, {"enterprise": cast.ent_a2.pk})) == {a2.pk}
    assert ids(client.get(LIST_URL, {"category": cast.land.pk})) == {a1.pk, a2.pk}
    assert ids(client.get(LIST_URL, {"overdue": "true"})) == set()
    Appeal.objects.filter(pk=a2.pk).update(accept_due="2020-01-01T00:00:00Z")
    assert ids(client.get(LIST_URL, {"overdue": "true"})) == {a2.pk}
    # An enterprise out of scope is refused, not silently empty.
    assert client.get(LIST_URL, {"enterprise": cast.ent_b1.pk}).status_code == 400


def test_confidential_appeal_hides_the_enterprise_from_the_department(routed, login):
    cast = routed
    appeal = _submit(cast, confidential=True)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    for who in (cast.handler_a, cast.head_a):
        body = login(who).get(url(appeal)).json()
        assert (body["enterprise"], body["enterprise_name"]) == (None, None)
        assert cast.ent_a1.name not in str(body)
        assert body["events"][0]["actor_name"] == "企业"  # not the enterprise user's name
        row = login(who).get(LIST_URL).json()["results"][0]
        assert (row["enterprise"], row["enterprise_name"]) == (None, None)
        # Nor can the department find the enterprise by filtering on it.
        assert login(who).get(LIST_URL, {"enterprise": cast.ent_a1.pk}).status_code == 400
    for who in (cast.dispatcher_a, cast.steward_a, cast.ent_user_a1):
        body = login(who).get(url(appeal)).json()
        assert (body["enterprise"], body["enterprise_name"]) == (cast.ent_a1.pk, cast.ent_a1.name)


# --- Submit ------------------------------------------------------------------------


def _new(cast, enterprise=None, **extra) -> dict[str, Any]:
    return {
        "enterprise": (enterprise or cast.ent_a1).pk,
        "title": "用电增容",
        "body": "新产线需要增容 800 千伏安。",
        "category": cast.land.pk,
        **extra,
    }


@pytest.mark.parametrize(
    ("who", "channel"),
    [("ent_user_a1", Channel.PORTAL), ("steward_a", Channel.STEWARD), ("dispatcher_a", Channel.PHONE)],
)
def test_submit_takes_the_channel_of_the_role(routed, login, who, channel):
    cast = routed
    body = _new(cast, external_ticket="12345-2026-0042", external_due="2026-12-31")
    response = post(login(getattr(cast, who)), LIST_URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["channel"], data["status"], data["version"]) == (channel, Status.SUBMITTED, 1)
    appeal = Appeal.objects.get(pk=data["id"])
    assert appeal.submitted_by == getattr(cast, who)
    assert [e["action"] for e in data["events"]] == ["submit"]
    if channel == Channel.PHONE:
        assert appeal.external_ticket == "12345-2026-0042"
        assert data["external_due"].startswith("2027-01-01T00:00:00")  # 24:00 of the day, Beijing
    else:
        assert appeal.external_ticket == ""


def test_dispatcher_must_give_the_external_ticket(routed, login):
    response = post(login(routed.dispatcher_a), LIST_URL, _new(routed))
    assert response.status_code == 400
    assert "external_ticket" in response.json()
    assert not Appeal.objects.exists()


def test_submit_by_the_wrong_roles_is_refused(routed, login):
    cast = routed
    # Visible enterprise, but a role that does not submit: 403.
    for who in (cast.leader_a, cast.supervisor_a, cast.promoter_a):
        assert post(login(who), LIST_URL, _new(cast)).status_code == 403, who
    # Another steward's or another enterprise's: not even in scope, refused on the field.
    for who, enterprise in [
        (cast.steward_a2, cast.ent_a1),
        (cast.ent_user_a1, cast.ent_a2),
        (cast.handler_a, cast.ent_a1),
        (cast.outsider, cast.ent_a1),
    ]:
        response = post(login(who), LIST_URL, _new(cast, enterprise))
        assert response.status_code == 400, who
        assert "enterprise" in response.json()
    assert not Appeal.objects.exists()


def test_submit_without_title_names_the_field(routed, login):
    response = post(login(routed.ent_user_a1), LIST_URL, _new(routed, title=""))
    assert response.status_code == 400
    assert "title" in response.json()


# --- The loop ------------------------------------------------------------------------


def test_the_loop_through_the_api(routed, login):
    cast = routed
    enterprise, dispatcher, handler = login(cast.ent_user_a1), login(cast.dispatcher_a), login(cast.handler_a)
    created = post(enterprise, LIST_URL, _new(cast)).json()
    appeal = Appeal.objects.get(pk=created["id"])
    assert dispatcher.get(url(appeal)).json()["actions"] == ["dispatch", "decline"]

    response = post(
        dispatcher,
        url(appeal, "dispatch"),
        {"department": cast.market_a.pk, "co_departments": [cast.tax_a.pk], "version": created["version"]},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.DISPATCHED
    assert {(a["department"], a["is_lead"]) for a in data["assignments"]} == {
        (cast.market_a.pk, True),
        (cast.tax_a.pk, False),
    }
    assert data["lead_department"] == cast.market_a.pk

    detail = handler.get(url(appeal)).json()
    assert detail["actions"] == ["sign", "return"]
    data = post(handler, url(appeal, "sign"), {"version": detail["version"]}).json()
    assert data["status"] == Status.SIGNED
    lead = next(a for a in data["assignments"] if a["is_lead"])
    assert lead["signed_at"] is not None

    data = post(
        handler,
        url(appeal, "answer"),
        {"answer": "可按程序申请调整。", "outcome": "solved", "version": data["version"]},
    ).json()
    assert data["status"] == Status.ANSWERED

    response = post(
        enterprise,
        url(appeal, "rate"),
        {"level": 5, "solved": True, "comment": "很及时", "version": data["version"]},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.CLOSED
    assert [(r["level"], r["solved"], r["on_behalf"]) for r in data["ratings"]] == [(5, True, False)]
    assert [e["action"] for e in data["events"]] == [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "answer",
        "close",
    ]
    assert data["events"][3]["actor_name"].startswith("handler_a")
    assert Rating.objects.get(appeal=appeal).rated_by == cast.ent_user_a1


def test_decline_and_return(routed, appeals, login):
    cast = routed
    a1, a2, _b1 = appeals
    dispatcher = login(cast.dispatcher_a)
    response = post(
        dispatcher, url(a2, "decline"), {"reason": "属司法程序", "advice": "请咨询法院", "version": 1}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decline_advice"]) == (Status.DECLINED, "请咨询法院")
    a1.refresh_from_db()
    response = post(login(cast.head_a), url(a1, "return"), {"reason": "不属本部门", "version": a1.version})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.RETURNED
    assert response.json()["assignments"] == []  # no current assignment until redispatched


def test_dissatisfied_rating_on_behalf_reopens(routed, login):
    cast = routed
    appeal = _submit(cast)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    lifecycle.answer_appeal(appeal, answer="a", outcome="explained", by=cast.handler_a)
    body = {"level": 2, "solved": False, "on_behalf": True, "version": appeal.version}
    # The steward of another enterprise may not record it; the enterprise's steward may.
    assert post(login(cast.steward_a2), url(appeal, "rate"), body).status_code == 404
    response = post(login(cast.steward_a), url(appeal, "rate"), body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["reopen_count"]) == (Status.SIGNED, 1)
    assert data["ratings"][0]["on_behalf"] is True


# --- Refusals ------------------------------------------------------------------------


def test_stale_version_is_a_conflict_and_changes_nothing(routed, appeals, login):
    cast = routed
    a1, _a2, _b1 = appeals
    a1.refresh_from_db()
    response = post(login(cast.handler_a), url(a1, "sign"), {"version": a1.version - 1})
    assert response.status_code == 409
    assert "重新读取" in response.json()["detail"]
    a1.refresh_from_db()
    assert a1.status == Status.DISPATCHED
    assert not AppealEvent.objects.filter(appeal=a1, action="sign").exists()


def test_version_is_required(routed, appeals, login):
    a1, _a2, _b1 = appeals
    response = post(login(routed.handler_a), url(a1, "sign"), {})
    assert response.status_code == 400
    assert "version" in response.json()


def test_a_state_that_moved_on_is_a_conflict(routed, appeals, login):
    cast = routed
    a1, _a2, _b1 = appeals
    a1.refresh_from_db()
    # The current version, but the appeal is already dispatched: the service refuses with 409.
    response = post(
        login(cast.dispatcher_a), url(a1, "decline"), {"reason": "r", "advice": "a", "version": a1.version}
    )
    assert response.status_code == 409
    assert "不能不予受理" in response.json()["detail"]


def test_wrong_department_cannot_sign(routed, login):
    cast = routed
    appeal = _submit(cast)
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, co=[cast.tax_a], by=cast.dispatcher_a)
    # The co-department sees the appeal but is not the lead: the service says no (403).
    response = post(login(cast.handler_tax), url(appeal, "sign"), {"version": appeal.version})
    assert response.status_code == 403
    assert "市场监管局" in response.json()["detail"]
    assert Assignment.objects.get(appeal=appeal, is_lead=True).signed_at is None


def test_enterprise_user_cannot_dispatch(routed, appeals, login):
    cast = routed
    _a1, a2, _b1 = appeals
    response = post(login(cast.steward_a2), url(a2, "dispatch"), {"version": a2.version})
    assert response.status_code == 403
    assert Appeal.objects.get(pk=a2.pk).status == Status.SUBMITTED


def test_service_rule_is_a_bad_request(routed, appeals, login):
    cast = routed
    _a1, a2, _b1 = appeals
    # A department of another zone: the service's ServiceError → 400 with its message.
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    body = {"department": market_b.pk, "version": a2.version}
    response = post(login(cast.dispatcher_a), url(a2, "dispatch"), body)
    assert response.status_code == 400
    assert "不是本园区的部门" in response.json()["detail"]


# --- Token and schema -------------------------------------------------------------


def test_token_authentication(routed, appeals):
    cast = routed
    a1, a2, _b1 = appeals
    token = Token.objects.create(user=cast.dispatcher_a)
    client = Client(headers={"Authorization": f"Token {token.key}"})
    assert ids(client.get(LIST_URL)) == {a1.pk, a2.pk}
    # No CSRF header needed with a token.
    response = post(client, url(a2, "dispatch"), {"version": a2.version})
    assert response.status_code == 200, response.content
    assert Client(headers={"Authorization": "Token not-a-token"}).get(LIST_URL).status_code in (401, 403)


def test_responses_match_the_committed_schema(routed, appeals, login, openapi):  # noqa: F811
    cast = routed
    a1, a2, b1 = appeals
    lifecycle.sign_appeal(a1, by=cast.handler_a)
    lifecycle.answer_appeal(a1, answer="a", outcome="solved", by=cast.handler_a)
    lifecycle.rate_appeal(a1, level=4, solved=True, by=cast.ent_user_a1)
    confidential = _submit(cast, confidential=True)
    lifecycle.dispatch_appeal(confidential, by=cast.dispatcher_a)
    dispatcher, handler = login(cast.dispatcher_a), login(cast.handler_a)
    checks = [
        (dispatcher.get(LIST_URL), "/api/appeals/", "get", 200),
        (handler.get(LIST_URL), "/api/appeals/", "get", 200),
        (dispatcher.get(url(a1)), "/api/appeals/{id}/", "get", 200),
        (dispatcher.get(url(a2)), "/api/appeals/{id}/", "get", 200),
        (handler.get(url(confidential)), "/api/appeals/{id}/", "get", 200),
        (dispatcher.get(url(b1)), "/api/appeals/{id}/", "get", 404),
        (
            post(dispatcher, url(confidential, "sign"), {"version": confidential.version}),
            "/api/appeals/{id}/sign/",
            "post",
            403,
        ),
        (
            post(login(cast.ent_user_a1), LIST_URL, _new(cast)),
            "/api/appeals/",
            "post",
            201,
        ),
    ]
    for response, path, method, status in checks:
        assert response.status_code == status, (path, response.content)
        assert_matches_schema(openapi, path, method, status, response.json())


def test_schema_check_catches_a_missing_detail_key(routed, appeals, login, openapi):  # noqa: F811
    a1, _a2, _b1 = appeals
    body = login(routed.dispatcher_a).get(url(a1)).json()
    del body["events"][0]["actor_name"]
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_schema(openapi, "/api/appeals/{id}/", "get", 200, body)
