"""REST API for visits and the visit schedule; reads are scoped, writes go through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import ErrorSerializer
from guanjia.core.api_common import WholeNumberField
from guanjia.core.http import client_ip
from guanjia.core.models import User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise
from guanjia.visits import services, supervision
from guanjia.visits.filters import VisitFilter
from guanjia.visits.models import Visit, VisitPhoto, VisitSchedule
from guanjia.visits.serializers import (
    IntervalSerializer,
    StewardOverdueSerializer,
    VisitCreateSerializer,
    VisitPlanCreateSerializer,
    VisitPlanSerializer,
    VisitScheduleSerializer,
    VisitSerializer,
    ZoneOverdueSerializer,
)

VISIT_READERS = ZONE_WIDE_ROLES | {Role.STEWARD}
SUPERVISION_READERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})


def _actor(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class ReadsVisits(BasePermission):
    message = _("您的账号没有查看走访的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(VISIT_READERS)


class StewardRecords(BasePermission):
    message = _("只有服务管家可以登记或安排走访")

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method not in ("POST", "DELETE") or (
            isinstance(request.user, User) and request.user.has_role(Role.STEWARD)
        )


class SetsInterval(BasePermission):
    message = _("只有受理员或效能督查可以调整走访周期")

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method not in ("PATCH", "PUT") or (
            isinstance(request.user, User) and request.user.has_any_role({Role.DISPATCHER, Role.SUPERVISOR})
        )


class ReadsSupervision(BasePermission):
    message = _("只有受理员、效能督查和领导可以查看走访逾期督查")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.has_any_role(SUPERVISION_READERS)


@extend_schema_view(
    list=extend_schema(
        summary=_("走访记录列表"),
        description=_("只含调用者范围内已完成的走访；走访计划见 /api/visit-plans/。"),
    ),
    retrieve=extend_schema(
        summary=_("走访详情"),
        responses={
            200: VisitSerializer,
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
        },
    ),
    create=extend_schema(
        summary=_("登记走访"),
        description=_(
            "企业的服务管家登记一次走访，可在 appeals 中同时提出诉求（渠道：管家代报）；走访与诉求同一事务，"
            "一项失败则全部不写入。企业有未完成的走访计划时，本次走访完成该计划（plan 可指明；已被登记则 409）。"
            "现场照片在走访登记页面上传。"
        ),
        request=VisitCreateSerializer,
        responses={
            201: VisitSerializer,
            400: OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
            409: OpenApiResponse(ErrorSerializer, description=_("该走访计划已被登记或取消")),
        },
    ),
)
class VisitViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Visits the caller may see; the enterprise's steward records them."""

    queryset = Visit.objects.none()
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    permission_classes = [IsAuthenticated, ReadsVisits, StewardRecords]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return VisitCreateSerializer if self.action == "create" else VisitSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        user = self.request.user
        return (
            Visit.objects.visible_to(user if isinstance(user, User) else None)
            .done()
            .select_related("enterprise")
            .prefetch_related("appeal_links", "photos")
            .order_by("-visited_on", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        enterprise = data.pop("enterprise")
        problems = [services.Problem(**dict(problem)) for problem in data.pop("appeals", [])]
        visit = services.record_visit(enterprise, by=_actor(request), problems=problems, **data)
        fresh = self.get_queryset().get(pk=visit.pk)
        return Response(VisitSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("下载走访照片"),
        description=_("以附件形式下载，类型为上传时按内容识别的图片类型。"),
        parameters=[OpenApiParameter("photo", int, OpenApiParameter.PATH, description=_("照片编号"))],
        responses={
            **{
                (200, kind.content_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("图片内容"))
                for kind in sorted(services.PHOTO_TYPES, key=lambda kind: kind.content_type)
            },
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"photos/(?P<photo>[0-9]+)",
        url_name="photo",
        filter_backends=[],
        pagination_class=None,
    )
    def photo(self, request: Request, pk: str | None = None, photo: str | None = None) -> Any:
        visit = self.get_object()
        found = get_object_or_404(VisitPhoto.objects.filter(visit=visit), pk=photo)
        return services.photo_response(found, by=_actor(request), download=True, ip=client_ip(request))


@extend_schema_view(
    list=extend_schema(
        summary=_("走访计划列表"), description=_("调用者范围内未完成的走访计划，按计划日期排序。")
    ),
    retrieve=extend_schema(
        summary=_("走访计划详情"),
        responses={
            200: VisitPlanSerializer,
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
        },
    ),
    create=extend_schema(
        summary=_("安排走访"),
        description=_("企业的服务管家安排一次走访（今天或以后）；每家企业同时只有一个未完成的计划。"),
        request=VisitPlanCreateSerializer,
        responses={
            201: VisitPlanSerializer,
            400: OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
            409: OpenApiResponse(ErrorSerializer, description=_("同时已有人为该企业安排了计划")),
        },
    ),
    destroy=extend_schema(
        summary=_("取消走访计划"),
        responses={
            204: None,
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
            409: OpenApiResponse(ErrorSerializer, description=_("该计划已登记或已取消")),
        },
    ),
)
class VisitPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Planned visits (a Visit with planned_on and no visited_on) the caller may see."""

    queryset = Visit.objects.none()
    serializer_class = VisitPlanSerializer
    permission_classes = [IsAuthenticated, ReadsVisits, StewardRecords]
    filter_backends: list[Any] = []

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return VisitPlanCreateSerializer if self.action == "create" else VisitPlanSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        user = self.request.user
        return (
            Visit.objects.visible_to(user if isinstance(user, User) else None)
            .plans()
            .select_related("enterprise")
            .order_by("planned_on", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.plan_visit(
            data["enterprise"], on=data["planned_on"], by=_actor(request), note=data.get("plan_note", "")
        )
        return Response(
            VisitPlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.cancel_plan(self.get_object(), by=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScheduleQuerySerializer(serializers.Serializer):
    due_before = serializers.DateField(required=False, help_text=_("只列出应走访日期不晚于该日的企业"))
    overdue = serializers.BooleanField(required=False, help_text=_("只列出已逾期的企业"))
    steward = WholeNumberField(required=False, help_text=_("服务管家的用户 id"))


@extend_schema_view(
    list=extend_schema(
        summary=_("走访日程（应走访与逾期）"),
        description=_("调用者范围内企业的下次应走访日期，按日期排序；服务管家只看到自己服务的企业。"),
        parameters=[
            OpenApiParameter(
                "due_before", OpenApiTypes.DATE, description=_("只列出应走访日期不晚于该日的企业")
            ),
            OpenApiParameter("overdue", OpenApiTypes.BOOL, description=_("只列出已逾期的企业")),
            OpenApiParameter("steward", OpenApiTypes.INT, description=_("服务管家的用户 id")),
        ],
    )
)
class VisitScheduleViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The due and overdue list of the caller's scope; the zone's keepers override a cadence."""

    queryset = VisitSchedule.objects.none()
    serializer_class = VisitScheduleSerializer
    permission_classes = [IsAuthenticated, ReadsVisits, SetsInterval]
    filter_backends: list[Any] = []
    lookup_field = "enterprise"
    lookup_value_regex = "[0-9]+"

    @extend_schema(
        summary=_("调整企业的走访周期"),
        description=_(
            "本园区的受理员或效能督查为一家企业单独设置走访周期（天），null 恢复分级默认；下次应走访日期随之重算。"
        ),
        request=IntervalSerializer,
        responses={
            200: VisitScheduleSerializer,
            400: OpenApiResponse(description=_("输入有误：{字段: [消息]}")),
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
            409: OpenApiResponse(ErrorSerializer, description=_("走访周期已被他人调整（was 与当前不符）")),
        },
    )
    def partial_update(self, request: Request, enterprise: str | None = None) -> Response:
        user = _actor(request)
        target = get_object_or_404(Enterprise.objects.filter(zone_id__in=user.zone_ids()), pk=enterprise)
        body = IntervalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extra = {"was": body.validated_data["was"]} if "was" in body.validated_data else {}
        services.set_interval(target, body.validated_data["interval_days"], by=user, **extra)
        row = VisitSchedule.objects.select_related("enterprise").get(enterprise=target)
        return Response(VisitScheduleSerializer(row).data)

    def get_queryset(self) -> QuerySet[VisitSchedule]:
        user = _actor(self.request)
        # A plain dict, not the QueryDict: DRF reads a boolean missing from form-like input as false.
        query = ScheduleQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        scope = Enterprise.objects.visible_to(user)
        if not user.has_any_role(ZONE_WIDE_ROLES):
            scope = scope.filter(steward=user)
        if query.validated_data.get("steward") is not None:
            scope = scope.filter(steward_id=query.validated_data["steward"])
        rows = services.schedules_of(scope).select_related("enterprise")
        if query.validated_data.get("due_before") is not None:
            rows = rows.filter(next_due__lte=query.validated_data["due_before"])
        if query.validated_data.get("overdue") is True:
            rows = rows.filter(next_due__lt=services.today())
        elif query.validated_data.get("overdue") is False:
            rows = rows.filter(next_due__gte=services.today())
        return rows.order_by("next_due", "enterprise_id")


class OverdueQuerySerializer(serializers.Serializer):
    zone = WholeNumberField(required=False, help_text=_("只统计该园区（须在调用者范围内）"))


@extend_schema_view(
    by_zone=extend_schema(
        summary=_("走访逾期督查：按园区"),
        description=_("调用者范围内各园区的企业数、逾期企业数、占比与最早应走访日期。"),
        parameters=[OpenApiParameter("zone", OpenApiTypes.INT, description=_("只统计该园区"))],
        responses={
            200: ZoneOverdueSerializer(many=True),
            403: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer, description=_("该园区不存在或不在调用者范围内")),
        },
    ),
    by_steward=extend_schema(
        summary=_("走访逾期督查：按服务管家"),
        description=_(
            "调用者范围内各服务管家的服务企业数、逾期企业数、占比与最早应走访日期；steward 为 null 的一行是未分配管家的企业。"
        ),
        parameters=[OpenApiParameter("zone", OpenApiTypes.INT, description=_("只统计该园区"))],
        responses={
            200: StewardOverdueSerializer(many=True),
            403: OpenApiResponse(ErrorSerializer),
            404: OpenApiResponse(ErrorSerializer, description=_("该园区不存在或不在调用者范围内")),
        },
    ),
)
class VisitOverdueViewSet(viewsets.GenericViewSet):
    """Overdue supervision (督查) of the caller's zones; the enterprises behind a number are
    /api/visit-schedule/?overdue=true&steward=…"""

    queryset = VisitSchedule.objects.none()
    permission_classes = [IsAuthenticated, ReadsSupervision]
    filter_backends: list[Any] = []
    pagination_class = None

    def _zones(self, request: Request) -> list[int]:
        query = OverdueQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        zone_ids = _actor(request).zone_ids()
        zone = query.validated_data.get("zone")
        if zone is None:
            return zone_ids
        if zone not in zone_ids:
            raise exceptions.NotFound(_("该园区不在您的范围内"))
        return [zone]

    @action(detail=False, methods=["get"], url_path="by-zone", url_name="by-zone")
    def by_zone(self, request: Request) -> Response:
        rows = supervision.overdue_by_zone(self._zones(request))
        return Response(ZoneOverdueSerializer(rows, many=True).data)

    @action(detail=False, methods=["get"], url_path="by-steward", url_name="by-steward")
    def by_steward(self, request: Request) -> Response:
        rows = supervision.overdue_by_steward(self._zones(request))
        return Response(StewardOverdueSerializer(rows, many=True).data)


extra_urlpatterns: list[URLPattern | URLResolver] = []


def register(router: DefaultRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
    router.register("visit-plans", VisitPlanViewSet, basename="visit-plan")
    router.register("visit-schedule", VisitScheduleViewSet, basename="visit-schedule")
    router.register("visit-overdue", VisitOverdueViewSet, basename="visit-overdue")
