"""Pages of the target library (招商目标企业库): the list with its filters, a target with its leads, the
target form, deleting, the import and its template.

Promoters and leaders of a zone read its library; promoters change it. A target of another zone is a
404 (Target.objects.visible_to); a role that may not use the page at all is a 403.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.investment import targets, targets_import
from guanjia.investment.access import may_keep
from guanjia.investment.forms.targets import TargetFilter, TargetForm, TargetImportForm
from guanjia.investment.models import Lead, Target
from guanjia.investment.views.common import (
    KEEPERS,
    READERS,
    post_action,
    posted_version,
    refusal_as_form_error,
    refusal_as_message,
    version_shown,
)

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _reverse_or_none(name: str, *args: object) -> str | None:
    # The leads part names these pages; until it is installed the target page shows no link.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _target(request: AuthedRequest, pk: int) -> Target:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(Target.objects.visible_to(request.user).select_related("zone"), pk=pk)


@role_required(*READERS)
def target_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    visible = targets.with_lead_count(Target.objects.visible_to(user)).select_related("zone")
    filters = TargetFilter(request.GET or None, queryset=visible, request=request)
    rows = filters.qs.prefetch_related("nodes__chain").order_by("name", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {key: value for key, value in request.GET.items() if key != "page" and value}
    form = filters.form
    node = form.cleaned_data.get("node") if filters.is_bound and form.is_valid() else None
    context = {
        "page_title": _("招商目标企业库"),
        "filters": filters,
        "filter_form": form,
        "several_zones": len(user.zone_ids()) > 1,
        "page": page,
        "query_string": urlencode(query),
        "filtered": bool(query),
        "node": node,
        "can_keep": may_keep(user),
    }
    return render(request, "investment/targets/list.html", context)


@role_required(*READERS)
def target_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    target = _target(request, pk)
    nodes = list(target.nodes.select_related("chain").order_by("chain__name", "position", "pk"))
    leads = list(
        Lead.objects.visible_to(user)
        .filter(target=target)
        .select_related("node", "owner")
        .order_by("-created_at", "-pk")
    )
    rows = [{"lead": lead, "url": _reverse_or_none("investment:lead", lead.pk)} for lead in leads]
    new_lead = _reverse_or_none("investment:lead-new")
    if new_lead is not None:
        query = {"target": target.pk}
        if len(nodes) == 1:
            query["node"] = nodes[0].pk
        new_lead = f"{new_lead}?{urlencode(query)}"
    context = {
        "page_title": target.name,
        "target": target,
        "nodes": nodes,
        "lead_rows": rows,
        "can_keep": may_keep(user, target.zone_id),
        "new_lead_url": new_lead,
    }
    return render(request, "investment/targets/detail.html", context)


@role_required(*KEEPERS)
def target_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = TargetForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        zone = form.chosen_zone()
        if zone is None:
            form.add_error(None, _("所属园区：您没有所在园区，不能新增目标企业"))
        else:
            with refusal_as_form_error(form):
                target = targets.create_target(zone=zone, by=user, nodes=form.chosen_nodes(), **form.values())
                messages.success(request, _("已将“%(name)s”加入目标企业库") % {"name": target.name})
                return redirect("investment:target", pk=target.pk)
    context = {"page_title": _("新增目标企业"), "form": form, "target": None}
    return render(request, "investment/targets/form.html", context)


@role_required(*KEEPERS)
def target_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    target = _target(request, pk)
    if request.method == "POST":
        form = TargetForm(request.POST, user=user, target=target)
        if form.is_valid():
            with refusal_as_form_error(form):
                targets.update_target(
                    target,
                    by=user,
                    version=version_shown(form.cleaned_data, target.version),
                    nodes=form.chosen_nodes(),
                    **form.values(),
                )
                messages.success(request, _("已保存"))
                return redirect("investment:target", pk=target.pk)
    else:
        initial = {name: getattr(target, name) for name in targets.EDITABLE_FIELDS}
        initial["nodes"] = list(target.nodes.values_list("pk", flat=True))
        initial["version"] = target.version
        form = TargetForm(user=user, target=target, initial=initial)
    context = {"page_title": _("修改目标企业"), "form": form, "target": target}
    return render(request, "investment/targets/form.html", context)


@post_action(*KEEPERS)
def target_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    with refusal_as_message(request):
        targets.delete_target(target, by=request.user, version=posted_version(request))
        messages.success(request, _("已从目标企业库删除“%(name)s”") % {"name": target.name})
        return redirect("investment:targets")
    return redirect("investment:target", pk=target.pk)


@role_required(*KEEPERS)
def targets_import_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    errors: list[dict] = []
    result = None
    form = TargetImportForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        zone = form.chosen_zone()
        if zone is None:
            form.add_error(None, _("所属园区：您没有所在园区，不能导入目标企业"))
        else:
            try:
                result = targets_import.import_targets(upload=form.cleaned_data["file"], zone=zone, by=user)
            except targets_import.TargetRowsInvalid as exc:
                errors = exc.rows
                form.add_error(None, str(exc))
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                form = TargetImportForm(user=user)  # a clean form for the next file
    context = {
        "page_title": _("导入目标企业"),
        "form": form,
        "errors": errors,
        "result": result,
        "max_rows": targets_import.MAX_ROWS,
        "columns": targets_import.COLUMNS,
    }
    return render(request, "investment/targets/import.html", context)


@require_GET
@role_required(*KEEPERS)
def targets_template(request: AuthedRequest) -> HttpResponse:
    content = targets_import.build_template(request.user.zone_ids())
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, _("目标企业导入模板.xlsx"))
    return response


urlpatterns: list[URLPattern] = [
    path("investment/targets/", target_list, name="targets"),
    path("investment/targets/new/", target_new, name="target-new"),
    path("investment/targets/import/", targets_import_page, name="targets-import"),
    path("investment/targets/template/", targets_template, name="targets-template"),
    path("investment/targets/<int:pk>/", target_detail, name="target"),
    path("investment/targets/<int:pk>/edit/", target_edit, name="target-edit"),
    path("investment/targets/<int:pk>/delete/", target_delete, name="target-delete"),
]
