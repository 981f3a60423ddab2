"""The dispatcher's desk on the appeal page, and the intake panel beside the appeal form.

- 智能分派建议: the routing suggestions of an appeal waiting for dispatch, loaded by HTMX once the page
  is shown (the page never waits for the model), with a one-click 按此交办 for the zone's dispatchers.
- 相似诉求: the open and recent appeals most like this one, with the merge buttons (共性问题).
- 您可能在重复提交: the same lookup for the text being typed on the appeal form.

An appeal out of the user's scope is a 404 (Appeal.objects.visible_to); one the user sees without the
desk's right (guanjia.dispatch.access) is a 403. The writes go through routing.take and
lifecycle.merge_appeal, which check the dispatcher and the state again; their refusals come back as
the appeal page's error message, and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanjia.appeals import lifecycle
from guanjia.appeals.models import OPEN_STATUSES, Appeal, Status
from guanjia.appeals.permissions import EnterpriseVisibility
from guanjia.appeals.presentation import HIDDEN_ENTERPRISE
from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import ServiceError
from guanjia.core.views_common import posted_version
from guanjia.dispatch import access, routing, similar
from guanjia.dispatch.forms import SimilarDraftForm
from guanjia.dispatch.models import Source
from guanjia.enterprises.models import Enterprise

SIMILAR_SIZE = 5
# The intake panel reads this much of what is being typed: enough to find the problem, bounded cost.
TEXT_MAX = 2000
# Where the candidate of a merge must stand, and where this appeal must stand, for each button.
HANDLED = (Status.DISPATCHED, Status.SIGNED, Status.WAITING)


def _appeal(request: AuthedRequest, pk: int) -> Appeal:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    queryset = Appeal.objects.visible_to(request.user).select_related("zone", "enterprise", "category")
    return get_object_or_404(queryset, pk=pk)


def _desk_appeal(request: AuthedRequest, pk: int) -> Appeal:
    appeal = _appeal(request, pk)
    if not access.reads_desk(request.user, appeal):
        raise PermissionDenied(_("只有本园区的受理员、效能督查和领导可以查看分派建议和相似诉求"))
    return appeal


# --- 智能分派建议 ---------------------------------------------------------------------------------------


def source_line(suggestions: routing.Suggestions) -> str:
    """Where the suggestions come from, in one line under the card's title."""
    model = suggestions.model
    if suggestions.source == Source.MODEL and model is not None:
        trained = f"{timezone.localdate(model.created_at):%Y-%m-%d}"  # Beijing's day
        if model.held_out_accuracy is None:
            return _("依据本园区历史诉求学习（%(date)s 训练）") % {"date": trained}
        return _("依据本园区历史诉求学习（%(date)s 训练，留出集准确率 %(accuracy)s%%）") % {
            "date": trained,
            "accuracy": round(model.held_out_accuracy * 100),
        }
    return _("依据关键词规则（历史数据不足）")


@require_GET
@login_required
def suggestions(request: AuthedRequest, pk: int) -> HttpResponse:
    """The card's body: up to three routes, each with a 按此交办 button for the zone's dispatchers."""
    appeal = _desk_appeal(request, pk)
    context: dict[str, Any] = {"appeal": appeal, "waiting": appeal.status in access.WAITING}
    if context["waiting"]:
        found = routing.suggest(appeal)
        context.update(
            routes=found.routes[:3],
            source=source_line(found),
            may_take=access.acts_on_desk(request.user, appeal),
        )
    return render(request, "dispatch/_suggestions.html", context)


@require_POST
@login_required
def take(request: AuthedRequest, pk: int, rank: int) -> HttpResponse:
    """按此交办: dispatch as suggestion `rank` says, then back to the appeal page."""
    appeal = _appeal(request, pk)
    if not access.acts_on_desk(request.user, appeal):
        raise PermissionDenied(_("只有本园区的受理员可以按建议交办"))
    # Judged against the state the user's page showed: a change made since is refused by the service.
    appeal.version = posted_version(request, appeal.version)
    try:
        route = routing.take(appeal, rank, by=request.user)
    except ServiceError as exc:
        messages.error(request, _("未交办：%(reason)s") % {"reason": exc})
    else:
        messages.success(request, _("已按建议交办至 %(department)s") % {"department": route.department.name})
    return redirect("appeals:detail", pk=appeal.pk)


# --- 相似诉求 -----------------------------------------------------------------------------------------


def _rows(found: list[similar.SimilarAppeal], visibility: EnterpriseVisibility) -> list[dict[str, Any]]:
    return [
        {
            "appeal": hit.appeal,
            "enterprise": hit.appeal.enterprise.name if visibility.sees(hit.appeal) else HIDDEN_ENTERPRISE,
            "score": hit.score,
            "same_enterprise": hit.same_enterprise,
        }
        for hit in found
    ]


def _merge_button(appeal: Appeal, candidate: Appeal) -> dict[str, Any] | None:
    """The merge this pair allows, if any: a waiting appeal goes into one being handled."""
    if appeal.status in access.WAITING and candidate.status in HANDLED and candidate.master_id is None:
        return {"child": appeal, "master": candidate, "label": _("合并到此诉求")}
    if appeal.status in HANDLED and appeal.master_id is None and candidate.status in access.WAITING:
        return {"child": candidate, "master": appeal, "label": _("并入本诉求")}
    return None


@require_GET
@login_required
def similar_appeals(request: AuthedRequest, pk: int) -> HttpResponse:
    """The card's body: the most similar open and recent appeals, with the merge buttons."""
    appeal = _desk_appeal(request, pk)
    user = request.user
    is_open = appeal.status in OPEN_STATUSES
    rows: list[dict[str, Any]] = []
    if is_open:
        found = similar.similar_to(appeal, within=Appeal.objects.visible_to(user), limit=SIMILAR_SIZE)
        rows = _rows(found, EnterpriseVisibility(user))
        if access.acts_on_desk(user, appeal):
            for row in rows:
                row["merge"] = _merge_button(appeal, row["appeal"])
    return render(request, "dispatch/_similar.html", {"appeal": appeal, "open": is_open, "rows": rows})


@require_POST
@login_required
def merge(request: AuthedRequest, child: int, master: int) -> HttpResponse:
    """合并: the child mirrors its master from now on (lifecycle.merge_appeal checks everything)."""
    duplicate = _appeal(request, child)
    into = _appeal(request, master)
    if not access.acts_on_desk(request.user, duplicate):
        raise PermissionDenied(_("只有本园区的受理员可以合并诉求"))
    duplicate.version = posted_version(request, duplicate.version)
    try:
        lifecycle.merge_appeal(duplicate, into=into, by=request.user)
    except ServiceError as exc:
        messages.error(request, _("未合并：%(reason)s") % {"reason": exc})
    else:
        messages.success(request, _("已合并到诉求 #%(ref)s") % {"ref": into.pk})
    return redirect("appeals:detail", pk=duplicate.pk)


# --- the intake panel ------------------------------------------------------------------------------


@require_GET
@login_required
def similar_draft(request: AuthedRequest) -> HttpResponse:
    """您可能在重复提交: the appeals like the text being typed, among those the user sees."""
    user = request.user
    if not access.may_search(user) or not user.roles:
        raise PermissionDenied(_("您的账号无权查看诉求"))
    form = SimilarDraftForm(request.GET)
    if not form.is_valid():
        raise Http404
    enterprise = get_object_or_404(Enterprise.objects.visible_to(user), pk=form.cleaned_data["enterprise"])
    title = form.cleaned_data["title"].strip()[:TEXT_MAX]
    body = form.cleaned_data["body"].strip()[:TEXT_MAX]
    rows: list[dict[str, Any]] = []
    if title or body:
        found = similar.similar_to_text(
            zone_id=enterprise.zone_id,
            title=title,
            body=body,
            within=Appeal.objects.visible_to(user),
            enterprise_id=enterprise.pk,
            limit=SIMILAR_SIZE,
        )
        rows = _rows(found, EnterpriseVisibility(user))
    return render(request, "dispatch/_similar_draft.html", {"rows": rows})


urlpatterns: list[URLPattern] = [
    path("dispatch/appeals/<int:pk>/suggestions/", suggestions, name="suggestions"),
    path("dispatch/appeals/<int:pk>/take/<int:rank>/", take, name="take"),
    path("dispatch/appeals/<int:pk>/similar/", similar_appeals, name="similar"),
    path("dispatch/appeals/<int:child>/merge-into/<int:master>/", merge, name="merge"),
    path("dispatch/similar/", similar_draft, name="similar-draft"),
]
