"""REST API of smart dispatch: the zones' routing models (分派模型), their adoption, and the keyword rules.

- GET /api/routing-models/?zone=, GET /api/routing-models/{id}/: the training runs of the zones whose
  routing page the caller reads (access.routing_zone_ids); the fitted pipeline (blob) is never sent.
- POST /api/routing-models/retrain/ {zone}: a keeper (access.keeps_routing) starts a training run; it
  runs in the worker (tasks.retrain_zone): 202 {"queued": true}.
- GET /api/routing-models/adoption/?zone=&since=&until=: how often the dispatchers took the suggestions.
- GET /api/keyword-rules/, GET/PATCH /api/keyword-rules/{id}/ {words, version}: the rules that stand in
  while a zone has too little history; read by the routing readers, written by the keepers (a stale
  version is 409).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api_common import IdFilter, Refusals, ScopedField, actor, user_or_none, version_field
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.workcalendar import BEIJING
from guanjia.dispatch import access, routing, rules, tasks
from guanjia.dispatch.models import KeywordRule, RoutingModel

ERRORS = Refusals(
    forbidden=_(
        "无权执行此操作（分派模型由本园区的受理员、效能督查和领导查看，由受理员或系统管理员重新训练和维护关键词）"
    ),
    missing=_("分派模型或关键词规则不存在或不在您的范围内"),
    stale=_("关键词规则已被他人修改：请重新读取后再提交"),
)
ADOPTION_DAYS = 30
WORDS_MAX = 4000


class ReadsRouting(BasePermission):
    """The routing page's readers: the zones' dispatchers, supervisors and leaders, and the system admin."""

    message = _("只有受理员、效能督查、领导或系统管理员可以查看分派模型")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        return user is not None and bool(access.routing_zone_ids(user))


def _require_keeper(request: Request) -> User:
    user = actor(request)
    if not access.keeps_routing(user):
        raise exceptions.PermissionDenied(_("只有受理员或系统管理员可以重新训练分派模型和修改关键词规则"))
    return user


class RoutingZoneField(ScopedField):
    """A zone whose routing page the caller reads."""

    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE, pk__in=access.routing_zone_ids(user))


class RoutingModelFilter(django_filters.FilterSet):
    zone = IdFilter(field_name="zone_id", label=_("园区"), help_text=_("只列出该园区的训练记录"))

    class Meta:
        model = RoutingModel
        fields = ["zone"]


# --- shapes ---------------------------------------------------------------------------------------------


class RoutingModelSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    trained_by_name = serializers.SerializerMethodField(help_text=_("发起人姓名；定时训练为空"))

    class Meta:
        model = RoutingModel
        fields = [
            "id",
            "zone",
            "zone_name",
            "created_at",
            "trained_by",
            "trained_by_name",
            "algorithm",
            "samples",
            "classes",
            "held_out",
            "held_out_accuracy",
            "held_out_macro_f1",
            "previous_accuracy",
            "is_active",
            "note",
        ]
        read_only_fields = fields

    def get_trained_by_name(self, model: RoutingModel) -> str:
        return model.trained_by.full_name if model.trained_by is not None else ""


class RetrainSerializer(serializers.Serializer):
    zone = RoutingZoneField(label=_("园区"), help_text=_("重新训练该园区的分派模型"))


class QueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField(help_text=_("已交给后台任务；训练完成后读取列表查看结果"))


class AdoptionQuerySerializer(serializers.Serializer):
    zone = RoutingZoneField(
        label=_("园区"), required=False, help_text=_("只统计该园区；默认调用者可查看的全部园区")
    )
    since = serializers.DateField(
        label=_("开始日期"), required=False, help_text=_("开始日期（含），默认 30 天前")
    )
    until = serializers.DateField(
        label=_("结束日期"), required=False, help_text=_("结束日期（含），默认今天")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.now().astimezone(BEIJING).date()
        attrs.setdefault("until", today)
        attrs.setdefault("since", attrs["until"] - timedelta(days=ADOPTION_DAYS))
        if attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": [_("结束日期不能早于开始日期")]})
        return attrs


class RoutingAdoptionSerializer(serializers.Serializer):
    zones = serializers.ListField(child=serializers.IntegerField(), help_text=_("统计的园区 id"))
    since = serializers.DateField(help_text=_("开始日期（含）"))
    until = serializers.DateField(help_text=_("结束日期（含）"))
    dispatched = serializers.IntegerField(help_text=_("期间内有分派建议的交办轮次"))
    first = serializers.IntegerField(help_text=_("其中按第 1 项建议的主办部门交办的"))
    top3 = serializers.IntegerField(help_text=_("其中按前 3 项建议之一交办的"))
    one_click = serializers.IntegerField(help_text=_("其中一键交办的"))
    first_rate = serializers.FloatField(allow_null=True, help_text=_("首选采纳率（0–1）；没有交办时为 null"))
    top3_rate = serializers.FloatField(allow_null=True, help_text=_("前三命中率（0–1）；没有交办时为 null"))


class KeywordRuleSerializer(serializers.ModelSerializer):
    category_name = serializers.SerializerMethodField(help_text=_("诉求类别名称"))
    word_list = serializers.SerializerMethodField(help_text=_("拆分后的关键词"))

    class Meta:
        model = KeywordRule
        fields = ["id", "category", "category_name", "words", "word_list", "version", "updated_at"]
        read_only_fields = fields

    def get_category_name(self, rule: KeywordRule) -> str:
        return str(rule.category)

    def get_word_list(self, rule: KeywordRule) -> list[str]:
        return rule.word_list()


class KeywordRuleUpdateSerializer(serializers.Serializer):
    words = serializers.CharField(
        label=_("关键词"), max_length=WORDS_MAX, help_text=_("以空格或逗号分隔，至多 200 个")
    )
    version = version_field(label=_("版本"), max_value=2**31 - 1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


# --- views ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("分派模型训练记录"),
        description=_(
            "调用者可查看的园区的训练记录，新的在前：样本数、留出集准确率和宏平均 F1、与当时模型的比较、是否启用及说明。"
            "不含模型文件本身。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("一次分派模型训练"), responses=ERRORS.responses(200, RoutingModelSerializer, 404)
    ),
)
class RoutingModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The training runs of the zones whose routing page the caller reads."""

    queryset = RoutingModel.objects.none()
    serializer_class = RoutingModelSerializer
    permission_classes = [IsAuthenticated, ReadsRouting]
    filterset_class = RoutingModelFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[RoutingModel]:
        user = user_or_none(self.request)
        zone_ids = access.routing_zone_ids(user) if user is not None else []
        return (
            RoutingModel.objects.filter(zone_id__in=zone_ids)
            .defer("blob")
            .select_related("zone", "trained_by")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        summary=_("重新训练分派模型"),
        description=_(
            "在后台用该园区的历史诉求训练一个新模型，在留出集上不差于当前模型时才启用。"
            "本园区的受理员或系统管理员可用；园区不在调用者范围内时 400（字段 zone）。"
        ),
        request=RetrainSerializer,
        responses=ERRORS.responses(202, QueuedSerializer, 400, 403),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def retrain(self, request: Request) -> Response:
        user = _require_keeper(request)
        serializer = RetrainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        zone: OrgUnit = serializer.validated_data["zone"]
        if not access.keeps_routing(user, zone.pk):
            raise exceptions.PermissionDenied(_("只有本园区的受理员或系统管理员可以重新训练分派模型"))
        tasks.retrain_zone(zone.pk, user.pk)
        return Response(QueuedSerializer({"queued": True}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary=_("分派建议采纳率"),
        description=_(
            "期间内（按交办时间，北京时间的自然日，含首尾）有分派建议的交办轮次中，按第 1 项、前 3 项建议交办的和一键交办的"
            "次数及比率。默认最近 30 天、调用者可查看的全部园区。"
        ),
        parameters=[AdoptionQuerySerializer],
        responses=ERRORS.responses(200, RoutingAdoptionSerializer, 400, 403),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def adoption(self, request: Request) -> Response:
        user = actor(request)
        query = AdoptionQuerySerializer(data=request.query_params.dict(), context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        zone_ids = [data["zone"].pk] if data.get("zone") else sorted(access.routing_zone_ids(user))
        figures = routing.adoption(
            zone_ids, _day_start(data["since"]), _day_start(data["until"] + timedelta(days=1))
        )
        body = {
            "zones": zone_ids,
            "since": data["since"],
            "until": data["until"],
            "dispatched": figures.dispatched,
            "first": figures.first,
            "top3": figures.top3,
            "one_click": figures.one_click,
            "first_rate": figures.first_rate,
            "top3_rate": figures.top3_rate,
        }
        return Response(RoutingAdoptionSerializer(body).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("分派关键词规则"),
        description=_("各诉求类别的关键词：园区历史数据不足以训练模型时，分派建议依据它们给出。"),
    ),
    retrieve=extend_schema(
        summary=_("一条分派关键词规则"), responses=ERRORS.responses(200, KeywordRuleSerializer, 404)
    ),
    partial_update=extend_schema(
        summary=_("修改分派关键词规则"),
        description=_(
            "受理员或系统管理员修改一个类别的关键词，带上读取时的 version；已被他人修改时 409。"
            "关键词为空或超过 200 个时 400（字段 words）。"
        ),
        request=KeywordRuleUpdateSerializer,
        responses=ERRORS.responses(200, KeywordRuleSerializer, 400, 403, 404, 409),
    ),
)
class KeywordRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The keyword rules of the categories: read by the routing readers, written by the keepers."""

    queryset = KeywordRule.objects.none()
    serializer_class = KeywordRuleSerializer
    permission_classes = [IsAuthenticated, ReadsRouting]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[KeywordRule]:
        return KeywordRule.objects.select_related("category", "category__parent").order_by(
            "category__position", "category__code", "pk"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return KeywordRuleUpdateSerializer
        return KeywordRuleSerializer

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _require_keeper(request)
        rule = self.get_object()
        serializer = KeywordRuleUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            rules.save_rule(rule, words=data["words"], version=data["version"], by=user)
        except (Conflict, NotAllowed):
            raise
        except ServiceError as exc:  # the words the rules refuse (none, or too many): name the field
            raise serializers.ValidationError({"words": [str(exc)]}) from None
        return Response(KeywordRuleSerializer(self.get_queryset().get(pk=rule.pk)).data)


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("routing-models", RoutingModelViewSet, basename="routing-model")
    router.register("keyword-rules", KeywordRuleViewSet, basename="keyword-rule")


extra_urlpatterns: list[URLPattern] = []
