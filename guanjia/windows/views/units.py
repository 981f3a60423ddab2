"""Pages of the windows app: units — the units a user may see with their windows and services, the forms
that keep them, and the published service hours on the enterprise portal (/portal/service-hours/).

A unit's management pages are read by the head of its department (who keeps it), the zone's
overseers and its staff (ServiceUnit.objects.visible_to: out of scope is a 404). Only its keeper
writes it: a role that never keeps a unit gets 403 on every write page; a department head of another
department gets 404 on a unit it does not see. Every business account reads the published hours of
its zones on the portal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import ServiceError
from guanjia.core.views_common import allowed_if, posted_version, refusal_as_message, version_shown
from guanjia.windows import units as services
from guanjia.windows.access import enterprises_bookable_by, keeps_some_unit, may_keep, today
from guanjia.windows.forms.units import ServiceForm, UnitForm, WindowForm
from guanjia.windows.models import ServiceUnit, ServiceWindow, WindowService

# --- who may ----------------------------------------------------------------------------------------


# The units' management pages (units.reads_units); their writes, for department heads (access.keeps_some_unit).
reader_required = allowed_if(services.reads_units, gettext_lazy("您的账号无权查看服务窗口的管理页面"))
keeper_required = allowed_if(keeps_some_unit, gettext_lazy("只有部门负责人可以维护服务单位"))


def _unit(request: AuthedRequest, pk: int) -> ServiceUnit:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(
        ServiceUnit.objects.visible_to(request.user).select_related("zone", "department"), pk=pk
    )


def _kept(request: AuthedRequest, unit: ServiceUnit) -> None:
    if not may_keep(request.user, unit):
        raise PermissionDenied(_("只有该服务单位主管部门的负责人可以维护该单位"))


def _kept_unit(request: AuthedRequest, pk: int) -> ServiceUnit:
    unit = _unit(request, pk)
    _kept(request, unit)
    return unit


def _kept_window(request: AuthedRequest, pk: int) -> ServiceWindow:
    window = get_object_or_404(
        ServiceWindow.objects.filter(unit__in=ServiceUnit.objects.visible_to(request.user)).select_related(
            "unit__department"
        ),
        pk=pk,
    )
    _kept(request, window.unit)
    return window


def _kept_service(request: AuthedRequest, pk: int) -> WindowService:
    service = get_object_or_404(
        WindowService.objects.filter(
            window__unit__in=ServiceUnit.objects.visible_to(request.user)
        ).select_related("window__unit__department"),
        pk=pk,
    )
    _kept(request, service.window.unit)
    return service


def _refusal_on_form(form: Any, exc: ServiceError) -> None:
    """A service's refusal shown next to the field it names (without repeating the field's label,
    which the template puts before every error), else above the form."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if field and field in form.fields:
        form.add_error(field, message.removeprefix(f"{form.fields[field].label}："))
    else:
        form.add_error(None, message)


def booking_link(window: ServiceWindow) -> str:
    """The portal's booking page (the appointments part's) for the window."""
    return f"{reverse('windows:book')}?{urlencode({'window': window.pk})}"


# --- the list and a unit ----------------------------------------------------------------------------


@reader_required
def unit_list(request: AuthedRequest) -> HttpResponse:
    context = {
        "page_title": _("服务窗口"),
        "units": services.units_for_list(request.user),
        "can_create": keeps_some_unit(request.user),
    }
    return render(request, "windows/units/list.html", context)


@reader_required
def unit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = _unit(request, pk)
    keeper = may_keep(request.user, unit)
    windows = [
        {"window": window, "services": list(window.services.all())} for window in services.windows_of(unit)
    ]
    context = {
        "page_title": unit.name,
        "unit": unit,
        "keeper": keeper,
        "hours_sentence": services.hours_sentence(unit),
        "windows": windows,
    }
    return render(request, "windows/units/detail.html", context)


# --- a new unit, and its edit -----------------------------------------------------------------------


@keeper_required
def unit_new(request: AuthedRequest) -> HttpResponse:
    form = UnitForm(request.POST or None, initial=UnitForm.initial_of(None))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            unit = services.create_unit(by=request.user, **values)
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已新建服务单位：%(name)s") % {"name": unit.name})
            return redirect("windows:unit", pk=unit.pk)
    context = {"page_title": _("新建服务单位"), "form": form, "department": request.user.unit}
    return render(request, "windows/units/unit_form.html", context)


@keeper_required
def unit_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = _kept_unit(request, pk)
    form = UnitForm(request.POST or None, initial=UnitForm.initial_of(unit))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(
                unit,
                by=request.user,
                version=version_shown(form.cleaned_data, unit.version),
                **form.values(),
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("windows:unit", pk=unit.pk)
    context = {"page_title": _("修改服务单位"), "form": form, "unit": unit, "department": unit.department}
    return render(request, "windows/units/unit_form.html", context)


# --- windows ----------------------------------------------------------------------------------------


@keeper_required
def window_new(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = _kept_unit(request, pk)
    form = WindowForm(request.POST or None, initial=WindowForm.initial_of(None))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            window = services.add_window(unit, by=request.user, **values)
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已新增窗口：%(window)s") % {"window": window})
            return redirect("windows:unit", pk=unit.pk)
    context = {"page_title": _("新增窗口"), "form": form, "unit": unit}
    return render(request, "windows/units/window_form.html", context)


@keeper_required
def window_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    window = _kept_window(request, pk)
    unit = window.unit
    form = WindowForm(request.POST or None, initial=WindowForm.initial_of(window))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_window(
                window,
                by=request.user,
                version=version_shown(form.cleaned_data, window.version),
                **form.values(),
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存窗口：%(window)s") % {"window": window})
            return redirect("windows:unit", pk=unit.pk)
    context = {"page_title": _("修改窗口"), "form": form, "unit": unit, "window": window}
    return render(request, "windows/units/window_form.html", context)


# --- services ---------------------------------------------------------------------------------------


@keeper_required
def service_new(request: AuthedRequest, pk: int) -> HttpResponse:
    window = _kept_window(request, pk)
    form = ServiceForm(request.POST or None, initial=ServiceForm.initial_of(None))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            service = services.add_service(window, by=request.user, **values)
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已新增服务事项：%(name)s") % {"name": service.name})
            return redirect("windows:unit", pk=window.unit_id)
    context = {"page_title": _("新增服务事项"), "form": form, "unit": window.unit, "window": window}
    return render(request, "windows/units/service_form.html", context)


@keeper_required
def service_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    service = _kept_service(request, pk)
    window = service.window
    form = ServiceForm(request.POST or None, initial=ServiceForm.initial_of(service))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_service(
                service,
                by=request.user,
                version=version_shown(form.cleaned_data, service.version),
                **form.values(),
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存服务事项：%(name)s") % {"name": service.name})
            return redirect("windows:unit", pk=window.unit_id)
    context = {
        "page_title": _("修改服务事项"),
        "form": form,
        "unit": window.unit,
        "window": window,
        "service": service,
        "holding": services.holding_bookings(service),
    }
    return render(request, "windows/units/service_form.html", context)


@require_POST
@keeper_required
def service_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    service = _kept_service(request, pk)
    with refusal_as_message(request):
        services.remove_service(service, by=request.user, version=posted_version(request, service.version))
        messages.success(request, _("已删除服务事项：%(name)s") % {"name": service.name})
    return redirect("windows:unit", pk=service.window.unit_id)


# --- the portal's published hours -------------------------------------------------------------------


@login_required
def portal_hours(request: AuthedRequest) -> HttpResponse:
    """The published units of the user's zones (and of the enterprises it acts for): hours, lunch rule,
    windows with their services and materials, and the next days open or closed."""
    if not services.reads_portal_hours(request.user):
        raise PermissionDenied(_("您的账号无权查看服务时间"))
    # The booking link is for those who book: an enterprise's user, a steward for the ones it serves.
    can_book = enterprises_bookable_by(request.user).exists()
    rows = [
        {
            "unit": unit,
            "hours_sentence": services.hours_sentence(unit),
            "windows": [
                {
                    "window": window,
                    "book": booking_link(window)
                    if can_book and any(s.bookable for s in window.services.all())
                    else "",
                }
                for window in unit.open_windows  # type: ignore[attr-defined]
            ],
        }
        for unit in services.published_units(request.user)
    ]
    context = {
        "page_title": _("办事服务时间"),
        "rows": rows,
        "days": services.calendar_ahead(today()),
    }
    return render(request, "windows/portal_hours.html", context)


urlpatterns: list[URLPattern] = [
    path("windows/", unit_list, name="units"),
    path("windows/units/new/", unit_new, name="unit-new"),
    path("windows/units/<int:pk>/", unit_detail, name="unit"),
    path("windows/units/<int:pk>/edit/", unit_edit, name="unit-edit"),
    path("windows/units/<int:pk>/windows/new/", window_new, name="window-new"),
    path("windows/windows/<int:pk>/edit/", window_edit, name="window-edit"),
    path("windows/windows/<int:pk>/services/new/", service_new, name="service-new"),
    path("windows/services/<int:pk>/edit/", service_edit, name="service-edit"),
    path("windows/services/<int:pk>/remove/", service_remove, name="service-remove"),
    path("portal/service-hours/", portal_hours, name="hours"),
]
