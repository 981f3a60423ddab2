"""Walk the permission matrix (matrix.py): one test per URL, method and actor; and check that the
matrix lists every URL the resolver knows, and nothing it does not."""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.forms import BaseForm
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from guanjia.appeals.models import Appeal
from guanjia.tests_matrix.matrix import (
    ACTORS,
    BAD_INPUT,
    FORBIDDEN,
    GET,
    INVALID,
    LOGIN,
    MATRIX,
    NO_METHOD,
    NOT_FOUND,
    OK,
    REFUSED,
    UNAUTH,
    Row,
)
from guanjia.tests_matrix.world import World, body, url_kwargs

# --- making the request -------------------------------------------------------------------------


def _client(world: World, actor: str) -> Client:
    # A session logged in once for the module (conftest.py): logging in for each request would
    # write a session, an audit record and last_login thousands of times.
    # One Client for the module: each new one would load the middleware again, and WhiteNoise
    # scans every static file when it loads.
    client = world.client
    client.cookies.clear()
    if actor in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    return client


def _send(client: Client, row: Row, url: str, data: dict[str, Any]) -> Any:
    if row.method == GET:
        return client.get(url, data)
    has_file = any(hasattr(value, "read") for value in data.values())
    if row.is_api and not has_file:
        return client.generic(row.method, url, json.dumps(data), content_type="application/json")
    if row.method == "POST":
        return client.post(url, data)
    return client.generic(row.method, url)


def _url(world: World, row: Row) -> str:
    kwargs = url_kwargs(world, row.target)
    if row.variant:
        kwargs["action"] = row.variant
    return reverse(row.name, kwargs=kwargs)


# --- reading the answer -----------------------------------------------------------------------


def _error_messages(response: Any) -> list[str]:
    request = getattr(response, "wsgi_request", None)
    if request is None:
        return []
    return [str(m) for m in get_messages(request) if m.level >= message_levels.ERROR]


def _form_errors(response: Any) -> bool:
    contexts = getattr(response, "context", None) or []
    if not isinstance(contexts, list):
        contexts = [contexts]
    for context in contexts:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return True
    return False


def _is_login(response: Any) -> bool:
    return urlparse(response.get("Location", "")).path in ("/login/", "/admin/login/")


def classify(response: Any, row: Row) -> str:
    """The outcome a response stands for, in matrix.py's words (statuses otherwise)."""
    code = response.status_code
    if code in (401, 403):
        return FORBIDDEN if code == 403 else "401"
    if code in (400, 404, 405):
        return {400: BAD_INPUT, 404: NOT_FOUND, 405: NO_METHOD}[code]
    if 300 <= code < 400 and _is_login(response):
        return LOGIN
    if 200 <= code < 400:
        if row.is_api:
            return OK
        if _error_messages(response) or _form_errors(response):
            return "error-message"
        return OK
    return str(code)


def _matches(expected: str, got: str) -> bool:
    if expected == UNAUTH:
        return got in (FORBIDDEN, "401")
    if expected == INVALID:
        return got in (BAD_INPUT, "error-message")
    if expected == REFUSED:
        return got == "error-message"
    return got == expected


# --- the walk ----------------------------------------------------------------------------------

PLAIN = [row for row in MATRIX if "*" not in row.name and not row.target.startswith("admin_")]
ADMIN = [row for row in MATRIX if row not in PLAIN]


def _cases(rows: list[Row]) -> list[Any]:
    cases = []
    for row in rows:
        for actor in row.sample or ACTORS:
            marks = []
            if actor in row.xfail:
                marks.append(pytest.mark.xfail(reason=row.xfail[actor], strict=True))
            cases.append(pytest.param(row, actor, id=f"{row.key} @{actor}", marks=marks))
    return cases


@pytest.mark.parametrize(("row", "actor"), _cases(PLAIN))
def test_permission(world: World, db, row: Row, actor: str) -> None:
    expected = row.expect[actor]
    appeal = world.appeals.get(row.target.split(":", 1)[1]) if row.target.startswith("appeal:") else None
    before = Appeal.objects.get(pk=appeal.pk).version if appeal is not None else None
    response = _send(_client(world, actor), row, _url(world, row), body(world, row.body))
    got = classify(response, row)
    detail = f"{row.method} {row.name} {row.variant} as {actor}: expected {expected}, got {got} "
    detail += f"({response.status_code} {response.get('Location', '')} {_error_messages(response)})"
    assert _matches(expected, got), detail
    if expected == REFUSED and appeal is not None:
        assert Appeal.objects.get(pk=appeal.pk).version == before, f"{detail}: the refusal changed the appeal"


# --- Django admin: each family row over every registered model ------------------------------------


def _admin_urls(row: Row) -> list[str]:
    if not row.target.startswith("admin_"):
        return [reverse(row.name)]
    if row.target == "admin_app":
        labels = sorted({model._meta.app_label for model in admin.site._registry})
        return [reverse(row.name, kwargs={"app_label": label}) for label in labels]
    if row.target == "admin_view_on_site":
        return ["/admin/r/1/1/"]
    suffix = row.name.split("*", 1)[1]
    urls = []
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}{suffix}"
        if row.target == "admin_model":
            urls.append(reverse(info))
        else:
            obj = model._default_manager.order_by("pk").first()
            if obj is not None:
                urls.append(reverse(info, args=[obj.pk]))
    return urls


@pytest.mark.parametrize(("row", "actor"), _cases(ADMIN))
def test_admin_permission(world: World, db, row: Row, actor: str) -> None:
    expected = row.expect[actor]
    client = _client(world, actor)
    wrong = []
    for url in _admin_urls(row):
        want = expected
        response = client.post(url) if row.method == "POST" else client.get(url)
        got = classify(response, row)
        if not _matches(want, got):
            wrong.append(f"{url}: expected {want}, got {got} ({response.status_code})")
    assert not wrong, f"{row.key} as {actor}:\n" + "\n".join(wrong)


def test_every_actor_has_an_expectation_in_every_row() -> None:
    for row in MATRIX:
        assert set(row.expect) == set(ACTORS), row.key


# --- completeness: the matrix lists every URL, and only URLs that exist --------------------------

# Patterns without a name, which no one links to: Django's own.
UNNAMED_ALLOWED = (
    "admin/(?P<url>.*)$",  # the admin's catch-all (404 or a redirect adding the slash)
    r"^api/[\s\S]*/$",  # the API's JSON 404 for a path it does not know
)
# Named routes under api/ that are documents about the API rather than endpoints of it.
API_DOCUMENTS = frozenset({"api-schema", "api-docs", "api-redoc"})


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[tuple[str, str, Any]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found += _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or ""
            full = f"{namespace}:{name}" if namespace and name else name
            found.append((prefix + str(pattern.pattern), full, pattern.callback))
    return found


def _routes() -> tuple[set[tuple[str, str]], set[str], list[str]]:
    """(API name, method) pairs, page names, and unnamed patterns, from the live resolver."""
    api: set[tuple[str, str]] = set()
    pages: set[str] = set()
    unnamed: list[str] = []
    for route, name, callback in _walk(get_resolver()):
        if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
            continue  # DRF's format-suffix duplicates
        if route.startswith(("static/", "media/")):
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            # HEAD answers as GET does (DRF adds it to some routes).
            api.update((name, method.upper()) for method in actions if method != "head")
        elif not name:
            unnamed.append(route)
        else:
            pages.add(name)
    return api, pages, unnamed


def _listed(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, row.name) for row in MATRIX)


def test_every_url_has_a_row() -> None:
    api, pages, unnamed = _routes()
    listed = {(row.name, row.method) for row in MATRIX}
    missing_api = sorted(f"{method} {name}" for name, method in api if (name, method) not in listed)
    missing_pages = sorted(name for name in pages if not _listed(name))
    stray = [
        route
        for route in unnamed
        if route not in UNNAMED_ALLOWED
        and not (route.startswith("admin/") and route.endswith("<path:object_id>/"))
    ]
    assert not missing_api, f"API endpoints without a row in matrix.py: {missing_api}"
    assert not missing_pages, f"pages without a row in matrix.py: {missing_pages}"
    assert not stray, f"unnamed URL patterns (give them a name and a row): {stray}"


def test_rows_know_whether_they_are_the_api() -> None:
    # An API row expects 401/403 for the anonymous visitor and sends JSON; a page row the login page.
    routes = {name: route for route, name, _callback in _walk(get_resolver()) if name}
    for row in MATRIX:
        if row.name in routes:
            route = routes[row.name].lstrip("^")
            assert row.is_api == (route.startswith("api/") and row.name not in API_DOCUMENTS), row.key


def test_every_row_names_a_url_that_exists() -> None:
    api, pages, _unnamed = _routes()
    api_names = {name for name, _method in api}
    gone = []
    for row in MATRIX:
        if row.is_api and row.name in api_names:
            if (row.name, row.method) not in api and row.method != GET:
                gone.append(row.key)  # the endpoint no longer takes this method
            elif row.method == GET and (row.name, GET) not in api and row.expect.get("sysadmin") != NO_METHOD:
                gone.append(row.key)
        elif not any(fnmatch.fnmatchcase(name, row.name) for name in pages | api_names):
            gone.append(row.key)
    assert not gone, f"rows in matrix.py for URLs that no longer exist: {gone}"


# --- a role that may never do it is refused before its input is read ----------------------------------


@pytest.mark.parametrize(
    ("name", "method", "target", "actor"),
    [
        ("enterprise-list", "POST", "", "steward~other_zone"),
        ("enterprise-detail", "PATCH", "enterprise", "leader"),
        ("enterprise-assign-steward", "POST", "enterprise", "leader"),
        ("steward-handover", "POST", "", "leader"),
        ("appeal-decide-extension", "POST", "api_extension", "handler"),
        ("appeal-decide-review", "POST", "api_review", "dispatcher"),
        # Appeal transitions: a role that never takes the step (permissions.ACTION_ROLES).
        ("appeal-dispatch", "POST", "appeal:submitted", "supervisor"),
        ("appeal-sign", "POST", "appeal:dispatched", "dispatcher"),
        ("appeal-answer", "POST", "appeal:signed", "supervisor"),
        ("appeal-approve-answer", "POST", "appeal:drafted", "handler"),
        ("appeal-coordinate", "POST", "appeal:coordinate", "supervisor"),
        ("appeal-rate", "POST", "appeal:answered", "handler"),
        ("appeal-merge", "POST", "appeal:submitted", "leader"),
    ],
)
def test_refused_before_validation(world: World, db, name: str, method: str, target: str, actor: str) -> None:
    """An empty body: a 400 would tell someone who may never act what the input should look like."""
    url = reverse(name, kwargs=url_kwargs(world, target))
    response = _client(world, actor).generic(method, url, "{}", content_type="application/json")
    assert response.status_code == 403, response.content
