"""HTTP hardening: the client's address, security headers and rate limits.

- ``client_ip(request)``: REMOTE_ADDR, or the client named in X-Forwarded-For
  when the request came through a proxy listed in GUANJIA_TRUSTED_PROXIES.
- ``SecurityHeadersMiddleware``: a Content-Security-Policy that allows no
  inline script and no inline style on the application's pages, with a
  relaxed policy for the two API documentation pages and Django's admin only,
  and a Permissions-Policy on every response.
- ``RateLimitMiddleware``: fixed-window counters by URL name, kept in the
  database (``RateLimitCounter``) so that every web worker shares them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.models import RateLimitCounter, User
from guanjia.core.roles import ADMIN_ROLES, Role

# --- The client's address ------------------------------------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client that sent the request.

    X-Forwarded-For is anyone's to write, so it is read only when REMOTE_ADDR is
    a trusted proxy, and then from the right: each trusted proxy appended the
    address it received from, so the first untrusted address from the right is
    the client. What a client wrote further left is never believed.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not remote or not networks or not _trusted(remote, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed entry: keep the last address a trusted proxy vouched for
        client = hop
        if not _trusted(hop, networks):
            break
    return client


# --- Security headers ----------------------------------------------------------------------

_COMMON = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _policy(**overrides: str) -> str:
    directives = {**_COMMON, **{name.replace("_", "-"): value for name, value in overrides.items()}}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# The application's own pages: no inline script, no inline style (htmx's indicator
# style is switched off in base.html; dynamic widths and indents are classes).
APP_POLICY = _policy()
# Swagger UI and ReDoc (drf-spectacular's templates, served from the sidecar's static
# files) put a <style> block in the page and set styles from their bundles; ReDoc runs
# its search in a worker made from a blob. Scripts stay 'self' only: Swagger UI is
# served by the split view, whose set-up script is a URL of its own, not inline.
DOCS_POLICY = _policy(style_src="'self' 'unsafe-inline'", worker_src="'self' blob:")
# Django's read-only admin: its change list carries an inline <style> block.
ADMIN_POLICY = _policy(style_src="'self' 'unsafe-inline'")
DOCS_VIEWS = frozenset({"api-docs", "api-redoc"})

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self)"


def policy_for(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if match.view_name in DOCS_VIEWS:
            return DOCS_POLICY
        if "admin" in match.namespaces:
            return ADMIN_POLICY
    return APP_POLICY


class SecurityHeadersMiddleware:
    """Content-Security-Policy on HTML responses, Permissions-Policy on all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.get("Content-Type", "").startswith("text/html"):
            header = (
                "Content-Security-Policy-Report-Only"
                if getattr(settings, "CSP_REPORT_ONLY", False)
                else "Content-Security-Policy"
            )
            response.headers.setdefault(header, policy_for(request))
        return response


# --- Rate limits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One counter for one URL: `limit` requests per `seconds`, from settings.RATE_LIMITS[name]."""

    name: str
    scope: str  # "ip", "account", "username" or "token"
    # "all": every POST counts and the one over the limit is refused before the view runs.
    # "failures": only refused logins count (a whole office behind one NAT address logs in
    # at nine), and a request is refused once the failures reached the limit.
    counts: str = "all"
    enterprise_users_only: bool = False


LOGIN_LIMITS = (Limit("login_ip", "ip", "failures"), Limit("login_username", "username", "failures"))
APPEAL_LIMITS = (
    Limit("appeal_account", "account", enterprise_users_only=True),
    Limit("appeal_ip", "ip", enterprise_users_only=True),
)
INVITE_LIMITS = (Limit("invite_ip", "ip"), Limit("invite_token", "token"))
# By URL name; POST only. Enterprise intake is the portal's appeal form and the API's
# appeal creation; the invitation link is the only page an outsider can post to.
RATE_LIMITED_VIEWS: dict[str, tuple[Limit, ...]] = {
    "login": LOGIN_LIMITS,
    # The second step's wrong codes count as failed logins from the address (no user name is posted).
    "login-totp": (Limit("login_ip", "ip", "failures"),),
    "appeals:submit": APPEAL_LIMITS,
    "appeal-list": APPEAL_LIMITS,
    "enterprises:accept-invite": INVITE_LIMITS,
}


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime
    end: datetime


def _window(key: str, seconds: int, now: datetime) -> Window:
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
    return Window(key, start, start + timedelta(seconds=seconds))


def hit(window: Window) -> int:
    """Count one request in the window; returns the count including it.

    An UPDATE … SET count = count + 1 is atomic on both databases; the first
    request of a window inserts the row, and of two that insert at once the
    loser's unique violation turns into the update. The read-back is in the same
    transaction, behind the row lock the update took, so it sees this request's
    own increment and no later one.
    """
    rows = RateLimitCounter.objects.filter(key=window.key, window_start=window.start)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(
                        key=window.key, window_start=window.start, expires_at=window.end, count=1
                    )
            except IntegrityError:
                rows.update(count=F("count") + 1)
        return rows.values_list("count", flat=True).first() or 0


def peek(window: Window) -> int:
    return (
        RateLimitCounter.objects.filter(key=window.key, window_start=window.start)
        .values_list("count", flat=True)
        .first()
        or 0
    )


def prune(now: datetime | None = None) -> int:
    """Remove the counters of windows that have ended."""
    deleted, _by_model = RateLimitCounter.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def identity(request: HttpRequest) -> User | None:
    """The account behind the request: the session's, or an API token's (DRF authenticates it only
    in the view, after the middlewares that need to know)."""
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return user
    if request.path.startswith("/api/") and request.META.get("HTTP_AUTHORIZATION", "").startswith("Token "):
        from rest_framework.authentication import TokenAuthentication
        from rest_framework.exceptions import AuthenticationFailed

        try:
            found = TokenAuthentication().authenticate(request)  # type: ignore[arg-type]
        except AuthenticationFailed:
            return None
        if found is not None and isinstance(found[0], User):
            return found[0]
    return None


def _subject(limit: Limit, request: HttpRequest, view_kwargs: dict[str, Any]) -> str | None:
    if limit.scope == "ip":
        return client_ip(request) or "unknown"
    if limit.scope == "username":
        username = request.POST.get("username", "").strip().lower()
        return username[:150] or None
    if limit.scope == "token":
        token = str(view_kwargs.get("token", ""))
        # Only a hash of an invitation token is ever stored (as for the invitation itself).
        return hashlib.sha256(token.encode()).hexdigest()[:40] if token else None
    user = identity(request)
    return str(user.pk) if user is not None else None


def _too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = max(1, math.ceil(retry_after / 60))
    message = _("操作过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": minutes}
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        context = {"message": message, "back": request.path}
        response = HttpResponse(render_to_string("429.html", context, request), status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _report(request: HttpRequest, limit: Limit, window: Window, amount: int) -> None:
    """One audit record per key and window: the request that flips `reported` writes it."""
    from guanjia.core import audit

    with transaction.atomic():
        first = RateLimitCounter.objects.filter(
            key=window.key, window_start=window.start, reported=False
        ).update(reported=True)
        if first:
            audit.record(
                identity(request),
                "security.rate_limited",
                object_type="ratelimit",
                object_id=limit.name,
                summary=f"访问过于频繁，已限制：{limit.name}（{amount} 次 / {_seconds(limit)} 秒）",
                detail={
                    "limit": limit.name,
                    "key": window.key,
                    "max": amount,
                    "seconds": _seconds(limit),
                    "path": request.path,
                    "until": window.end.isoformat(),
                },
                ip=client_ip(request),
            )


def _seconds(limit: Limit) -> int:
    return int(settings.RATE_LIMITS[limit.name][1])


class RateLimitMiddleware:
    """Refuses, with HTTP 429 and Retry-After, POSTs to the views in RATE_LIMITED_VIEWS over their limit.

    The counters are written in their own short transactions, outside any
    transaction of the view (process_view runs before the view and its
    ATOMIC_REQUESTS wrapper), so a submission that rolls back still counts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending: list[Window] = getattr(request, "_rate_limit_failures", [])
        # A login that failed re-renders the form (200); a success redirects.
        if pending and response.status_code == 200:
            for window in pending:
                hit(window)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None:
            return None
        limits = RATE_LIMITED_VIEWS.get(match.view_name)
        if not limits:
            return None
        now = timezone.now()
        failures: list[Window] = []
        refused: tuple[Limit, Window, int] | None = None
        for limit in limits:
            amount, seconds = settings.RATE_LIMITS[limit.name]
            if amount <= 0:
                continue  # switched off
            if limit.enterprise_users_only:
                user = identity(request)
                if user is None or not user.has_role(Role.ENTERPRISE_USER):
                    continue
            subject = _subject(limit, request, view_kwargs)
            if subject is None:
                continue
            window = _window(f"{limit.name}:{subject}", int(seconds), now)
            if limit.counts == "failures":
                over = peek(window) >= amount
                failures.append(window)
            else:
                over = hit(window) > amount
            if over and refused is None:
                refused = (limit, window, amount)
        if refused is not None:
            limit, window, amount = refused
            _report(request, limit, window, amount)
            return _too_many(request, max(1, math.ceil((window.end - now).total_seconds())))
        request._rate_limit_failures = failures  # type: ignore[attr-defined]
        return None


# --- Where an account may log in from (等保 8.1.4.4 c) -------------------------------------------


def address_in(address: str | None, entries: list[str] | tuple[str, ...]) -> bool:
    """Whether `address` lies in one of the networks `entries` lists."""
    return address is not None and _trusted(address, _networks(tuple(entries)))


def place_refusal(user: User, request: HttpRequest) -> str | None:
    """Why `user` may not work from where `request` comes from, or None.

    - The three administrators only from GUANJIA_ADMIN_NETWORKS, when it is set:
      the management terminals of the zone, not any machine that reaches the site.
    - On a portal host (GUANJIA_PORTAL_HOSTS, the name the internet reaches), only
      accounts whose roles are all in GUANJIA_PORTAL_ROLES (企业用户 by default):
      staff work on the intranet.
    """
    if (
        settings.ADMIN_NETWORKS
        and user.has_any_role(ADMIN_ROLES)
        and not address_in(client_ip(request), settings.ADMIN_NETWORKS)
    ):
        return _("管理员账号只能从管理网络登录和操作，请在指定的管理终端上使用。")
    on_portal = request.get_host().split(":", 1)[0].lower() in settings.PORTAL_HOSTS
    if on_portal and not (user.roles and user.roles <= set(settings.PORTAL_ROLES)):
        return _("此地址是企业门户，工作人员账号请从单位内网登录。")
    return None
