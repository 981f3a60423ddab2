"""REST API: the category tree with its time limits and the caller's zones' routes (read-only)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.routers import DefaultRouter

from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.models import User
from guanjia.core.roles import BUSINESS_ROLES, Role

extra_urlpatterns: list = []


class RouteSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    lead_department_name = serializers.CharField(source="lead_department.name", read_only=True)

    class Meta:
        model = CategoryRoute
        fields = ["zone", "zone_name", "lead_department", "lead_department_name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    routes = RouteSerializer(many=True, read_only=True, source="visible_routes")

    class Meta:
        model = AppealCategory
        fields = ["id", *CATEGORY_FIELDS, "routes"]
        read_only_fields = fields


class StaffOrSysadmin(BasePermission):
    """Staff of any business role (but enterprise users) and the system admin read the configuration."""

    message = "您的账号无权查看诉求类别配置"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.has_any_role(
            (BUSINESS_ROLES - {Role.ENTERPRISE_USER}) | {Role.SYSADMIN}
        )


@extend_schema_view(
    list=extend_schema(
        summary="诉求类别列表", description="类别树、各类办理时限（工作日）和本人所辖园区的默认主办部门。"
    ),
    retrieve=extend_schema(summary="诉求类别详情"),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated, StaffOrSysadmin]
    pagination_class = None

    def get_queryset(self) -> QuerySet[AppealCategory]:
        user = self.request.user
        routes = CategoryRoute.objects.select_related("zone", "lead_department")
        if isinstance(user, User) and not user.has_role(Role.SYSADMIN):
            routes = routes.filter(zone_id__in=user.zone_ids())
        return AppealCategory.objects.prefetch_related(
            Prefetch("routes", queryset=routes, to_attr="visible_routes")
        )


def register(router: DefaultRouter) -> None:
    router.register("appeal-categories", CategoryViewSet, basename="appeal-category")
