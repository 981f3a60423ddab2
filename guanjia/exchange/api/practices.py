"""REST API of practices (经验做法) and their adoptions (经验采纳): reads are scoped (visible_to), writes
go through guanjia/exchange/practices.py. A practice out of the caller's scope is a 404; a leader's
write a 403. The zone's supervisors record practices and adoptions; a seconded cadre proposes practices
from its own secondments. GET /api/adoptions/{id}/effect/ gives the adoption's KPI in the quarters
before and after its trial, each with its n.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals.kpi import KPIS, KpiValue
from guanjia.core.api_common import (
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    user_or_none,
    version_field,
)
from guanjia.core.models import OrgUnit, User
from guanjia.exchange import effects
from guanjia.exchange import practices as services
from guanjia.exchange.access import may_keep, may_read
from guanjia.exchange.forms.practices import AdoptionFilter, PracticeFilter, units_of, zones_of
from guanjia.exchange.models import Adoption, AdoptionStage, Practice, Secondment

PRACTICE_ERRORS = Refusals(
    forbidden=_("无权执行此操作（本园区的效能督查人员，或来自本人挂职的挂职干部，可以修改经验做法）"),
    missing=_("经验做法不存在或不在您的范围内"),
    stale=_("经验做法已被他人修改：请重新读取后再提交"),
)
ADOPTION_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有本园区的效能督查人员可以登记和推进采纳）"),
    missing=_("采纳记录不存在或不在您的范围内"),
    stale=_("采纳记录已被他人修改：请重新读取后再提交"),
)

# The KPI codes of guanjia.appeals.kpi, as a choice set of their own (KpiCodeEnum in the schema).
KpiCode = models.TextChoices("KpiCode", [(code.upper(), (code, label)) for code, label in KPIS.items()])  # type: ignore[call-overload]


class QuarterState(models.TextChoices):
    DONE = effects.QuarterState.DONE, _("已结束")
    RUNNING = effects.QuarterState.RUNNING, _("进行中")
    FUTURE = effects.QuarterState.FUTURE, _("未到")


class StageField(NamedEnumField):
    enum_name = "AdoptionStageEnum"
    choice_set = AdoptionStage


class KpiField(NamedEnumField):
    enum_name = "KpiCodeEnum"
    choice_set = KpiCode


class QuarterStateField(NamedEnumField):
    enum_name = "QuarterStateEnum"
    choice_set = QuarterState


# --- who may read, who may write ----------------------------------------------------------------------


class ReadsExchange(BasePermission):
    """The zone's supervisors and leaders, and seconded cadres (access.may_read)."""

    message = _("您的账号没有查看挂职交流数据的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and may_read(user)


class ProposersWrite(BasePermission):
    """Supervisors and seconded cadres write practices; a leader's write is refused before its input is read."""

    message = _("只有效能督查人员或挂职干部可以记录经验做法")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (isinstance(user, User) and services.may_propose(user))


class KeepersWrite(BasePermission):
    message = _("只有本园区的效能督查人员可以登记和推进采纳")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (isinstance(user, User) and may_keep(user))


# --- fields: an object named in a body is looked up in the caller's scope ----------------------------------


class ZoneField(ScopedField):
    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return zones_of(user)


class SecondmentField(ScopedField):
    default_error_messages = {"does_not_exist": _("挂职 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Secondment]:
        return services.secondments_for(user)


class PracticeField(ScopedField):
    default_error_messages = {"does_not_exist": _("经验做法 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Practice]:
        return Practice.objects.visible_to(user)


class UnitField(ScopedField):
    default_error_messages = {"does_not_exist": _("单位 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return units_of(user)


# --- shapes -----------------------------------------------------------------------------------------------------


class AdoptionSerializer(serializers.ModelSerializer):
    practice_title = serializers.CharField(source="practice.title", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    stage = StageField(read_only=True)
    kpi = KpiField(read_only=True)
    kpi_label = serializers.SerializerMethodField()
    next_stage = serializers.SerializerMethodField(
        help_text=_("下一阶段（advance 接口的 to_stage）；已推广时为 null")
    )
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Adoption
        fields = [
            "id",
            "practice",
            "practice_title",
            "unit",
            "unit_name",
            "stage",
            "referenced_on",
            "trial_on",
            "rollout_on",
            "kpi",
            "kpi_label",
            "note",
            "next_stage",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_kpi_label(self, adoption: Adoption) -> str:
        return str(effects.kpi_label(adoption.kpi))

    @extend_schema_field(StageField(allow_null=True))
    def get_next_stage(self, adoption: Adoption) -> str | None:
        return services.next_stage(adoption)


class PracticeStageCountsSerializer(serializers.Serializer):
    reference = serializers.IntegerField(help_text=_("处于借鉴阶段的采纳单位数"))
    trial = serializers.IntegerField(help_text=_("处于试行阶段的采纳单位数"))
    rollout = serializers.IntegerField(help_text=_("已推广的采纳单位数"))


class PracticeSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    secondment_label = serializers.SerializerMethodField(help_text=_("挂职干部 · 挂职单位；不来自挂职时为空"))
    stage_counts = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Practice
        fields = [
            "id",
            "zone",
            "zone_name",
            "title",
            "description",
            "seen_at",
            "learned_by",
            "secondment",
            "secondment_label",
            "stage_counts",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_secondment_label(self, practice: Practice) -> str:
        secondment = practice.secondment
        return f"{secondment.cadre} · {secondment.host_unit}" if secondment is not None else ""

    @extend_schema_field(PracticeStageCountsSerializer)
    def get_stage_counts(self, practice: Practice) -> dict[str, int]:
        return {
            "reference": getattr(practice, "n_reference", 0),
            "trial": getattr(practice, "n_trial", 0),
            "rollout": getattr(practice, "n_rollout", 0),
        }


class PracticeDetailSerializer(PracticeSerializer):
    adoptions = serializers.SerializerMethodField(help_text=_("采纳单位及各阶段日期"))

    class Meta(PracticeSerializer.Meta):
        fields = [*PracticeSerializer.Meta.fields, "adoptions"]
        read_only_fields = fields

    @extend_schema_field(AdoptionSerializer(many=True))
    def get_adoptions(self, practice: Practice) -> Any:
        rows = practice.adoptions.select_related("practice", "unit").order_by("pk")
        return AdoptionSerializer(rows, many=True, context=self.context).data


class PracticeCreateSerializer(serializers.Serializer):
    zone = ZoneField(
        label=_("所属园区"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("效能督查人员所在园区的 id；来自挂职时取该挂职的园区，可省略"),
    )
    secondment = SecondmentField(
        label=_("来自挂职"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("挂职 id：挂职干部必填且只能是本人的挂职；效能督查人员选填（本园区的挂职）"),
    )
    title = serializers.CharField(label=_("经验做法"), max_length=services.TITLE_MAX)
    description = serializers.CharField(label=_("做法内容"))
    seen_at = serializers.CharField(
        label=_("学习地点"),
        max_length=services.SEEN_AT_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("来自挂职时可省略，取挂职单位"),
    )
    learned_by = serializers.CharField(
        label=_("学习人"),
        max_length=services.LEARNED_BY_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("来自挂职时可省略，取挂职干部"),
    )


class PracticeUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(label=_("经验做法"), max_length=services.TITLE_MAX, required=False)
    description = serializers.CharField(label=_("做法内容"), required=False)
    seen_at = serializers.CharField(label=_("学习地点"), max_length=services.SEEN_AT_MAX, required=False)
    learned_by = serializers.CharField(label=_("学习人"), max_length=services.LEARNED_BY_MAX, required=False)
    secondment = SecondmentField(
        label=_("来自挂职"),
        required=False,
        allow_null=True,
        help_text=_("只有效能督查人员可以更改；null 为不来自挂职"),
    )
    version = version_field(label=_("版本"))


class AdoptionCreateSerializer(serializers.Serializer):
    practice = PracticeField(label=_("经验做法"))
    unit = UnitField(label=_("采纳单位"), help_text=_("经验做法所属园区本身，或该园区的部门的 id"))
    kpi = KpiField(label=_("效果指标"), help_text=_("衡量成效的平台指标"))
    referenced_on = serializers.DateField(label=_("借鉴日期"), help_text=_("不能晚于今天（北京时间）"))
    note = serializers.CharField(label=_("说明"), required=False, allow_blank=True, default="")


class AdoptionAdvanceSerializer(serializers.Serializer):
    to_stage = StageField(
        label=_("进入阶段"),
        help_text=_("只能前进一步：借鉴→试行，试行→推广；不能跳过，不能后退"),
    )
    on = serializers.DateField(
        label=_("日期"), help_text=_("该阶段开始的日期：不早于上一阶段的日期，不晚于今天（北京时间）")
    )
    version = version_field(label=_("版本"))


class EffectValueSerializer(serializers.Serializer):
    numerator = serializers.IntegerField(help_text=_("分子（平均办理时长：工作日之和）"))
    denominator = serializers.IntegerField(help_text=_("分母，即 n"))
    value = serializers.FloatField(allow_null=True, help_text=_("比率（0–1）或平均工作日；n 为 0 时为 null"))
    shown = serializers.CharField(help_text=_("页面上的写法，如 66.7%；n 为 0 时为 —"))


class EffectQuarterFigureSerializer(EffectValueSerializer):
    quarter = serializers.CharField(help_text=_("如 2026Q2"))
    quarter_label = serializers.CharField(help_text=_("如 2026年第2季度"))
    start = serializers.DateField(help_text=_("季度第一天（北京时间）"))
    last_day = serializers.DateField(help_text=_("季度最后一天（北京时间）"))
    state = QuarterStateField(help_text=_("done 已结束；running 含今天，按目前数据；future 未到，不计"))


class EffectQuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField(help_text=_("如 2026Q2"))
    quarter_label = serializers.CharField(help_text=_("如 2026年第2季度"))
    start = serializers.DateField()
    last_day = serializers.DateField()


class EffectSerializer(serializers.Serializer):
    adoption = serializers.IntegerField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    kpi = KpiField()
    kpi_label = serializers.CharField()
    lower_is_better = serializers.BooleanField(help_text=_("该指标越低越好（重办率、平均办理时长）"))
    pivot = serializers.DateField(help_text=_("分界日期：试行日期；尚未试行时为借鉴日期"))
    pivot_stage = StageField(help_text=_("分界日期是哪个阶段的日期"))
    excluded = EffectQuarterSerializer(help_text=_("分界日期所在季度：不计入前后任何一侧"))
    quarters = serializers.IntegerField(help_text=_("每侧的季度数"))
    before = EffectQuarterFigureSerializer(many=True, help_text=_("采纳前各季度，由远及近"))
    after = EffectQuarterFigureSerializer(many=True, help_text=_("采纳后各季度，由近及远"))
    before_total = EffectValueSerializer(help_text=_("采纳前合计：各季度分子、分母分别相加"))
    after_total = EffectValueSerializer(help_text=_("采纳后合计"))
    change = serializers.FloatField(
        allow_null=True,
        help_text=_("采纳后减采纳前（比率为小数：0.1 即 10 个百分点）；任一侧 n 为 0 时为 null"),
    )
    change_shown = serializers.CharField()
    improved = serializers.BooleanField(allow_null=True, help_text=_("是否改善；无变化或无法比较时为 null"))


class EffectQuerySerializer(serializers.Serializer):
    quarters = serializers.IntegerField(
        min_value=1,
        max_value=effects.MAX_QUARTERS,
        required=False,
        default=2,
        help_text=_("每侧的季度数，默认 2"),
    )


def _value(code: str, value: KpiValue) -> dict[str, Any]:
    return {
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": value.value,
        "shown": effects.shown_value(code, value.value),
    }


def _quarter(quarter: effects.Quarter) -> dict[str, Any]:
    return {
        "quarter": quarter.short_label,
        "quarter_label": quarter.label,
        "start": quarter.start,
        "last_day": quarter.end - timedelta(days=1),
    }


def effect_body(effect: effects.Effect, quarters: int) -> dict[str, Any]:
    code = effect.kpi
    adoption = effect.adoption

    def side(figures: list[effects.QuarterFigure]) -> list[Mapping[str, Any]]:
        return [{**_quarter(f.quarter), **_value(code, f.value), "state": f.state} for f in figures]

    return {
        "adoption": adoption.pk,
        "unit": adoption.unit_id,
        "unit_name": adoption.unit.name,
        "kpi": code,
        "kpi_label": str(effect.kpi_label),
        "lower_is_better": code in effects.LOWER_IS_BETTER,
        "pivot": effect.pivot,
        "pivot_stage": effect.pivot_stage,
        "excluded": _quarter(effect.excluded),
        "quarters": quarters,
        "before": side(effect.before),
        "after": side(effect.after),
        "before_total": _value(code, effect.before_total),
        "after_total": _value(code, effect.after_total),
        "change": effect.change,
        "change_shown": effects.shown_change(code, effect.change),
        "improved": effect.improved,
    }


# --- the viewsets ---------------------------------------------------------------------------------------------


class ExchangeViewSet(viewsets.GenericViewSet):
    """One serializer per action, a body read through it, and a write answered with the object as it is now."""

    serializer_classes: Mapping[str, type[serializers.BaseSerializer]] = {}
    detail_serializer_class: type[serializers.BaseSerializer] | None = None

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def caller(self) -> User | None:
        return user_or_none(self.request)

    def validated(self, serializer_class: type[serializers.BaseSerializer] | None = None) -> dict[str, Any]:
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.serializer_class
        assert serializer_class is not None
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary=_("经验做法列表"),
        description=_(
            "调用者范围内的经验做法（本园区效能督查人员和领导；挂职干部只看到来自本人挂职的），最新记录的在前；"
            "可按采纳进度（各采纳单位中走得最远的阶段）、效果指标、园区筛选和搜索。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("经验做法详情"),
        description=_("含各采纳单位及其借鉴、试行、推广日期。"),
        responses=PRACTICE_ERRORS.responses(200, PracticeDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("记录经验做法"),
        description=_(
            "效能督查人员记录本园区的经验做法；挂职干部只能记录来自本人挂职的（secondment 必填）。"
            "来自挂职时，学习地点和学习人可省略，取挂职单位和挂职干部。"
        ),
        request=PracticeCreateSerializer,
        responses=PRACTICE_ERRORS.responses(201, PracticeDetailSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改经验做法"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"
            "本园区的效能督查人员，或来自本人挂职的挂职干部可以修改；来自哪次挂职只有效能督查人员可以更改。"
        ),
        request=PracticeUpdateSerializer,
        responses=PRACTICE_ERRORS.responses(200, PracticeDetailSerializer, 400, 403, 404, 409),
    ),
)
class PracticeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ExchangeViewSet
):
    """Practices of the caller's zones (a cadre: of its own secondments)."""

    queryset = Practice.objects.none()
    serializer_class = PracticeSerializer
    serializer_classes = {
        "retrieve": PracticeDetailSerializer,
        "create": PracticeCreateSerializer,
        "partial_update": PracticeUpdateSerializer,
    }
    detail_serializer_class = PracticeDetailSerializer
    filterset_class = PracticeFilter
    permission_classes = [IsAuthenticated, ReadsExchange, ProposersWrite]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Practice]:
        found = Practice.objects.visible_to(self.caller()).select_related("zone", "secondment__cadre")
        return services.with_stage_counts(found).order_by("-created_at", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        user = actor(request)
        if data["zone"] is None and data["secondment"] is None and may_keep(user):
            # A supervisor of one zone need not name it.
            zones = list(zones_of(user)[:2])
            if len(zones) == 1:
                data["zone"] = zones[0]
        practice = services.create_practice(by=user, **data)
        return self.show(practice, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        practice = self.get_object()
        services.update_practice(practice, by=actor(request), **self.validated())
        return self.show(practice)


@extend_schema_view(
    list=extend_schema(
        summary=_("经验采纳列表"),
        description=_("调用者范围内的采纳记录；可按经验做法、阶段、采纳单位筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("经验采纳详情"),
        responses=ADOPTION_ERRORS.responses(200, AdoptionSerializer, 404),
    ),
    create=extend_schema(
        summary=_("登记采纳（借鉴）"),
        description=_(
            "本园区的效能督查人员登记一个单位借鉴某项经验做法：采纳单位须是经验做法所属园区本身或其部门，"
            "同一单位只登记一次；kpi 为衡量成效的平台指标。"
        ),
        request=AdoptionCreateSerializer,
        responses=ADOPTION_ERRORS.responses(201, AdoptionSerializer, 400, 403, 409),
    ),
)
class AdoptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ExchangeViewSet
):
    """Adoptions of practices in the caller's scope; the zone's supervisors record and advance them."""

    queryset = Adoption.objects.none()
    serializer_class = AdoptionSerializer
    serializer_classes = {"create": AdoptionCreateSerializer}
    detail_serializer_class = AdoptionSerializer
    filterset_class = AdoptionFilter
    permission_classes = [IsAuthenticated, ReadsExchange, KeepersWrite]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Adoption]:
        return (
            Adoption.objects.visible_to(self.caller())
            .select_related("practice", "unit")
            .order_by("practice_id", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        practice = data.pop("practice")
        adoption = services.add_adoption(practice, by=actor(request), **data)
        return self.show(adoption, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("推进采纳阶段"),
        description=_(
            "借鉴→试行→推广，一次只前进一步，不能跳过、不能后退；日期不早于上一阶段的日期、不晚于今天。"
            "带上读取时的 version；已被他人修改时返回 409。"
        ),
        request=AdoptionAdvanceSerializer,
        responses=ADOPTION_ERRORS.responses(200, AdoptionSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def advance(self, request: Request, pk: str | None = None) -> Response:
        adoption = self.get_object()
        data = self.validated(AdoptionAdvanceSerializer)
        services.advance(adoption, by=actor(request), **data)
        return self.show(adoption)

    @extend_schema(
        summary=_("采纳成效"),
        description=_(
            "采纳单位在试行日期（尚未试行时为借鉴日期）前后各若干季度的指标值，每季度带 n（分母）；"
            "分界日期所在季度不计入任何一侧。季度按北京时间的日期划分；未到的季度不计（n 为 0）。"
        ),
        parameters=[EffectQuerySerializer],
        responses=ADOPTION_ERRORS.responses(200, EffectSerializer, 400, 404),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def effect(self, request: Request, pk: str | None = None) -> Response:
        adoption = self.get_object()
        query = EffectQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        quarters = query.validated_data["quarters"]
        body = effect_body(services.effect(adoption, quarters), quarters)
        return Response(EffectSerializer(body).data)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("practices", PracticeViewSet, basename="practice")
    router.register("adoptions", AdoptionViewSet, basename="adoption")
