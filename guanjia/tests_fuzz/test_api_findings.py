"""What the API fuzz test found, pinned down one by one (fast, and each fails without its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.test import Client
from rest_framework.authtoken.models import Token

from guanjia.appeals.defaults import ensure_default_categories

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def _client(user) -> Client:
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(HTTP_AUTHORIZATION=f"Token {token}", enforce_csrf_checks=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/appeals/abc/"),
        ("post", "/api/appeals/0.3/sign/"),  # POST with no CSRF token: still the API's 404, not a 403 page
        ("get", "/api/appeals/1/attachments/x%0Ay/"),
        ("delete", "/api/department-webhooks/-1.5/"),
    ],
)
def test_an_api_path_that_names_no_endpoint_is_a_json_404(cast, method, path):
    response = getattr(_client(cast.dispatcher_a), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}


def test_a_path_without_its_slash_is_still_redirected(cast):
    response = _client(cast.dispatcher_a).get("/api/enterprises")
    assert response.status_code == 301 and response["Location"] == "/api/enterprises/"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/appeals/?overdue=9007199254740992.0", "overdue"),
        ("/api/enterprises/?no_steward=maybe", "no_steward"),
    ],
)
def test_a_yes_no_filter_refuses_what_is_neither(cast, path, field):
    ensure_default_categories()
    response = _client(cast.dispatcher_a).get(path)
    assert response.status_code == 400
    assert "只能是 true 或 false" in response.json()[field][0]


@pytest.mark.parametrize("path", ["/api/appeals/?overdue=&page=", "/api/enterprises/?no_steward=true&page="])
def test_an_empty_optional_query_parameter_reads_as_not_given(cast, path):
    assert _client(cast.dispatcher_a).get(path).status_code == 200


def test_a_contact_without_email_conforms_to_the_schema(cast):
    contact = cast.ent_a1.contacts.get()
    assert contact.email == ""
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    email = schema["components"]["schemas"]["Contact"]["properties"]["email"]
    assert "format" not in email  # "" is no "format: email"
    data = _client(cast.dispatcher_a).get(f"/api/enterprises/{cast.ent_a1.pk}/").json()
    assert data["contacts"][0]["email"] == ""


def test_every_operation_documents_the_refusals_it_can_give():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert "403" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert "400" in codes, (method, path)


def test_a_download_documents_the_types_an_attachment_can_have():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    content = schema["paths"]["/api/appeals/{id}/attachments/{attachment}/"]["get"]["responses"]["200"][
        "content"
    ]
    assert {"application/pdf", "text/plain", "image/png"} <= set(content)
