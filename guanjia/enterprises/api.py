"""REST API for enterprises and stewards: serializers, a filter set and viewsets over the services.

Every read starts from `Enterprise.objects.visible_to(user)`, so an enterprise out of
the caller's scope is a 404, not a 403. Every write is a service call; the
services' refusals come back as {"detail": message} with 400, 403 or 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import REGISTRY_KEEPERS, ZONE_WIDE_ROLES, Role
from guanjia.enterprises import services
from guanjia.enterprises.filters import EnterpriseFilter
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.serializers import (
    AssignStewardSerializer,
    EnterpriseCreateSerializer,
    EnterpriseSerializer,
    EnterpriseUpdateSerializer,
    ErrorSerializer,
    HandoverSerializer,
    StewardAssignmentSerializer,
    StewardBriefSerializer,
    StewardLoadSerializer,
    SuggestQuerySerializer,
)

# The roles whose registry scope visible_to() defines (as on the registry pages); staff among
# them may ask for changes, and the services decide which.
STAFF_READERS = ZONE_WIDE_ROLES | {Role.STEWARD}
ENTERPRISE_READERS = STAFF_READERS | {Role.ENTERPRISE_USER}
# Who may see the stewards' loads: those who assign stewards, and leaders.
STEWARD_OVERSEERS = REGISTRY_KEEPERS | {Role.LEADER}


def _actor(request: Request) -> User:
    # The permission classes have already turned anonymous callers away.
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class ReadsEnterprises(BasePermission):
    """三员, accounts without a role and roles without a registry scope see no enterprise data."""

    message = _("您的账号没有查看企业数据的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(ENTERPRISE_READERS)


class StaffWrites(BasePermission):
    """Enterprise users read their own enterprise; changes go through their steward."""

    message = _("企业用户只能查看本企业信息，如需修改请联系您的服务管家")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (isinstance(user, User) and user.has_any_role(STAFF_READERS))


class OverseesStewards(BasePermission):
    message = _("只有受理员、效能督查和领导可以查看服务管家安排")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.has_any_role(STEWARD_OVERSEERS)


ERRORS_400 = OpenApiResponse(
    description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}"),
)
ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
ERRORS_404 = OpenApiResponse(ErrorSerializer, description=_("企业不存在或不在您的范围内"))
ERRORS_409 = OpenApiResponse(ErrorSerializer, description=_("企业已被他人修改：请重新读取后再提交"))


UPDATE_SCHEMA = extend_schema(
    summary=_("修改企业"),
    description=_(
        "PUT 提交全部字段，PATCH 只提交要改的字段；都必须带读取时的 version，企业已被他人修改时返回 409。"
    ),
    request=EnterpriseUpdateSerializer,
    responses={
        200: EnterpriseSerializer,
        400: ERRORS_400,
        403: ERRORS_403,
        404: ERRORS_404,
        409: ERRORS_409,
    },
)


@extend_schema_view(
    list=extend_schema(
        summary=_("企业列表"),
        description=_("只含调用者范围内的企业；联系人电话按角色脱敏。"),
    ),
    retrieve=extend_schema(summary=_("企业详情"), responses={200: EnterpriseSerializer, 404: ERRORS_404}),
    create=extend_schema(
        summary=_("新增企业"),
        description=_("受理员或效能督查在本园区登记企业；统一社会信用代码按 GB 32100 校验。"),
        request=EnterpriseCreateSerializer,
        responses={201: EnterpriseSerializer, 400: ERRORS_400, 403: ERRORS_403},
    ),
    update=UPDATE_SCHEMA,
    partial_update=UPDATE_SCHEMA,
)
class EnterpriseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The enterprises the caller may see; keepers create, keepers and the steward edit."""

    # The real queryset is get_queryset(); this one only names the model (router, schema).
    queryset = Enterprise.objects.none()
    serializer_class = EnterpriseSerializer
    # Input shapes per action; every answer is shown with EnterpriseSerializer.
    input_serializers: dict[str, type[serializers.Serializer]] = {
        "create": EnterpriseCreateSerializer,
        "update": EnterpriseUpdateSerializer,
        "partial_update": EnterpriseUpdateSerializer,
        "assign_steward": AssignStewardSerializer,
    }
    filterset_class = EnterpriseFilter
    permission_classes = [IsAuthenticated, ReadsEnterprises, StaffWrites]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.input_serializers.get(self.action or "", EnterpriseSerializer)

    def get_queryset(self) -> QuerySet[Enterprise]:
        user = self.request.user
        return (
            Enterprise.objects.visible_to(user if isinstance(user, User) else None)
            .select_related("zone", "steward")
            .prefetch_related("tags", "contacts")
            .order_by("name", "pk")
        )

    def _show(self, enterprise: Enterprise) -> dict[str, Any]:
        # Read back through the scoped queryset so the answer has the same shape as a GET.
        fresh = self.get_queryset().filter(pk=enterprise.pk).first() or enterprise
        return EnterpriseSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A role that may never create is refused before its input is read (the service checks the zone).
        if not services.can_keep_registry(_actor(request), None):
            raise exceptions.PermissionDenied(_("只有本园区的受理员或效能督查可以新增企业"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        zone = data.pop("zone")
        tags = data.pop("tags", [])
        contacts = [dict(contact) for contact in data.pop("contacts", [])]
        enterprise = services.create_enterprise(
            data=data, zone=zone, tags=tags, contacts=contacts, by=_actor(request)
        )
        return Response(self._show(enterprise), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enterprise = self.get_object()
        # Refused before the input is read, as the service would refuse it after.
        if not services.can_edit(_actor(request), enterprise):
            raise exceptions.PermissionDenied(_("您无权修改该企业信息"))
        serializer = self.get_serializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # The version the client read, not the one just loaded: that is what makes a
        # stale edit lose (409) instead of silently overwriting.
        enterprise.version = data.pop("version")
        tags = data.pop("tags", None)
        services.update_enterprise(enterprise, data=data, tags=tags, by=_actor(request))
        return Response(self._show(enterprise))

    @extend_schema(
        summary=_("调整服务管家"),
        request=AssignStewardSerializer,
        responses={201: StewardAssignmentSerializer, 400: ERRORS_400, 403: ERRORS_403, 404: ERRORS_404},
    )
    @action(
        detail=True, methods=["post"], url_path="assign-steward", filter_backends=[], pagination_class=None
    )
    def assign_steward(self, request: Request, pk: str | None = None) -> Response:
        enterprise = self.get_object()
        if not services.can_keep_registry(_actor(request), enterprise.zone_id):
            raise exceptions.PermissionDenied(_("只有本园区的受理员或效能督查可以调整服务管家"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assign_steward(
            enterprise,
            serializer.validated_data["steward"],
            reason=serializer.validated_data["reason"],
            by=_actor(request),
        )
        return Response(StewardAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("服务管家历史"),
        responses={200: StewardAssignmentSerializer(many=True), 404: ERRORS_404},
    )
    @action(
        detail=True, methods=["get"], url_path="steward-history", filter_backends=[], pagination_class=None
    )
    def steward_history(self, request: Request, pk: str | None = None) -> Response:
        enterprise = self.get_object()
        history = enterprise.steward_assignments.select_related("steward", "assigned_by").order_by(
            "-started_at", "-pk"
        )
        return Response(StewardAssignmentSerializer(history, many=True).data)


class StewardViewSet(viewsets.ViewSet):
    """Stewards of the caller's zones: their loads, a suggestion, and handovers."""

    permission_classes = [IsAuthenticated, OverseesStewards]

    @extend_schema(summary=_("本园区服务管家及负荷"), responses={200: StewardLoadSerializer(many=True)})
    def list(self, request: Request) -> Response:
        user = _actor(request)
        rows = [
            {
                "steward": load.steward,
                "zone": zone,
                "enterprises": load.enterprises,
                "weighted": load.weighted,
            }
            for zone in OrgUnit.objects.filter(pk__in=user.zone_ids()).order_by("code")
            for load in services.steward_loads(zone.pk)
        ]
        return Response(StewardLoadSerializer(rows, many=True).data)

    @extend_schema(
        summary=_("建议的服务管家（加权负荷最轻）"),
        parameters=[SuggestQuerySerializer],
        responses={
            200: StewardBriefSerializer,
            400: ERRORS_400,
            404: OpenApiResponse(ErrorSerializer, description=_("该园区没有可分配的服务管家")),
        },
    )
    @action(detail=False, methods=["get"])
    def suggest(self, request: Request) -> Response:
        query = SuggestQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        steward = services.suggest_steward(query.validated_data["zone"].pk)
        if steward is None:
            raise exceptions.NotFound(_("该园区没有可分配的服务管家"))
        return Response(StewardBriefSerializer(steward).data)

    @extend_schema(
        summary=_("服务管家交接"),
        request=HandoverSerializer,
        responses={200: StewardAssignmentSerializer(many=True), 400: ERRORS_400, 403: ERRORS_403},
    )
    @action(detail=False, methods=["post"])
    def handover(self, request: Request) -> Response:
        # Leaders see the stewards' loads but do not move enterprises: refused before the input is read.
        if not services.can_keep_registry(_actor(request), None):
            raise exceptions.PermissionDenied(_("只有本园区的受理员或效能督查可以移交企业"))
        serializer = HandoverSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        zone = serializer.validated_data["zone"]
        assignments = services.handover(
            serializer.validated_data["from_steward"],
            to=serializer.validated_data["to_steward"],
            reason=serializer.validated_data["reason"],
            by=_actor(request),
            zone_id=zone.pk if zone is not None else None,
        )
        return Response(StewardAssignmentSerializer(assignments, many=True).data)


extra_urlpatterns: list[URLPattern | URLResolver] = []


def register(router: DefaultRouter) -> None:
    router.register("enterprises", EnterpriseViewSet, basename="enterprise")
    router.register("stewards", StewardViewSet, basename="steward")
