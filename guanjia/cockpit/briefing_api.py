"""REST API for briefings (周报/月报): the list of the caller's scope, generating one, downloads."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals import attachments
from guanjia.cockpit import briefing, services
from guanjia.cockpit.models import Briefing, BriefingFile
from guanjia.core.api import ErrorSerializer
from guanjia.core.http import client_ip
from guanjia.core.models import OrgUnit, User


def _actor(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class ReadsBriefings(BasePermission):
    message = _("只有领导和效能督查可以查看和生成简报")

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, User) and services.reads_briefings(request.user)


class BriefingFileSerializer(serializers.ModelSerializer):
    # Declared, not derived: a PositiveIntegerField's maximum differs between SQLite and PostgreSQL,
    # and the committed schema must be the same on both.
    size = serializers.IntegerField(min_value=0, help_text=_("大小（字节）"))
    url = serializers.SerializerMethodField(help_text=_("下载地址（API）"))

    class Meta:
        model = BriefingFile
        fields = ["format", "name", "content_type", "size", "sha256", "url"]

    def get_url(self, obj: BriefingFile) -> str:
        return f"/api/briefings/{obj.briefing_id}/{obj.format}/"


class BriefingSerializer(serializers.ModelSerializer):
    zone = serializers.IntegerField(source="zone_id", allow_null=True, help_text=_("园区 id；null 为全市"))
    zone_name = serializers.SerializerMethodField()
    last_day = serializers.DateField(help_text=_("统计期的最后一天（含）"))
    generated_by = serializers.SerializerMethodField(help_text=_("生成人；null 为定时任务"))
    files = BriefingFileSerializer(many=True)
    version = serializers.IntegerField(min_value=1, help_text=_("每重新生成一次加 1"))

    class Meta:
        model = Briefing
        fields = [
            "id",
            "kind",
            "zone",
            "zone_name",
            "starts_on",
            "ends_on",
            "last_day",
            "generated_at",
            "generated_by",
            "version",
            "files",
        ]
        extra_kwargs = {"ends_on": {"help_text": _("统计期结束日期（不含）")}}

    def get_zone_name(self, obj: Briefing) -> str:
        return obj.zone.name if obj.zone is not None else self.context.get("city_name", "")

    def get_generated_by(self, obj: Briefing) -> str | None:
        return str(obj.generated_by) if obj.generated_by is not None else None


class BriefingCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Briefing.Kind.choices, help_text=_("weekly 周报，monthly 月报"))
    zone = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("园区 id；null 为全市（仅市级用户）。不传：市级用户为全市，只管辖一个园区的用户为该园区"),
    )
    start = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("统计期第一天：周报为星期一，月报为 1 日；不传为最近一个已结束的周或月"),
    )


class BriefingQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Briefing.Kind.choices, required=False, help_text=_("只列出该类型"))
    zone = serializers.IntegerField(required=False, help_text=_("只列出该园区的简报"))


def _zone_of(user: User, data: dict[str, Any]) -> OrgUnit | None:
    """The scope a POST names: a zone of the caller's (another zone's "does not exist"), or the city."""
    if "zone" not in data:
        if services.city_wide(user):
            return None
        zone_ids = user.zone_ids()
        if len(zone_ids) != 1:
            raise exceptions.ValidationError({"zone": [_("请指定园区")]})
        return OrgUnit.objects.get(pk=zone_ids[0])
    if data["zone"] is None:
        return None
    zone = OrgUnit.objects.filter(pk=data["zone"], kind=OrgUnit.Kind.ZONE, pk__in=user.zone_ids()).first()
    if zone is None:
        raise exceptions.ValidationError(
            {"zone": [_("园区 %(id)s 不存在或不在您的范围内") % {"id": data["zone"]}]}
        )
    return zone


_DOWNLOAD_ERRORS = {404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内"))}


@extend_schema_view(
    list=extend_schema(
        summary=_("简报列表（周报/月报）"),
        description=_(
            "调用者范围内的简报，统计期最新的在前：园区领导和效能督查为本园区的，市级用户另含全市的。"
        ),
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=Briefing.Kind.values, description=_("只列出该类型")
            ),
            OpenApiParameter("zone", OpenApiTypes.INT, description=_("只列出该园区的简报")),
        ],
    ),
    retrieve=extend_schema(
        summary=_("简报详情"),
        description=_("一份简报的类型、范围、统计期、生成信息与文件（PDF、Excel）。"),
        responses={
            200: BriefingSerializer,
            404: OpenApiResponse(ErrorSerializer, description=_("不在您的范围内")),
        },
    ),
    create=extend_schema(
        summary=_("立即生成简报"),
        description=_(
            "领导或效能督查为本人所辖范围生成一份周报或月报（PDF 与 Excel）。同一类型、范围与统计期已有简报时"
            "重新生成并替换原文件（version 加 1，返回 200）；新生成的返回 201。只能生成已结束的统计期。"
        ),
        request=BriefingCreateSerializer,
        responses={
            201: BriefingSerializer,
            200: BriefingSerializer,
            400: OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
            403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
            409: OpenApiResponse(ErrorSerializer, description=_("该简报正由他人重新生成")),
        },
    ),
)
class BriefingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Briefings of the caller's scope; leaders and supervisors generate them for their scope."""

    queryset = Briefing.objects.none()
    serializer_class = BriefingSerializer
    permission_classes = [IsAuthenticated, ReadsBriefings]
    filter_backends: list[Any] = []

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return BriefingCreateSerializer if self.action == "create" else BriefingSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "city_name": briefing.scope_name(None)}

    def get_queryset(self) -> QuerySet[Briefing]:
        user = self.request.user
        rows = (
            services.visible_to(user if isinstance(user, User) else None)
            .select_related("zone", "generated_by")
            .prefetch_related("files")
            .order_by("-starts_on", "kind", "zone_id", "pk")
        )
        if self.action == "list":
            query = BriefingQuerySerializer(data=self.request.query_params.dict())
            query.is_valid(raise_exception=True)
            if query.validated_data.get("kind"):
                rows = rows.filter(kind=query.validated_data["kind"])
            if query.validated_data.get("zone") is not None:
                rows = rows.filter(zone_id=query.validated_data["zone"])
        return rows

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _actor(request)
        body = BriefingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = services.generate_briefing(
            data["kind"], _zone_of(user, data), by=user, start=data.get("start")
        )
        fresh = self.get_queryset().get(pk=result.briefing.pk)
        return Response(
            BriefingSerializer(fresh, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    def _download(self, request: Request, fmt: str) -> Any:
        found = self.get_object()
        stored = get_object_or_404(
            BriefingFile.objects.filter(briefing=found, format=fmt).select_related("briefing")
        )
        return services.download(stored, by=_actor(request), ip=client_ip(request))

    @extend_schema(
        summary=_("下载简报 PDF"),
        description=_("以附件形式下载；每次下载均记入审计日志。"),
        responses={
            (200, attachments.PDF.content_type): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("PDF 文件")
            ),
            **_DOWNLOAD_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], url_path="pdf", url_name="pdf", pagination_class=None)
    def pdf(self, request: Request, pk: str | None = None) -> Any:
        return self._download(request, BriefingFile.Format.PDF)

    @extend_schema(
        summary=_("下载简报 Excel"),
        description=_(
            "以附件形式下载；工作表：概况、部门排名、园区排名（仅全市）、红牌督办、在办最久诉求；每次下载均记入审计日志。"
        ),
        responses={
            (200, attachments.XLSX.content_type): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("Excel 文件")
            ),
            **_DOWNLOAD_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], url_path="xlsx", url_name="xlsx", pagination_class=None)
    def xlsx(self, request: Request, pk: str | None = None) -> Any:
        return self._download(request, BriefingFile.Format.XLSX)


def register(router: DefaultRouter) -> None:
    router.register("briefings", BriefingViewSet, basename="briefing")
