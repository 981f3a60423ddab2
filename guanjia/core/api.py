"""What every app's API shares (the services' refusals as HTTP answers), and the departments' group robots."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler

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
