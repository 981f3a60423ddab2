"""REST API of smart dispatch: similar appeals (相似诉求, candidates of a 共性问题).

- GET /api/appeals/{id}/similar/?limit=5: the open and recent appeals most similar to one appeal, for
  its zone's desk readers (access.reads_desk), as the dispatcher's desk shows them.
- POST /api/similar-appeals/ {enterprise, title, body}: the same for a text being written, the intake
  check for API clients: for whoever may submit an appeal for that enterprise.

Either answer is cut to the caller's Appeal.objects.visible_to, and names a candidate's enterprise only
where the appeals pages would (a confidential appeal hides it from the handling department): otherwise
`enterprise` is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals import permissions
from guanjia.appeals.models import Appeal, Status
from guanjia.core.api_common import Refusals, ScopedField, actor
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.dispatch import access, similar
from guanjia.dispatch.api.suggestions import (
    BODY_MAX,
    TITLE_MAX,
    DispatchView,
    RefSerializer,
    appeal_in_scope,
    appeal_parameter,
)
from guanjia.enterprises.models import Enterprise

ERRORS = Refusals(
    forbidden=_(
        "无权执行此操作（相似诉求只对本园区的受理员、效能督查和领导开放；录入时只对可提交诉求的人开放）"
    ),
    missing=_("诉求不存在或不在您的范围内"),
)
LIMIT_DEFAULT = 5
LIMIT_MAX = 20
# Who may ever submit an appeal (appeals.permissions.submit_channel): anyone else is refused at once.
SUBMITTERS = frozenset({Role.ENTERPRISE_USER, Role.STEWARD, Role.DISPATCHER})


class SimilarEnterpriseRefSerializer(RefSerializer):
    """The enterprise of a similar appeal."""


class SimilarAppealBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    submitted_at = serializers.DateTimeField()
    enterprise = SimilarEnterpriseRefSerializer(
        allow_null=True, help_text=_("提出诉求的企业；对调用者保密（如承办部门看保密诉求）时为 null")
    )


class SimilarAppealSerializer(serializers.Serializer):
    appeal = SimilarAppealBriefSerializer()
    score = serializers.FloatField(help_text=_("相似度（0–1），越大越相似"))
    same_enterprise = serializers.BooleanField(
        help_text=_("true：同一企业（可能重复提交）；false：其他企业（共性问题候选）")
    )


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        label=_("条数"),
        min_value=1,
        max_value=LIMIT_MAX,
        required=False,
        default=LIMIT_DEFAULT,
        help_text=_("至多返回几条（1–20，默认 5）"),
    )


class EnterpriseField(ScopedField):
    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Enterprise]:
        return Enterprise.objects.visible_to(user)


class SimilarTextSerializer(LimitSerializer):
    enterprise = EnterpriseField(label=_("企业"), help_text=_("提出诉求的企业"))
    title = serializers.CharField(label=_("标题"), max_length=TITLE_MAX)
    body = serializers.CharField(
        label=_("诉求内容"), max_length=BODY_MAX, required=False, allow_blank=True, default=""
    )


def similar_data(user: User, found: Sequence[similar.SimilarAppeal]) -> list[dict[str, Any]]:
    """The answer's rows, each candidate read again through the caller's visible_to (a candidate it
    cannot see is left out, whatever the index returned), with its enterprise where the caller sees it."""
    rows = (
        Appeal.objects.visible_to(user)
        .select_related("enterprise")
        .in_bulk([item.appeal.pk for item in found])
    )
    visibility = permissions.EnterpriseVisibility(user)
    data = []
    for item in found:
        appeal = rows.get(item.appeal.pk)
        if appeal is None:
            continue
        enterprise = appeal.enterprise if visibility.sees(appeal) else None
        data.append(
            {
                "appeal": {
                    "id": appeal.pk,
                    "title": appeal.title,
                    "status": appeal.status,
                    "submitted_at": appeal.submitted_at,
                    "enterprise": {"id": enterprise.pk, "name": enterprise.name} if enterprise else None,
                },
                "score": item.score,
                "same_enterprise": item.same_enterprise,
            }
        )
    return data


class AppealSimilarView(DispatchView):
    """The dispatcher's desk: appeals similar to one appeal."""

    serializer_class = SimilarAppealSerializer

    @extend_schema(
        summary=_("诉求的相似诉求"),
        description=_(
            "本园区尚在办理或近期提交的、与该诉求最相似的诉求，最相似的在前，不含它本身：同一企业的（可能重复提交）"
            "和其他企业的（共性问题候选）。本园区的受理员、效能督查和领导可用；其他看得到该诉求的人 403，看不到的 404。"
        ),
        parameters=[appeal_parameter(), LimitSerializer],
        responses=ERRORS.responses(200, SimilarAppealSerializer(many=True), 400, 403, 404),
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        appeal = appeal_in_scope(request, pk)
        if not access.reads_desk(user, appeal):
            raise exceptions.PermissionDenied(_("只有本园区的受理员、效能督查和领导可以查看相似诉求"))
        query = LimitSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        found = similar.similar_to(
            appeal, within=Appeal.objects.visible_to(user), limit=query.validated_data["limit"]
        )
        return Response(SimilarAppealSerializer(similar_data(user, found), many=True).data)


class SimilarTextView(DispatchView):
    """Intake: appeals similar to a text being written for an enterprise."""

    serializer_class = SimilarTextSerializer

    @extend_schema(
        summary=_("录入时的相似诉求"),
        description=_(
            "提交诉求前检查：与这段文本最相似的、调用者范围内的诉求（企业用户只看到本企业的，服务管家只看到所服务企业的）。"
            "可为该企业提交诉求的人（企业用户、服务管家、本园区受理员）可用；企业不在调用者范围内时 400（字段 enterprise）。"
        ),
        request=SimilarTextSerializer,
        responses=ERRORS.responses(200, SimilarAppealSerializer(many=True), 400, 403),
    )
    def post(self, request: Request) -> Response:
        user = actor(request)
        if not user.has_any_role(SUBMITTERS):
            raise exceptions.PermissionDenied(_("只有企业用户、服务管家和受理员可以提交诉求"))
        serializer = SimilarTextSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enterprise: Enterprise = data["enterprise"]
        if permissions.submit_channel(enterprise, user) is None:
            raise exceptions.PermissionDenied(_("您不能为该企业提交诉求"))
        found = similar.similar_to_text(
            zone_id=enterprise.zone_id,
            title=data["title"],
            body=data["body"],
            within=Appeal.objects.visible_to(user),
            enterprise_id=enterprise.pk,
            limit=data["limit"],
        )
        return Response(SimilarAppealSerializer(similar_data(user, found), many=True).data)


extra_urlpatterns: list[URLPattern] = [
    re_path(r"^appeals/(?P<pk>[0-9]+)/similar/$", AppealSimilarView.as_view(), name="appeal-similar"),
    path("similar-appeals/", SimilarTextView.as_view(), name="similar-appeals"),
]


def register(router: DefaultRouter) -> None:
    """This part has no viewset: its routes are extra_urlpatterns."""
