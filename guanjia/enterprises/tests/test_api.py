"""The enterprise and steward API: who sees what, who may write, and that the committed schema tells the truth."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.authtoken.models import Token

from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import Enterprise, StewardAssignment, Tag, Tier
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import Cast, make_enterprise

SCHEMA_PATH = Path(settings.BASE_DIR).parent / "docs" / "openapi.yaml"
LIST_URL = "/api/enterprises/"
NEW_USCC = with_check_digit("91320594MA1N2P3Q4")


def detail_url(enterprise: Enterprise) -> str:
    return f"/api/enterprises/{enterprise.pk}/"


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def new_enterprise(cast: Cast, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uscc": NEW_USCC,
        "name": "示例生物医药有限公司",
        "legal_representative": "李明",
        "founded_on": "2020-06-18",
        "registered_capital": "1200.00",
        "scale": "small",
        "tier": "above_scale",
        "industry_section": "C",
        "industry_division": "27",
        "address": "高新区创新路 8 号",
        "zone": cast.zone_a.pk,
        "contacts": [
            {"name": "赵女士", "position": "办公室主任", "phone": "13700001111", "is_primary": True}
        ],
    }
    body.update(overrides)
    return body


# --- Scoping -----------------------------------------------------------------


def test_steward_lists_only_the_enterprises_it_serves(cast, login):
    assert names(login(cast.steward_a).get(LIST_URL)) == {cast.ent_a1.name}


def test_dispatcher_lists_its_zone_and_not_the_other(cast, login):
    assert names(login(cast.dispatcher_a).get(LIST_URL)) == {cast.ent_a1.name, cast.ent_a2.name}


def test_city_leader_lists_every_zone(cast, login):
    assert names(login(cast.leader_city).get(LIST_URL)) == {
        cast.ent_a1.name,
        cast.ent_a2.name,
        cast.ent_b1.name,
    }


def test_enterprise_out_of_scope_is_not_found(cast, login):
    assert login(cast.steward_a).get(detail_url(cast.ent_b1)).status_code == 404
    assert login(cast.dispatcher_a).get(detail_url(cast.ent_b1)).status_code == 404
    assert login(cast.steward_a).get(detail_url(cast.ent_a1)).status_code == 200


def test_list_filters_apply_within_scope(cast, login):
    client = login(cast.dispatcher_a)
    assert names(client.get(LIST_URL, {"tier": Tier.KEY})) == {cast.ent_a1.name}
    assert names(client.get(LIST_URL, {"q": "新材料"})) == {cast.ent_a2.name}
    # A zone outside the caller's scope is not a valid choice, not an empty answer.
    response = client.get(LIST_URL, {"zone": cast.zone_b.pk})
    assert response.status_code == 400
    assert "zone" in response.json()


def test_enterprise_user_reads_its_own_enterprise_and_cannot_write(cast, login):
    client = login(cast.ent_user_a1)
    assert names(client.get(LIST_URL)) == {cast.ent_a1.name}
    assert client.get(detail_url(cast.ent_a2)).status_code == 404

    response = client.post(LIST_URL, new_enterprise(cast), content_type="application/json")
    assert response.status_code == 403
    response = client.patch(
        detail_url(cast.ent_a1), {"name": "改名", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 403
    cast.ent_a1.refresh_from_db()
    assert cast.ent_a1.name == "示例智能制造有限公司"
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


# handler_a holds a business role, but one with no registry scope (as on the registry pages).
@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor", "outsider", "handler_a"])
def test_admin_roles_and_roleless_accounts_see_no_enterprise_data(cast, login, who):
    client = login(getattr(cast, who))
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(cast.ent_a1)).status_code == 403
    assert client.get(f"{detail_url(cast.ent_a1)}steward-history/").status_code == 403
    assert client.post(LIST_URL, new_enterprise(cast), content_type="application/json").status_code == 403
    assert client.get("/api/stewards/").status_code == 403


def test_anonymous_caller_is_refused(cast):
    response = Client().get(LIST_URL)
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


# --- Masking -----------------------------------------------------------------


def test_contact_phone_is_masked_for_leaders_and_shown_to_dispatchers(cast, login):
    leader_view = login(cast.leader_a).get(detail_url(cast.ent_a1)).json()
    dispatcher_view = login(cast.dispatcher_a).get(detail_url(cast.ent_a1)).json()
    assert leader_view["contacts"][0]["phone"] == "138****5678"
    assert dispatcher_view["contacts"][0]["phone"] == "13812345678"
    # The list shows the same as the detail.
    leader_list = login(cast.leader_a).get(LIST_URL).json()["results"]
    assert {c["phone"] for row in leader_list for c in row["contacts"]} == {"138****5678"}


# --- Create ------------------------------------------------------------------


def test_create_with_a_wrong_check_digit_names_the_uscc_field(cast, login):
    wrong = NEW_USCC[:17] + ("0" if NEW_USCC[17] != "0" else "1")
    response = login(cast.dispatcher_a).post(
        LIST_URL, new_enterprise(cast, uscc=wrong), content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"uscc"}
    assert body["uscc"][0].startswith("统一社会信用代码校验位错误")
    assert not Enterprise.objects.filter(name="示例生物医药有限公司").exists()


def test_create_with_a_registered_uscc_names_the_uscc_field(cast, login):
    response = login(cast.dispatcher_a).post(
        LIST_URL, new_enterprise(cast, uscc=cast.ent_b1.uscc.lower()), content_type="application/json"
    )
    assert response.status_code == 400
    assert "已登记" in response.json()["uscc"][0]


def test_dispatcher_creates_an_enterprise_and_it_is_audited(cast, login):
    Tag.objects.create(name="专精特新")
    response = login(cast.dispatcher_a).post(
        LIST_URL, new_enterprise(cast, tags=["专精特新"]), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert body["id"] == enterprise.pk
    assert body["zone"] == cast.zone_a.pk and body["zone_name"] == "高新区"
    assert body["tags"] == ["专精特新"]
    assert body["contacts"][0]["phone"] == "13700001111"
    assert body["version"] == 1 and body["steward"] is None
    record = AuditRecord.objects.get(action="enterprise.create")
    assert record.actor == cast.dispatcher_a
    assert record.object_id == str(enterprise.pk)


def test_create_in_a_zone_outside_scope_is_refused_on_the_zone_field(cast, login):
    response = login(cast.dispatcher_a).post(
        LIST_URL, new_enterprise(cast, zone=cast.zone_b.pk), content_type="application/json"
    )
    assert response.status_code == 400
    assert "zone" in response.json()
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


@pytest.mark.parametrize("who", ["steward_a", "leader_a"])
def test_staff_who_do_not_keep_the_registry_cannot_create(cast, login, who):
    response = login(getattr(cast, who)).post(LIST_URL, new_enterprise(cast), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有本园区的受理员或效能督查可以新增企业"
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


# --- Update ------------------------------------------------------------------


def test_update_with_the_current_version_changes_and_bumps_it(cast, login):
    response = login(cast.dispatcher_a).patch(
        detail_url(cast.ent_a1),
        {"address": "高新区星湖街 1 号", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "高新区星湖街 1 号"
    assert response.json()["version"] == 2
    assert AuditRecord.objects.filter(action="enterprise.update", object_id=str(cast.ent_a1.pk)).exists()


def test_update_with_a_stale_version_is_a_conflict(cast, login):
    client = login(cast.dispatcher_a)
    first = client.patch(
        detail_url(cast.ent_a1), {"tier": "general", "version": 1}, content_type="application/json"
    )
    assert first.status_code == 200
    stale = client.patch(
        detail_url(cast.ent_a1), {"name": "后来者", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert stale.json() == {"detail": "该企业信息已被他人修改，请刷新后再编辑"}
    cast.ent_a1.refresh_from_db()
    assert cast.ent_a1.name == "示例智能制造有限公司" and cast.ent_a1.version == 2


def test_update_without_a_version_is_refused(cast, login):
    response = login(cast.dispatcher_a).patch(
        detail_url(cast.ent_a1), {"name": "无版本"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "version" in response.json()


def test_full_update_keeps_uscc_and_zone(cast, login):
    body = {
        "name": "示例智能制造股份有限公司",
        "legal_representative": "张三",
        "founded_on": "2015-03-01",
        "registered_capital": "8000.00",
        "scale": "medium",
        "tier": "key",
        "industry_section": "C",
        "industry_division": "39",
        "tags": [],
        "address": "高新区",
        "version": 1,
    }
    response = login(cast.dispatcher_a).put(detail_url(cast.ent_a1), body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["uscc"] == cast.ent_a1.uscc
    assert response.json()["registered_capital"] == "8000.00"


def test_steward_updates_its_own_enterprise_but_a_leader_cannot(cast, login):
    response = login(cast.steward_a).patch(
        detail_url(cast.ent_a1),
        {"legal_representative": "张三", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    response = login(cast.leader_a).patch(
        detail_url(cast.ent_a1),
        {"legal_representative": "李四", "version": 2},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "您无权修改该企业信息"}


def test_there_is_no_delete(cast, login):
    assert login(cast.dispatcher_a).delete(detail_url(cast.ent_a1)).status_code == 405
    assert Enterprise.objects.filter(pk=cast.ent_a1.pk).exists()


# --- Stewards of an enterprise -----------------------------------------------


def test_dispatcher_assigns_a_steward(cast, login):
    response = login(cast.dispatcher_a).post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_a2.pk, "reason": "负荷调整"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["steward"] == cast.steward_a2.pk and body["ended_at"] is None
    assert body["assigned_by"] == cast.dispatcher_a.pk and body["reason"] == "负荷调整"
    cast.ent_a1.refresh_from_db()
    assert cast.ent_a1.steward == cast.steward_a2
    assert StewardAssignment.objects.filter(enterprise=cast.ent_a1, ended_at__isnull=True).count() == 1


def test_steward_cannot_assign_stewards(cast, login):
    response = login(cast.steward_a).post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_a2.pk, "reason": "想换人"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "只有本园区的受理员或效能督查可以调整服务管家"}
    cast.ent_a1.refresh_from_db()
    assert cast.ent_a1.steward == cast.steward_a


def test_assign_steward_refusals(cast, login):
    client = login(cast.dispatcher_a)
    # Not in scope: the enterprise does not exist for this caller.
    response = client.post(
        f"{detail_url(cast.ent_b1)}assign-steward/",
        {"steward": cast.steward_a.pk},
        content_type="application/json",
    )
    assert response.status_code == 404
    # A steward of another zone is not a choice.
    response = client.post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_b.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "steward" in response.json()
    # A rule of the service: already this enterprise's steward.
    response = client.post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_a.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": f"{cast.steward_a} 已是 {cast.ent_a1.name} 的服务管家"}


def test_steward_history_lists_assignments_newest_first(cast, login):
    login(cast.dispatcher_a).post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_a2.pk, "reason": "负荷调整"},
        content_type="application/json",
    )
    response = login(cast.leader_a).get(f"{detail_url(cast.ent_a1)}steward-history/")
    assert response.status_code == 200
    rows = response.json()
    assert [row["steward"] for row in rows] == [cast.steward_a2.pk, cast.steward_a.pk]
    assert rows[0]["assigned_by_name"] == "dispatcher_a" and rows[0]["ended_at"] is None
    assert rows[1]["ended_at"] is not None and rows[1]["reason"] == "初始分配"
    assert login(cast.steward_a).get(f"{detail_url(cast.ent_b1)}steward-history/").status_code == 404


# --- Stewards ----------------------------------------------------------------


def test_dispatcher_sees_its_zones_stewards_with_their_load(cast, login):
    response = login(cast.dispatcher_a).get("/api/stewards/")
    assert response.status_code == 200
    loads = {row["username"]: (row["enterprises"], row["weighted"]) for row in response.json()}
    # ent_a1 is 重点 (weight 3), ent_a2 一般 (weight 1).
    assert loads == {"steward_a2": (1, 1), "steward_a": (1, 3)}


def test_city_leader_sees_stewards_of_every_zone(cast, login):
    rows = login(cast.leader_city).get("/api/stewards/").json()
    assert {(row["username"], row["zone_name"]) for row in rows} == {
        ("steward_a", "高新区"),
        ("steward_a2", "高新区"),
        ("steward_b", "经开区"),
    }


@pytest.mark.parametrize("who", ["steward_a", "handler_a", "ent_user_a1", "promoter_a"])
def test_others_may_not_see_the_stewards(cast, login, who):
    client = login(getattr(cast, who))
    assert client.get("/api/stewards/").status_code == 403
    assert client.get("/api/stewards/suggest/", {"zone": cast.zone_a.pk}).status_code == 403


def test_suggest_names_the_lightest_loaded_steward(cast, login):
    client = login(cast.dispatcher_a)
    response = client.get("/api/stewards/suggest/", {"zone": cast.zone_a.pk})
    assert response.status_code == 200
    assert response.json() == {"id": cast.steward_a2.pk, "username": "steward_a2", "name": "steward_a2"}
    assert client.get("/api/stewards/suggest/", {"zone": cast.zone_b.pk}).status_code == 400
    assert client.get("/api/stewards/suggest/").status_code == 400


def test_handover_balances_a_leaving_stewards_enterprises(cast, login):
    response = login(cast.dispatcher_a).post(
        "/api/stewards/handover/",
        {"from_steward": cast.steward_a.pk, "to_steward": None, "reason": "调岗"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert [row["steward"] for row in response.json()] == [cast.steward_a2.pk]
    cast.ent_a1.refresh_from_db()
    assert cast.ent_a1.steward == cast.steward_a2
    assert AuditRecord.objects.filter(action="enterprise.handover").exists()


def test_handover_refusals(cast, login):
    # A leader oversees stewards but does not keep the registry: the service refuses.
    response = login(cast.leader_a).post(
        "/api/stewards/handover/",
        {"from_steward": cast.steward_a.pk, "to_steward": cast.steward_a2.pk, "reason": "调岗"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "只有本园区的受理员或效能督查可以移交企业"}
    # Another zone's steward is not a choice for zone A's dispatcher.
    response = login(cast.dispatcher_a).post(
        "/api/stewards/handover/", {"from_steward": cast.steward_b.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and "from_steward" in response.json()
    cast.ent_a1.refresh_from_db()
    cast.ent_b1.refresh_from_db()
    assert cast.ent_a1.steward == cast.steward_a and cast.ent_b1.steward == cast.steward_b


# --- Authentication ----------------------------------------------------------


def test_token_authentication(cast):
    token = Token.objects.create(user=cast.dispatcher_a)
    client = Client(headers={"Authorization": f"Token {token.key}"})
    assert names(client.get(LIST_URL)) == {cast.ent_a1.name, cast.ent_a2.name}
    response = client.patch(
        detail_url(cast.ent_a2), {"tier": "key", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Client(headers={"Authorization": "Token not-a-token"}).get(LIST_URL).status_code in (401, 403)


# --- Query counts --------------------------------------------------------------


def test_list_queries_do_not_grow_with_the_number_of_enterprises(cast, login):
    client = login(cast.dispatcher_a)
    client.get(LIST_URL)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST_URL).status_code == 200
    for n in range(5):
        make_enterprise(with_check_digit(f"9132059400000000{n}"), f"批量企业{n}", cast.zone_a, cast.steward_a)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(LIST_URL).json()["results"]) == 7
    assert len(many) == len(few)


# --- OpenAPI -------------------------------------------------------------------


def test_committed_schema_matches_a_fresh_generation(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    GENERATOR_STATS.reset()
    # The CLI runs in LANGUAGE_CODE; other tests may have left another language active.
    with translation.override(settings.LANGUAGE_CODE):
        call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert fresh.read_text(encoding="utf-8") == SCHEMA_PATH.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is stale: run `guanjia spectacular --file docs/openapi.yaml --validate --fail-on-warn`"
    )


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null alternative, objects are closed."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("type") == "object" and "properties" in node:
        # Every key a response carries must be documented.
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def assert_matches_schema(openapi: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    content = openapi["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    schema = {**copy.deepcopy(content["schema"]), "components": _as_json_schema(openapi["components"])}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_responses_match_the_committed_schema(cast, login, openapi):
    login(cast.dispatcher_a).post(
        f"{detail_url(cast.ent_a1)}assign-steward/",
        {"steward": cast.steward_a2.pk},
        content_type="application/json",
    )
    dispatcher, leader = login(cast.dispatcher_a), login(cast.leader_city)
    checks = [
        (leader.get(LIST_URL), "/api/enterprises/", "get", 200),
        (dispatcher.get(detail_url(cast.ent_a1)), "/api/enterprises/{id}/", "get", 200),
        (leader.get(detail_url(cast.ent_b1)), "/api/enterprises/{id}/", "get", 200),
        (dispatcher.get(detail_url(cast.ent_b1)), "/api/enterprises/{id}/", "get", 404),
        (
            dispatcher.get(f"{detail_url(cast.ent_a1)}steward-history/"),
            "/api/enterprises/{id}/steward-history/",
            "get",
            200,
        ),
        (dispatcher.get("/api/stewards/"), "/api/stewards/", "get", 200),
        (
            dispatcher.get("/api/stewards/suggest/", {"zone": cast.zone_a.pk}),
            "/api/stewards/suggest/",
            "get",
            200,
        ),
    ]
    for response, path, method, status in checks:
        assert response.status_code == status, (path, response.content)
        assert_matches_schema(openapi, path, method, status, response.json())


def test_schema_check_catches_a_missing_required_key(cast, login, openapi):
    body = login(cast.dispatcher_a).get(detail_url(cast.ent_a1)).json()
    del body["version"]
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_schema(openapi, "/api/enterprises/{id}/", "get", 200, body)


def test_api_docs_render_without_any_cdn(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # No absolute or protocol-relative URL: every asset is vendored and served from /static/.
    assert not re.findall(r"https?://|//[a-z0-9-]+\.[a-z]", html, flags=re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    # Swagger UI's set-up script is served by the docs view itself (no inline script under the CSP).
    assert "/api/docs/?script=" in assets
    assert all(url.startswith(settings.STATIC_URL) or url == "/api/docs/?script=" for url in assets), assets
    for url in assets:
        assert Client().get(url).status_code == 200, url
    assert not re.findall(r"https?://", Client().get("/api/docs/?script=").content.decode())


def test_api_docs_do_not_call_the_online_validator(db):
    script = Client().get("/api/docs/?script=").content.decode()
    assert re.search(r'"validatorUrl":\s*null', script)
