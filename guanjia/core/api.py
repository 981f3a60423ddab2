"""What every app's API shares (the services' refusals as HTTP answers), and the departments' group robots."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView, exception_handler

from guanjia.core import webhooks
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import DepartmentWebhook, User
from guanjia.core.roles import Role


class RuleRefused(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("请求不符合业务规则")
    default_code = "refused"


class EditConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("数据已被他人修改，请刷新后重试")
    default_code = "conflict"


class ErrorSerializer(serializers.Serializer):
    """The body of a refused request: 400 (a rule), 403, 404 or 409."""

    detail = serializers.CharField()


# The refusals any endpoint may give, documented wherever a view does not name them itself, so that
# the committed schema lists every status a client can get (the fuzz test in guanjia/tests_fuzz holds
# the API to it): 403 for every endpoint (no login, or a role that may not call it), 404 for every
# endpoint with an object in its path (out of scope reads as absent) or with pages (?page= past the
# end), and 400 for every write and every filtered list.
DEFAULT_ERRORS = {
    "400": OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
    "403": OpenApiResponse(ErrorSerializer, description=_("未登录，或无权执行此操作")),
    "404": OpenApiResponse(ErrorSerializer, description=_("对象不存在或不在您的范围内，或页码超出范围")),
}


class GuanjiaAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the refusals (DEFAULT_ERRORS) each operation can answer."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            # DRF, its serializers and django-filter read an optional query parameter sent empty
            # (?status=&page=) as not sent, as an HTML form's empty field.
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        in_query = {p["name"] for p in parameters if p.get("in") == "query"}
        in_path = any(p.get("in") == "path" for p in parameters)
        codes = ["403"]
        if self.method not in ("GET", "HEAD") or in_query - {"page"}:
            codes.append("400")
        if in_path or "page" in in_query:
            codes.append("404")
        responses = operation["responses"]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(DEFAULT_ERRORS[code], code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation


class RawNullBooleanSelect(forms.NullBooleanSelect):
    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)  # the raw text: NullBooleanSelect turns what it does not know into None


class StrictBooleanField(forms.NullBooleanField):
    """A yes/no filter value that refuses what is neither (django's NullBooleanField reads
    ?overdue=abc as "not given", so a typo silently widens the list)."""

    TRUE = frozenset({"true", "1", "on", "yes"})
    FALSE = frozenset({"false", "0", "off", "no"})

    widget = RawNullBooleanSelect

    # django-stubs types NullBooleanField.to_python as bool; it returns None for "not given" too.
    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, "", "unknown") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(
            _("%(label)s 只能是 true 或 false，收到的是 %(value)s"),
            code="invalid",
            params={"label": self.label or "", "value": str(value)[:50]},
        )


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ApiNotFound(APIView):
    """A path under /api/ that names no endpoint (e.g. /api/appeals/abc/): 404 as JSON, like the API's
    own 404s, not the HTML page meant for browsers, whatever the method."""

    # Nobody needs to be known to be told that nothing is here; without authentication there is no
    # session, so no CSRF check turns a POST's 404 into a 403 page either.
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    schema = None  # not an endpoint of the schema

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound()


api_not_found = ApiNotFound.as_view()


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' errors: NotAllowed → 403, Conflict → 409, others → 400."""
    if isinstance(exc, Conflict):
        exc = EditConflict(str(exc))
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, ServiceError):
        exc = RuleRefused(str(exc))
    return exception_handler(exc, context)


# --- 部门群机器人 (system admin only): the address and secret are written, never read back ---------


class IsSysadmin(BasePermission):
    message = _("只有系统管理员可以配置群机器人")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.has_role(Role.SYSADMIN)


class DepartmentWebhookSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    url = serializers.CharField(
        max_length=500,
        write_only=True,
        required=False,
        help_text=_("Webhook 地址；修改时省略表示不变。读取时只返回 url_masked"),
    )
    url_masked = serializers.SerializerMethodField(help_text=_("隐去访问令牌的地址"))
    secret = serializers.CharField(
        max_length=200,
        write_only=True,
        required=False,
        allow_blank=True,
        help_text=_("钉钉加签密钥；只写不读，修改时省略表示不变"),
    )
    clear_secret = serializers.BooleanField(write_only=True, required=False, default=False)
    has_secret = serializers.SerializerMethodField()
    other_host = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("地址不在钉钉或企业微信的官方主机上时须为 true（如内网转发网关）"),
    )

    class Meta:
        model = DepartmentWebhook
        fields = [
            "id",
            "unit",
            "unit_name",
            "kind",
            "url",
            "url_masked",
            "secret",
            "clear_secret",
            "has_secret",
            "other_host",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "unit_name", "created_at"]

    def get_url_masked(self, obj: DepartmentWebhook) -> str:
        return webhooks.masked_url(obj.url)

    def get_has_secret(self, obj: DepartmentWebhook) -> bool:
        return bool(obj.secret)


@extend_schema_view(
    list=extend_schema(summary="部门群机器人列表"),
    retrieve=extend_schema(summary="部门群机器人详情"),
    create=extend_schema(summary="添加部门群机器人"),
    update=extend_schema(summary="修改部门群机器人"),
    partial_update=extend_schema(summary="修改部门群机器人（部分字段）"),
    destroy=extend_schema(summary="删除部门群机器人"),
)
class DepartmentWebhookViewSet(viewsets.ModelViewSet):
    """钉钉 / 企业微信 group robots of departments; every change goes through core.webhooks and is audited."""

    serializer_class = DepartmentWebhookSerializer
    permission_classes = [IsAuthenticated, IsSysadmin]
    queryset = DepartmentWebhook.objects.select_related("unit").order_by("unit__code", "kind")

    def _save(self, serializer: DepartmentWebhookSerializer, webhook: DepartmentWebhook | None) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        assert isinstance(user, User)  # IsSysadmin let it in
        if webhook is not None:  # a partial update keeps what it does not name
            data.setdefault("unit", webhook.unit)
            data.setdefault("kind", webhook.kind)
            data.setdefault("is_active", webhook.is_active)
        serializer.instance = webhooks.save_webhook(webhook=webhook, by=user, **data)

    def perform_create(self, serializer: DepartmentWebhookSerializer) -> None:  # type: ignore[override]
        self._save(serializer, None)

    def perform_update(self, serializer: DepartmentWebhookSerializer) -> None:  # type: ignore[override]
        self._save(serializer, self.get_object())

    def perform_destroy(self, instance: DepartmentWebhook) -> None:
        user = self.request.user
        assert isinstance(user, User)
        webhooks.delete_webhook(instance, by=user)

    @extend_schema(summary="发送测试消息", request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        user = request.user
        assert isinstance(user, User)
        webhooks.send_test(self.get_object(), by=user)
        return Response(status=status.HTTP_202_ACCEPTED)


def register(router: DefaultRouter) -> None:
    router.register("department-webhooks", DepartmentWebhookViewSet, basename="department-webhook")
