"""Decisions on one row of an appeal — an extension, a 申诉复核, a rating dispute — and the page
where supervisors and leaders find what waits for them (审批与协调).

As on the appeal page: reads go through Appeal.objects.visible_to (out of scope is a 404), a
user who may never take the decision gets a 403, and the lifecycle service decides the rest;
its refusal is shown as it is.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.appeals import lifecycle, pages, permissions, presentation, steps
from guanjia.appeals.forms import CoordinateForm
from guanjia.appeals.models import Appeal, Extension, Rating, Review
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import form_errors_message
from guanjia.core.roles import Role


def _back(request: AuthedRequest, appeal: Appeal) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(reverse("appeals:detail", args=[appeal.pk]))


def _version(request: AuthedRequest, current: int) -> int:
    # Judge the decision against the row the user's page showed: a change made since is refused.
    try:
        return int(request.POST.get("version", current))
    except ValueError:
        return 0


def _invalid(
    request: AuthedRequest, appeal: Appeal, label: str, prefix: str, form: forms.Form
) -> HttpResponse:
    messages.error(
        request, _("%(action)s未提交：%(errors)s") % {"action": label, "errors": form_errors_message(form)}
    )
    return pages._render_detail(request, appeal, bound={prefix: form})


def _run(request: AuthedRequest, appeal: Appeal, label: str, service: Any, done: str) -> HttpResponse:
    try:
        service()
    except ServiceError as exc:
        messages.error(request, _("%(action)s未成功：%(reason)s") % {"action": label, "reason": exc})
    else:
        messages.success(request, done)
    return _back(request, appeal)


@require_POST
@login_required
def extension_decide(request: AuthedRequest, pk: int, extension: int) -> HttpResponse:
    """A supervisor of the zone approves or denies one extension request."""
    appeal = pages._visible_appeal(request, pk)
    row = get_object_or_404(Extension.objects.select_related("appeal"), pk=extension, appeal=appeal)
    if not permissions.is_supervisor_of(appeal, request.user):
        raise PermissionDenied(_("只有本园区的效能督查可以审批延期"))
    label = _("延期审批")
    form = steps.extension_form(row, request.POST)
    if not form.is_valid():
        return _invalid(request, appeal, label, steps.extension_prefix(row), form)
    row.version = _version(request, row.version)
    approve = form.cleaned_data["decision"] == "approve"
    return _run(
        request,
        appeal,
        label,
        lambda: lifecycle.decide_extension(
            row, approve=approve, note=form.cleaned_data["note"], by=request.user
        ),
        _("已批准延期") if approve else _("已不批准延期"),
    )


@require_POST
@login_required
def review_decide(request: AuthedRequest, pk: int, review: int) -> HttpResponse:
    """A supervisor of the zone decides one 申诉复核."""
    appeal = pages._visible_appeal(request, pk)
    row = get_object_or_404(Review.objects.select_related("appeal", "rating"), pk=review, appeal=appeal)
    if not permissions.is_supervisor_of(appeal, request.user):
        raise PermissionDenied(_("只有本园区的效能督查可以复核"))
    label = _("复核")
    form = steps.review_form(row, request.POST)
    if not form.is_valid():
        return _invalid(request, appeal, label, steps.review_prefix(row), form)
    row.version = _version(request, row.version)
    data = form.cleaned_data
    return _run(
        request,
        appeal,
        label,
        lambda: lifecycle.decide_review(
            row, decision=data["decision"], note=data["note"], level=data.get("level"), by=request.user
        ),
        _("已作出复核决定：%(state)s") % {"state": Review.State(data["decision"]).label},
    )


@require_POST
@login_required
def rating_dispute(request: AuthedRequest, pk: int, rating: int) -> HttpResponse:
    """The rated department asks for a 申诉复核 of one rating."""
    appeal = pages._visible_appeal(request, pk)
    row = get_object_or_404(
        Rating.objects.select_related("appeal", "assignment", "assignment__department"),
        pk=rating,
        appeal=appeal,
    )
    user = request.user
    if not (
        row.assignment is not None
        and user.has_any_role(permissions.DEPARTMENT_ROLES)
        and user.unit_id == row.assignment.department_id
    ):
        raise PermissionDenied(_("只有被评价的承办部门可以申请复核"))
    label = _("申请评价复核")
    form = steps.dispute_form(row, request.POST)
    if not form.is_valid():
        return _invalid(request, appeal, label, steps.dispute_prefix(row), form)
    return _run(
        request,
        appeal,
        label,
        lambda: lifecycle.dispute_rating(row, reason=form.cleaned_data["reason"], by=user),
        _("已申请复核，等待效能督查决定"),
    )


@role_required(Role.SUPERVISOR, Role.LEADER)
def approvals(request: AuthedRequest) -> HttpResponse:
    """审批与协调: the zone's pending extensions and reviews for its supervisors, and the appeals
    waiting for a 领导协调 decision for its leaders."""
    user = request.user
    visibility = permissions.EnterpriseVisibility(user)

    def enterprise(appeal: Appeal) -> str:
        return appeal.enterprise.name if visibility.sees(appeal) else str(pages.HIDDEN_ENTERPRISE)

    extensions = [
        {
            "extension": row,
            "appeal": row.appeal,
            "enterprise": enterprise(row.appeal),
            "form": steps.extension_form(row),
        }
        for row in steps.pending_extensions(user)
    ]
    reviews = [
        {
            "review": row,
            "appeal": row.appeal,
            "enterprise": enterprise(row.appeal),
            "by": presentation.actor_name(row.requested_by, row.appeal, visibility.sees(row.appeal)),
            "form": steps.review_form(row),
        }
        for row in steps.pending_reviews(user)
    ]
    coordination = [
        {
            "appeal": appeal,
            "enterprise": enterprise(appeal),
            "lead": permissions.current_lead(appeal),
            "form": CoordinateForm(prefix="coordinate", auto_id=f"id_coordinate{appeal.pk}_%s"),
        }
        for appeal in steps.waiting_for_coordination(user)
    ]
    context = {
        "supervisor": user.has_role(Role.SUPERVISOR),
        "leader": user.has_role(Role.LEADER),
        "extensions": extensions,
        "reviews": reviews,
        "coordination": coordination,
        "page_title": _("审批与协调"),
    }
    return render(request, "appeals/approvals.html", context)
