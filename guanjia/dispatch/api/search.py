"""REST API of smart dispatch: the one full-text search over appeals, answers and the knowledge base.

GET /api/search/?q=&kind=appeal|answer|knowledge&limit=: ranked hits, highlighted, each kind cut to the
caller's scope by that kind's visible_to (guanjia.dispatch.searching.find). Every business account may
search (access.may_search); the 三员 (admin accounts) see no business data and get 403.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from guanjia.core.api_common import NamedEnumField, Refusals, actor, user_or_none
from guanjia.dispatch import access, searching

ERRORS = Refusals(forbidden=_("无权执行此操作（系统管理员、安全管理员和审计管理员不能检索业务数据）"))
QUERY_MAX = 200
LIMIT_DEFAULT = 20
LIMIT_MAX = 50


class SearchKind(models.TextChoices):
    APPEAL = "appeal", _("诉求")
    ANSWER = "answer", _("答复")
    KNOWLEDGE = "knowledge", _("知识库")


class SearchKindField(NamedEnumField):
    enum_name = "SearchKindEnum"
    choice_set = SearchKind


class Searches(BasePermission):
    message = _("您的账号无权检索")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        return user is not None and access.may_search(user)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(label=_("搜索词"), max_length=QUERY_MAX, help_text=_("搜索词，词序不限"))
    kind = SearchKindField(
        label=_("类型"), required=False, help_text=_("只检索一类：诉求、答复或知识库；不填检索全部")
    )
    limit = serializers.IntegerField(
        label=_("条数"),
        min_value=1,
        max_value=LIMIT_MAX,
        required=False,
        default=LIMIT_DEFAULT,
        help_text=_("至多返回几条（1–50，默认 20）"),
    )


class DispatchSearchHitSerializer(serializers.Serializer):
    kind = SearchKindField(help_text=_("命中的类型"))
    object_id = serializers.IntegerField(help_text=_("诉求 id、承办记录 id（答复）或知识条目 id"))
    url = serializers.CharField(help_text=_("调用者可打开的页面地址"))
    title_html = serializers.CharField(help_text=_("标题，命中词以 <mark> 标出（已转义）"))
    snippet_html = serializers.CharField(
        help_text=_("正文中命中词附近的片段（已转义，命中词以 <mark> 标出）")
    )
    score = serializers.FloatField(help_text=_("相关度，越大越相关"))


class SearchView(APIView):
    """Full-text search in Chinese, within the caller's scope."""

    permission_classes = [IsAuthenticated, Searches]

    @extend_schema(
        summary=_("全文检索"),
        description=_(
            "在诉求、答复和知识库中检索（中文经 jieba 分词，词序不限），最相关的在前，命中词高亮。"
            "每类结果只含调用者可见的：企业用户只检索到本企业的诉求和答复，承办人只检索到本部门经手的。"
            "缺少 q 时 400（字段 q）。"
        ),
        parameters=[SearchQuerySerializer],
        responses=ERRORS.responses(200, DispatchSearchHitSerializer(many=True), 400, 403),
    )
    def get(self, request: Request) -> Response:
        query = SearchQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = searching.find(actor(request), data["q"], kind=data.get("kind") or None, limit=data["limit"])
        hits = [
            {
                "kind": hit.kind,
                "object_id": hit.object_id,
                "url": hit.url,
                "title_html": str(hit.title_html),
                "snippet_html": str(hit.snippet_html),
                "score": hit.score,
            }
            for hit in found
        ]
        return Response(DispatchSearchHitSerializer(hits, many=True).data)


extra_urlpatterns: list[URLPattern] = [
    path("search/", SearchView.as_view(), name="search"),
]


def register(router: DefaultRouter) -> None:
    """This part has no viewset: its route is in extra_urlpatterns."""
