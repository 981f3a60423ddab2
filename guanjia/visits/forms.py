"""The visit form and its repeated "problem → appeal" blocks (server-side extra rows, no script)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import AppealCategory
from guanjia.core.models import User
from guanjia.visits import services
from guanjia.visits.models import Visit


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = services.today()
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
