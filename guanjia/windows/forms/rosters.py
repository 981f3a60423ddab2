"""Forms of the staff and roster pages, and the staff and roster lists' filters (shared with the API).

They check the shape of the input; the rules are the services' (guanjia/windows/rosters.py), whose
refusals the pages show next to the field they name.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.api_common import IdFilter
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import User
from guanjia.windows import rostering
from guanjia.windows import rosters as services
from guanjia.windows.models import Roster, ServiceUnit, Staffing

WEEKDAY_CHOICES = [(str(number), label) for number, label in services.WEEKDAY_LABELS.items()]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj}（{obj.username}）"


class WindowChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class StaffingForm(TablerWidgetsMixin, forms.Form):
    """A member of a unit's staff: who, at which windows, on which weekdays, how many shifts a week."""

    user = UserChoiceField(label=_("工作人员"), queryset=None, help_text=_("本园区的工作人员账号"))
    windows = WindowChoiceField(
        label=_("可服务窗口"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    weekdays = forms.MultipleChoiceField(
        label=_("可排班日"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    max_shifts = forms.IntegerField(
        label=_("每周最多班次"), min_value=0, max_value=services.MAX_SHIFTS, initial=5
    )
    is_active = forms.BooleanField(label=_("在岗"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(
        self, *args: Any, unit: ServiceUnit, staffing: Staffing | None = None, **kwargs: Any
    ) -> None:
        if staffing is not None:
            kwargs.setdefault(
                "initial",
                {
                    "user": staffing.user_id,
                    "windows": [w.pk for w in staffing.windows.all()],
                    "weekdays": [str(day) for day in staffing.weekday_numbers()],
                    "max_shifts": staffing.max_shifts,
                    "is_active": staffing.is_active,
                    "version": staffing.version,
                },
            )
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        if staffing is not None:
            user_field.queryset = User.objects.filter(pk=staffing.user_id)
            user_field.disabled = True
        else:
            user_field.queryset = services.staff_candidates(unit).exclude(
                pk__in=unit.staffings.values("user_id")
            )
        windows_field = self.fields["windows"]
        assert isinstance(windows_field, forms.ModelMultipleChoiceField)
        windows_field.queryset = unit.windows.filter(is_active=True).order_by("number")


class GenerateForm(TablerWidgetsMixin, forms.Form):
    week_start = forms.DateField(
        label=_("周一日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("要排班那一周的星期一；已有草稿时将重新生成"),
    )


class ShiftForm(TablerWidgetsMixin, forms.Form):
    """One person's day in a roster: the window and the lunch break (HTMX posts it, the board comes back)."""

    user = UserChoiceField(label=_("工作人员"), queryset=None)
    day = forms.DateField(label=_("日期"), widget=forms.Select)
    window: forms.ModelChoiceField = forms.ModelChoiceField(label=_("窗口"), queryset=None)
    lunch_start = forms.TimeField(label=_("午休开始"), required=False, widget=forms.Select)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, roster: Roster, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"version": roster.version})
        super().__init__(*args, **kwargs)
        unit = roster.unit
        user_field = self.fields["user"]
        window_field = self.fields["window"]
        assert isinstance(user_field, forms.ModelChoiceField)
        assert isinstance(window_field, forms.ModelChoiceField)
        staffings = unit.staffings.filter(is_active=True)
        user_field.queryset = User.objects.filter(pk__in=staffings.values("user_id")).order_by("username")
        window_field.queryset = unit.windows.filter(is_active=True).order_by("number")
        days = rostering.week_days(roster.week_start)
        self.fields["day"].widget.choices = [
            (day.isoformat(), f"{day:%m-%d} {services.weekday_label(day)}") for day in days
        ]
        starts = rostering.lunch_starts(unit)
        lunch = self.fields["lunch_start"]
        if starts:
            lunch.widget.choices = [("", _("请选择")), *((f"{s:%H:%M}", f"{s:%H:%M}") for s in starts)]
            lunch.help_text = _("中午不间断服务：每人轮流午休 %(n)d 分钟") % {"n": unit.lunch_minutes}
        else:
            lunch.widget = forms.HiddenInput()


# --- the lists' filters (API) ---------------------------------------------------------------------------


class StaffingFilter(django_filters.FilterSet):
    unit = IdFilter(field_name="unit_id", label=_("服务单位"), help_text=_("服务单位 id"))

    class Meta:
        model = Staffing
        fields: list[str] = []


class RosterFilter(django_filters.FilterSet):
    unit = IdFilter(field_name="unit_id", label=_("服务单位"), help_text=_("服务单位 id"))
    week_start = django_filters.DateFilter(label=_("周一日期"), help_text=_("YYYY-MM-DD"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Roster.Status.choices)

    class Meta:
        model = Roster
        fields: list[str] = []
