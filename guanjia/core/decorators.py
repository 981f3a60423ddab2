from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from guanjia.core.models import User


class AuthedRequest(HttpRequest):
    """A request behind login_required/role_required: its user is one of ours."""

    user: User  # type: ignore[assignment]


def role_required(*roles: str) -> Callable:
    """Logged in and holding one of `roles`; otherwise 403 (or the login page)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not request.user.has_any_role(roles):
                raise PermissionDenied("您的角色无权访问此页面")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
