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
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.enterprises.importing import ImportFileError
from guanjia.enterprises.models import Scale
from guanjia.investment import targets, targets_import
from guanjia.investment.access import may_keep
from guanjia.investment.api.common import (
    CallerZoneField,
    InvestmentViewSet,
    KeepersWrite,
    ReadsInvestment,
    Refusals,
    VisibleNodeField,
    actor,
    version_field,
    zone_or_only,
)
from guanjia.investment.forms.targets import TargetFilter
from guanjia.investment.models import ChainNode, Target

ERRORS = Refusals(
    missing=_("目标企业不存在或不在您的范围内"), stale=_("目标企业已被他人修改：请重新读取后再提交")
)
NOT_KEEPER = _("只有本园区的招商专员可以修改目标企业库")
SEVERAL_ZONES = _("您在多个园区工作，请指定园区")


class TargetKeepersWrite(KeepersWrite):
    message = NOT_KEEPER


# --- serializers -------------------------------------------------------------------------------------


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
    nodes = VisibleNodeField(
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
    version = version_field()


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


# --- the viewset -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("目标企业列表"),
        description=_(
            "调用者所在园区的目标企业库；可按名称或统一社会信用代码搜索，按园区、产业链、环节、规模、是否上市筛选。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("目标企业详情"), responses=ERRORS.responses(200, InvestmentTargetSerializer, 404)
    ),
    create=extend_schema(
        summary=_("新增目标企业"),
        description=_("本园区招商专员把企业加入目标企业库；名称和统一社会信用代码在园区内不能重复。"),
        request=InvestmentTargetCreateSerializer,
        responses=ERRORS.responses(201, InvestmentTargetSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改目标企业"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。nodes 提交时替换全部覆盖环节。"
        ),
        request=InvestmentTargetUpdateSerializer,
        responses=ERRORS.responses(200, InvestmentTargetSerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("删除目标企业"),
        description=_("有招商线索或招商项目引用的目标企业不能删除（400，消息中给出数量）。"),
        responses=ERRORS.responses(204, None, 400, 403, 404, 409),
    ),
)
class TargetViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, InvestmentViewSet):
    """The target library of the caller's zones; the zones' promoters change it."""

    queryset = Target.objects.none()
    serializer_class = InvestmentTargetSerializer
    serializer_classes = {
        "create": InvestmentTargetCreateSerializer,
        "partial_update": InvestmentTargetUpdateSerializer,
        "import_file": InvestmentTargetImportSerializer,
    }
    filterset_class = TargetFilter
    permission_classes = [IsAuthenticated, ReadsInvestment, TargetKeepersWrite]

    def get_queryset(self) -> QuerySet[Target]:
        return (
            targets.with_lead_count(Target.objects.visible_to(self.caller()))
            .select_related("zone")
            .prefetch_related("nodes__chain")
            .order_by("name", "pk")
        )

    def _kept(self) -> Target:
        target = self.get_object()
        if not may_keep(actor(self.request), target.zone_id):
            raise exceptions.PermissionDenied(NOT_KEEPER)
        return target

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        zone = zone_or_only(user, data.pop("zone", None), several=SEVERAL_ZONES)
        target = targets.create_target(zone=zone, by=user, nodes=data.pop("nodes", []), **data)
        return self.show(target, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self._kept()
        # Partial: a field left out stays as it is (a form-encoded body would otherwise read a missing
        # boolean as false); the version is still required.
        data = self.validated(partial=True)
        if "version" not in data:
            raise serializers.ValidationError({"version": [_("请带上读取时的 version")]})
        version = data.pop("version")
        targets.update_target(target, by=actor(request), version=version, **data)
        return self.show(target)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self._kept()
        targets.delete_target(target, by=actor(request))
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
            403: ERRORS.forbidden,
            409: ERRORS.stale,
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
        user = actor(request)
        data = self.validated(InvestmentTargetImportSerializer)
        zone = zone_or_only(user, data.get("zone"), several=SEVERAL_ZONES)
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
