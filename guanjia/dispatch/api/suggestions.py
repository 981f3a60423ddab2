"""REST API of smart dispatch: routing suggestions (智能分派建议).

- GET /api/appeals/{id}/suggestions/: the suggestions for an appeal waiting for dispatch, as the
  dispatcher's desk shows them; the round is recorded (routing.suggest) so its adoption is counted.
- POST /api/appeals/{id}/take-suggestion/ {rank}: 一键交办 by a suggestion (routing.take).
- POST /api/routing/suggest/ {zone, title, body}: the suggestions for a text that is no appeal yet.

An appeal the caller does not see is a 404; one it sees without being a desk reader (access.reads_desk)
a 403. The services' refusals become 400/403/409 through guanjia.core.api.api_exception_handler.
This module also holds what the other dispatch API modules share (the caller's check, the appeal in
scope, the {id, name} shapes).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals.models import Appeal, AppealCategory, Status
from guanjia.core.api import EditConflict
from guanjia.core.api_common import MAX_ID, NamedEnumField, Refusals, ScopedField, actor, user_or_none
from guanjia.core.errors import Conflict
from guanjia.core.models import OrgUnit, User
from guanjia.dispatch import access, routing
from guanjia.dispatch.models import ROUTING_READERS, RoutingModel, Source

ERRORS = Refusals(
    forbidden=_("无权执行此操作（分派建议只对本园区的受理员、效能督查和领导开放；一键交办只限本园区受理员）"),
    missing=_("诉求不存在或不在您的范围内"),
    stale=_("诉求已有新的进展或当前状态不允许此操作：请重新读取"),
)
NOT_WAITING = _("该诉求当前不是待受理或已退回状态，没有分派建议")
TITLE_MAX = Appeal._meta.get_field("title").max_length or 100
BODY_MAX = 5000

# --- what the dispatch API modules share -----------------------------------------------------------------


def business(user: User | None) -> bool:
    """An active account with a business role: the 三员 (admin accounts) and role-less accounts are not."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_admin_account
        and user.roles
    )


class BusinessAccount(BasePermission):
    """Every business account; what it then reads is cut to its scope by the endpoint."""

    message = _("您的账号无权使用智能分派")

    def has_permission(self, request: Request, view: Any) -> bool:
        return business(user_or_none(request))


class DispatchView(GenericAPIView):
    """One endpoint of smart dispatch: business accounts, one answer (no list, no filters)."""

    queryset = Appeal.objects.none()
    permission_classes = [IsAuthenticated, BusinessAccount]
    pagination_class = None
    filter_backends: list[Any] = []


def appeal_in_scope(request: Request, pk: Any) -> Appeal:
    """The appeal `pk` among those the caller sees (Appeal.objects.visible_to), else 404."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise exceptions.NotFound() from None
    if not 1 <= number <= MAX_ID:  # a number no id column holds is absent, not a database error
        raise exceptions.NotFound()
    return get_object_or_404(
        Appeal.objects.visible_to(user_or_none(request)).select_related("zone", "category"), pk=number
    )


def appeal_parameter() -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=str(_("诉求 id")))


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DispatchCategoryRefSerializer(RefSerializer):
    """A category, named with its parent (e.g. 营商环境 / 用地规划)."""


class DispatchDepartmentRefSerializer(RefSerializer):
    """A department (部门) of the zone."""


def ref(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj) if isinstance(obj, AppealCategory) else obj.name} if obj else None


class ZoneField(ScopedField):
    """A zone whose desk the caller reads: one of its own zones, for a dispatcher, supervisor or leader."""

    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        zone_ids = user.zone_ids() if user.has_any_role(ROUTING_READERS) else []
        return OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE, pk__in=zone_ids)


# --- shapes ---------------------------------------------------------------------------------------------


class RoutingSourceField(NamedEnumField):
    enum_name = "RoutingSourceEnum"
    choice_set = Source


class SuggestionModelSerializer(serializers.Serializer):
    """The zone's model that gave the suggestions."""

    id = serializers.IntegerField()
    trained_at = serializers.DateTimeField(help_text=_("训练时间"))
    held_out_accuracy = serializers.FloatField(allow_null=True, help_text=_("留出集准确率（0–1）"))


class SuggestedRouteSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text=_("名次：1–3"))
    category = DispatchCategoryRefSerializer(allow_null=True, help_text=_("建议的诉求类别"))
    department = DispatchDepartmentRefSerializer(help_text=_("建议的主办部门"))
    confidence = serializers.FloatField(help_text=_("置信度（0–1）"))
    words = serializers.ListField(
        child=serializers.CharField(), help_text=_("主要依据的词语，作用最强的在前")
    )


class RoutingSuggestionsSerializer(serializers.Serializer):
    source = RoutingSourceField(  # type: ignore[assignment]  # a field, not Field.source
        help_text=_("model：本园区历史诉求学习的模型；rules：关键词规则（历史数据不足）")
    )
    model = SuggestionModelSerializer(allow_null=True, help_text=_("给出建议的模型；依据关键词规则时为 null"))
    routes = SuggestedRouteSerializer(many=True, help_text=_("至多 3 项，最可能的在前；没有建议时为空"))


def suggestions_data(suggestions: routing.Suggestions) -> dict[str, Any]:
    model: RoutingModel | None = suggestions.model
    return {
        "source": suggestions.source,
        "model": (
            {"id": model.pk, "trained_at": model.created_at, "held_out_accuracy": model.held_out_accuracy}
            if model is not None
            else None
        ),
        "routes": [
            {
                "rank": route.rank,
                "category": ref(route.category),
                "department": ref(route.department),
                "confidence": route.confidence,
                "words": list(route.words),
            }
            for route in suggestions.routes
        ],
    }


class TakeSuggestionSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        label=_("建议名次"), min_value=1, max_value=3, help_text=_("按第几项建议交办：1–3")
    )
    version = serializers.IntegerField(
        label=_("版本"),
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("读取时诉求的 version（可选）；已有新进展时返回 409"),
    )


class TakenSerializer(serializers.Serializer):
    appeal = serializers.IntegerField(help_text=_("诉求 id"))
    rank = serializers.IntegerField(help_text=_("采纳的建议名次"))
    status = serializers.ChoiceField(choices=Status.choices, help_text=_("交办后的状态"))
    version = serializers.IntegerField(help_text=_("交办后诉求的 version"))
    lead_department = DispatchDepartmentRefSerializer(help_text=_("主办部门"))
    category = DispatchCategoryRefSerializer(allow_null=True, help_text=_("交办时的诉求类别"))


class SuggestTextSerializer(serializers.Serializer):
    zone = ZoneField(label=_("园区"), help_text=_("按该园区的模型或关键词规则给出建议"))
    title = serializers.CharField(label=_("标题"), max_length=TITLE_MAX)
    body = serializers.CharField(
        label=_("诉求内容"), max_length=BODY_MAX, required=False, allow_blank=True, default=""
    )


# --- views ----------------------------------------------------------------------------------------------


class SuggestionsView(DispatchView):
    """The dispatcher's desk: the suggestions for one appeal waiting for dispatch."""

    serializer_class = RoutingSuggestionsSerializer

    @extend_schema(
        summary=_("诉求的分派建议"),
        description=_(
            "待受理或已退回的诉求：最可能的 3 个主办部门（及类别），各带置信度和主要依据的词语。"
            "依据本园区的模型，历史数据不足时依据关键词规则。每个交办轮次记录一次，用于统计首选采纳率。"
            "本园区的受理员、效能督查和领导可用；其他看得到该诉求的人 403，看不到的 404；"
            "诉求已不在待交办状态时 409。"
        ),
        parameters=[appeal_parameter()],
        responses=ERRORS.responses(200, RoutingSuggestionsSerializer, 403, 404, 409),
    )
    def get(self, request: Request, pk: int) -> Response:
        appeal = appeal_in_scope(request, pk)
        if not access.reads_desk(actor(request), appeal):
            raise exceptions.PermissionDenied(_("只有本园区的受理员、效能督查和领导可以查看分派建议"))
        if appeal.status not in access.WAITING:
            raise Conflict(NOT_WAITING)
        return Response(RoutingSuggestionsSerializer(suggestions_data(routing.suggest(appeal))).data)


class TakeSuggestionView(DispatchView):
    """一键交办: dispatch an appeal as one of its suggestions says."""

    serializer_class = TakeSuggestionSerializer

    @extend_schema(
        summary=_("按建议一键交办"),
        description=_(
            "本园区的受理员按第 rank 项建议交办（受理如未受理），主办部门和类别取该项建议。"
            "没有该项建议、部门已不在本园区等业务规则不允许时 400 {detail}；非本园区受理员 403；"
            "诉求已有新进展（version 不符或状态已变）时 409。"
        ),
        parameters=[appeal_parameter()],
        request=TakeSuggestionSerializer,
        responses=ERRORS.responses(200, TakenSerializer, 400, 403, 404, 409),
    )
    def post(self, request: Request, pk: int) -> Response:
        user = actor(request)
        appeal = appeal_in_scope(request, pk)
        if not access.acts_on_desk(user, appeal):
            raise exceptions.PermissionDenied(_("只有本园区的受理员可以按建议交办"))
        serializer = TakeSuggestionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("version") is not None and data["version"] != appeal.version:
            raise EditConflict(
                _("该诉求已有新的进展（当前版本 %(current)s，您读取的是 %(sent)s），请重新读取后再提交")
                % {"current": appeal.version, "sent": data["version"]}
            )
        if appeal.status not in access.WAITING:
            raise Conflict(NOT_WAITING)
        route = routing.take(appeal, data["rank"], by=user)
        appeal.refresh_from_db()
        body = {
            "appeal": appeal.pk,
            "rank": route.rank,
            "status": appeal.status,
            "version": appeal.version,
            "lead_department": ref(route.department),
            "category": ref(appeal.category),
        }
        return Response(TakenSerializer(body).data)


class SuggestTextView(DispatchView):
    """The suggestions for a text of a zone that is not (yet) an appeal; nothing is recorded."""

    serializer_class = SuggestTextSerializer

    @extend_schema(
        summary=_("文本的分派建议"),
        description=_(
            "按园区的模型（或关键词规则）为一段尚未提交的诉求文本给出分派建议，不作记录。"
            "该园区的受理员、效能督查和领导可用；园区不在调用者范围内时 400（字段 zone）。"
        ),
        request=SuggestTextSerializer,
        responses=ERRORS.responses(200, RoutingSuggestionsSerializer, 400, 403),
    )
    def post(self, request: Request) -> Response:
        if not actor(request).has_any_role(ROUTING_READERS):
            raise exceptions.PermissionDenied(_("只有受理员、效能督查和领导可以获取分派建议"))
        serializer = SuggestTextSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        suggestions = routing.suggest_text(data["zone"], data["title"], data["body"])
        return Response(RoutingSuggestionsSerializer(suggestions_data(suggestions)).data)


extra_urlpatterns: list[URLPattern] = [
    # [0-9]+ as the appeals router's own detail routes: no sign, no decimal point.
    re_path(r"^appeals/(?P<pk>[0-9]+)/suggestions/$", SuggestionsView.as_view(), name="appeal-suggestions"),
    re_path(
        r"^appeals/(?P<pk>[0-9]+)/take-suggestion/$",
        TakeSuggestionView.as_view(),
        name="appeal-take-suggestion",
    ),
    path("routing/suggest/", SuggestTextView.as_view(), name="routing-suggest"),
]


def register(router: DefaultRouter) -> None:
    """This part has no viewset: its routes are extra_urlpatterns."""
