"""What every app's API shares: the services' refusals as HTTP answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from guanjia.core.errors import Conflict, NotAllowed, ServiceError


class RuleRefused(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("请求不符合业务规则")
    default_code = "refused"


class EditConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("数据已被他人修改，请刷新后重试")
    default_code = "conflict"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' errors: NotAllowed → 403, Conflict → 409, others → 400."""
    if isinstance(exc, Conflict):
        exc = EditConflict(str(exc))
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, ServiceError):
        exc = RuleRefused(str(exc))
    return exception_handler(exc, context)
