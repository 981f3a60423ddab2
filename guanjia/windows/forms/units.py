"""Forms of the units pages, and the API's list filters for windows and services.

They check the shape of the input; the rules themselves (hours on slot boundaries, the lunch window
inside the hours, unique names and numbers) are the services' (guanjia/windows/units.py), whose refusals
the pages show next to the field they name.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.api_common import IdFilter
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.windows import units as services
from guanjia.windows.models import SLOT_CHOICES, ServiceUnit, ServiceWindow, WindowService


def _time_field(label: Any, **options: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"type": "time", "step": "900"}, format="%H:%M"),
        **options,
    )


def _version() -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class UnitForm(TablerWidgetsMixin, forms.Form):
    """A new unit, or the edit of one (its department is the keeper's own and never changes)."""

    name = forms.CharField(
        label=_("名称"), max_length=services.NAME_MAX, help_text=_("如：高新区政务服务中心·企业服务专区")
    )
    address = forms.CharField(label=_("地址"), max_length=services.ADDRESS_MAX)
    phone = forms.CharField(label=_("咨询电话"), max_length=services.PHONE_MAX, required=False)
    opens_at = _time_field(_("开始办公"))
    closes_at = _time_field(_("结束办公"))
    no_lunch_break = forms.BooleanField(
        label=_("中午不间断服务"),
        required=False,
        help_text=_("勾选后午休时段照常办公，工作人员在午休时段内轮流就餐；不勾选则午休时段暂停服务"),
    )
    lunch_from = _time_field(_("午休时段起"))
    lunch_to = _time_field(_("午休时段止"))
    lunch_minutes = forms.IntegerField(
        label=_("每人午休（分钟）"),
        min_value=15,
        max_value=120,
        help_text=_("中午不间断服务时，每位工作人员在午休时段内的就餐时长"),
    )
    slot_minutes = forms.TypedChoiceField(label=_("时段长度（分钟）"), choices=SLOT_CHOICES, coerce=int)
    booking_days = forms.IntegerField(
        label=_("可预约天数"), min_value=1, max_value=60, help_text=_("企业可预约今后多少天内的时段")
    )
    notice = forms.CharField(
        label=_("服务须知"),
        max_length=services.NOTICE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("在企业门户公布，如取号、停车、材料原件等提示"),
    )
    is_published = forms.BooleanField(label=_("在企业门户公布"), required=False)
    version = _version()

    @staticmethod
    def initial_of(unit: ServiceUnit | None) -> dict[str, Any]:
        if unit is None:
            return dict(services.UNIT_DEFAULTS)
        return {**{name: getattr(unit, name) for name in services.UNIT_FIELDS}, "version": unit.version}

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.UNIT_FIELDS}


class WindowForm(TablerWidgetsMixin, forms.Form):
    number = forms.CharField(label=_("窗口号"), max_length=services.NUMBER_MAX, help_text=_("如：1、A2"))
    name = forms.CharField(label=_("窗口名称"), max_length=services.WINDOW_NAME_MAX)
    must_stay_open = forms.BooleanField(
        label=_("办公时间内须始终有人"),
        required=False,
        help_text=_("排班时保证该窗口在办公时间（含中午）每个时段都有足够的工作人员"),
    )
    staff_needed = forms.IntegerField(label=_("同时在岗人数"), min_value=1, max_value=10)
    seats = forms.IntegerField(label=_("每时段可预约数"), min_value=1, max_value=10)
    is_active = forms.BooleanField(
        label=_("启用"), required=False, help_text=_("停用的窗口不再公布，也不能预约")
    )
    version = _version()

    @staticmethod
    def initial_of(window: ServiceWindow | None) -> dict[str, Any]:
        if window is None:
            return {"must_stay_open": True, "staff_needed": 1, "seats": 1, "is_active": True}
        return {**{name: getattr(window, name) for name in services.WINDOW_FIELDS}, "version": window.version}

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.WINDOW_FIELDS}


class ServiceForm(TablerWidgetsMixin, forms.Form):
    name = forms.CharField(label=_("服务事项"), max_length=services.SERVICE_NAME_MAX)
    materials = forms.CharField(
        label=_("所需材料"),
        max_length=services.MATERIALS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一项，在企业门户公布"),
    )
    bookable = forms.BooleanField(label=_("可预约"), required=False)
    position = forms.IntegerField(
        label=_("排序"), min_value=0, max_value=services.POSITION_MAX, help_text=_("数字小的排在前面")
    )
    version = _version()

    @staticmethod
    def initial_of(service: WindowService | None) -> dict[str, Any]:
        if service is None:
            return {"bookable": True, "position": 100}
        return {
            **{name: getattr(service, name) for name in services.SERVICE_FIELDS},
            "version": service.version,
        }

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.SERVICE_FIELDS}


# --- the API's list filters ---------------------------------------------------------------------------


class WindowFilter(django_filters.FilterSet):
    unit = IdFilter(label=_("服务单位"), field_name="unit_id", help_text=_("服务单位 id"))

    class Meta:
        model = ServiceWindow
        fields: list[str] = []


class ServiceFilter(django_filters.FilterSet):
    window = IdFilter(label=_("窗口"), field_name="window_id", help_text=_("窗口 id"))
    unit = IdFilter(label=_("服务单位"), field_name="window__unit_id", help_text=_("服务单位 id"))

    class Meta:
        model = WindowService
        fields: list[str] = []
