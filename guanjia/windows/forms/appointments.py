"""Forms of the appointment pages: booking a slot, asking for 延时服务, the keeper's and staff's steps, and
the filters of a unit's bookings.

They check the shape of the input; the rules (hours, holidays, seats, who may) are the service's
(guanjia.windows.appointments), whose refusals the pages show next to the field they name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.windows.appointments import NAME_MAX, NOTE_MAX, bookable_days, staff_choices
from guanjia.windows.models import (
    AppointmentKind,
    AppointmentState,
    ServiceUnit,
    ServiceWindow,
    WindowService,
)

WEEKDAYS = "一二三四五六日"


def day_label(day: dt.date) -> str:
    return f"{day:%Y-%m-%d}（周{WEEKDAYS[day.weekday()]}）"


def window_choices(windows: QuerySet[ServiceWindow]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The windows grouped by their unit (an <optgroup> per unit)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for window in windows.select_related("unit").order_by("unit__name", "unit_id", "number"):
        groups.setdefault(window.unit.name, []).append((window.pk, f"{window.number} {window.name}"))
    return list(groups.items())


class _EnterpriseMixin:
    """The enterprise booked for: a steward picks among those it serves; an enterprise user's own is
    implied (a hidden field) when it has one only."""

    fields: dict[str, forms.Field]

    def setup_enterprise(self, user: User, enterprises: QuerySet[Enterprise]) -> None:
        field = cast(forms.ModelChoiceField, self.fields["enterprise"])
        field.queryset = enterprises.order_by("name")
        # A steward always sees whom it books for; an enterprise user of one enterprise books for it.
        if not user.has_role(Role.STEWARD) and len(field.queryset) == 1:
            field.initial = field.queryset[0].pk
            field.widget = forms.HiddenInput()


class BookingForm(_EnterpriseMixin, TablerWidgetsMixin, forms.Form):
    """A slot at one window: the service, the day (its open days within reach) and a free slot."""

    window = forms.IntegerField(widget=forms.HiddenInput)
    enterprise = forms.ModelChoiceField(label=_("预约企业"), queryset=Enterprise.objects.none())
    service = forms.ModelChoiceField(
        label=_("服务事项"), queryset=WindowService.objects.none(), required=False, empty_label=_("请选择")
    )
    date = forms.ChoiceField(label=_("日期"))
    start = forms.TimeField(
        label=_("时段"),
        input_formats=["%H:%M"],
        widget=forms.HiddenInput,  # the slot list (windows:book-slots) renders the choices as radios
        error_messages={"required": _("请选择一个时段"), "invalid": _("请选择一个时段")},
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=NAME_MAX)
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=20, help_text=_("11 位手机号或带区号的固定电话")
    )
    note = forms.CharField(
        label=_("事项说明"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("选填：需要办理的具体事项，便于窗口提前准备"),
    )

    def __init__(
        self, *args: Any, user: User, window: ServiceWindow, enterprises: QuerySet[Enterprise], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.booking_window = window
        self.fields["window"].initial = window.pk
        self.setup_enterprise(user, enterprises)
        services = cast(forms.ModelChoiceField, self.fields["service"])
        services.queryset = window.services.filter(bookable=True).order_by("position", "name")
        services.required = services.queryset.exists()
        days = bookable_days(window.unit)
        self.fields["date"].choices = [(day.isoformat(), day_label(day)) for day in days]  # type: ignore[attr-defined]
        self.days = days

    def clean_date(self) -> dt.date:
        return dt.date.fromisoformat(self.cleaned_data["date"])

    def chosen_day(self) -> dt.date | None:
        """The day the slot list shows: the one posted or asked for, else the first open day."""
        raw = self.data.get("date") if self.is_bound else self.initial.get("date")
        for day in self.days:
            if raw == day.isoformat():
                return day
        return self.days[0] if self.days else None


class ExtendedForm(_EnterpriseMixin, TablerWidgetsMixin, forms.Form):
    """延时服务: a window, a day and a time outside the hours, and what the enterprise needs."""

    enterprise = forms.ModelChoiceField(label=_("申请企业"), queryset=Enterprise.objects.none())
    window = forms.TypedChoiceField(label=_("窗口"), coerce=int)
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(
        label=_("开始时间"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end = forms.TimeField(label=_("结束时间"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    contact_name = forms.CharField(label=_("联系人"), max_length=NAME_MAX)
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=20, help_text=_("11 位手机号或带区号的固定电话")
    )
    note = forms.CharField(
        label=_("事项说明"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("需要办理的事项，以及为何需在办公时间外办理"),
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        windows: QuerySet[ServiceWindow],
        enterprises: QuerySet[Enterprise],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.setup_enterprise(user, enterprises)
        self.fields["window"].choices = [("", _("请选择")), *window_choices(windows)]  # type: ignore[attr-defined]
        self.windows = windows

    def clean_window(self) -> ServiceWindow:
        window = self.windows.filter(pk=self.cleaned_data["window"]).select_related("unit").first()
        if window is None:
            raise forms.ValidationError(_("请选择一个窗口"))
        return window


class _StepForm(TablerWidgetsMixin, forms.Form):
    """One step of the detail page; its fields' ids start with `slot` (the page shows several forms)."""

    slot = "step"
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.slot}_%s")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self.slot}_{name}_help"


class ArrangeForm(_StepForm):
    slot = "arrange"
    staff = forms.ModelChoiceField(label=_("接待人员"), queryset=User.objects.none(), empty_label=_("请选择"))

    def __init__(self, *args: Any, unit: ServiceUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["staff"]).queryset = staff_choices(unit)


class DeclineForm(_StepForm):
    slot = "decline"
    reason = forms.CharField(
        label=_("未安排原因"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("企业可见；可建议改约的时间"),
    )


class CancelForm(_StepForm):
    slot = "cancel"
    reason = forms.CharField(
        label=_("取消原因"), max_length=NOTE_MAX, required=False, help_text=_("选填；企业可见")
    )


class UnitBookingsFilter(forms.Form):
    """A unit's bookings: a day, a window, a state, a kind."""

    date = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    window = forms.ModelChoiceField(
        label=_("窗口"), queryset=ServiceWindow.objects.none(), required=False, empty_label=_("全部")
    )
    state = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *AppointmentState.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("类型"), choices=[("", _("全部")), *AppointmentKind.choices], required=False
    )

    def __init__(self, *args: Any, unit: ServiceUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["window"]).queryset = unit.windows.order_by("number")
        self.fields["date"].widget.attrs["class"] = "form-control"
        for name in ("window", "state", "kind"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"day": data["date"], "window": data["window"], "state": data["state"], "kind": data["kind"]}
