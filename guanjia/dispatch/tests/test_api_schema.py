"""The OpenAPI schema describes the smart-dispatch API without a warning, and every answer of its
endpoints (successes and refusals) matches what the schema documents for it."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.utils import timezone, translation
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema

from guanjia.appeals import lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.core.models import OrgUnit
from guanjia.dispatch import routing
from guanjia.dispatch.models import KeywordRule, RoutingModel

PATHS = {
    "/api/appeals/{id}/suggestions/": ["get"],
    "/api/appeals/{id}/take-suggestion/": ["post"],
    "/api/routing/suggest/": ["post"],
    "/api/appeals/{id}/similar/": ["get"],
    "/api/similar-appeals/": ["post"],
    "/api/search/": ["get"],
    "/api/routing-models/": ["get"],
    "/api/routing-models/{id}/": ["get"],
    "/api/routing-models/retrain/": ["post"],
    "/api/routing-models/adoption/": ["get"],
    "/api/keyword-rules/": ["get"],
    "/api/keyword-rules/{id}/": ["get", "patch"],
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    GENERATOR_STATS.reset()
    with translation.override(settings.LANGUAGE_CODE):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    ours = [message for message in GENERATOR_STATS._warn_cache if "dispatch/api" in message]
    ours += [message for message in GENERATOR_STATS._error_cache if "dispatch/api" in message]
    assert ours == [], ours
    data = json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))
    validate_schema(data)
    return data


def test_the_schema_documents_every_endpoint_with_a_body_and_its_refusals(openapi):
    for path, methods in PATHS.items():
        assert path in openapi["paths"], path
        for method in methods:
            operation = openapi["paths"][path][method]
            assert operation.get("summary"), (path, method)
            assert "403" in operation["responses"], (path, method)
            success = next(code for code in operation["responses"] if code.startswith("2"))
            assert "application/json" in operation["responses"][success]["content"], (path, method)
            if method in ("post", "patch"):
                assert "requestBody" in operation, (path, method)
                assert "400" in operation["responses"], (path, method)
    detail = openapi["components"]["schemas"]["RoutingModel"]["properties"]
    assert "blob" not in detail


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null alternative, objects are closed."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("type") == "object" and "properties" in node:
        out["additionalProperties"] = False  # every key an answer carries must be documented
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_matches(openapi: dict[str, Any], path: str, method: str, response: Any) -> None:
    documented = openapi["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, (path, method, status, response.content)
    content = documented[status].get("content", {}).get("application/json")
    if content is None:  # a 400 documented as "a field map or a {detail}"
        assert status == "400" and isinstance(response.json(), dict)
        return
    schema = {**copy.deepcopy(content["schema"]), "components": _as_json_schema(openapi["components"])}
    jsonschema.Draft202012Validator(schema).validate(response.json())


@pytest.mark.django_db
def test_every_answer_matches_the_schema(cast, login, openapi):
    routing.forget_cached_models()
    categories = ensure_default_categories()
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="e-schema-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    appeal_services.set_route(categories["tax"], cast.zone_a, tax_a, by=None)
    rule, _created = KeywordRule.objects.update_or_create(
        category=categories["tax"], defaults={"words": "留抵 退税 增值税", "version": 1}
    )
    waiting = lifecycle.submit_appeal(
        cast.ent_a1,
        title="增值税留抵退税申请进度咨询",
        body="我司上月提交了增值税留抵退税申请，至今未到账。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
    )
    other = lifecycle.submit_appeal(
        cast.ent_a1,
        title="留抵退税审核进度",
        body="留抵退税申请审核很久没有结果。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
    )
    run = RoutingModel.objects.create(
        zone=cast.zone_a, created_at=timezone.now(), algorithm="test", note="历史数据不足", blob=b""
    )
    dispatcher, leader, ent = login(cast.dispatcher_a), login(cast.leader_a), login(cast.ent_user_a1)
    as_json = {"content_type": "application/json"}
    text = {"title": "留抵退税进度", "body": "退税一直未到账。"}
    answers = [
        ("/api/appeals/{id}/suggestions/", "get", dispatcher.get(f"/api/appeals/{waiting.pk}/suggestions/")),
        ("/api/appeals/{id}/suggestions/", "get", ent.get(f"/api/appeals/{waiting.pk}/suggestions/")),
        ("/api/appeals/{id}/suggestions/", "get", dispatcher.get("/api/appeals/999999/suggestions/")),
        ("/api/appeals/{id}/similar/", "get", leader.get(f"/api/appeals/{waiting.pk}/similar/")),
        ("/api/appeals/{id}/similar/", "get", leader.get(f"/api/appeals/{waiting.pk}/similar/", {"limit": 99})),
        ("/api/similar-appeals/", "post", ent.post("/api/similar-appeals/", {"enterprise": cast.ent_a1.pk, **text}, **as_json)),
        ("/api/similar-appeals/", "post", ent.post("/api/similar-appeals/", {"enterprise": cast.ent_a2.pk, **text}, **as_json)),
        ("/api/routing/suggest/", "post", leader.post("/api/routing/suggest/", {"zone": cast.zone_a.pk, **text}, **as_json)),
        ("/api/routing/suggest/", "post", ent.post("/api/routing/suggest/", {"zone": cast.zone_a.pk, **text}, **as_json)),
        ("/api/search/", "get", ent.get("/api/search/", {"q": "留抵退税"})),
        ("/api/search/", "get", ent.get("/api/search/", {"kind": "appeal"})),
        ("/api/search/", "get", login(cast.auditor).get("/api/search/", {"q": "留抵退税"})),
        ("/api/routing-models/", "get", leader.get("/api/routing-models/")),
        ("/api/routing-models/{id}/", "get", leader.get(f"/api/routing-models/{run.pk}/")),
        ("/api/routing-models/{id}/", "get", leader.get("/api/routing-models/999999/")),
        ("/api/routing-models/adoption/", "get", leader.get("/api/routing-models/adoption/")),
        ("/api/routing-models/adoption/", "get", leader.get("/api/routing-models/adoption/", {"since": "x"})),
        ("/api/keyword-rules/", "get", leader.get("/api/keyword-rules/")),
        ("/api/keyword-rules/{id}/", "get", leader.get(f"/api/keyword-rules/{rule.pk}/")),
        ("/api/keyword-rules/{id}/", "patch", dispatcher.patch(f"/api/keyword-rules/{rule.pk}/", {"words": "退税 留抵", "version": 1}, **as_json)),
        ("/api/keyword-rules/{id}/", "patch", dispatcher.patch(f"/api/keyword-rules/{rule.pk}/", {"words": "退税", "version": 1}, **as_json)),
        ("/api/keyword-rules/{id}/", "patch", leader.patch(f"/api/keyword-rules/{rule.pk}/", {"words": "退税", "version": 2}, **as_json)),
        ("/api/appeals/{id}/take-suggestion/", "post", dispatcher.post(f"/api/appeals/{waiting.pk}/take-suggestion/", {"rank": 3}, **as_json)),
        ("/api/appeals/{id}/take-suggestion/", "post", dispatcher.post(f"/api/appeals/{waiting.pk}/take-suggestion/", {"rank": 1}, **as_json)),
        ("/api/appeals/{id}/take-suggestion/", "post", dispatcher.post(f"/api/appeals/{waiting.pk}/take-suggestion/", {"rank": 1}, **as_json)),
        ("/api/appeals/{id}/suggestions/", "get", dispatcher.get(f"/api/appeals/{waiting.pk}/suggestions/")),
        ("/api/routing-models/retrain/", "post", dispatcher.post("/api/routing-models/retrain/", {"zone": cast.zone_a.pk}, **as_json)),
        ("/api/routing-models/retrain/", "post", dispatcher.post("/api/routing-models/retrain/", {"zone": cast.zone_b.pk}, **as_json)),
        ("/api/routing-models/retrain/", "post", leader.post("/api/routing-models/retrain/", {"zone": cast.zone_a.pk}, **as_json)),
    ]  # fmt: skip
    codes = {(path, method, response.status_code) for path, method, response in answers}
    # Each kind of answer was met: successes, bad input, refusals, absences and conflicts.
    assert {code for _path, _method, code in codes} == {200, 202, 400, 403, 404, 409}
    assert ("/api/appeals/{id}/take-suggestion/", "post", 409) in codes
    assert ("/api/keyword-rules/{id}/", "patch", 409) in codes
    assert other.pk != waiting.pk
    for path, method, response in answers:
        assert_matches(openapi, path, method, response)
