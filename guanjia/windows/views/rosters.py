"""Pages of a unit's staff and weekly rosters (排班), and a staff member's own shifts (我的排班).

A unit's pages open to those who see the unit (ServiceUnit.objects.visible_to: its keeper, the zone's
overseers, its staff); to any other business account the unit does not exist (404). Enterprise users,
the three admins and accounts without a role never work at windows: 403. Only the keeper (the head of
the unit's department) writes; a reader of the unit gets 403 on a write.

The roster page's edit form posts with HTMX to windows:roster-shift and gets back the board (the grid,
the gap panel and the form with the roster's new version), so the gaps update without a reload; without
JavaScript the same post redirects back to the page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import ServiceError
from guanjia.core.views_common import allowed_if, posted_version
from guanjia.windows import rostering
from guanjia.windows import rosters as services
from guanjia.windows.access import may_keep, today
from guanjia.windows.forms.rosters import GenerateForm, ShiftForm, StaffingForm
from guanjia.windows.models import Roster, ServiceUnit, Shift, Staffing

# --- who may ------------------------------------------------------------------------------------------


# An account that may work at windows or oversee them (services.works_at_windows).
staff_required = allowed_if(services.works_at_windows, gettext_lazy("您的账号无权查看窗口排班"))


def _unit(request: AuthedRequest, pk: int) -> ServiceUnit:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(ServiceUnit.objects.visible_to(request.user), pk=pk)


def _check_keeper(request: AuthedRequest, unit: ServiceUnit) -> None:
    if not may_keep(request.user, unit):
        raise PermissionDenied(_("只有该服务单位主管部门的负责人可以执行此操作"))


def _roster(request: AuthedRequest, pk: int) -> Roster:
    return get_object_or_404(Roster.objects.visible_to(request.user).select_related("unit"), pk=pk)


def _refusal_on_form(form: Any, exc: ServiceError) -> None:
    """A service's refusal shown next to the field it names (without repeating its label), else above."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if field and field in form.fields:
        form.add_error(field, message.removeprefix(f"{form.fields[field].label}："))
    else:
        form.add_error(None, message)


def unit_url(unit: ServiceUnit) -> str:
    """The unit's page (the units part's), or "" while that page does not exist."""
    try:
        return reverse("windows:unit", args=[unit.pk])
    except NoReverseMatch:
        return ""


def _is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- staff --------------------------------------------------------------------------------------------


@staff_required
def staff(request: AuthedRequest, unit: int) -> HttpResponse:
    found = _unit(request, unit)
    keeper = may_keep(request.user, found)
    form = None
    if request.method == "POST":
        _check_keeper(request, found)
        form = StaffingForm(request.POST, unit=found)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.save_staffing(
                    found,
                    user=data["user"],
                    windows=data["windows"],
                    weekdays=data["weekdays"],
                    max_shifts=data["max_shifts"],
                    is_active=data["is_active"],
                    by=request.user,
                )
            except ServiceError as exc:
                _refusal_on_form(form, exc)
            else:
                messages.success(request, _("已添加工作人员：%(name)s") % {"name": data["user"]})
                return redirect("windows:staff", unit=found.pk)
    elif keeper:
        form = StaffingForm(unit=found)
    rows = [
        {
            "staffing": staffing,
            "windows": [str(window) for window in staffing.windows.all()],
            "weekdays": [services.weekday_label(day) for day in staffing.weekday_numbers()],
        }
        for staffing in services.staff_of(found)
    ]
    context = {
        "page_title": _("%(unit)s · 窗口工作人员") % {"unit": found.name},
        "unit": found,
        "unit_url": unit_url(found),
        "keeper": keeper,
        "rows": rows,
        "form": form,
    }
    return render(request, "windows/rosters/staff.html", context)


@staff_required
def staffing_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    staffing = get_object_or_404(
        Staffing.objects.filter(unit__in=ServiceUnit.objects.visible_to(request.user)).select_related(
            "unit", "user"
        ),
        pk=pk,
    )
    unit = staffing.unit
    _check_keeper(request, unit)
    form = StaffingForm(request.POST or None, unit=unit, staffing=staffing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = data.get("version")
        try:
            services.save_staffing(
                unit,
                user=staffing.user,
                windows=data["windows"],
                weekdays=data["weekdays"],
                max_shifts=data["max_shifts"],
                is_active=data["is_active"],
                by=request.user,
                staffing=staffing,
                version=staffing.version if version is None else version,
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存：%(name)s") % {"name": staffing.user})
            return redirect("windows:staff", unit=unit.pk)
    context = {
        "page_title": _("修改工作人员：%(name)s") % {"name": staffing.user},
        "unit": unit,
        "staffing": staffing,
        "form": form,
    }
    return render(request, "windows/rosters/staffing_form.html", context)


# --- rosters of a unit ----------------------------------------------------------------------------------


@staff_required
def roster_list(request: AuthedRequest, unit: int) -> HttpResponse:
    found = _unit(request, unit)
    keeper = may_keep(request.user, found)
    form = None
    if request.method == "POST":
        _check_keeper(request, found)
        form = GenerateForm(request.POST)
        if form.is_valid():
            try:
                roster = services.generate_roster(found, form.cleaned_data["week_start"], by=request.user)
            except ServiceError as exc:
                _refusal_on_form(form, exc)
            else:
                if roster.shortages:
                    messages.warning(request, _("已生成排班，但仍有缺口：请查看缺员时段"))
                else:
                    messages.success(request, _("已生成排班：每个须始终有人的窗口都已排满"))
                return redirect("windows:roster", pk=roster.pk)
    elif keeper:
        upcoming = services.week_start_of(today()) + timedelta(days=7)
        form = GenerateForm(initial={"week_start": upcoming})
    context = {
        "page_title": _("%(unit)s · 排班表") % {"unit": found.name},
        "unit": found,
        "unit_url": unit_url(found),
        "keeper": keeper,
        "rosters": found.rosters.order_by("-week_start"),
        "form": form,
    }
    return render(request, "windows/rosters/list.html", context)


# --- a roster ---------------------------------------------------------------------------------------------


def _board_context(request: AuthedRequest, roster: Roster, form: ShiftForm | None = None) -> dict[str, Any]:
    keeper = may_keep(request.user, roster.unit)
    windows = services.active_windows(roster.unit)
    shifts = list(services.shifts_of(roster))
    shortages = services.shortages_of(roster)
    if keeper and form is None:
        form = ShiftForm(roster=roster)
    return {
        "roster": roster,
        "unit": roster.unit,
        "keeper": keeper,
        "windows": windows,
        "days": services.grid(roster, shifts, windows),
        "shortages": [shortage.describe() for shortage in shortages],
        "infeasible": roster.solver_status == rostering.INFEASIBLE,
        "shift_count": len(shifts),
        "form": form,
    }


def _roster_page(request: AuthedRequest, roster: Roster, form: ShiftForm | None = None) -> HttpResponse:
    context = {
        **_board_context(request, roster, form),
        "page_title": _("%(unit)s · %(week)s 起一周排班")
        % {"unit": roster.unit.name, "week": f"{roster.week_start:%Y-%m-%d}"},
        "unit_url": unit_url(roster.unit),
    }
    return render(request, "windows/rosters/detail.html", context)


def _board(request: AuthedRequest, roster: Roster, form: ShiftForm | None = None) -> HttpResponse:
    return render(request, "windows/rosters/_board.html", _board_context(request, roster, form))


@staff_required
def roster_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _roster_page(request, _roster(request, pk))


def _kept_roster(request: AuthedRequest, pk: int) -> Roster:
    roster = _roster(request, pk)
    _check_keeper(request, roster.unit)
    return roster


def _after_edit(request: AuthedRequest, roster: Roster, done: str) -> HttpResponse:
    if _is_htmx(request):
        fresh = Roster.objects.select_related("unit").get(pk=roster.pk)
        context = {**_board_context(request, fresh), "done": done}
        return render(request, "windows/rosters/_board.html", context)
    messages.success(request, done)
    return redirect("windows:roster", pk=roster.pk)


@require_POST
@staff_required
def roster_shift(request: AuthedRequest, pk: int) -> HttpResponse:
    roster = _kept_roster(request, pk)
    form = ShiftForm(request.POST, roster=roster)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_shift(
                roster,
                user=data["user"],
                day=data["day"],
                window=data["window"],
                lunch_start=data["lunch_start"],
                by=request.user,
                version=data["version"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            return _after_edit(
                request,
                roster,
                _("已排班：%(name)s %(day)s %(window)s")
                % {"name": data["user"], "day": f"{data['day']:%m-%d}", "window": data["window"]},
            )
    # Refused: the same board with the form's errors (a 200, so that HTMX swaps it in).
    fresh = Roster.objects.select_related("unit").get(pk=roster.pk)
    if _is_htmx(request):
        return _board(request, fresh, form)
    return _roster_page(request, fresh, form)


@require_POST
@staff_required
def roster_shift_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    roster = _kept_roster(request, pk)
    raw = request.POST.get("shift", "")
    shift = (
        Shift.objects.filter(roster=roster, pk=int(raw)).select_related("user", "window").first()
        if raw.isdigit() and len(raw) < 19
        else None
    )
    error = ""
    if shift is None:
        error = _("班次：该班次不存在或已被取消，请刷新后重试")
    else:
        try:
            services.remove_shift(
                roster, shift=shift, by=request.user, version=posted_version(request, roster.version)
            )
        except ServiceError as exc:
            error = str(exc)
        else:
            return _after_edit(
                request,
                roster,
                _("已取消 %(name)s %(day)s 的班次") % {"name": shift.user, "day": f"{shift.date:%m-%d}"},
            )
    fresh = Roster.objects.select_related("unit").get(pk=roster.pk)
    if _is_htmx(request):
        return render(
            request, "windows/rosters/_board.html", {**_board_context(request, fresh), "error": error}
        )
    messages.error(request, error)
    return redirect("windows:roster", pk=roster.pk)


@require_POST
@staff_required
def roster_publish(request: AuthedRequest, pk: int) -> HttpResponse:
    roster = _kept_roster(request, pk)
    try:
        services.publish_roster(roster, by=request.user, version=posted_version(request, roster.version))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("排班表已发布，已通知排班人员"))
    return redirect("windows:roster", pk=roster.pk)


# --- my shifts -------------------------------------------------------------------------------------------


def bookings_url() -> str:
    try:
        return reverse("windows:my-bookings")
    except NoReverseMatch:
        return "/windows/my-bookings/"


@staff_required
def my_shifts(request: AuthedRequest) -> HttpResponse:
    monday = services.week_start_of(today())
    weeks = []
    shifts = list(services.shifts_for(request.user, monday, monday + timedelta(days=13)))
    for n, title in ((0, _("本周")), (1, _("下周"))):
        start = monday + timedelta(days=7 * n)
        end = start + timedelta(days=6)
        rows = [
            {"shift": shift, "weekday": services.weekday_label(shift.date)}
            for shift in shifts
            if start <= shift.date <= end
        ]
        weeks.append({"title": title, "start": start, "end": end, "rows": rows})
    context = {
        "page_title": _("我的排班"),
        "weeks": weeks,
        "today": today(),
        "bookings_url": bookings_url(),
    }
    return render(request, "windows/rosters/my_shifts.html", context)


urlpatterns: list[URLPattern] = [
    path("windows/units/<int:unit>/staff/", staff, name="staff"),
    path("windows/staff/<int:pk>/edit/", staffing_edit, name="staffing-edit"),
    path("windows/units/<int:unit>/rosters/", roster_list, name="rosters"),
    path("windows/rosters/<int:pk>/", roster_detail, name="roster"),
    path("windows/rosters/<int:pk>/shift/", roster_shift, name="roster-shift"),
    path("windows/rosters/<int:pk>/remove-shift/", roster_shift_remove, name="roster-shift-remove"),
    path("windows/rosters/<int:pk>/publish/", roster_publish, name="roster-publish"),
    path("windows/my-shifts/", my_shifts, name="my-shifts"),
]
