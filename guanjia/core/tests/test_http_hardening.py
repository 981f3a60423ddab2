"""HTTP hardening: CSP, HSTS and headers, cookies and CSRF, upload checks, rate limits, the client's IP."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from guanjia.appeals import lifecycle
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Channel
from guanjia.core import http
from guanjia.core.models import AuditRecord, RateLimitCounter
from guanjia.enterprises import importing
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import ImportJob
from guanjia.testing import PASSWORD, run_concurrently

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.split(None, 1)[1] for part in header.split("; ")}


def _problems(html: str) -> list[str]:
    found = []
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("event handler attribute", EVENT_HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("javascript: URL", JS_URL),
    ):
        found += [f"{name}: {match.group(0)[:120]}" for match in pattern.finditer(html)]
    return found


# --- Content-Security-Policy ---------------------------------------------------------------


@pytest.fixture
def appeal(cast):
    land = ensure_default_categories()["land"]
    return lifecycle.submit_appeal(
        cast.ent_a1,
        title="厂房消防验收",
        body="何时可以申请？",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
    )


def _import_job(client, cast) -> ImportJob:
    header = ",".join(importing.HEADERS) + "\n"
    upload = SimpleUploadedFile("企业.csv", header.encode("utf-8-sig"))
    client.post(reverse("enterprises:import"), {"zone": cast.zone_a.pk, "file": upload})
    return ImportJob.objects.get()


def test_every_main_page_has_the_policy_and_no_inline_script_or_style(cast, login, appeal):
    _invitation, token = enterprise_services.invite_enterprise_user(
        cast.ent_a1, name="赵会计", phone="13700001111", by=cast.steward_a
    )
    job = _import_job(login(cast.dispatcher_a), cast)
    pages: list[tuple[object, str, list]] = [
        (None, "login", []),
        (None, "enterprises:accept-invite", [token]),
        (cast.ent_user_a1, "home", []),
        (cast.ent_user_a1, "enterprises:portal", []),
        (cast.ent_user_a1, "appeals:mine", []),
        (cast.ent_user_a1, "appeals:submit", [cast.ent_a1.pk]),
        (cast.ent_user_a1, "appeals:detail", [appeal.pk]),
        (cast.steward_a, "home", []),
        (cast.steward_a, "enterprises:mine", []),
        (cast.steward_a, "enterprises:detail", [cast.ent_a1.pk]),
        (cast.steward_a, "enterprises:edit", [cast.ent_a1.pk]),
        (cast.steward_a, "enterprises:invite", [cast.ent_a1.pk]),
        (cast.steward_a, "appeals:stewarded", []),
        (cast.dispatcher_a, "home", []),
        (cast.dispatcher_a, "appeals:queue", []),
        (cast.dispatcher_a, "appeals:list", []),
        (cast.dispatcher_a, "appeals:detail", [appeal.pk]),
        (cast.supervisor_a, "appeals:board", []),
        (cast.dispatcher_a, "appeals:categories", []),
        (cast.dispatcher_a, "enterprises:list", []),
        (cast.dispatcher_a, "enterprises:create", []),
        (cast.dispatcher_a, "enterprises:stewards", []),
        (cast.dispatcher_a, "enterprises:import", []),
        (cast.dispatcher_a, "enterprises:import-job", [job.pk]),
        (cast.dispatcher_a, "enterprises:import-progress", [job.pk]),
        (cast.dispatcher_a, "core:inbox", []),
        (cast.handler_a, "appeals:worklist", []),
        (cast.supervisor_a, "appeals:approvals", []),
        (cast.leader_a, "home", []),
        (cast.sysadmin, "home", []),
        (cast.sysadmin, "core:units", []),
        (cast.sysadmin, "core:users", []),
        (cast.sysadmin, "core:calendar", []),
        (cast.sysadmin, "core:robots", []),
        (cast.secadmin, "core:roles", []),
        (cast.auditor, "core:audit", []),
    ]
    failures = []
    for user, name, args in pages:
        client = login(user) if user is not None else Client()
        response = client.get(reverse(name, args=args))
        where = f"{name} as {user or 'anonymous'}"
        if response.status_code != 200:
            failures.append(f"{where}: HTTP {response.status_code}")
            continue
        if response.get("Content-Security-Policy") != http.APP_POLICY:
            failures.append(
                f"{where}: Content-Security-Policy is {response.get('Content-Security-Policy')!r}"
            )
        failures += [f"{where}: {problem}" for problem in _problems(response.content.decode())]
    assert failures == []


def test_the_application_policy_allows_nothing_inline():
    policy = _directives(http.APP_POLICY)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert (policy["img-src"], policy["base-uri"], policy["form-action"]) == (
        "'self' data:",
        "'self'",
        "'self'",
    )
    assert "unsafe-eval" not in http.APP_POLICY and "unsafe-inline" not in http.APP_POLICY


def test_base_html_switches_off_htmx_eval_and_its_injected_style(client):
    html = client.get(reverse("login")).content.decode()
    assert """content='{"includeIndicatorStyles":false,"allowEval":false}'""" in html
    assert "js/guanjia.js" in html


def test_report_only_mode(client, settings):
    settings.CSP_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert response["Content-Security-Policy-Report-Only"] == http.APP_POLICY
    assert "Content-Security-Policy" not in response


def test_the_api_docs_have_their_own_policy_and_still_no_inline_script(cast, login):
    client = login(cast.dispatcher_a)
    for name in ("api-docs", "api-redoc"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == http.DOCS_POLICY
        assert INLINE_SCRIPT.findall(response.content.decode()) == [], name
    assert _directives(http.DOCS_POLICY)["script-src"] == "'self'"
    # Swagger UI's set-up script comes from a URL of its own (drf-spectacular's split view).
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_admin_may_use_inline_style_but_not_script(cast, login):
    response = login(cast.sysadmin).get("/admin/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == http.ADMIN_POLICY
    assert _directives(http.ADMIN_POLICY)["script-src"] == "'self'"


def test_permissions_policy_on_every_response_and_csp_on_html_only(cast, login):
    client = login(cast.dispatcher_a)
    api = client.get("/api/appeals/")
    assert api["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(self)"
    assert "Content-Security-Policy" not in api
    page = client.get(reverse("home"))
    assert page["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(self)"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"


# --- HSTS behind a TLS proxy -----------------------------------------------------------------


def test_hsts_is_sent_on_https_only(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    secure = client.get(reverse("login"), headers={"x-forwarded-proto": "https"})
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get(reverse("login"))
    assert "Strict-Transport-Security" not in plain


def test_without_a_trusted_tls_proxy_x_forwarded_proto_means_nothing(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert settings.SECURE_PROXY_SSL_HEADER is None  # GUANJIA_BEHIND_TLS_PROXY is off here
    response = client.get(reverse("login"), headers={"x-forwarded-proto": "https"})
    assert "Strict-Transport-Security" not in response


def test_ssl_redirect_spares_the_health_check(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("healthz")).status_code != 301


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "None 0"),
        ({"GUANJIA_BEHIND_TLS_PROXY": "1"}, "('HTTP_X_FORWARDED_PROTO', 'https') 0"),
        (
            {"GUANJIA_BEHIND_TLS_PROXY": "1", "GUANJIA_PRODUCTION": "1", "GUANJIA_SECRET_KEY": "x" * 50},
            "('HTTP_X_FORWARDED_PROTO', 'https') 31536000",
        ),
        (
            {"GUANJIA_BEHIND_TLS_PROXY": "1", "GUANJIA_HSTS_SECONDS": "600"},
            "('HTTP_X_FORWARDED_PROTO', 'https') 600",
        ),
    ],
)
def test_tls_settings_come_from_the_environment(tmp_path, env, expected):
    import os
    import subprocess
    import sys

    code = (
        "import guanjia.settings as s;"
        "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.SECURE_HSTS_SECONDS)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GUANJIA_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "GUANJIA_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_bad_trusted_proxy_stops_the_start(tmp_path):
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import guanjia.settings"],
        env={**os.environ, "GUANJIA_DATA_DIR": str(tmp_path), "GUANJIA_TRUSTED_PROXIES": "nginx"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "GUANJIA_TRUSTED_PROXIES" in result.stderr


# --- Cookies and CSRF ----------------------------------------------------------------------------


def test_session_cookie_is_lax_and_csrf_cookie_is_httponly(cast):
    client = Client()
    form = client.get(reverse("login"))
    assert form.cookies["csrftoken"]["httponly"] is True
    response = client.post(reverse("login"), {"username": "steward_a", "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["samesite"] == "Lax" and session["httponly"] is True


def _callbacks(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _callbacks(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _is_drf(callback) -> bool:
    cls = getattr(callback, "cls", None)
    return isinstance(cls, type) and issubclass(cls, APIView)


# Views allowed to skip the CSRF check, each with its reason. DRF's views are not listed:
# SessionAuthentication enforces CSRF itself (see the next test).
CSRF_EXEMPT_ALLOWED = {
    # The JSON 404 for unknown /api/ paths: it writes nothing, and a POST must get the 404.
    "guanjia.core.api.api_not_found",
}


def test_no_view_is_csrf_exempt_except_drf_views_and_the_listed_ones():
    exempt = [
        route
        for route, callback in _callbacks(get_resolver().url_patterns)
        if getattr(callback, "csrf_exempt", False)
        and not _is_drf(callback)
        and f"{callback.__module__}.{callback.__qualname__}" not in CSRF_EXEMPT_ALLOWED
    ]
    assert exempt == []
    drf = [route for route, callback in _callbacks(get_resolver().url_patterns) if _is_drf(callback)]
    assert any(route.startswith("api/") and "appeals" in route for route in drf), "the walk reached the API"


def test_drf_enforces_csrf_for_session_authentication(cast, appeal):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.ent_user_a1)
    body = {"enterprise": cast.ent_a1.pk, "title": "无令牌", "body": "无令牌的提交", "handling": "consult"}
    response = client.post("/api/appeals/", body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Appeal.objects.count() == 1


def test_a_page_post_without_a_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.ent_user_a1)
    response = client.post(reverse("appeals:submit", args=[cast.ent_a1.pk]), {"title": "x", "body": "y"})
    assert response.status_code == 403
    assert not Appeal.objects.exists()
    anonymous = Client(enforce_csrf_checks=True)
    assert (
        anonymous.post(reverse("login"), {"username": "steward_a", "password": PASSWORD}).status_code == 403
    )


# --- Upload checks (appeal attachments: guanjia/appeals/tests/test_attachments.py) ---------------


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("名录.xlsx", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "不是有效的 Excel"),
        ("名录.xlsx", _zip_without_workbook(), "不是有效的 Excel"),
        ("名录.csv", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "不是 CSV 文本"),
        ("名录.csv", b"PK\x03\x04" + b"\x00" * 200, "不是 CSV 文本"),
    ],
)
def test_an_import_is_judged_by_its_content_not_its_name(cast, login, name, content, expected):
    response = login(cast.dispatcher_a).post(
        reverse("enterprises:import"), {"zone": cast.zone_a.pk, "file": SimpleUploadedFile(name, content)}
    )
    html = response.content.decode()
    assert response.status_code == 200 and expected in html
    assert f"“{name}”" in html, "the message names the file"
    assert not ImportJob.objects.exists()


def test_an_oversize_import_is_refused_before_it_is_read(cast, login, settings, monkeypatch):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    monkeypatch.setattr(importing, "open_table", lambda *a, **k: pytest.fail("the content was read"))
    content = b"x" * (1024 * 1024 + 1)
    response = login(cast.dispatcher_a).post(
        reverse("enterprises:import"), {"zone": cast.zone_a.pk, "file": SimpleUploadedFile("大.csv", content)}
    )
    assert "“大.csv”文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_import_service_checks_size_and_content_too(cast):
    upload = SimpleUploadedFile("伪装.xlsx", b"MZ" + b"\x00" * 100)
    with pytest.raises(importing.ImportFileError, match="“伪装.xlsx”：文件不是有效的 Excel"):
        importing.start_import(upload=upload, zone=cast.zone_a, by=cast.dispatcher_a)


# --- The client's address --------------------------------------------------------------------------


def _request(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/")
    request.META.update(meta)
    return request


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []
    assert http.client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert http.client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7", "not through the proxy"
    assert http.client_ip(_request("10.0.0.1", "203.0.113.9")) == "203.0.113.9"
    assert http.client_ip(_request("10.0.0.1")) == "10.0.0.1"


def test_a_client_cannot_choose_its_address_through_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    # The client wrote 1.2.3.4; nginx appended the address it saw: the rightmost untrusted one counts.
    assert http.client_ip(_request("10.0.0.1", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    # Two trusted hops (a load balancer and nginx).
    assert http.client_ip(_request("10.0.0.1", "203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    assert http.client_ip(_request("10.0.0.1", "garbage, 203.0.113.9")) == "203.0.113.9"
    assert http.client_ip(_request("10.0.0.1", "203.0.113.9, garbage")) == "10.0.0.1"


def test_audit_records_carry_the_client_address_behind_a_trusted_proxy(cast, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.post(reverse("login"), {"username": "steward_a", "password": PASSWORD})
    assert AuditRecord.objects.get(action="auth.login").ip == "203.0.113.9"


# --- Rate limits -----------------------------------------------------------------------------------


def _limits(settings, **limits: tuple[int, int]) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **limits}


def _login_from(ip: str, username: str, password: str = "wrong", **extra):
    return Client(REMOTE_ADDR=ip, **extra).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_the_failed_login_over_the_limit_from_one_ip_gets_429(cast, settings):
    _limits(settings, login_ip=(3, 300), login_username=(0, 300))
    for name in ("a", "b", "c"):
        assert _login_from("198.51.100.7", name).status_code == 200
    refused = _login_from("198.51.100.7", "steward_a", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 300
    assert "操作过于频繁" in refused.content.decode() and "分钟后再试" in refused.content.decode()
    assert refused["Content-Security-Policy"] == http.APP_POLICY
    assert _login_from("198.51.100.8", "steward_a", PASSWORD).status_code == 302, "another IP is fine"
    _login_from("198.51.100.7", "d")
    # One audit record per key and window, not one per refused request.
    records = AuditRecord.objects.filter(action="security.rate_limited")
    assert records.count() == 1
    assert records.get().ip == "198.51.100.7" and records.get().detail["limit"] == "login_ip"


def test_the_second_login_step_shares_the_addresss_failed_login_count(cast, settings):
    _limits(settings, login_ip=(2, 300), login_username=(0, 300))
    for name in ("a", "b"):
        _login_from("198.51.100.7", name)
    refused = Client(REMOTE_ADDR="198.51.100.7").post(reverse("login-totp"), {"code": "123456"})
    assert refused.status_code == 429
    assert (
        Client(REMOTE_ADDR="198.51.100.8").post(reverse("login-totp"), {"code": "123456"}).status_code != 429
    )


def test_successful_logins_do_not_count(cast, settings):
    _limits(settings, login_ip=(2, 300), login_username=(2, 300))
    for _ in range(4):
        assert _login_from("198.51.100.7", "steward_a", PASSWORD).status_code == 302


def test_failed_logins_for_one_user_name_are_limited_across_addresses(cast, settings):
    _limits(settings, login_ip=(0, 300), login_username=(2, 300), **{})
    settings.LOCKOUT_THRESHOLD = 50
    assert _login_from("198.51.100.1", "Steward_A").status_code == 200
    assert _login_from("198.51.100.2", "steward_a").status_code == 200
    assert _login_from("198.51.100.3", "steward_a", PASSWORD).status_code == 429
    assert _login_from("198.51.100.3", "steward_a2", PASSWORD).status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(cast, settings):
    _limits(settings, login_ip=(2, 300), login_username=(0, 300))
    for n in range(2):
        _login_from("198.51.100.7", "x", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert _login_from("198.51.100.7", "x", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_appeal_intake_over_the_limit_gets_429_and_writes_nothing(cast, settings):
    ensure_default_categories()
    _limits(settings, appeal_account=(2, 3600), appeal_ip=(0, 3600))
    client = Client()
    client.force_login(cast.ent_user_a1)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    body = {"title": "厂房消防验收", "body": "何时可以申请？", "handling": "consult"}
    assert client.post(url, {"title": ""}).status_code == 200, "a refused form still counts"
    assert client.post(url, body).status_code == 302
    refused = client.post(url, body)
    assert refused.status_code == 429 and refused.has_header("Retry-After")
    assert Appeal.objects.count() == 1
    # The API shares the account's counter and answers in JSON.
    api = client.post("/api/appeals/", {"enterprise": cast.ent_a1.pk, **body})
    assert api.status_code == 429 and "分钟后再试" in api.json()["detail"]
    assert Appeal.objects.count() == 1
    # Staff entering appeals for enterprises (phone transfers, stewards) are not limited.
    steward = Client()
    steward.force_login(cast.steward_a)
    assert steward.post(url, body).status_code == 302


def test_api_intake_is_counted_per_account_with_a_token(cast, settings):
    _limits(settings, appeal_account=(1, 3600), appeal_ip=(0, 3600))
    token = Token.objects.create(user=cast.ent_user_a1)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {
        "enterprise": cast.ent_a1.pk,
        "title": "消防验收",
        "body": "何时可以申请？",
        "handling": "consult",
    }
    assert client.post("/api/appeals/", body).status_code == 201
    assert client.post("/api/appeals/", body).status_code == 429
    assert Appeal.objects.count() == 1


def test_appeal_intake_per_ip(cast, settings):
    _limits(settings, appeal_account=(0, 3600), appeal_ip=(1, 3600))
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(cast.ent_user_a1)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    client.post(url, {"title": ""})
    assert client.post(url, {"title": ""}).status_code == 429


def test_invitation_acceptance_is_limited_and_no_token_is_stored(cast, settings):
    _limits(settings, invite_ip=(0, 3600), invite_token=(2, 3600))
    _invitation, token = enterprise_services.invite_enterprise_user(
        cast.ent_a1, name="赵会计", phone="13700001111", by=cast.steward_a
    )
    url = reverse("enterprises:accept-invite", args=[token])
    wrong = {"uscc": "91000000000000000X", "username": "zhao", "password": "Zhao-pass-2026", "password2": "x"}
    for ip in ("198.51.100.1", "198.51.100.2"):
        assert Client(REMOTE_ADDR=ip).post(url, wrong).status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.3").post(url, wrong).status_code == 429
    assert not RateLimitCounter.objects.filter(key__contains=token).exists()
    assert Client().get(url).status_code == 200, "opening the link is not limited"


def test_a_limit_of_zero_switches_it_off(cast, settings):
    _limits(settings, login_ip=(0, 300), login_username=(0, 300))
    for _ in range(3):
        assert _login_from("198.51.100.7", "x").status_code == 200
    assert not RateLimitCounter.objects.exists()


def test_counters_are_shared_rows_with_an_atomic_increment_and_are_pruned(db):
    now = timezone.now()
    window = http._window("test:key", 300, now)
    assert [http.hit(window) for _ in range(3)] == [1, 2, 3]
    assert RateLimitCounter.objects.get(key="test:key").count == 3
    old = http._window("test:old", 300, now - timedelta(hours=1))
    http.hit(old)
    assert http.prune(now) == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["test:key"]


def test_the_periodic_task_prunes_ended_windows(db):
    from guanjia.core import tasks

    http.hit(http._window("test:old", 300, timezone.now() - timedelta(hours=1)))
    http.hit(http._window("test:now", 300, timezone.now()))
    assert tasks.prune_rate_limits.call_local() == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["test:now"]


@pytest.mark.django_db(transaction=True)
def test_workers_counting_at_the_same_moment_each_get_their_own_count():
    window = http._window("test:race", 300, timezone.now())
    results = run_concurrently(*[lambda: http.hit(window)] * 4)
    assert sorted(results) == [1, 2, 3, 4], results
    assert RateLimitCounter.objects.get(key="test:race").count == 4
