"""Pages of the windows app: appointments (预约服务 / 延时服务).

On the portal an enterprise user books a slot for its enterprise, and a steward for one it serves (marked
as booked on its behalf); both ask for 延时服务 and follow their bookings. The staff rostered at a window
see its bookings on their days, and the 延时服务 arranged with them; a unit's keeper, its staff and the
zone's overseers read the unit's bookings by day, and the keeper arranges or declines the 延时服务
requests. Every read goes through Appointment.objects.visible_to (out of scope is a 404); a role that
never reads appointments gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.masking import mask_phone
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.core.views_common import allowed_if, post_action, posted_version
from guanjia.windows import appointments as service
from guanjia.windows.access import enterprises_bookable_by, may_keep, today
from guanjia.windows.forms.appointments import (
    ArrangeForm,
    BookingForm,
    CancelForm,
    DeclineForm,
    ExtendedForm,
    UnitBookingsFilter,
    day_label,
    window_choices,
)
from guanjia.windows.models import (
    WINDOW_KEEPERS,
    WINDOW_OVERSEERS,
    Appointment,
    AppointmentState,
    ServiceUnit,
    Staffing,
)

BOOKERS = (Role.ENTERPRISE_USER, Role.STEWARD)
# The roles that read some appointments (which ones: Appointment.objects.visible_to); a member of a unit's
# staff reads its unit's whatever its role.
READERS = frozenset({*BOOKERS, *WINDOW_KEEPERS, *WINDOW_OVERSEERS, Role.HANDLER})
# Who may cancel at all (the enterprise's people, the unit's keeper); the service decides on the object.
CANCELLERS = (*BOOKERS, *WINDOW_KEEPERS)
# Who may mark served or missed at all: the keeper, and the staff (handlers) receiving it.
SERVERS = (*WINDOW_KEEPERS, Role.HANDLER)
PER_PAGE = 50


# --- who may ------------------------------------------------------------------------------------------


def _is_staff(user: User) -> bool:
    return Staffing.objects.filter(user=user, is_active=True).exists()


def _reads(user: User) -> bool:
    return not user.is_admin_account and (user.has_any_role(READERS) or _is_staff(user))


# A role that reads appointments, or a member of a unit's staff.
reader_required = allowed_if(_reads, gettext_lazy("您的账号无权查看预约"))


def _with_phones(user: User, rows: list[Appointment]) -> list[Appointment]:
    """Each row's phone as `user` may read it, asked once per unit (a list shows one unit or a few)."""
    sees: dict[int, bool] = {}
    for row in rows:
        if row.unit_id not in sees:
            sees[row.unit_id] = service.sees_phone(user, row)
        row.phone_shown = row.contact_phone if sees[row.unit_id] else mask_phone(row.contact_phone)  # type: ignore[attr-defined]
    return rows


def _appointment(request: AuthedRequest, pk: int) -> Appointment:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(
        Appointment.objects.visible_to(request.user).select_related(
            "unit", "window", "service", "enterprise", "staff", "booked_by"
        ),
        pk=pk,
    )


def _refusal_on_form(form: Any, exc: ServiceError) -> None:
    """A service's refusal shown next to the field it names (without repeating its label)."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if field and field in form.fields and not form.fields[field].widget.is_hidden:
        form.add_error(field, message.removeprefix(f"{form.fields[field].label}："))
    else:
        form.add_error(None, message)


def _contact_initial(user: User) -> dict[str, str]:
    return {"contact_name": user.full_name or "", "contact_phone": user.phone or ""}


# --- booking on the portal ----------------------------------------------------------------------------


@role_required(*BOOKERS)
def book(request: AuthedRequest) -> HttpResponse:
    windows = service.bookable_windows(request.user)
    raw = request.POST.get("window") if request.method == "POST" else request.GET.get("window")
    window = windows.select_related("unit").filter(pk=int(raw)).first() if raw and raw.isdigit() else None
    context: dict[str, Any] = {
        "page_title": _("预约办事"),
        "window_groups": window_choices(windows),
        "window": window,
    }
    if window is None:
        if request.method == "POST":
            raise Http404  # a window the user may not book at does not exist for it
        return render(request, "windows/appointments/book.html", context)
    enterprises = enterprises_bookable_by(request.user)
    initial = {**_contact_initial(request.user), "date": request.GET.get("date", "")}
    form = BookingForm(
        request.POST or None, user=request.user, window=window, enterprises=enterprises, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = service.book(
                window,
                enterprise=data["enterprise"],
                day=data["date"],
                start=data["start"],
                by=request.user,
                service=data["service"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                note=data["note"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(
                request,
                _("预约成功：%(day)s %(start)s，%(unit)s %(window)s")
                % {
                    "day": day_label(appointment.date),
                    "start": appointment.starts_at.strftime("%H:%M"),
                    "unit": window.unit.name,
                    "window": window,
                },
            )
            return redirect("windows:appointment", pk=appointment.pk)
    # The slot list follows the day chosen (htmx swaps in windows:book-slots; no inline script).
    form.fields["date"].widget.attrs.update(
        {
            "hx-get": reverse("windows:book-slots"),
            "hx-trigger": "change",
            "hx-target": "#slots",
            "hx-swap": "outerHTML",
            "hx-include": "[name='window']",
        }
    )
    day = form.chosen_day()
    slots = service.available_slots(window, day) if day else []
    if not form.is_bound and not request.GET.get("date"):
        # Late in the day, today has nothing left: open on the first day that still has a free slot.
        for later in form.days[1:]:
            if any(slot.free for slot in slots):
                break
            day, slots = later, service.available_slots(window, later)
        form.initial["date"] = day.isoformat() if day else ""
    chosen = request.POST.get("start", "") if request.method == "POST" else ""
    context.update(
        form=form,
        unit=window.unit,
        slots=slots,
        day=day,
        chosen=chosen,
        start_errors=form.errors.get("start", []),
    )
    return render(request, "windows/appointments/book.html", context)


@role_required(*BOOKERS)
def book_slots(request: AuthedRequest) -> HttpResponse:
    """The free slots of a window on a day: the fragment the booking page swaps in when the day changes."""
    raw_window, raw_date = request.GET.get("window", ""), request.GET.get("date", "")
    if not raw_window.isdigit():
        raise Http404
    window = get_object_or_404(
        service.bookable_windows(request.user).select_related("unit"), pk=int(raw_window)
    )
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        day = None
    context = {
        "window": window,
        "unit": window.unit,
        "day": day,
        "slots": service.available_slots(window, day) if day else [],
        "chosen": "",
    }
    return render(request, "windows/appointments/_slots.html", context)


@role_required(*BOOKERS)
def book_extended(request: AuthedRequest) -> HttpResponse:
    windows = service.bookable_windows(request.user)
    initial: dict[str, Any] = _contact_initial(request.user)
    if request.GET.get("window", "").isdigit():
        initial["window"] = int(request.GET["window"])
    form = ExtendedForm(
        request.POST or None,
        user=request.user,
        windows=windows,
        enterprises=enterprises_bookable_by(request.user),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = service.request_extended(
                data["window"],
                enterprise=data["enterprise"],
                day=data["date"],
                start=data["start"],
                end=data["end"],
                by=request.user,
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                note=data["note"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("延时服务申请已提交，服务单位确认后将通知您"))
            return redirect("windows:appointment", pk=appointment.pk)
    return render(
        request, "windows/appointments/extended.html", {"page_title": _("申请延时服务"), "form": form}
    )


@role_required(*BOOKERS)
def my_appointments(request: AuthedRequest) -> HttpResponse:
    mine = (
        Appointment.objects.visible_to(request.user)
        .filter(enterprise__in=enterprises_bookable_by(request.user))
        .select_related("unit", "window", "service", "enterprise", "staff")
    )
    day = today()
    upcoming = list(mine.filter(date__gte=day).order_by("date", "starts_at", "pk"))
    past = list(mine.filter(date__lt=day).order_by("-date", "-starts_at", "-pk")[:PER_PAGE])
    context = {
        "page_title": _("我的预约"),
        "upcoming": _with_phones(request.user, upcoming),
        "past": _with_phones(request.user, past),
    }
    return render(request, "windows/appointments/mine.html", context)


# --- staff and units ----------------------------------------------------------------------------------


@login_required
def my_bookings(request: AuthedRequest) -> HttpResponse:
    """A member of staff's bookings from today on: at the windows and days it is rostered, and the
    延时服务 arranged with it."""
    user = request.user
    if user.is_admin_account or not _is_staff(user):
        raise PermissionDenied(_("只有窗口工作人员可以查看此页"))
    rows = list(service.bookings_of_staff(user)[: PER_PAGE * 4])
    for row in rows:
        # Every row is one `user` receives (access.serves): it may mark it once its time has come.
        due = row.state == AppointmentState.BOOKED and service.has_started(row)
        row.actions = frozenset({"serve", "miss"} if due else ())  # type: ignore[attr-defined]
    context = {"page_title": _("我的预约接待"), "rows": _with_phones(user, rows), "today": today()}
    return render(request, "windows/appointments/my_bookings.html", context)


@reader_required
def unit_bookings(request: AuthedRequest, unit: int) -> HttpResponse:
    found = get_object_or_404(ServiceUnit.objects.visible_to(request.user), pk=unit)
    filters = UnitBookingsFilter(request.GET or None, unit=found)
    chosen = filters.filters()
    rows = service.filter_appointments(Appointment.objects.filter(unit=found), **chosen)
    if not chosen.get("day"):
        rows = rows.filter(date__gte=today())
    rows = rows.select_related("window", "service", "enterprise", "staff").order_by(
        "date", "starts_at", "window__number", "pk"
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    keeper = may_keep(request.user, found)
    requests = (
        list(
            Appointment.objects.filter(unit=found, state=AppointmentState.REQUESTED, date__gte=today())
            .select_related("window", "enterprise")
            .order_by("date", "starts_at", "pk")
        )
        if keeper
        else []
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("%(unit)s · 预约") % {"unit": found.name},
        "unit": found,
        "filters": filters,
        "page": page,
        "rows": _with_phones(request.user, list(page.object_list)),
        "requests": _with_phones(request.user, requests),
        "keeper": keeper,
        "query_string": query.urlencode(),
    }
    return render(request, "windows/appointments/unit_bookings.html", context)


# --- one appointment ----------------------------------------------------------------------------------


def _detail(request: AuthedRequest, appointment: Appointment, **forms: Any) -> HttpResponse:
    user = request.user
    actions = service.actions_for(user, appointment)
    context = {
        "page_title": _("预约详情"),
        "appointment": appointment,
        "phone": service.phone_shown(user, appointment),
        "actions": actions,
        "cancel_form": forms.get("cancel_form")
        or (CancelForm(initial={"version": appointment.version}) if "cancel" in actions else None),
        "arrange_form": forms.get("arrange_form")
        or (
            ArrangeForm(unit=appointment.unit, initial={"version": appointment.version})
            if "arrange" in actions
            else None
        ),
        "decline_form": forms.get("decline_form")
        or (DeclineForm(initial={"version": appointment.version}) if "decline" in actions else None),
        "slot": day_label(appointment.date),
    }
    return render(request, "windows/appointments/detail.html", context)


@reader_required
def appointment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _appointment(request, pk))


def _step(request: AuthedRequest, pk: int, write: Callable[[Appointment], Any], done: str) -> HttpResponse:
    appointment = _appointment(request, pk)
    try:
        write(appointment)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("windows:appointment", pk=appointment.pk)


@post_action(*CANCELLERS)
def appointment_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def write(appointment: Appointment) -> None:
        service.cancel(
            appointment, by=request.user, version=posted_version(request, appointment.version), reason=reason
        )

    return _step(request, pk, write, _("已取消该预约"))


@post_action(*WINDOW_KEEPERS)
def appointment_arrange(request: AuthedRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    form = ArrangeForm(request.POST, unit=appointment.unit)
    if not form.is_valid():
        messages.error(request, _("接待人员：请选择该服务单位在岗的工作人员"))
        return redirect("windows:appointment", pk=appointment.pk)

    def write(found: Appointment) -> None:
        service.arrange(
            found,
            staff=form.cleaned_data["staff"],
            by=request.user,
            version=posted_version(request, found.version),
        )

    return _step(request, pk, write, _("已安排延时服务"))


@post_action(*WINDOW_KEEPERS)
def appointment_decline(request: AuthedRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")

    def write(appointment: Appointment) -> None:
        service.decline(
            appointment, reason=reason, by=request.user, version=posted_version(request, appointment.version)
        )

    return _step(request, pk, write, _("已答复：延时服务未安排"))


@post_action(*SERVERS)
def appointment_serve(request: AuthedRequest, pk: int) -> HttpResponse:
    def write(appointment: Appointment) -> None:
        service.serve(appointment, by=request.user, version=posted_version(request, appointment.version))

    return _step(request, pk, write, _("已登记：已办理"))


@post_action(*SERVERS)
def appointment_miss(request: AuthedRequest, pk: int) -> HttpResponse:
    def write(appointment: Appointment) -> None:
        service.miss(appointment, by=request.user, version=posted_version(request, appointment.version))

    return _step(request, pk, write, _("已登记：企业未到"))


urlpatterns: list[URLPattern] = [
    path("portal/appointments/", my_appointments, name="my-appointments"),
    path("portal/appointments/new/", book, name="book"),
    path("portal/appointments/slots/", book_slots, name="book-slots"),
    path("portal/appointments/extended/", book_extended, name="book-extended"),
    path("windows/my-bookings/", my_bookings, name="my-bookings"),
    path("windows/units/<int:unit>/bookings/", unit_bookings, name="unit-bookings"),
    path("windows/appointments/<int:pk>/", appointment_detail, name="appointment"),
    path("windows/appointments/<int:pk>/cancel/", appointment_cancel, name="appointment-cancel"),
    path("windows/appointments/<int:pk>/arrange/", appointment_arrange, name="appointment-arrange"),
    path("windows/appointments/<int:pk>/decline/", appointment_decline, name="appointment-decline"),
    path("windows/appointments/<int:pk>/serve/", appointment_serve, name="appointment-serve"),
    path("windows/appointments/<int:pk>/miss/", appointment_miss, name="appointment-miss"),
]
