"""The database briefly unavailable: a clear 503 instead of a stack trace, and no lost submission.

A PostgreSQL failover, a restart or a full connection pool makes every query fail for a few seconds.
The user who pressed 提交 at that moment must not lose what they typed: the 503 page shows the posted
text fields again in a form that posts to the same address, with a fresh CSRF token, so that one click
sends them again. Nothing was written (the failed request's transaction rolled back).

The page is rendered from a standalone template with a plain context: no context processor, no user,
no navigation, so rendering it needs no query. A request that failed on the database could not load
its user or session anyway, and the session middleware saves nothing on a 5xx answer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
# Never echoed back: the token is replaced by a fresh one, secrets are typed again.
SKIPPED_FIELD = "csrfmiddlewaretoken"
SECRET_FIELD_PARTS = ("password", "secret")
# A request whose exception Django already turned into a 500 inside an inner middleware.
_MARK = "_guanjia_database_unavailable"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def typed_fields(request: HttpRequest) -> tuple[list[dict[str, Any]], list[str]]:
    """The posted text fields worth showing again, and the names of the file fields posted with them."""
    if request.method != "POST":
        return [], []
    try:
        posted = request.POST
        file_fields = sorted(request.FILES)
    except Exception:  # noqa: BLE001 - a body we cannot read again: show the plain page
        return [], []
    fields: list[dict[str, Any]] = []
    for name in posted:
        lowered = name.lower()
        if name == SKIPPED_FIELD or any(part in lowered for part in SECRET_FIELD_PARTS):
            continue
        for value in posted.getlist(name):
            fields.append(
                {
                    "id": f"typed-{len(fields)}",
                    "name": name,
                    "value": value,
                    "multiline": "\n" in value or len(value) > 80,
                }
            )
    return fields, file_fields


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON for the API, else the page that keeps what was typed."""
    message = _("数据库暂时不可用，请稍候片刻再试。")
    if is_api(request):
        response: HttpResponse = JsonResponse(
            {"detail": _("数据库暂时不可用，本次请求未保存任何数据，请稍候片刻后重试。")},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        fields, file_fields = typed_fields(request)
        context = {
            "message": message,
            "fields": fields,
            # Files cannot be kept (a browser never lets a page fill in a file input): chosen again.
            "file_fields": file_fields,
            "resubmit": request.method == "POST",
            "action": request.get_full_path(),
            # A fresh token from the CSRF cookie (no query), so that 重新提交 passes the CSRF check.
            "csrf_token": get_token(request) if request.method == "POST" else "",
        }
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response.setdefault("X-Frame-Options", "DENY")
    return response


def _note_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent by Django inside its `except` block, so sys.exc_info() is the exception it caught.
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        setattr(request, _MARK, True)


got_request_exception.connect(_note_database_error, dispatch_uid="guanjia-database-unavailable")


class DatabaseUnavailableMiddleware:
    """Turns OperationalError / InterfaceError into the 503 answer.

    process_exception catches what a view raises (where nearly all queries happen: the user and the
    session are loaded lazily). An inner middleware's exception never reaches this one as an
    exception: Django turns it into a 500 where it is raised and signals it; the signal marks the
    request, and __call__ swaps that 500 for the 503.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)
