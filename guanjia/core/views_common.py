"""What the domain apps' pages share, whatever they are about: the POST-only actions, a write's refusal
shown as a form error or a message, and the version the user's page showed.

    @post_action(*KEEPERS)
    def need_withdraw(request, pk):
        need = _kept_need(request, pk)
        with refusal_as_message(request):
            financing.withdraw_need(need, by=request.user, version=posted_version(request, need.version))
            messages.success(request, _("已撤回该融资需求"))
        return redirect("investment:need", pk=need.pk)

A ServiceError raised by the write ends the `with` block: what follows the write in it (the success
message, the redirect) does not run, and the refusal is shown instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import Any, overload

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.views.decorators.http import require_POST

from guanjia.core.decorators import role_required
from guanjia.core.errors import ServiceError


def allowed_if(may: Callable[[Any], bool], refusal: Any) -> Callable[[Callable], Callable]:
    """A page for the logged-in users of whom `may(user)` holds; anyone else gets 403 with `refusal`
    (a lazy translation: the decorator is applied at import)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not may(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def post_action(*roles: str) -> Callable[[Callable], Callable]:
    """A POST-only action of `roles`: another method is a 405 (before the role is looked at), another
    role a 403."""

    def decorator(view: Callable) -> Callable:
        return require_POST(role_required(*roles)(view))

    return decorator


@contextmanager
def refusal_as_form_error(form: forms.BaseForm) -> Iterator[None]:
    """Run a form's write: a service's refusal becomes the form's error, and the page shows it again."""
    try:
        yield
    except ServiceError as exc:
        form.add_error(None, str(exc))


@contextmanager
def refusal_as_message(request: HttpRequest) -> Iterator[None]:
    """Run a write of a POST-only action: a service's refusal becomes the page's error message."""
    try:
        yield
    except ServiceError as exc:
        messages.error(request, str(exc))


def version_shown(data: Mapping[str, Any], current: int) -> int:
    """The version an edit form showed (a stale form is refused, not applied); `current` if it sent none."""
    version = data.get("version")
    return version if version is not None else current


@overload
def posted_version(request: HttpRequest, default: int) -> int: ...
@overload
def posted_version(request: HttpRequest, default: None = None) -> int | None: ...
def posted_version(request: HttpRequest, default: int | None = None) -> int | None:
    """The version the page of a POST-only action showed: `default` when it sent none; 0 (never a
    version, so refused as stale) when it sent something else than a number."""
    value = request.POST.get("version", "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return 0
