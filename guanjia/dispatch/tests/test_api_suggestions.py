"""The API of routing suggestions: GET /api/appeals/{id}/suggestions/, POST .../take-suggestion/ (一键交办)
and POST /api/routing/suggest/ (a text that is no appeal yet): who may, who may not, bad input named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Assignment, Channel, Status
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.dispatch import learning, routing
from guanjia.dispatch.models import KeywordRule, RoutingModel, Source, Suggestion
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

TAX_TEXT = (
    "增值税留抵退税申请进度咨询",
    "我司上月提交了增值税留抵退税申请，至今未到账，请帮助了解退税办理进度。",
)
LICENCE_TEXT = ("营业执照经营范围变更咨询", "我司想在营业执照上增加经营范围，请问需要准备哪些材料。")
PLAIN_TEXT = ("关于园区班车的一点想法", "希望能多开几趟早班。")


@pytest.fixture
def desk(cast):
    """Zone A routes 税费 to its 税务局 and 市场监管 to its 市场监管局; the rules know their words."""
    routing.forget_cached_models()
    categories = ensure_default_categories()
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="e-zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    appeal_services.set_route(categories["tax"], cast.zone_a, tax_a, by=None)
    appeal_services.set_route(categories["market"], cast.zone_a, cast.market_a, by=None)
    KeywordRule.objects.all().delete()
    KeywordRule.objects.create(category=categories["tax"], words="留抵 退税 增值税")
    KeywordRule.objects.create(category=categories["market"], words="营业执照 经营范围 退税")
    yield SimpleNamespace(
        cast=cast,
        categories=categories,
        tax_a=tax_a,
        dispatcher_b=make_user("e_dispatcher_b", cast.centre_b, Role.DISPATCHER),
        steward_b=cast.steward_b,
    )
    routing.forget_cached_models()


def submit(cast, text, *, enterprise=None, by=None) -> Appeal:
    title, body = text
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title=title,
        body=body,
        channel=Channel.PORTAL if by is None else Channel.STEWARD,
        by=by or cast.ent_user_a1,
    )


def url(appeal: Appeal, what: str = "suggestions") -> str:
    return f"/api/appeals/{appeal.pk}/{what}/"


def take(client, appeal: Appeal, body):
    return client.post(url(appeal, "take-suggestion"), body, content_type="application/json")


# --- GET /api/appeals/{id}/suggestions/ -------------------------------------------------------------------


def test_the_desk_gets_rule_suggestions_and_the_round_is_recorded_once(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    response = client.get(url(appeal))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["source"] == Source.RULES
    assert data["model"] is None
    first, second = data["routes"]  # 税费 by three words (two in the title), 市场监管 by 退税 alone
    assert first["rank"] == 1
    assert first["department"] == {"id": desk.tax_a.pk, "name": "高新区税务局"}
    assert first["category"]["id"] == desk.categories["tax"].pk
    assert set(first["words"]) == {"留抵", "退税", "增值税"}
    assert second["department"]["id"] == cast.market_a.pk
    assert first["confidence"] > second["confidence"] > 0
    # The desk asking again is the same round: one row, as the page records it.
    assert client.get(url(appeal)).json() == data
    assert Suggestion.objects.filter(appeal=appeal).count() == 1


def test_the_zones_supervisor_and_leader_read_suggestions(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    for reader in (cast.supervisor_a, cast.leader_a, cast.leader_city):
        response = login(reader).get(url(appeal))
        assert response.status_code == 200, (reader, response.content)
        assert response.json()["routes"][0]["department"]["id"] == desk.tax_a.pk


def test_who_sees_the_appeal_but_is_no_desk_reader_gets_403_and_the_others_404(desk, login, client):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    for user in (cast.ent_user_a1, cast.steward_a):  # they see the appeal
        response = login(user).get(url(appeal))
        assert response.status_code == 403, user
        assert "受理员" in response.json()["detail"]
    for user in (desk.dispatcher_b, cast.handler_a, desk.steward_b, cast.steward_a2, cast.promoter_a):
        assert login(user).get(url(appeal)).status_code == 404, user
    for user in (cast.sysadmin, cast.secadmin, cast.auditor, cast.outsider):
        assert login(user).get(url(appeal)).status_code == 403, user
    assert client.get(url(appeal)).status_code in (401, 403)
    assert login(cast.dispatcher_a).get("/api/appeals/99999999999999999999/suggestions/").status_code == 404
    assert not Suggestion.objects.exists()


def test_a_handler_of_the_lead_department_sees_the_appeal_but_no_suggestions(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    lifecycle.return_appeal(appeal, reason="不属于本部门职责", by=cast.handler_a)
    appeal.refresh_from_db()
    assert appeal.status == Status.RETURNED
    assert login(cast.handler_a).get(url(appeal)).status_code == 403
    # Back with the desk, a returned appeal starts a new round.
    assert login(cast.dispatcher_a).get(url(appeal)).status_code == 200


def test_an_appeal_no_longer_waiting_has_no_suggestions(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    lifecycle.dispatch_appeal(appeal, to=desk.tax_a, by=cast.dispatcher_a)
    response = login(cast.dispatcher_a).get(url(appeal))
    assert response.status_code == 409
    assert "待受理" in response.json()["detail"]
    assert not Suggestion.objects.filter(appeal=appeal).exists()


def test_no_keyword_found_means_no_route(desk, login):
    appeal = submit(desk.cast, PLAIN_TEXT)
    data = login(desk.cast.dispatcher_a).get(url(appeal)).json()
    assert data == {"source": Source.RULES, "model": None, "routes": []}


def test_suggestions_from_the_zones_active_model_name_it(desk, login):
    cast = desk.cast
    tax, market = desk.categories["tax"], desk.categories["market"]
    texts, labels = [], []
    for n in range(12):
        texts.append(f"增值税留抵退税第{n}笔申请进度咨询，退税款一直未到账")
        labels.append(routing.label_of(tax.pk, desk.tax_a.pk))
        texts.append(f"营业执照经营范围变更第{n}次办理咨询，需要哪些材料")
        labels.append(routing.label_of(market.pk, cast.market_a.pk))
    model = RoutingModel.objects.create(
        zone=cast.zone_a,
        created_at=timezone.now(),
        algorithm="test",
        samples=len(texts),
        classes=2,
        held_out=4,
        held_out_accuracy=0.9,
        is_active=True,
        blob=learning.dump(learning.fit(texts, labels)),
    )
    appeal = submit(cast, LICENCE_TEXT)
    data = login(cast.dispatcher_a).get(url(appeal)).json()
    assert data["source"] == Source.MODEL
    assert data["model"]["id"] == model.pk
    assert data["model"]["held_out_accuracy"] == 0.9
    assert data["routes"][0]["department"]["id"] == cast.market_a.pk
    assert data["routes"][0]["category"]["id"] == market.pk
    assert [route["rank"] for route in data["routes"]] == list(range(1, len(data["routes"]) + 1))


# --- POST /api/appeals/{id}/take-suggestion/ -------------------------------------------------------------


def test_the_dispatcher_takes_a_suggestion_in_one_click(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    client.get(url(appeal))
    response = take(client, appeal, {"rank": 1, "version": appeal.version})
    assert response.status_code == 200, response.content
    data = response.json()
    appeal.refresh_from_db()
    assert data["status"] == Status.DISPATCHED == appeal.status
    assert data["lead_department"] == {"id": desk.tax_a.pk, "name": "高新区税务局"}
    assert data["category"]["id"] == desk.categories["tax"].pk == appeal.category_id
    assert data["rank"] == 1 and data["version"] == appeal.version
    lead = Assignment.objects.get(appeal=appeal, is_lead=True)
    assert lead.department_id == desk.tax_a.pk
    row = Suggestion.objects.get(appeal=appeal)
    assert row.one_click and row.taken_rank == 1


def test_the_second_suggestion_without_a_prior_look(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    response = take(login(cast.dispatcher_a), appeal, {"rank": 2})
    assert response.status_code == 200, response.content
    assert response.json()["lead_department"]["id"] == cast.market_a.pk
    assert Suggestion.objects.get(appeal=appeal).taken_rank == 2


def test_bad_ranks_are_refused_naming_the_field_and_nothing_changes(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    for body in ({}, {"rank": 0}, {"rank": 4}, {"rank": "一"}, {"rank": 1.5}):
        response = take(client, appeal, body)
        assert response.status_code == 400, body
        assert "rank" in response.json(), body
    response = take(client, appeal, {"rank": 3})  # only two suggestions
    assert response.status_code == 400
    assert response.json() == {"detail": "没有第 3 项建议"}
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED
    assert not Assignment.objects.filter(appeal=appeal).exists()


def test_a_stale_version_or_a_dispatched_appeal_is_409(desk, login):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    client = login(cast.dispatcher_a)
    response = take(client, appeal, {"rank": 1, "version": appeal.version + 5})
    assert response.status_code == 409
    assert "版本" in response.json()["detail"]
    assert take(client, appeal, {"rank": 1}).status_code == 200
    again = take(client, appeal, {"rank": 1})
    assert again.status_code == 409
    assert Assignment.objects.filter(appeal=appeal).count() == 1


def test_only_the_zones_dispatcher_takes_a_suggestion(desk, login, client):
    cast = desk.cast
    appeal = submit(cast, TAX_TEXT)
    for user in (cast.supervisor_a, cast.leader_a, cast.ent_user_a1, cast.steward_a):
        response = take(login(user), appeal, {"rank": 1})
        assert response.status_code == 403, user
    for user in (desk.dispatcher_b, cast.handler_a, desk.steward_b):
        assert take(login(user), appeal, {"rank": 1}).status_code == 404, user
    for user in (cast.sysadmin, cast.secadmin, cast.auditor, cast.outsider):
        assert take(login(user), appeal, {"rank": 1}).status_code == 403, user
    assert take(client, appeal, {"rank": 1}).status_code in (401, 403)
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED
    assert not Assignment.objects.filter(appeal=appeal).exists()


# --- POST /api/routing/suggest/ --------------------------------------------------------------------------


def suggest_text(client, body):
    return client.post("/api/routing/suggest/", body, content_type="application/json")


def test_suggestions_for_a_text_record_nothing(desk, login):
    cast = desk.cast
    title, body = TAX_TEXT
    for user in (cast.dispatcher_a, cast.supervisor_a, cast.leader_a):
        response = suggest_text(login(user), {"zone": cast.zone_a.pk, "title": title, "body": body})
        assert response.status_code == 200, (user, response.content)
        data = response.json()
        assert data["source"] == Source.RULES
        assert data["routes"][0]["department"]["id"] == desk.tax_a.pk
    only_title = suggest_text(login(cast.dispatcher_a), {"zone": cast.zone_a.pk, "title": LICENCE_TEXT[0]})
    assert only_title.json()["routes"][0]["department"]["id"] == cast.market_a.pk
    assert not Suggestion.objects.exists()


def test_text_suggestions_refuse_bad_input_naming_the_field(desk, login):
    cast = desk.cast
    client = login(cast.dispatcher_a)
    title, body = TAX_TEXT
    cases = [
        ({"title": title, "body": body}, "zone"),
        ({"zone": cast.zone_b.pk, "title": title}, "zone"),  # not its zone
        ({"zone": cast.market_a.pk, "title": title}, "zone"),  # a department is no zone
        ({"zone": 99999999999999999999, "title": title}, "zone"),
        ({"zone": cast.zone_a.pk, "title": ""}, "title"),
        ({"zone": cast.zone_a.pk, "title": "长" * 101}, "title"),
        ({"zone": cast.zone_a.pk, "title": title, "body": "长" * 5001}, "body"),
    ]
    for payload, field in cases:
        response = suggest_text(client, payload)
        assert response.status_code == 400, payload
        assert field in response.json(), (payload, response.json())
    zone_message = suggest_text(client, {"zone": cast.zone_b.pk, "title": title}).json()["zone"][0]
    assert "园区" in zone_message and "不存在" in zone_message


def test_text_suggestions_are_for_the_zones_desk_only(desk, login, client):
    cast = desk.cast
    payload = {"zone": cast.zone_a.pk, "title": TAX_TEXT[0]}
    assert suggest_text(login(desk.dispatcher_b), payload).status_code == 400  # zone A is not its zone
    for user in (cast.ent_user_a1, cast.steward_a, cast.handler_a, cast.promoter_a):
        assert suggest_text(login(user), payload).status_code == 403, user
    for user in (cast.sysadmin, cast.secadmin, cast.auditor, cast.outsider):
        assert suggest_text(login(user), payload).status_code == 403, user
    assert suggest_text(client, payload).status_code in (401, 403)
