"""Pages of service campaigns: the list, a campaign with its coverage and targets, building the target
list (filters or an upload), reassigning targets, and the problems raised during the campaign."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals.models import Appeal
from guanjia.appeals.permissions import EnterpriseVisibility
from guanjia.appeals.presentation import HIDDEN_ENTERPRISE
from guanjia.campaigns import importing, services
from guanjia.campaigns.forms import (
    CampaignForm,
    ReassignForm,
    TargetCriteriaForm,
    TargetImportForm,
    TargetListFilterForm,
)
from guanjia.campaigns.models import Campaign, CampaignStatus, CampaignTarget
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.visits.models import Visit
from guanjia.visits.services import may_record

READERS = (Role.STEWARD, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)
KEEPERS = (Role.DISPATCHER, Role.SUPERVISOR)


def _campaign(request: AuthedRequest, pk: int) -> Campaign:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(Campaign.objects.visible_to(request.user).select_related("created_by"), pk=pk)


def _managed(request: AuthedRequest, pk: int) -> Campaign:
    campaign = _campaign(request, pk)
    if not services.can_manage(request.user, campaign):
        raise PermissionDenied(_("只有专项行动所覆盖园区的受理员或效能督查可以调整专项行动"))
    return campaign


@role_required(*READERS)
def campaign_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    campaigns = Campaign.objects.visible_to(request.user).prefetch_related("zones")
    if status in CampaignStatus.values:
        campaigns = campaigns.with_status(status, services.today())
    page = Paginator(services.with_coverage(campaigns).order_by("-starts_on", "-pk"), 20).get_page(
        request.GET.get("page")
    )
    rows = [
        {"campaign": c, "share": services.Share(visited=c.visited_count, total=c.target_count)}  # type: ignore[attr-defined]
        for c in page
    ]
    context = {
        "page_title": _("专项行动"),
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": CampaignStatus.choices,
        "can_create": services.may_create(request.user),
    }
    return render(request, "campaigns/list.html", context)


@role_required(*KEEPERS)
def campaign_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = CampaignForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = services.create_campaign(
                    name=data["name"],
                    description=data["description"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    zones=list(data["zones"]),
                    by=user,
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("已发起专项行动“%(name)s”，请添加目标企业") % {"name": campaign.name}
                )
                return redirect("campaigns:detail", pk=campaign.pk)
    else:
        form = CampaignForm(user=user, initial={"starts_on": services.today(), "zones": user.zone_ids()})
    return render(request, "campaigns/form.html", {"page_title": _("发起专项行动"), "form": form})


@role_required(*KEEPERS)
def campaign_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    if request.method == "POST":
        form = CampaignForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_campaign(
                    campaign,
                    by=request.user,
                    version=data["version"] if data["version"] is not None else campaign.version,
                    name=data["name"],
                    description=data["description"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    zones=list(data["zones"]),
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存"))
                return redirect("campaigns:detail", pk=campaign.pk)
    else:
        form = CampaignForm(
            user=request.user,
            initial={
                "name": campaign.name,
                "description": campaign.description,
                "starts_on": campaign.starts_on,
                "ends_on": campaign.ends_on,
                "zones": services.zone_ids_of(campaign),
                "version": campaign.version,
            },
        )
    context = {"page_title": _("修改专项行动"), "form": form, "campaign": campaign}
    return render(request, "campaigns/form.html", context)


def _target_rows(campaign: Campaign, targets: QuerySet[CampaignTarget]) -> QuerySet[CampaignTarget]:
    in_period = Visit.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        visited_on__gte=campaign.starts_on,
        visited_on__lte=campaign.ends_on,
    ).order_by("-visited_on")
    return (
        services.annotate_visited(campaign, targets)
        .annotate(visited_on=Subquery(in_period.values("visited_on")[:1]))
        .select_related("enterprise", "enterprise__zone", "steward")
    )


@role_required(*READERS)
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = _campaign(request, pk)
    overseer = services.oversees(user, campaign)
    full = services.coverage(campaign)
    own = services.coverage(campaign, steward=user) if user.has_role(Role.STEWARD) else None
    targets = services.targets_visible_to(user, campaign)
    stewards = User.objects.filter(pk__in=targets.values("steward_id")).order_by("username")
    filters = TargetListFilterForm(request.GET or None, stewards=stewards)
    if filters.is_valid() and filters.cleaned_data["steward"] is not None:
        targets = targets.filter(steward=filters.cleaned_data["steward"])
    rows = _target_rows(campaign, targets)
    if filters.is_valid() and filters.cleaned_data["visited"]:
        rows = rows.filter(Q(visited=filters.cleaned_data["visited"] == "yes"))
    page = Paginator(rows.order_by(F("visited").asc(), "enterprise__name", "pk"), 30).get_page(
        request.GET.get("page")
    )
    for target in page:
        target.may_record = (  # type: ignore[attr-defined]
            not target.visited and may_record(user, target.enterprise)  # type: ignore[attr-defined]
        )
    context = {
        "page_title": campaign.name,
        "campaign": campaign,
        "zones": campaign.zones.order_by("code"),
        "status": campaign.status_on(services.today()),
        "coverage": full,
        "own": own if own is not None and own.overall.total else None,
        # A steward alone sees the problems of its own targets; the campaign's overseers all of them.
        "problems": full.problems if overseer or own is None else own.problems,
        "overseer": overseer,
        "can_manage": services.can_manage(user, campaign),
        "is_open": campaign.status_on(services.today()) != CampaignStatus.ENDED,
        "filters": filters,
        "page": page,
    }
    return render(request, "campaigns/detail.html", context)


@role_required(*KEEPERS)
def targets_add(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    preview = None
    form = TargetCriteriaForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            if "add" in request.POST:
                result = services.add_targets_by_criteria(campaign, form.criteria(), by=request.user)
                messages.success(
                    request,
                    _("已添加目标企业 %(added)d 家，跳过已在清单中的 %(skipped)d 家")
                    % {"added": result.added, "skipped": result.skipped},
                )
                return redirect("campaigns:detail", pk=campaign.pk)
            preview = services.preview_targets(campaign, form.criteria())
        except ServiceError as exc:
            form.add_error(None, str(exc))
    context = {"page_title": _("按条件添加目标企业"), "campaign": campaign, "form": form, "preview": preview}
    return render(request, "campaigns/targets_add.html", context)


@role_required(*KEEPERS)
def targets_import(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    errors: list[importing.RowError] = []
    form = TargetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = importing.import_targets(campaign, upload=form.cleaned_data["file"], by=request.user)
        except importing.TargetRowsInvalid as exc:
            errors = exc.rows
            form.add_error(None, str(exc))
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已导入目标企业 %(added)d 家，跳过已在清单中的 %(skipped)d 家")
                % {"added": result.added, "skipped": result.skipped},
            )
            return redirect("campaigns:detail", pk=campaign.pk)
    context = {
        "page_title": _("上传目标企业清单"),
        "campaign": campaign,
        "form": form,
        "errors": errors,
        "max_rows": importing.MAX_TARGET_ROWS,
    }
    return render(request, "campaigns/targets_import.html", context)


@role_required(*KEEPERS)
def targets_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    form = ReassignForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved = services.reassign_targets(
                campaign,
                to=data["to"],
                by=request.user,
                target_ids=[t.pk for t in data["targets"]] if data["targets"] else None,
                from_steward=data["from_steward"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已改派 %(n)d 家目标企业给 %(to)s") % {"n": moved, "to": data["to"]})
            return redirect("campaigns:detail", pk=campaign.pk)
    targets = CampaignTarget.objects.filter(campaign=campaign)
    shown_steward = request.GET.get("steward", "")
    if shown_steward == "none":
        targets = targets.filter(steward__isnull=True)
    elif shown_steward.isdigit():
        targets = targets.filter(steward_id=int(shown_steward))
    page = Paginator(
        targets.select_related("enterprise", "steward").order_by("enterprise__name", "pk"), 50
    ).get_page(request.GET.get("page"))
    context = {
        "page_title": _("改派目标企业"),
        "campaign": campaign,
        "form": form,
        "page": page,
        "shown_steward": shown_steward,
        "steward_choices": form.fields["from_steward"].queryset,  # type: ignore[attr-defined]
        "checked": {str(v) for v in request.POST.getlist("targets")},
    }
    return render(request, "campaigns/targets_assign.html", context)


PROBLEM_TITLES = {
    "raised": gettext_lazy("提出的问题"),
    "closed": gettext_lazy("已办结的问题"),
    "solved": gettext_lazy("已解决的问题"),
}


@role_required(*READERS)
def campaign_problems(request: AuthedRequest, pk: int) -> HttpResponse:
    """The appeals behind each problems figure of the campaign page."""
    user = request.user
    campaign = _campaign(request, pk)
    kind = request.GET.get("kind", "raised")
    if kind not in services.PROBLEM_KINDS:
        kind = "raised"
    targets: QuerySet[CampaignTarget] | None = None
    if not services.oversees(user, campaign):
        targets = CampaignTarget.objects.filter(campaign=campaign, steward=user)
    appeals = (
        services.problem_appeals(campaign, targets)
        .filter(services.problem_filter(kind))
        .filter(pk__in=Appeal.objects.visible_to(user).values("pk"))
        .select_related("enterprise")
        .order_by("-submitted_at", "-pk")
    )
    page = Paginator(appeals, 30).get_page(request.GET.get("page"))
    visibility = EnterpriseVisibility(user)
    rows = [
        {"appeal": a, "enterprise": a.enterprise.name if visibility.sees(a) else HIDDEN_ENTERPRISE}
        for a in page
    ]
    tabs: list[dict[str, Any]] = [
        {"kind": key, "label": PROBLEM_TITLES[key], "active": key == kind} for key in services.PROBLEM_KINDS
    ]
    context = {
        "page_title": _("%(campaign)s · %(kind)s")
        % {"campaign": campaign.name, "kind": PROBLEM_TITLES[kind]},
        "campaign": campaign,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "kind": kind,
    }
    return render(request, "campaigns/problems.html", context)
