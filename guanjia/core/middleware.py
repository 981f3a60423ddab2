"""The security policy applied to every request of a logged-in user.

- The session's idle timeout is the policy's, whatever SESSION_COOKIE_AGE says
  (SESSION_SAVE_EVERY_REQUEST moves the expiry on with every request), and a
  session ends the policy's maximum hours after it began, even in continuous use.
- A user who must change its password (an initial one, or one older than the
  policy's maximum age) reaches nothing but the password page until it has;
  an API call answers 403 with a message instead.
- Where the policy requires a second factor for the user's roles and the user
  has none yet, the enrolment page comes first, the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from guanjia.core import security
from guanjia.core.http import identity, place_refusal

# When the session's user first made a request (seconds since the epoch); a new login is a new session.
SESSION_STARTED_KEY = "_guanjia_session_started"


class SecurityPolicyMiddleware:
    """Idle timeout, forced password change and forced TOTP enrolment (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            user = identity(request)  # an API token's user (no session)
            if user is None:
                if security.PENDING_KEY in request.session:
                    # A half-done login (password right, code still to come) times out like a session.
                    self._apply_idle_timeout(request)
                return self.get_response(request)
        else:
            if self._past_lifetime(request):
                logout(request)
                hours = security.policy().session_max_hours
                message = _("自登录起已超过 %(hours)s 小时，请重新登录。") % {"hours": hours}
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": message, "code": "session_expired"}, status=401)
                messages.info(request, message)
                return HttpResponseRedirect(reverse("login"))
            self._apply_idle_timeout(request)
        blocked = self._blocked(request, user)
        return blocked if blocked is not None else self.get_response(request)

    @staticmethod
    def _past_lifetime(request: HttpRequest) -> bool:
        """Whether the session began longer ago than the policy's maximum (stamped at its first request)."""
        started = request.session.get(SESSION_STARTED_KEY)
        now = int(time.time())
        if started is None:
            request.session[SESSION_STARTED_KEY] = now
            return False
        hours = security.policy().session_max_hours
        return bool(hours) and now - int(started) > hours * 3600

    @staticmethod
    def _apply_idle_timeout(request: HttpRequest) -> None:
        seconds = security.policy().idle_minutes * 60
        if request.session.get("_session_expiry") != seconds:
            request.session.set_expiry(seconds)

    def _blocked(self, request: HttpRequest, user) -> HttpResponse | None:
        path = request.path
        if path.startswith(settings.STATIC_URL) or path in self._always_open():
            return None
        refusal = place_refusal(user, request)
        if refusal is not None:
            # A session carried to a place where the account may not work (see http.place_refusal).
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": refusal, "code": "place"}, status=403)
            logout(request)
            messages.error(request, refusal)
            return HttpResponseRedirect(reverse("login"))
        current = security.policy()
        reason = security.password_change_reason(user, current)
        if reason is not None:
            message = (
                _("您的密码已超过 %(days)s 天未修改，请先修改密码。")
                % {"days": current.password_max_age_days}
                if reason == "expired"
                else _("请先修改初始密码，然后才能继续使用系统。")
            )
            return self._send_to(request, reverse("account-password"), message)
        if security.totp_required(user, current) and not security.has_totp(user):
            if path == reverse("account-totp"):
                return None
            return self._send_to(
                request, reverse("account-totp"), _("安全策略要求您的账号启用两步验证，请先绑定身份验证器。")
            )
        return None

    @staticmethod
    def _always_open() -> set[str]:
        return {
            reverse("login"),
            reverse("login-totp"),
            reverse("logout"),
            reverse("account-password"),
            reverse("healthz"),
        }

    @staticmethod
    def _send_to(request: HttpRequest, url: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "security_policy"}, status=403)
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target = f"{url}?{urlencode({'next': request.get_full_path()})}"
        else:
            target = url
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        # The target page says why itself (it asks security.password_change_reason / totp_required).
        return HttpResponseRedirect(target)
