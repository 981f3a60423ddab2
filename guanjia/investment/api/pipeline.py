"""REST API: the pipeline's figures (招商漏斗与投资统计), the same functions as the page.

GET /api/investment/pipeline/funnel/, time-in-stage/, investment/ — promoters and leaders of their
zones (a city's leader: all its zones, or zone=). Definitions: guanjia/investment/pipeline.py.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.models import OrgUnit, User
from guanjia.investment import access, pipeline
from guanjia.investment.api.common import Refusals
from guanjia.investment.forms.pipeline import MAX_YEAR, MIN_YEAR
from guanjia.investment.models import INVESTMENT_READERS, IndustryChain, LeadSource

extra_urlpatterns: list[URLPattern] = []

ERRORS = Refusals(
    invalid=_("参数有误：{参数名: [消息]}，消息写明是哪个参数"), forbidden=_("该角色无权查看招商数据")
)


class ReadsInvestment(BasePermission):
    """Promoters and leaders (never the 三员)."""

    message = _("您的账号无权查看招商数据")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(INVESTMENT_READERS)


# --- query parameters ----------------------------------------------------------------------------------


class PipelineScopeQuerySerializer(serializers.Serializer):
    zone = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("只看该园区（须在您的范围内）；不填为您的全部范围"),
        error_messages={"invalid": _("园区 zone 应为园区编号（整数）")},
    )
    chain = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("只看该产业链的线索和项目（线索按其链环节所属的链）"),
        error_messages={"invalid": _("产业链 chain 应为产业链编号（整数）")},
    )
    # A field named "source" (the lead source), not DRF's Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=LeadSource.choices,
        required=False,
        help_text=_("只看该来源的线索和项目"),
        error_messages={"invalid_choice": _("线索来源 source 不是可选的来源")},
    )
    year = serializers.IntegerField(
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        help_text=_("年度；不填为今年（北京时间）。线索漏斗与线索用时统计当年新建的线索"),
        error_messages={
            "invalid": _("年度 year 应为四位数年份，例如 2026"),
            "min_value": _("年度 year 不能早于 {min_value} 年"),
            "max_value": _("年度 year 不能晚于 {max_value} 年"),
        },
    )

    def validate_zone(self, value: int) -> int:
        if value not in self.context["request"].user.zone_ids():
            raise serializers.ValidationError(_("园区 zone 不存在或不在您的范围内"))
        return value

    def validate_chain(self, value: int) -> int:
        if not IndustryChain.objects.visible_to(self.context["request"].user).filter(pk=value).exists():
            raise serializers.ValidationError(_("产业链 chain 不存在或不在您的范围内"))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        zone, chain = attrs.get("zone"), attrs.get("chain")
        if zone and chain and not IndustryChain.objects.filter(pk=chain, zone_id=zone).exists():
            raise serializers.ValidationError({"chain": [_("产业链 chain 不属于所选园区 zone")]})
        return attrs


class PipelineInvestmentQuerySerializer(PipelineScopeQuerySerializer):
    by = serializers.ChoiceField(
        choices=pipeline.PERIODS,
        default="month",
        help_text=_("month 按月（12 行）、quarter 按季度（4 行）"),
        error_messages={"invalid_choice": _("统计周期 by 只能是 month 或 quarter")},
    )


# --- answers ------------------------------------------------------------------------------------------


class PipelineRateSerializer(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField(help_text=_("n：分母"))
    value = serializers.FloatField(allow_null=True, help_text=_("比率（0–1）；n 为 0 时为 null"))


class PipelineStepSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    count = serializers.IntegerField()
    from_previous = PipelineRateSerializer(help_text=_("较上一环节的转化率"))
    from_first = PipelineRateSerializer(help_text=_("较首环节的转化率"))


class PipelineFunnelRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("产业链编号（none 为未关联产业链）或来源代码"))
    name = serializers.CharField(source="label")
    steps = PipelineStepSerializer(many=True)


class PipelineScopeAnswerSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    zone = serializers.IntegerField(allow_null=True)
    chain = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(allow_blank=True)  # type: ignore[assignment]


class PipelineFunnelSerializer(PipelineScopeAnswerSerializer):
    leads = PipelineStepSerializer(
        many=True, help_text=_("当年新建线索的漏斗：线索、接触、洽谈、转为项目、签约、开工、投产、达产")
    )
    projects = PipelineStepSerializer(many=True, help_text=_("全部项目（不限年度）按已达到的阶段"))
    by_chain = PipelineFunnelRowSerializer(many=True)
    by_source = PipelineFunnelRowSerializer(many=True)


class PipelineStageTimeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    n = serializers.IntegerField()
    still = serializers.IntegerField(help_text=_("n 中目前仍处于该状态、计至今日的"))
    mean_days = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)
    median_days = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)


class PipelineTimeInStageSerializer(PipelineScopeAnswerSerializer):
    today = serializers.DateField()
    leads = PipelineStageTimeSerializer(
        many=True, help_text=_("当年新建线索在新线索、接触中、洽谈中的自然日")
    )
    projects = PipelineStageTimeSerializer(many=True, help_text=_("全部项目在达产前各阶段的自然日"))


class PipelineInvestmentRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    signed = serializers.IntegerField(help_text=_("签约项目数（每个项目只计一次）"))
    counted = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("计入投资额（万元）：计划总投资 − 增资前已投资")
    )
    arrived = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=_("到资（万元）"))


class PipelineInvestmentSerializer(PipelineScopeAnswerSerializer):
    by = serializers.CharField()
    periods = PipelineInvestmentRowSerializer(many=True)
    total = PipelineInvestmentRowSerializer()
    chains = PipelineInvestmentRowSerializer(many=True)
    chains_total = PipelineInvestmentRowSerializer()


# --- the viewset --------------------------------------------------------------------------------------


class PipelineViewSet(viewsets.ViewSet):
    """The pipeline's figures over the caller's zones, or one of them."""

    permission_classes = [IsAuthenticated, ReadsInvestment]

    def _read(
        self, request: Request, serializer: type[PipelineScopeQuerySerializer]
    ) -> tuple[pipeline.Scope, dict]:
        query = serializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        user = request.user
        assert isinstance(user, User)  # ReadsInvestment let only accounts through
        zone = OrgUnit.objects.get(pk=params["zone"]) if params.get("zone") else None
        chain = IndustryChain.objects.get(pk=params["chain"]) if params.get("chain") else None
        scope = pipeline.scope_for(user, zone=zone, chain=chain, source=params.get("source", ""))
        params.setdefault("year", access.today().year)
        answer = {
            "year": params["year"],
            "zone": params.get("zone"),
            "chain": params.get("chain"),
            "source": params.get("source", ""),
        }
        return scope, {**params, "answer": answer}

    @extend_schema(
        summary=_("招商漏斗"),
        description=_(
            "当年新建线索的漏斗（线索→接触→洽谈→转为项目→签约→开工→投产→达产），全部项目按阶段的漏斗，"
            "以及按产业链、按来源的线索漏斗；每一环节给出数量、较上一环节和较首环节的转化率与 n。"
        ),
        parameters=[PipelineScopeQuerySerializer],
        responses=ERRORS.responses(200, PipelineFunnelSerializer, 400, 403),
    )
    @action(detail=False, methods=["get"], url_path="funnel")
    def funnel(self, request: Request) -> Response:
        scope, params = self._read(request, PipelineScopeQuerySerializer)
        year = params["year"]
        body = {
            **params["answer"],
            "leads": pipeline.lead_funnel(scope, year),
            "projects": pipeline.project_funnel(scope),
            "by_chain": pipeline.lead_funnel_by(scope, year, "chain"),
            "by_source": pipeline.lead_funnel_by(scope, year, "source"),
        }
        return Response(PipelineFunnelSerializer(body).data)

    @extend_schema(
        summary=_("招商阶段用时"),
        description=_(
            "线索在各状态、项目在各阶段停留的自然日：平均数、中位数与 n；目前仍处于该状态或阶段的计至今日，"
            "并计入 still。"
        ),
        parameters=[PipelineScopeQuerySerializer],
        responses=ERRORS.responses(200, PipelineTimeInStageSerializer, 400, 403),
    )
    @action(detail=False, methods=["get"], url_path="time-in-stage")
    def time_in_stage(self, request: Request) -> Response:
        scope, params = self._read(request, PipelineScopeQuerySerializer)
        now = timezone.now()
        today = timezone.localdate(now)
        body = {
            **params["answer"],
            "today": today,
            "leads": pipeline.lead_time_in_stage(scope, params["year"], now),
            "projects": pipeline.project_time_in_stage(scope, today),
        }
        return Response(PipelineTimeInStageSerializer(body).data)

    @extend_schema(
        summary=_("签约投资与到资"),
        description=_(
            "所选年度按月或按季度：签约项目数（以签约节点实际日期计，每个项目只计一次）、计入投资额"
            "（增资扩股只计增量）与到资金额（按到资日期）；另给出按产业链的合计。"
        ),
        parameters=[PipelineInvestmentQuerySerializer],
        responses=ERRORS.responses(200, PipelineInvestmentSerializer, 400, 403),
    )
    @action(detail=False, methods=["get"], url_path="investment")
    def investment(self, request: Request) -> Response:
        scope, params = self._read(request, PipelineInvestmentQuerySerializer)
        year, by = params["year"], params["by"]
        periods = pipeline.investment_by_period(scope, year, by)
        chains = pipeline.investment_by_chain(scope, year)
        body = {
            **params["answer"],
            "by": by,
            "periods": periods,
            "total": pipeline.total(periods),
            "chains": chains,
            "chains_total": pipeline.total(chains),
        }
        return Response(PipelineInvestmentSerializer(body).data)


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/pipeline", PipelineViewSet, basename="investment-pipeline")
