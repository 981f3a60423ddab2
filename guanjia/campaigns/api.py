"""REST API for service campaigns: reads are scoped (Campaign.objects.visible_to), writes go through
services; a campaign out of the caller's scope is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.campaigns import importing, services
from guanjia.campaigns.filters import CampaignFilter
from guanjia.campaigns.models import CAMPAIGN_KEEPERS, CAMPAIGN_OVERSEERS, Campaign
from guanjia.campaigns.serializers import (
    AddResultSerializer,
    AssignResultSerializer,
    AssignSerializer,
    CampaignCreateSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    CoverageSerializer,
    RowErrorsSerializer,
    TargetAddSerializer,
    TargetPageSerializer,
    TargetQuerySerializer,
    TargetSerializer,
    criteria_from,
)
from guanjia.core.api import ErrorSerializer
from guanjia.core.models import User
from guanjia.core.roles import Role

CAMPAIGN_READERS = CAMPAIGN_OVERSEERS | {Role.STEWARD}

ERRORS_400 = OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}"))
ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
ERRORS_404 = OpenApiResponse(ErrorSerializer, description=_("专项行动不存在或不在您的范围内"))
ERRORS_409 = OpenApiResponse(ErrorSerializer, description=_("专项行动已被他人修改：请重新读取后再提交"))


def _actor(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class ReadsCampaigns(BasePermission):
    message = _("您的账号没有查看专项行动的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and services.may_view(user)


class KeepersWrite(BasePermission):
    """Stewards and leaders read; a write by them is refused before its input is read."""

    message = _("只有受理员或效能督查可以发起和调整专项行动")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (
            isinstance(user, User) and user.has_any_role(CAMPAIGN_KEEPERS)
        )


class TargetPagination(PageNumberPagination):
    page_size = 50


@extend_schema_view(
    list=extend_schema(
        summary=_("专项行动列表"),
        description=_(
            "调用者范围内的专项行动，含目标数、已走访数和覆盖率：本园区受理员、效能督查、领导看到全部，"
            "服务管家只看到有自己目标的。"
        ),
    ),
    retrieve=extend_schema(summary=_("专项行动详情"), responses={200: CampaignSerializer, 404: ERRORS_404}),
    create=extend_schema(
        summary=_("发起专项行动"),
        description=_("受理员或效能督查在自己管辖的园区发起；zones 省略则为调用者的全部园区。"),
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer, 400: ERRORS_400, 403: ERRORS_403},
    ),
    partial_update=extend_schema(
        summary=_("修改专项行动"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。已有目标企业的园区不能移除。"
        ),
        request=CampaignUpdateSerializer,
        responses={
            200: CampaignSerializer,
            400: ERRORS_400,
            403: ERRORS_403,
            404: ERRORS_404,
            409: ERRORS_409,
        },
    ),
)
class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Campaigns the caller may see; the zone's dispatchers and supervisors launch and change them."""

    queryset = Campaign.objects.none()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    permission_classes = [IsAuthenticated, ReadsCampaigns, KeepersWrite]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return {
            "create": CampaignCreateSerializer,
            "partial_update": CampaignUpdateSerializer,
        }.get(self.action or "", CampaignSerializer)

    def get_queryset(self) -> QuerySet[Campaign]:
        user = self.request.user
        campaigns = Campaign.objects.visible_to(user if isinstance(user, User) else None).prefetch_related(
            "zones"
        )
        return services.with_coverage(campaigns).order_by("-starts_on", "-pk")

    def _show(self, campaign: Campaign, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=campaign.pk)
        return Response(CampaignSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _managed(self) -> Campaign:
        campaign = self.get_object()
        if not services.can_manage(_actor(self.request), campaign):
            raise exceptions.PermissionDenied(_("只有专项行动所覆盖园区的受理员或效能督查可以调整专项行动"))
        return campaign

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _actor(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        zones = data.pop("zones", None) or list(services.zones_of_user(user))
        campaign = services.create_campaign(zones=zones, by=user, **data)
        return self._show(campaign, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = self._managed()
        serializer = self.get_serializer(
            data=request.data, context={**self.get_serializer_context(), "campaign": campaign}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.update_campaign(campaign, by=_actor(request), **data)
        return self._show(campaign)

    @extend_schema(
        summary=_("专项行动覆盖率"),
        description=_(
            "覆盖率 = 期间内（开始日期至结束日期，含两端）有走访记录的目标企业 / 目标企业，任何管家的走访都算；"
            "分园区、分责任管家列出。problems：期间内走访目标企业时提出的诉求数、其中已办结数和已解决数"
            "（已办结且企业最后一次评价确认已解决）。服务管家只看到自己目标的数字。"
        ),
        responses={200: CoverageSerializer, 404: ERRORS_404},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def coverage(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        user = _actor(request)
        figures = services.coverage(campaign, steward=None if services.oversees(user, campaign) else user)
        return Response(CoverageSerializer(figures).data)

    @extend_schema(
        methods=["GET"],
        summary=_("目标企业列表"),
        description=_("本园区受理员、效能督查、领导看到全部目标，服务管家只看到自己负责的目标。"),
        parameters=[TargetQuerySerializer],
        responses={200: TargetPageSerializer, 404: ERRORS_404},
    )
    @extend_schema(
        methods=["POST"],
        summary=_("添加目标企业"),
        description=_(
            "二选一：filters 按条件（园区、企业分级、行业门类/大类、标签）从覆盖园区中选出企业；usccs 按统一社会信用代码"
            "清单。已在目标清单中的企业跳过。usccs 任一行有误（校验位错误、平台无此企业、不属于覆盖园区、重复）时返回 400 "
            "{detail, rows: [{row, uscc, error}]}，列出全部有误的行，不写入任何数据。"
        ),
        request=TargetAddSerializer,
        responses={201: AddResultSerializer, 400: RowErrorsSerializer, 403: ERRORS_403, 404: ERRORS_404},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="targets",
        url_name="targets",
        filter_backends=[],
        pagination_class=TargetPagination,
    )
    def targets(self, request: Request, pk: str | None = None) -> Response:
        user = _actor(request)
        if request.method == "POST":
            return self._add_targets(request, self._managed(), user)
        campaign = self.get_object()
        # A plain dict, not the QueryDict: DRF reads a boolean missing from form-like input as false.
        query = TargetQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        rows = services.annotate_visited(campaign, services.targets_visible_to(user, campaign))
        if query.validated_data.get("visited") is not None:
            rows = rows.filter(Q(visited=query.validated_data["visited"]))
        if query.validated_data.get("steward") is not None:
            rows = rows.filter(steward_id=query.validated_data["steward"])
        rows = rows.select_related("enterprise", "steward").order_by("enterprise__name", "pk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TargetSerializer(page, many=True).data)

    def _add_targets(self, request: Request, campaign: Campaign, user: User) -> Response:
        serializer = TargetAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "filters" in serializer.validated_data:
            criteria = criteria_from(serializer.validated_data["filters"])
            result = services.add_targets_by_criteria(campaign, criteria, by=user)
        else:
            try:
                result = importing.add_targets_by_usccs(campaign, serializer.validated_data["usccs"], by=user)
            except importing.TargetRowsInvalid as exc:
                body = {
                    "detail": str(exc),
                    "rows": [{"row": e.row, "uscc": e.uscc, "error": e.error} for e in exc.rows],
                }
                return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(AddResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("改派目标企业"),
        description=_(
            "把所选目标（targets）或某位管家的全部目标（from_steward）改派给 to_steward。只改变本专项行动中的责任管家，"
            "不改变企业的服务管家。"
        ),
        request=AssignSerializer,
        responses={200: AssignResultSerializer, 400: ERRORS_400, 403: ERRORS_403, 404: ERRORS_404},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="targets/assign",
        url_name="assign-targets",
        filter_backends=[],
        pagination_class=None,
    )
    def assign_targets(self, request: Request, pk: str | None = None) -> Response:
        campaign = self._managed()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moved = services.reassign_targets(
            campaign,
            to=data["to_steward"],
            by=_actor(request),
            target_ids=data.get("targets") or None,
            from_steward=data.get("from_steward"),
        )
        return Response(AssignResultSerializer({"moved": moved}).data)


extra_urlpatterns: list[URLPattern | URLResolver] = []


def register(router: DefaultRouter) -> None:
    router.register("campaigns", CampaignViewSet, basename="campaign")
