"""REST API of the target library (招商目标企业库): list (the page's filters), retrieve, create, partial
update with the version read, delete, and the spreadsheet import.

Reads start from Target.objects.visible_to(user), so a target out of the caller's zones is a 404;
writes are the services' (guanjia.investment.targets, targets_import), whose refusals come back as
{"detail": message} with 400, 403 or 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import ErrorSerializer
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.importing import ImportFileError
from guanjia.enterprises.models import Scale
from guanjia.investment import targets, targets_import
from guanjia.investment.access import may_keep, may_read, zones_of
from guanjia.investment.forms.targets import TargetFilter
from guanjia.investment.models import INVESTMENT_KEEPERS, ChainNode, Target

ERRORS_400 = OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}"))
ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
ERRORS_404 = OpenApiResponse(ErrorSerializer, description=_("目标企业不存在或不在您的范围内"))
ERRORS_409 = OpenApiResponse(ErrorSerializer, description=_("目标企业已被他人修改：请重新读取后再提交"))


def _actor(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _caller(field: serializers.Field) -> User | None:
    request = field.context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


class ReadsInvestment(BasePermission):
    message = _("您的账号没有查看招商数据的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and may_read(user)


class PromotersWrite(BasePermission):
    """Leaders read; a write by them is refused before its input is read."""

    message = _("只有本园区的招商专员可以修改目标企业库")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (
            isinstance(user, User) and user.has_any_role(INVESTMENT_KEEPERS)
        )


# --- serializers -------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class CallerZoneField(serializers.PrimaryKeyRelatedField):
    """A zone id among the caller's zones."""

    def get_queryset(self) -> QuerySet[OrgUnit]:
        user = _caller(self)
        return zones_of(user) if user is not None else OrgUnit.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class CallerNodeField(serializers.PrimaryKeyRelatedField):
    """A node id of a chain of the caller's zones."""

    def get_queryset(self) -> QuerySet[ChainNode]:
        user = _caller(self)
        return ChainNode.objects.filter(chain__zone_id__in=user.zone_ids() if user is not None else [])


class InvestmentTargetNodeSerializer(serializers.ModelSerializer):
    chain_name = serializers.CharField(source="chain.name", read_only=True)

    class Meta:
        model = ChainNode
        fields = ["id", "name", "chain", "chain_name", "segment"]
        read_only_fields = fields


class InvestmentTargetSerializer(serializers.ModelSerializer):
    """A target as every read (and the answer to every write) shows it."""

    zone_name = serializers.CharField(source="zone.name", read_only=True)
    nodes = InvestmentTargetNodeSerializer(many=True, read_only=True)
    lead_count = serializers.IntegerField(read_only=True, help_text=_("关于该企业的招商线索数（任何状态）"))
    version = serializers.IntegerField(read_only=True, help_text=_("修改时原样带回，用于发现并发修改"))

    class Meta:
        model = Target
        fields = [
            "id",
            "zone",
            "zone_name",
            "name",
            "uscc",
            "headquarters",
            "scale",
            "listed",
            "stock_code",
            "nodes",
            "notes",
            "lead_count",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class _TargetFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=targets.NAME_MAX)
    uscc = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text=_("18 位统一社会信用代码；境外企业可留空")
    )
    headquarters = serializers.CharField(
        max_length=targets.HEADQUARTERS_MAX, required=False, allow_blank=True
    )
    scale = serializers.ChoiceField(choices=Scale.choices, required=False)
    listed = serializers.BooleanField(required=False)
    stock_code = serializers.CharField(
        max_length=targets.STOCK_CODE_MAX,
        required=False,
        allow_blank=True,
        help_text=_("仅上市企业，如 300750.SZ"),
    )
    nodes = CallerNodeField(
        many=True, required=False, help_text=_("覆盖的链环节 id：须为目标企业所属园区产业链的环节")
    )
    notes = serializers.CharField(max_length=targets.NOTES_MAX, required=False, allow_blank=True)

    def _rule(self, key: str, value: Any) -> Any:
        cleaned, problems = targets.normalise({key: value})
        if problems:
            raise serializers.ValidationError(problems[0][1])
        return cleaned[key]

    def validate_uscc(self, value: str) -> str:
        return str(self._rule("uscc", value))

    def validate_stock_code(self, value: str) -> str:
        return str(self._rule("stock_code", value))


class InvestmentTargetCreateSerializer(_TargetFieldsSerializer):
    zone = CallerZoneField(required=False, help_text=_("所属园区 id；调用者只在一个园区工作时可省略"))


class InvestmentTargetUpdateSerializer(_TargetFieldsSerializer):
    name = serializers.CharField(max_length=targets.NAME_MAX, required=False)
    version = serializers.IntegerField(min_value=1, help_text=_("读取时的 version；已被他人修改时返回 409"))


class InvestmentTargetImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_(".xlsx 或 .csv，表头与导入模板相同（/investment/targets/template/）")
    )
    zone = CallerZoneField(required=False, help_text=_("导入到的园区 id；调用者只在一个园区工作时可省略"))


class InvestmentTargetImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("新增的目标企业数"))
    updated = serializers.IntegerField(help_text=_("按名称或统一社会信用代码匹配到并更新的目标企业数"))


class InvestmentTargetRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text=_("行号（表头为第 1 行）；整个文件的问题为 null")
    )
    column = serializers.CharField(allow_blank=True, help_text=_("列名；整行或整个文件的问题为空"))
    message = serializers.CharField()


class InvestmentTargetImportErrorsSerializer(serializers.Serializer):
    """A 400 of the import: every bad row, nothing written."""

    detail = serializers.CharField(required=False)
    rows = InvestmentTargetRowErrorSerializer(many=True, required=False)


def _zone_for(user: User, data: dict[str, Any]) -> OrgUnit:
    zone = data.get("zone")
    if zone is not None:
        return zone
    zones = list(zones_of(user)[:2])
    if len(zones) != 1:
        raise serializers.ValidationError({"zone": [_("您在多个园区工作，请指定园区")]})
    return zones[0]


# --- the viewset -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("目标企业列表"),
        description=_(
            "调用者所在园区的目标企业库；可按名称或统一社会信用代码搜索，按园区、产业链、环节、规模、是否上市筛选。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("目标企业详情"), responses={200: InvestmentTargetSerializer, 404: ERRORS_404}
    ),
    create=extend_schema(
        summary=_("新增目标企业"),
        description=_("本园区招商专员把企业加入目标企业库；名称和统一社会信用代码在园区内不能重复。"),
        request=InvestmentTargetCreateSerializer,
        responses={201: InvestmentTargetSerializer, 400: ERRORS_400, 403: ERRORS_403},
    ),
    partial_update=extend_schema(
        summary=_("修改目标企业"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。nodes 提交时替换全部覆盖环节。"
        ),
        request=InvestmentTargetUpdateSerializer,
        responses={
            200: InvestmentTargetSerializer,
            400: ERRORS_400,
            403: ERRORS_403,
            404: ERRORS_404,
            409: ERRORS_409,
        },
    ),
    destroy=extend_schema(
        summary=_("删除目标企业"),
        description=_("有招商线索或招商项目引用的目标企业不能删除（400，消息中给出数量）。"),
        responses={204: None, 400: ERRORS_400, 403: ERRORS_403, 404: ERRORS_404, 409: ERRORS_409},
    ),
)
class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    """The target library of the caller's zones; the zones' promoters change it."""

    queryset = Target.objects.none()
    serializer_class = InvestmentTargetSerializer
    filterset_class = TargetFilter
    permission_classes = [IsAuthenticated, ReadsInvestment, PromotersWrite]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return {
            "create": InvestmentTargetCreateSerializer,
            "partial_update": InvestmentTargetUpdateSerializer,
            "import_file": InvestmentTargetImportSerializer,
        }.get(self.action or "", InvestmentTargetSerializer)

    def get_queryset(self) -> QuerySet[Target]:
        user = self.request.user
        visible = Target.objects.visible_to(user if isinstance(user, User) else None)
        return (
            targets.with_lead_count(visible)
            .select_related("zone")
            .prefetch_related("nodes__chain")
            .order_by("name", "pk")
        )

    def _show(self, target: Target, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=target.pk)
        return Response(
            InvestmentTargetSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def _kept(self) -> Target:
        target = self.get_object()
        if not may_keep(_actor(self.request), target.zone_id):
            raise exceptions.PermissionDenied(_("只有本园区的招商专员可以修改目标企业库"))
        return target

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _actor(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        zone = _zone_for(user, data)
        data.pop("zone", None)
        target = targets.create_target(zone=zone, by=user, nodes=data.pop("nodes", []), **data)
        return self._show(target, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self._kept()
        # Partial: a field left out stays as it is (a form-encoded body would otherwise read a missing
        # boolean as false); the version is still required.
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": [_("请带上读取时的 version")]})
        version = data.pop("version")
        targets.update_target(target, by=_actor(request), version=version, **data)
        return self._show(target)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self._kept()
        targets.delete_target(target, by=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("导入目标企业"),
        description=_(
            "multipart 上传 .xlsx 或 .csv（表头与导入模板相同，最多 5000 行）。先逐行校验：任一行有误时返回 400 "
            "{detail, rows: [{row, column, message}]}，列出全部有误的行，不写入任何数据；全部正确才一次性写入。"
            "库中已有同名或同一统一社会信用代码的企业会被更新（填写了的单元格替换原值，留空的保持原值）。"
            "文件本身无法读取时 rows 只有一项，row 为 null。"
        ),
        request={"multipart/form-data": InvestmentTargetImportSerializer},
        responses={
            200: InvestmentTargetImportResultSerializer,
            400: InvestmentTargetImportErrorsSerializer,
            403: ERRORS_403,
            409: ERRORS_409,
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_file(self, request: Request) -> Response:
        user = _actor(request)
        serializer = InvestmentTargetImportSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        zone = _zone_for(user, data)
        try:
            result = targets_import.import_targets(upload=data["file"], zone=zone, by=user)
        except targets_import.TargetRowsInvalid as exc:
            body = {"detail": str(exc), "rows": exc.rows}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except ImportFileError as exc:
            body = {"detail": str(exc), "rows": targets_import.file_problem(exc)}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(InvestmentTargetImportResultSerializer(result).data)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/targets", TargetViewSet, basename="investment-target")
