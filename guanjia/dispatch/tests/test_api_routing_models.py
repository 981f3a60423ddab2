"""The API of the zones' routing: the training runs (/api/routing-models/), retraining, the adoption of the
suggestions, and the keyword rules (/api/keyword-rules/): who reads, who keeps, bad input named."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.dispatch.models import KeywordRule, RoutingModel, Source, Suggestion
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

MODELS = "/api/routing-models/"
RETRAIN = "/api/routing-models/retrain/"
ADOPTION = "/api/routing-models/adoption/"
RULES = "/api/keyword-rules/"


def run(zone, *, active: bool, note: str = "", days_ago: int = 0) -> RoutingModel:
    return RoutingModel.objects.create(
        zone=zone,
        created_at=timezone.now() - timedelta(days=days_ago),
        algorithm="char-ngram tfidf + logistic regression",
        samples=480,
        classes=9,
        held_out=120,
        held_out_accuracy=0.85,
        held_out_macro_f1=0.8,
        is_active=active,
        note=note,
        blob=b"not for the wire",
    )


@pytest.fixture
def runs(cast):
    return {
        "a_old": run(cast.zone_a, active=False, note="留出集准确率较低，未启用", days_ago=3),
        "a": run(cast.zone_a, active=True),
        "b": run(cast.zone_b, active=True),
    }


def dispatcher_b(cast):
    return make_user("e_dispatcher_b", cast.centre_b, Role.DISPATCHER)


# --- the training runs ------------------------------------------------------------------------------------


def test_readers_list_their_zones_runs_newest_first_without_the_blob(cast, login, runs):
    response = login(cast.dispatcher_a).get(MODELS)
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [runs["a"].pk, runs["a_old"].pk]
    assert rows[0]["zone_name"] == "高新区" and rows[0]["is_active"] is True
    assert rows[1]["note"] == "留出集准确率较低，未启用"
    assert all("blob" not in row for row in rows)
    for reader in (cast.supervisor_a, cast.leader_a):
        assert {row["id"] for row in login(reader).get(MODELS).json()["results"]} == {
            runs["a"].pk,
            runs["a_old"].pk,
        }
    everyone = {runs["a"].pk, runs["a_old"].pk, runs["b"].pk}
    assert {row["id"] for row in login(cast.leader_city).get(MODELS).json()["results"]} == everyone
    assert {row["id"] for row in login(cast.sysadmin).get(MODELS).json()["results"]} == everyone


def test_the_zone_filter_stays_within_scope_and_refuses_what_is_no_id(cast, login, runs):
    client = login(cast.leader_city)
    assert [row["id"] for row in client.get(MODELS, {"zone": cast.zone_b.pk}).json()["results"]] == [
        runs["b"].pk
    ]
    assert login(cast.dispatcher_a).get(MODELS, {"zone": cast.zone_b.pk}).json()["results"] == []
    for value in ("abc", "1.5", "0", "99999999999999999999"):
        response = client.get(MODELS, {"zone": value})
        assert response.status_code == 400, value
        assert "zone" in response.json()


def test_one_run_is_read_in_scope_only(cast, login, runs):
    response = login(cast.dispatcher_a).get(f"{MODELS}{runs['a'].pk}/")
    assert response.status_code == 200
    assert response.json()["held_out_accuracy"] == 0.85 and "blob" not in response.json()
    assert login(cast.dispatcher_a).get(f"{MODELS}{runs['b'].pk}/").status_code == 404
    assert login(dispatcher_b(cast)).get(f"{MODELS}{runs['a'].pk}/").status_code == 404
    assert login(cast.dispatcher_a).get(f"{MODELS}99999999999999999999/").status_code == 404


def test_who_reads_no_routing_gets_403(cast, login, client, runs):
    for user in (
        cast.ent_user_a1,
        cast.steward_a,
        cast.handler_a,
        cast.promoter_a,
        cast.secadmin,
        cast.auditor,
        cast.outsider,
    ):
        assert login(user).get(MODELS).status_code == 403, user
        assert login(user).get(f"{MODELS}{runs['a'].pk}/").status_code == 403, user
        assert login(user).get(ADOPTION).status_code == 403, user
        assert login(user).get(RULES).status_code == 403, user
    for url in (MODELS, ADOPTION, RULES):
        assert client.get(url).status_code in (401, 403)


# --- retraining -------------------------------------------------------------------------------------------


def retrain(client, body):
    return client.post(RETRAIN, body, content_type="application/json")


def test_a_keeper_starts_a_training_run(cast, login):
    response = retrain(login(cast.dispatcher_a), {"zone": cast.zone_a.pk})
    assert response.status_code == 202, response.content
    assert response.json() == {"queued": True}
    # The worker ran it at once (HUEY immediate in tests): too little history, so no model is promoted.
    made = RoutingModel.objects.get(zone=cast.zone_a)
    assert not made.is_active and made.trained_by == cast.dispatcher_a
    assert "历史数据不足" in made.note
    assert retrain(login(cast.sysadmin), {"zone": cast.zone_b.pk}).status_code == 202
    assert RoutingModel.objects.filter(zone=cast.zone_b, trained_by=cast.sysadmin).count() == 1


def test_retraining_refuses_bad_input_naming_the_zone(cast, login):
    client = login(cast.dispatcher_a)
    for body in (
        {},
        {"zone": cast.zone_b.pk},
        {"zone": cast.market_a.pk},
        {"zone": "高新区"},
        {"zone": None},
    ):
        response = retrain(client, body)
        assert response.status_code == 400, body
        assert "zone" in response.json(), body
    assert "园区" in retrain(client, {"zone": cast.zone_b.pk}).json()["zone"][0]
    assert retrain(login(dispatcher_b(cast)), {"zone": cast.zone_a.pk}).status_code == 400
    assert not RoutingModel.objects.exists()


def test_only_keepers_retrain(cast, login, client):
    for user in (
        cast.supervisor_a,
        cast.leader_a,
        cast.ent_user_a1,
        cast.steward_a,
        cast.handler_a,
        cast.secadmin,
        cast.auditor,
        cast.outsider,
    ):
        assert retrain(login(user), {"zone": cast.zone_a.pk}).status_code == 403, user
    assert retrain(client, {"zone": cast.zone_a.pk}).status_code in (401, 403)
    assert not RoutingModel.objects.exists()


# --- adoption ---------------------------------------------------------------------------------------------


def rounds(cast, zone, ranks_and_days: list[tuple[int, bool, int]]) -> None:
    """Dispatched rounds of `zone`: (rank taken, one click, days ago)."""
    appeal = lifecycle.submit_appeal(
        cast.ent_a1 if zone == cast.zone_a else cast.ent_b1,
        title="企业用电扩容申请",
        body="新增生产线需要变压器扩容。",
        channel=Channel.PHONE,
        by=cast.dispatcher_a if zone == cast.zone_a else dispatcher_b(cast),
        external_ticket="12345-001",
    )
    now = timezone.now()
    for rank, one_click, days in ranks_and_days:
        Suggestion.objects.create(
            appeal=appeal,
            zone=zone,
            source=Source.RULES,
            created_at=now - timedelta(days=days, hours=1),
            ranked=[],
            dispatched_at=now - timedelta(days=days),
            dispatched_department=cast.market_a,
            taken_rank=rank,
            one_click=one_click,
        )


def test_adoption_counts_the_last_30_days_of_the_callers_zones(cast, login):
    rounds(cast, cast.zone_a, [(1, True, 1), (1, False, 2), (2, False, 3), (0, False, 4), (1, True, 45)])
    response = login(cast.dispatcher_a).get(ADOPTION)
    assert response.status_code == 200, response.content
    data = response.json()
    today = timezone.now().astimezone(BEIJING).date()
    assert data["zones"] == [cast.zone_a.pk]
    assert data["until"] == today.isoformat() and data["since"] == (today - timedelta(days=30)).isoformat()
    assert (data["dispatched"], data["first"], data["top3"], data["one_click"]) == (4, 2, 3, 1)
    assert data["first_rate"] == 0.5 and data["top3_rate"] == 0.75
    since = (today - timedelta(days=60)).isoformat()
    assert login(cast.dispatcher_a).get(ADOPTION, {"since": since}).json()["dispatched"] == 5


def test_adoption_by_zone_and_with_nothing_dispatched(cast, login):
    rounds(cast, cast.zone_a, [(1, True, 1)])
    rounds(cast, cast.zone_b, [(0, False, 1), (0, False, 2)])
    city = login(cast.leader_city)
    both = city.get(ADOPTION).json()
    assert both["zones"] == sorted([cast.zone_a.pk, cast.zone_b.pk]) and both["dispatched"] == 3
    only_b = city.get(ADOPTION, {"zone": cast.zone_b.pk}).json()
    assert (only_b["dispatched"], only_b["first"], only_b["first_rate"]) == (2, 0, 0.0)
    long_ago = {"since": "2020-01-01", "until": "2020-01-31"}
    empty = login(cast.supervisor_a).get(ADOPTION, long_ago).json()
    assert empty["dispatched"] == 0 and empty["first_rate"] is None and empty["top3_rate"] is None


def test_adoption_refuses_bad_input_naming_the_field(cast, login):
    client = login(cast.dispatcher_a)
    cases = [
        ({"zone": cast.zone_b.pk}, "zone"),
        ({"zone": "abc"}, "zone"),
        ({"since": "2026-13-01"}, "since"),
        ({"until": "昨天"}, "until"),
        ({"since": "2026-03-10", "until": "2026-03-01"}, "until"),
    ]
    for query, field in cases:
        response = client.get(ADOPTION, query)
        assert response.status_code == 400, query
        assert field in response.json(), (query, response.json())
    assert (
        "开始日期" in client.get(ADOPTION, {"since": "2026-03-10", "until": "2026-03-01"}).json()["until"][0]
    )


# --- keyword rules ----------------------------------------------------------------------------------------


@pytest.fixture
def tax_rule(cast):
    categories = ensure_default_categories()
    rule, _created = KeywordRule.objects.update_or_create(
        category=categories["tax"], defaults={"words": "留抵 退税 增值税", "version": 1}
    )
    return rule


def patch(client, rule, body):
    return client.patch(f"{RULES}{rule.pk}/", body, content_type="application/json")


def test_readers_list_and_read_the_rules(cast, login, tax_rule):
    for reader in (cast.dispatcher_a, cast.supervisor_a, cast.leader_a, cast.sysadmin):
        response = login(reader).get(RULES)
        assert response.status_code == 200, reader
        assert tax_rule.pk in {row["id"] for row in response.json()["results"]}
    one = login(cast.leader_a).get(f"{RULES}{tax_rule.pk}/").json()
    assert one["word_list"] == ["留抵", "退税", "增值税"] and one["version"] == 1
    assert "税" in one["category_name"]
    assert login(cast.leader_a).get(f"{RULES}99999999999999999999/").status_code == 404


def test_a_keeper_edits_a_rule_and_a_stale_version_is_409(cast, login, tax_rule):
    client = login(cast.dispatcher_a)
    response = patch(client, tax_rule, {"words": "留抵，退税, 增值税 发票", "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["word_list"] == ["留抵", "退税", "增值税", "发票"]
    assert response.json()["version"] == 2
    assert AuditRecord.objects.filter(action="routing.rule", actor=cast.dispatcher_a).count() == 1
    stale = patch(login(cast.sysadmin), tax_rule, {"words": "税务", "version": 1})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.json()["detail"]
    assert patch(login(cast.sysadmin), tax_rule, {"words": "税务 留抵", "version": 2}).status_code == 200
    tax_rule.refresh_from_db()
    assert tax_rule.words == "税务 留抵" and tax_rule.version == 3


def test_rule_edits_refuse_bad_input_naming_the_field(cast, login, tax_rule):
    client = login(cast.dispatcher_a)
    too_many = " ".join(f"词{n}" for n in range(201))
    cases = [
        ({"version": 1}, "words"),
        ({"words": "", "version": 1}, "words"),
        ({"words": " ，, ", "version": 1}, "words"),
        ({"words": too_many, "version": 1}, "words"),
        ({"words": "退税"}, "version"),
        ({"words": "退税", "version": 0}, "version"),
        ({"words": "退税", "version": "一"}, "version"),
    ]
    for body, field in cases:
        response = patch(client, tax_rule, body)
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert "关键词" in patch(client, tax_rule, {"words": too_many, "version": 1}).json()["words"][0]
    tax_rule.refresh_from_db()
    assert tax_rule.version == 1 and tax_rule.words == "留抵 退税 增值税"


def test_only_keepers_edit_rules(cast, login, client, tax_rule):
    for user in (cast.supervisor_a, cast.leader_a):  # they read the rules
        assert patch(login(user), tax_rule, {"words": "税", "version": 1}).status_code == 403, user
    for user in (
        cast.ent_user_a1,
        cast.steward_a,
        cast.handler_a,
        cast.secadmin,
        cast.auditor,
        cast.outsider,
    ):
        assert patch(login(user), tax_rule, {"words": "税", "version": 1}).status_code == 403, user
    assert patch(client, tax_rule, {"words": "税", "version": 1}).status_code in (401, 403)
    for method in ("put", "delete"):
        response = getattr(login(cast.dispatcher_a), method)(f"{RULES}{tax_rule.pk}/")
        assert response.status_code == 405, method
    tax_rule.refresh_from_db()
    assert tax_rule.version == 1


def test_runs_are_newest_first_by_training_time(cast, login):
    older = run(cast.zone_a, active=False, days_ago=10)
    newer = run(cast.zone_a, active=True, days_ago=0)
    ids = [row["id"] for row in login(cast.dispatcher_a).get(MODELS).json()["results"]]
    assert ids == [newer.pk, older.pk]
    assert datetime.fromisoformat(login(cast.dispatcher_a).get(f"{MODELS}{older.pk}/").json()["created_at"])
