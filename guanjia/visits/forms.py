"""The visit form and its repeated "problem → appeal" blocks (server-side extra rows, no script)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.forms import MultipleFileField, MultipleFileInput
from guanjia.appeals.models import AppealCategory
from guanjia.core.models import User
from guanjia.visits import services
from guanjia.visits.models import Visit, VisitSchedule

REQUIRED_ON_RECORD = ("visited_on", "our_side", "their_side", "summary")


class VisitForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = [
            "visited_on",
            "mode",
            "our_side",
            "their_side",
            "summary",
            "explained",
            "location",
            "latitude",
            "longitude",
        ]
        widgets = {
            "visited_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "mode": forms.RadioSelect,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "explained": forms.Textarea(attrs={"rows": 2}),
        }

    # On a phone `capture` opens the camera; the page adds a second input for the photo album.
    photos = MultipleFileField(
        label=_("现场照片"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = services.today()
        self.fields["photos"].help_text = _("可多张，一次最多 %(count)s 张；PNG、JPEG、GIF、WebP 图片") % {
            "count": services.MAX_PHOTOS
        }
        for name in REQUIRED_ON_RECORD:  # blank at the database level only because a plan has none
            self.fields[name].required = True
        for name, field in self.fields.items():
            if name != "mode":
                field.widget.attrs.setdefault("class", "form-control")

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > services.today():
            raise forms.ValidationError(_("走访日期不能晚于今天"))
        return day


class ProblemForm(forms.Form):
    """One problem found during the visit; left blank, it raises nothing."""

    title = forms.CharField(label=_("诉求标题"), max_length=200, required=False)
    body = forms.CharField(label=_("诉求内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ModelChoiceField(
        label=_("诉求类别"), queryset=AppealCategory.objects.none(), required=False, empty_label=_("（不选）")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = AppealCategory.objects.filter(
            is_active=True
        ).order_by("position")
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if field is self.fields["category"] else "form-control"
            )

    def clean(self):
        data = super().clean() or {}
        title, body = (data.get("title") or "").strip(), (data.get("body") or "").strip()
        if bool(title) != bool(body):
            raise forms.ValidationError(_("请同时填写诉求标题和诉求内容，或都留空"))
        return data

    def problem(self) -> services.Problem | None:
        data = self.cleaned_data
        if not (data.get("title") or "").strip():
            return None
        return services.Problem(title=data["title"], body=data["body"], category=data.get("category"))


ProblemFormSet = formset_factory(ProblemForm, extra=1, max_num=services.MAX_PROBLEMS, validate_max=True)


class StewardChoiceForm(forms.Form):
    """A dispatcher or supervisor picks a steward of its zones."""

    steward = forms.ModelChoiceField(label=_("服务管家"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, stewards: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["steward"]).queryset = stewards
        self.fields["steward"].widget.attrs["class"] = "form-select"


class PlanForm(forms.Form):
    """安排走访: a day from today on and, optionally, what the visit is for."""

    planned_on = forms.DateField(
        label=_("计划走访日期"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    plan_note = forms.CharField(
        label=_("计划事项"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("选填，如：了解用工需求、宣讲研发费用加计扣除政策"),
    )

    def clean_planned_on(self):
        day = self.cleaned_data["planned_on"]
        if day < services.today():
            raise forms.ValidationError(_("计划走访日期不能早于今天"))
        return day


class IntervalForm(forms.ModelForm):
    """The zone's dispatcher or supervisor sets an enterprise's own cadence (blank: the tier's default)."""

    class Meta:
        model = VisitSchedule
        fields = ["interval_days"]
        widgets = {"interval_days": forms.NumberInput(attrs={"class": "form-control", "min": 1, "max": 366})}
