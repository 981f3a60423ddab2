"""The category tree and the routing tables: kept by the system admin, read by the zone's staff."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.appeals import services
from guanjia.appeals.forms import CategoryForm, RouteForm
from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import form_errors_message
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role

READERS = (Role.SYSADMIN, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)


def _tree() -> list[tuple[int, AppealCategory]]:
    categories = list(AppealCategory.objects.select_related("parent").order_by("position", "code"))
    children: dict[int | None, list[AppealCategory]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[tuple[int, AppealCategory]] = []
    for top in children.get(None, []):
        ordered.append((0, top))
        ordered.extend((1, child) for child in children.get(top.pk, []))
    return ordered


@role_required(*READERS)
def categories(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    editor = request.user.has_role(Role.SYSADMIN)
    category = get_object_or_404(AppealCategory, pk=pk) if pk else None
    if request.method == "POST" and not editor:
        raise PermissionDenied
    form = CategoryForm(request.POST or None, instance=category) if editor else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            saved = services.save_category(form.cleaned_data, category=category, by=request.user)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存 %(name)s") % {"name": saved.name})
            return redirect("appeals:categories")
    # The system admin configures every zone; the zone's staff read their own zones' tables.
    zones = OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE).order_by("code")
    if not editor:
        zones = zones.filter(pk__in=request.user.zone_ids())
    tree = _tree()
    routes = {
        (r.zone_id, r.category_id): r
        for r in CategoryRoute.objects.filter(zone__in=zones).select_related("lead_department")
    }
    tables = [
        {"zone": zone, "rows": [(depth, c, routes.get((zone.pk, c.pk))) for depth, c in tree]}
        for zone in zones
    ]
    context = {
        "tree": tree,
        "form": form,
        "category": category,
        "tables": tables,
        "route_form": RouteForm() if editor else None,
        "editor": editor,
    }
    return render(request, "appeals/categories.html", context)


@require_POST
@role_required(Role.SYSADMIN)
def route_set(request: AuthedRequest) -> HttpResponse:
    form = RouteForm(request.POST)
    if form.is_valid():
        try:
            services.set_route(
                form.cleaned_data["category"],
                form.cleaned_data["zone"],
                form.cleaned_data["lead_department"],
                by=request.user,
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已保存分派规则"))
    else:
        messages.error(request, form_errors_message(form))
    return redirect("appeals:categories")


@require_POST
@role_required(Role.SYSADMIN)
def route_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(CategoryRoute, pk=pk)
    services.remove_route(route, by=request.user)
    messages.success(request, _("已删除分派规则"))
    return redirect("appeals:categories")
