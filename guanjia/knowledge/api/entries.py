"""REST API of the knowledge base (知识库): entries (/api/knowledge/entries/), with publish, archive and the
enterprises' feedback, and the ranked search (/api/knowledge/search/?q=).

Reads are scoped (Entry.objects.visible_to: out of the caller's scope is a 404; an enterprise user and
a steward read published entries only); writes go through guanjia/knowledge/entries.py. Only the
handlers and heads of departments write entries (a dispatcher may create one from an answered 咨询
appeal); only enterprise users give feedback. A refused field answers 400 with {field: [message]}, a
stale version 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from guanjia.appeals.models import Appeal, AppealCategory
from guanjia.core.api_common import (
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    field_errors,
    user_or_none,
    version_field,
)
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.knowledge import entries as services
from guanjia.knowledge import finding
from guanjia.knowledge.access import keeps_some_entry
from guanjia.knowledge.forms.entries import SEARCH_MAX, EntryFilter
from guanjia.knowledge.models import Entry, EntryStatus, Feedback

ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有该条目维护部门的承办人或负责人可以维护条目；只有企业用户可以反馈）"),
    missing=_("知识条目不存在或不在您的范围内"),
    stale=_("知识条目已被他人修改：请重新读取后再提交"),
)
RANKED_MAX = 50


def _business(user: User | None) -> bool:
    return is_business_account(user) and bool(user and user.roles)


class ReadsKnowledge(BasePermission):
    """Every business account: what it reads is Entry.objects.visible_to's answer."""

    message = _("您的账号无权查看知识库")

    def has_permission(self, request: Request, view: Any) -> bool:
        return _business(user_or_none(request))


def _require(request: Request, allowed: Callable[[User], bool], message: Any) -> None:
    """A write's role check, made before the body is read or the object looked up."""
    if not allowed(actor(request)):
        raise PermissionDenied(message)


# --- shapes ---------------------------------------------------------------------------------------------


class EntryStatusField(NamedEnumField):
    enum_name = "KnowledgeEntryStatusEnum"
    choice_set = EntryStatus


class EntrySerializer(serializers.ModelSerializer):
    status = EntryStatusField(read_only=True)
    category_name = serializers.SerializerMethodField(help_text=_("类别名称"))
    department_name = serializers.CharField(source="department.name", read_only=True)
    resolved_count = serializers.IntegerField(read_only=True, help_text=_("企业反馈“问题已解决”的次数"))
    unresolved_count = serializers.IntegerField(read_only=True, help_text=_("企业反馈“没有解决”的次数"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "question",
            "answer",
            "keywords",
            "category",
            "category_name",
            "zone",
            "department",
            "department_name",
            "status",
            "source_appeal",
            "resolved_count",
            "unresolved_count",
            "created_at",
            "updated_at",
            "published_at",
            "version",
        ]
        read_only_fields = fields

    def get_category_name(self, entry: Entry) -> str:
        return str(entry.category) if entry.category is not None else ""


@extend_schema_field(OpenApiTypes.INT)
class CategoryField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("类别 {pk_value} 不存在")}

    def get_queryset(self) -> QuerySet[AppealCategory]:
        return AppealCategory.objects.all()


class AppealField(ScopedField):
    default_error_messages = {"does_not_exist": _("诉求 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Appeal]:
        return Appeal.objects.visible_to(user)


class DepartmentField(ScopedField):
    default_error_messages = {"does_not_exist": _("部门 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, parent_id__in=user.zone_ids())


class EntryCreateSerializer(serializers.Serializer):
    question = serializers.CharField(label=_("问题"), max_length=services.QUESTION_MAX)
    answer = serializers.CharField(label=_("解答"), max_length=services.ANSWER_MAX)
    keywords = serializers.CharField(
        label=_("关键词/同义词"),
        max_length=services.KEYWORDS_MAX,
        required=False,
        allow_blank=True,
        default="",
    )
    category = CategoryField(label=_("类别"), required=False, allow_null=True, default=None)
    source_appeal = AppealField(
        label=_("来源诉求"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("由已答复的咨询类诉求生成时填写"),
    )
    department = DepartmentField(
        label=_("维护部门"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("不填为本人所在部门；由诉求生成时须为答复过该诉求的部门"),
    )


class EntryUpdateSerializer(serializers.Serializer):
    question = serializers.CharField(label=_("问题"), max_length=services.QUESTION_MAX, required=False)
    answer = serializers.CharField(label=_("解答"), max_length=services.ANSWER_MAX, required=False)
    keywords = serializers.CharField(
        label=_("关键词/同义词"), max_length=services.KEYWORDS_MAX, required=False, allow_blank=True
    )
    category = CategoryField(label=_("类别"), required=False, allow_null=True)
    version = version_field(label=_("版本"), max_value=2**31 - 1)


class EntryVersionSerializer(serializers.Serializer):
    version = version_field(label=_("版本"), max_value=2**31 - 1)


class FeedbackInSerializer(serializers.Serializer):
    resolved = serializers.BooleanField(label=_("是否解决"), help_text=_("true：问题已解决；false：没有解决"))
    query = serializers.CharField(
        label=_("搜索词"), max_length=services.QUERY_MAX, required=False, allow_blank=True, default=""
    )


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "entry", "enterprise", "day", "resolved", "query", "at"]
        read_only_fields = fields


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(label=_("搜索词"), max_length=SEARCH_MAX)
    limit = serializers.IntegerField(
        label=_("条数"), min_value=1, max_value=RANKED_MAX, required=False, default=10
    )


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("知识条目 id"))
    question = serializers.CharField()
    question_html = serializers.CharField(help_text=_("问题，命中词以 <mark> 标出（已转义）"))
    snippet_html = serializers.CharField(
        help_text=_("解答中命中词附近的片段（已转义，命中词以 <mark> 标出）")
    )
    answer = serializers.CharField()
    score = serializers.FloatField(help_text=_("相关度，越大越相关"))
    status = EntryStatusField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()


def _hit(found: finding.Found) -> dict[str, Any]:
    entry = found.entry
    return {
        "id": entry.pk,
        "question": entry.question,
        "question_html": str(found.hit.title_html),
        "snippet_html": str(found.hit.snippet_html()),
        "answer": entry.answer,
        "score": found.hit.score,
        "status": entry.status,
        "department": entry.department_id,
        "department_name": entry.department.name,
    }


# --- entries -----------------------------------------------------------------------------------------------

RESPONSES_WRITE = ERRORS.responses(200, EntrySerializer, 400, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary="List knowledge entries",
        description=(
            "Entries the caller reads (enterprise users and stewards: published ones of their zones; keepers: "
            "also their department's drafts; dispatchers, supervisors and leaders: all of their zones), newest "
            "first. With q, ranked by the Chinese full-text search (best first, at most 50)."
        ),
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description=str(_("搜索词：按相关度排序（最多 50 条）")),
                required=False,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Retrieve a knowledge entry", responses=ERRORS.responses(200, EntrySerializer, 404)
    ),
    create=extend_schema(
        summary="Create a knowledge entry",
        description=(
            "A handler or head of a department writes a draft for its own department; with source_appeal, an "
            "answered consultation (咨询) appeal becomes a draft of a department that answered it (a dispatcher "
            "of the appeal's zone names the department)."
        ),
        request=EntryCreateSerializer,
        responses=ERRORS.responses(201, EntrySerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary="Update a knowledge entry",
        description="Send the fields that change and the version read; 409 when someone changed it meanwhile.",
        request=EntryUpdateSerializer,
        responses=RESPONSES_WRITE,
    ),
)
class EntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The knowledge base as the caller reads it; a department's keepers write its entries."""

    queryset = Entry.objects.none()
    serializer_class = EntrySerializer
    permission_classes = [IsAuthenticated, ReadsKnowledge]
    filterset_class = EntryFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Entry]:
        visible = Entry.objects.visible_to(user_or_none(self.request))
        if self.action == "feedback":
            visible = visible.published()
        return (
            services.with_counts(visible)
            .select_related("department", "category", "category__parent")
            .order_by("-updated_at", "-pk")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return {
            "create": EntryCreateSerializer,
            "partial_update": EntryUpdateSerializer,
            "publish": EntryVersionSerializer,
            "archive": EntryVersionSerializer,
            "feedback": FeedbackInSerializer,
        }.get(self.action or "", EntrySerializer)

    def validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, entry: Entry, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=entry.pk)
        return Response(EntrySerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        q = str(request.query_params.get("q", "")).strip()[:SEARCH_MAX]
        scoped = self.filter_queryset(self.get_queryset())
        if not q:
            return super().list(request, *args, **kwargs)
        found = finding.find(actor(request), q, limit=RANKED_MAX, published_only=False, within=scoped)
        rows = scoped.in_bulk([f.entry.pk for f in found])
        ranked = [rows[f.entry.pk] for f in found if f.entry.pk in rows]
        page = self.paginate_queryset(ranked)  # type: ignore[arg-type]
        if page is not None:
            return self.get_paginated_response(EntrySerializer(page, many=True).data)
        return Response(EntrySerializer(ranked, many=True).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(
            request,
            lambda user: keeps_some_entry(user) or user.has_role(Role.DISPATCHER),
            _("只有部门承办人、部门负责人或受理员可以新建知识条目"),
        )
        data = self.validated()
        entry = field_errors(lambda: services.create_entry(by=actor(request), **data))
        return self.show(entry, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(request, keeps_some_entry, _("只有部门承办人或部门负责人可以维护知识条目"))
        entry = self.get_object()
        data = self.validated()
        values = {
            "question": data.get("question", entry.question),
            "answer": data.get("answer", entry.answer),
            "keywords": data.get("keywords", entry.keywords),
            "category": data.get("category", entry.category),
        }
        field_errors(
            lambda: services.update_entry(entry, by=actor(request), version=data["version"], **values)
        )
        return self.show(entry)

    @extend_schema(
        summary="Publish a knowledge entry",
        description="A keeper publishes a draft (or an archived entry again): the zone's enterprises find it.",
        request=EntryVersionSerializer,
        responses=RESPONSES_WRITE,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def publish(self, request: Request, pk: str | None = None) -> Response:
        _require(request, keeps_some_entry, _("只有部门承办人或部门负责人可以发布知识条目"))
        entry = self.get_object()
        services.publish(entry, by=actor(request), version=self.validated()["version"])
        return self.show(entry)

    @extend_schema(
        summary="Archive a knowledge entry",
        description="A keeper withdraws an entry: it is no longer found on the portal.",
        request=EntryVersionSerializer,
        responses=RESPONSES_WRITE,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def archive(self, request: Request, pk: str | None = None) -> Response:
        _require(request, keeps_some_entry, _("只有部门承办人或部门负责人可以停用知识条目"))
        entry = self.get_object()
        services.archive(entry, by=actor(request), version=self.validated()["version"])
        return self.show(entry)

    @extend_schema(
        summary="Say whether an entry solved the question",
        description=(
            "An enterprise user's answer to “did this solve your question?” on a published entry: one per "
            "entry, user and day, the last answer of the day counts. resolved=true counts as a question "
            "answered without an appeal."
        ),
        request=FeedbackInSerializer,
        responses=ERRORS.responses(200, FeedbackSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def feedback(self, request: Request, pk: str | None = None) -> Response:
        _require(request, lambda user: user.has_role(Role.ENTERPRISE_USER), _("只有企业用户可以反馈是否解决"))
        entry = self.get_object()
        data = self.validated()
        given = services.record_feedback(
            entry, by=actor(request), resolved=data["resolved"], query=data["query"]
        )
        return Response(FeedbackSerializer(given).data)


class SearchView(APIView):
    """The knowledge base's ranked search, within what the caller reads."""

    permission_classes = [IsAuthenticated, ReadsKnowledge]

    @extend_schema(
        summary="Search the knowledge base",
        description=(
            "Entries matching q (Chinese, segmented by jieba; word order and form do not matter), best first, "
            "with the question and a snippet of the answer highlighted. Enterprise users and stewards find "
            "published entries of their zones; keepers and the zone's overseers also drafts."
        ),
        parameters=[SearchQuerySerializer],
        responses=ERRORS.responses(200, SearchHitSerializer(many=True), 400, 403),
    )
    def get(self, request: Request) -> Response:
        query = SearchQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        found = finding.find(actor(request), query.validated_data["q"], limit=query.validated_data["limit"])
        return Response(SearchHitSerializer([_hit(f) for f in found], many=True).data)


extra_urlpatterns: list[URLPattern] = [
    path("knowledge/search/", SearchView.as_view(), name="knowledge-search"),
]


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("knowledge/entries", EntryViewSet, basename="knowledge-entry")
