"""The cockpit's period chooser (the zone is a query parameter the views check against the scope)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.appeals import kpi
from guanjia.appeals.forms import PageFormMixin
from guanjia.cockpit import figures

# A custom period longer than this is refused: a year and a bit covers every comparison leaders make.
MAX_DAYS = 400


class PeriodForm(PageFormMixin, forms.Form):
    """A named period or custom dates (end excluded, as in docs/kpi.md)."""

    period = forms.ChoiceField(label=_("统计期"), choices=figures.PERIOD_CHOICES, required=False)
    start = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("结束日期（不含当日）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("例如 3 月全月：开始 2026-03-01，结束 2026-04-01"),
    )

    def __init__(self, *args, day: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.day = day

    def clean(self) -> dict:
        data = super().clean() or {}
        name = data.get("period") or ""
        if name == "custom" or (not name and (data.get("start") or data.get("end"))):
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", _("自定义统计期须填写开始日期"))
            if end is None:
                self.add_error("end", _("自定义统计期须填写结束日期（不含当日）"))
            if start and end:
                if end <= start:
                    self.add_error("end", _("结束日期必须晚于开始日期"))
                elif end - start > timedelta(days=MAX_DAYS):
                    self.add_error("end", _("统计期最长 %(days)s 天") % {"days": MAX_DAYS})
            data["period"] = "custom"
        return data

    def chosen(self) -> tuple[str, kpi.Period]:
        """The valid choice, or this month when the form is empty or invalid (its errors are shown)."""
        if not self.is_valid():
            return figures.DEFAULT_PERIOD, figures.preset_period(figures.DEFAULT_PERIOD, self.day)
        name = self.cleaned_data.get("period") or figures.DEFAULT_PERIOD
        if name == "custom":
            return name, kpi.Period(self.cleaned_data["start"], self.cleaned_data["end"])
        return name, figures.preset_period(name, self.day)
