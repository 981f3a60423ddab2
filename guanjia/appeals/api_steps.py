"""The handling steps in the appeal API: 补充材料, 延期, 协办意见, 答复审核, 领导协调, 合并, and the decisions
taken on one row (an extension, a 申诉复核) or asked on one (a rating dispute).

AppealViewSet (api.py) takes these actions from AppealStepsMixin. Each step is a POST on
/api/appeals/{id}/<step>/ that carries the version the client read, as the transitions do, and
answers with the appeal and the caller's allowed actions; each calls one lifecycle service, whose
refusals the shared handler (guanjia.core.api) turns into 403, 409 or 400 with its Chinese message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanjia.appeals import lifecycle, permissions
from guanjia.appeals.models import Appeal, Extension, Rating, Review
from guanjia.appeals.serializers import (
    AppealDetailSerializer,
    ApproveAnswerSerializer,
    CoordinateSerializer,
    DisputeSerializer,
    ExtendSerializer,
    ExtensionDecisionSerializer,
    MergeSerializer,
    OpinionSerializer,
    PauseSerializer,
    RejectAnswerSerializer,
    ResumeSerializer,
    ReviewDecisionSerializer,
)
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.serializers import ErrorSerializer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

# The input of each action, for AppealViewSet.get_serializer_class.
STEP_INPUTS: dict[str, type[serializers.Serializer]] = {
    "pause": PauseSerializer,
    "resume": ResumeSerializer,
    "extend": ExtendSerializer,
    "opinion": OpinionSerializer,
    "approve_answer": ApproveAnswerSerializer,
    "reject_answer": RejectAnswerSerializer,
    "coordinate": CoordinateSerializer,
    "merge": MergeSerializer,
    "decide_extension": ExtensionDecisionSerializer,
    "decide_review": ReviewDecisionSerializer,
    "dispute_rating": DisputeSerializer,
}

ERRORS = {
    400: OpenApiResponse(description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}")),
    403: OpenApiResponse(ErrorSerializer, description=_("无权执行此操作")),
    404: OpenApiResponse(ErrorSerializer, description=_("诉求（或其中的记录）不存在或不在您的范围内")),
    409: OpenApiResponse(
        ErrorSerializer, description=_("已有新的进展（版本号不符）或当前状态不允许此操作：请重新读取")
    ),
}


def _schema(
    summary: StrOrPromise,
    request: type[serializers.Serializer],
    description: StrOrPromise = "",
    row: str | None = None,
) -> Any:
    parameters = []
    if row is not None:
        parameters.append(OpenApiParameter(row, int, OpenApiParameter.PATH, description=_("记录编号")))
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        parameters=parameters,
        responses={200: AppealDetailSerializer, **ERRORS},
    )


def _post(name: str, url_path: str | None = None) -> Any:
    """A POST on one appeal, without the list's filters and pages."""
    return action(
        detail=True,
        methods=["post"],
        url_path=url_path or name,
        url_name=name.replace("_", "-"),
        filter_backends=[],
        pagination_class=None,
    )


def _require_supervisor(appeal: Appeal, user: User) -> None:
    # Before the input's own checks, so that nobody else learns more than "not allowed" (the service
    # checks the same again).
    if not permissions.is_supervisor_of(appeal, user):
        raise exceptions.PermissionDenied(_("只有本园区的效能督查可以审批和复核"))


class AppealStepsMixin:
    """The handling steps of AppealViewSet; see the module's docstring."""

    if TYPE_CHECKING:

        def _transition(self, request: Request) -> tuple[Appeal, dict[str, Any], User]: ...
        def _show(self, pk: int, status_code: int = 200) -> Response: ...
        def get_object(self) -> Appeal: ...
        def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer: ...

    def _row_input(
        self, request: Request, *, supervisor: bool = False
    ) -> tuple[Appeal, dict[str, Any], User]:
        """The appeal in scope (else 404), the supervisor check where asked, and the validated input."""
        user = request.user
        if not isinstance(user, User):
            raise exceptions.NotAuthenticated()
        appeal = self.get_object()
        if supervisor:
            _require_supervisor(appeal, user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return appeal, dict(serializer.validated_data), user

    @_schema(
        _("要求补充材料"),
        PauseSerializer,
        _(
            "主办部门要求企业补充材料，诉求转为“待补充材料”并暂停计时；每次交办最多 2 次，每次最长 5 个工作日。"
        ),
    )
    @_post("pause")
    def pause(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.pause_appeal(appeal, request=data["request"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("补充材料后恢复办理"),
        ResumeSerializer,
        _("企业用户、其服务管家或主办部门提交补充材料，恢复计时，答复期限按暂停的工作日顺延。"),
    )
    @_post("resume")
    def resume(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.resume_appeal(appeal, reply=data["reply"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("申请延期"),
        ExtendSerializer,
        _("主办部门申请延期，由本园区效能督查审批；同一时间只能有一项待审批的申请。"),
    )
    @_post("extend")
    def extend(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.request_extension(appeal, days=data["days"], reason=data["reason"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("提交协办意见"),
        OpinionSerializer,
        _("协办部门的承办人或负责人对本部门的当前协办记录提交意见，只能提交一次。"),
    )
    @_post("opinion")
    def opinion(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.give_opinion(appeal, opinion=data["opinion"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("审核通过答复"),
        ApproveAnswerSerializer,
        _("主办部门负责人审核待审核的答复（可修改后发出），诉求转为“已答复”。"),
    )
    @_post("approve_answer")
    def approve_answer(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.approve_answer(appeal, answer=data["answer"], by=user)
        return self._show(appeal.pk)

    @_schema(_("退回答复修改"), RejectAnswerSerializer, _("主办部门负责人把待审核的答复退回撰写人修改。"))
    @_post("reject_answer")
    def reject_answer(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.reject_answer(appeal, note=data["note"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("记录领导协调意见"),
        CoordinateSerializer,
        _("第二次重办后，本园区领导记录协调意见；部门据此作出的下一次答复为最终答复。"),
    )
    @_post("coordinate")
    def coordinate(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.coordinate_appeal(appeal, decision=data["decision"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("合并到主诉求"),
        MergeSerializer,
        _("受理员把待受理或已退回的重复诉求合并到本园区已交办、尚未答复的主诉求。"),
    )
    @_post("merge")
    def merge(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        if not (user.has_role(Role.DISPATCHER) and appeal.zone_id in user.zone_ids()):
            raise exceptions.PermissionDenied(_("只有本园区的受理员可以合并诉求"))
        master = Appeal.objects.visible_to(user).filter(pk=data["master"], zone_id=appeal.zone_id).first()
        if master is None:
            raise serializers.ValidationError(
                {"master": [_("主诉求 #%(ref)s 不是本园区的诉求") % {"ref": data["master"]}]}
            )
        lifecycle.merge_appeal(appeal, into=master, note=data["note"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("审批延期申请"),
        ExtensionDecisionSerializer,
        _("本园区效能督查批准（答复期限顺延）或不批准（须写明理由）一项延期申请。"),
        row="extension_id",
    )
    @_post("decide_extension", r"extensions/(?P<extension_id>\d+)/decide")
    def decide_extension(self, request: Request, pk: str | None = None, extension_id: str = "") -> Response:
        appeal, data, user = self._row_input(request, supervisor=True)
        extension = get_object_or_404(
            Extension.objects.select_related("appeal"), pk=extension_id, appeal=appeal
        )
        extension.version = data["version"]
        lifecycle.decide_extension(extension, approve=data["approve"], note=data["note"], by=user)
        return self._show(appeal.pk)

    @_schema(
        _("作出复核决定"),
        ReviewDecisionSerializer,
        _(
            "本园区效能督查对评价申诉维持原评价（upheld）或改判（changed，须给出 level）；"
            "对不予受理复核维持（upheld）或退回重新受理（reopened）。"
        ),
        row="review_id",
    )
    @_post("decide_review", r"reviews/(?P<review_id>\d+)/decide")
    def decide_review(self, request: Request, pk: str | None = None, review_id: str = "") -> Response:
        appeal, data, user = self._row_input(request, supervisor=True)
        review = get_object_or_404(
            Review.objects.select_related("appeal", "rating"), pk=review_id, appeal=appeal
        )
        allowed = {
            Review.Kind.RATING: (Review.State.UPHELD, Review.State.CHANGED),
            Review.Kind.DECLINE: (Review.State.UPHELD, Review.State.REOPENED),
        }[Review.Kind(review.kind)]
        if data["decision"] not in allowed:
            raise serializers.ValidationError(
                {
                    "decision": [
                        _("%(kind)s只能选择 %(choices)s")
                        % {"kind": review.get_kind_display(), "choices": "、".join(allowed)}
                    ]
                }
            )
        if data["decision"] == Review.State.CHANGED and data["level"] is None:
            raise serializers.ValidationError({"level": [_("改判时请给出复核后的评价 level")]})
        review.version = data["version"]
        lifecycle.decide_review(
            review, decision=data["decision"], note=data["note"], level=data["level"], by=user
        )
        return self._show(appeal.pk)

    @_schema(
        _("对评价申请复核"),
        DisputeSerializer,
        _("被评价的承办部门在评价后 5 个工作日内，对“基本满意”及以下的评价申请复核，每条评价一次。"),
        row="rating_id",
    )
    @_post("dispute_rating", r"ratings/(?P<rating_id>\d+)/dispute")
    def dispute_rating(self, request: Request, pk: str | None = None, rating_id: str = "") -> Response:
        appeal, data, user = self._row_input(request)
        rating = get_object_or_404(
            Rating.objects.select_related("appeal", "assignment", "assignment__department"),
            pk=rating_id,
            appeal=appeal,
        )
        lifecycle.dispute_rating(rating, reason=data["reason"], by=user)
        return self._show(appeal.pk)
