"""REST API for visits and the visit schedule; reads are scoped, writes go through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import ErrorSerializer
from guanjia.core.models import User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise
from guanjia.visits import services
from guanjia.visits.filters import VisitFilter
from guanjia.visits.models import Visit, VisitSchedule
from guanjia.visits.serializers import VisitCreateSerializer, VisitScheduleSerializer, VisitSerializer

VISIT_READERS = ZONE_WIDE_ROLES | {Role.STEWARD}


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
    message = _("只有服务管家可以登记走访")

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method != "POST" or (
            isinstance(request.user, User) and request.user.has_role(Role.STEWARD)
        )


@extend_schema_view(
    list=extend_schema(summary=_("走访记录列表"), description=_("只含调用者范围内的走访。")),
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
            "一项失败则全部不写入。"
        ),
        request=VisitCreateSerializer,
        responses={
            201: VisitSerializer,
            400: OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
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
            .select_related("enterprise")
            .prefetch_related("appeal_links")
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


class ScheduleQuerySerializer(serializers.Serializer):
    due_before = serializers.DateField(required=False, help_text=_("只列出应走访日期不晚于该日的企业"))
    overdue = serializers.BooleanField(required=False, help_text=_("只列出已逾期的企业"))
    steward = serializers.IntegerField(required=False, help_text=_("服务管家的用户 id"))


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
    """The due and overdue list of the caller's scope."""

    queryset = VisitSchedule.objects.none()
    serializer_class = VisitScheduleSerializer
    permission_classes = [IsAuthenticated, ReadsVisits]
    filter_backends: list[Any] = []

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


extra_urlpatterns: list[URLPattern | URLResolver] = []


def register(router: DefaultRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
    router.register("visit-schedule", VisitScheduleViewSet, basename="visit-schedule")
