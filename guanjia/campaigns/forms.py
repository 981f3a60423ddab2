"""Forms of the campaign pages: the campaign, the target filters, the upload, the reassignment."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign, CampaignTarget
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.industries import DIVISIONS, SECTIONS
from guanjia.enterprises.models import Tag, Tier


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=services.NAME_MAX)
    description = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("目的、要求等，选填"),
    )
    starts_on = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    zones = forms.ModelMultipleChoiceField(
        label=_("覆盖园区"),
        queryset=OrgUnit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("目标企业只能来自这些园区"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = cast(forms.ModelMultipleChoiceField, self.fields["zones"])
        zones.queryset = OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by(
            "code"
        )
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("不能早于开始日期"))
        return data


class TargetCriteriaForm(forms.Form):
    """The filters that build a target list; each left empty does not filter."""

    zones = forms.ModelMultipleChoiceField(
        label=_("园区"),
        queryset=OrgUnit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选即本专项行动覆盖的全部园区"),
    )
    tiers = forms.MultipleChoiceField(
        label=_("企业分级"), choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    industry_section = forms.ChoiceField(
        label=_("行业门类"),
        choices=[("", _("全部门类"))] + [(code, f"{code} {name}") for code, name in SECTIONS.items()],
        required=False,
    )
    industry_division = forms.ChoiceField(
        label=_("行业大类"),
        choices=[("", _("全部大类"))] + [(code, f"{code} {row[1]}") for code, row in DIVISIONS.items()],
        required=False,
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("标签"),
        queryset=Tag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("有其中任一标签的企业"),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = cast(forms.ModelMultipleChoiceField, self.fields["zones"])
        zones.queryset = OrgUnit.objects.filter(pk__in=services.zone_ids_of(campaign)).order_by("code")
        _style(self)

    def criteria(self) -> services.TargetCriteria:
        data = self.cleaned_data
        return services.TargetCriteria(
            zones=list(data.get("zones") or []),
            tiers=list(data.get("tiers") or []),
            industry_section=data.get("industry_section") or "",
            industry_division=data.get("industry_division") or "",
            tags=list(data.get("tags") or []),
        )


class TargetImportForm(forms.Form):
    file = forms.FileField(
        label=_("统一社会信用代码清单"),
        help_text=_(".xlsx 或 .csv；第 1 行为表头“统一社会信用代码”，以下每行一个代码（文本格式）"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx,.csv"})


class TargetListFilterForm(forms.Form):
    """The target table's filters on the campaign page."""

    VISITED_CHOICES = [("", _("全部")), ("yes", _("已走访")), ("no", _("未走访"))]

    visited = forms.ChoiceField(label=_("走访情况"), choices=VISITED_CHOICES, required=False)
    steward = forms.ModelChoiceField(
        label=_("责任管家"), queryset=User.objects.none(), required=False, empty_label=_("全部管家")
    )

    def __init__(self, *args: Any, stewards: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["steward"]).queryset = stewards
        _style(self)


class ReassignForm(forms.Form):
    """Selected targets (checkboxes), or every target of one steward, go to another steward."""

    to = forms.ModelChoiceField(
        label=_("改派给"), queryset=User.objects.none(), empty_label=_("请选择服务管家")
    )
    targets = forms.ModelMultipleChoiceField(
        label=_("目标企业"), queryset=CampaignTarget.objects.none(), required=False
    )
    from_steward = forms.ModelChoiceField(
        label=_("原责任管家"), queryset=User.objects.none(), required=False, empty_label=_("（按勾选改派）")
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stewards = services.stewards_for(campaign)
        cast(forms.ModelChoiceField, self.fields["to"]).queryset = stewards
        cast(forms.ModelChoiceField, self.fields["from_steward"]).queryset = User.objects.filter(
            pk__in=CampaignTarget.objects.filter(campaign=campaign).values("steward_id")
        ).order_by("username")
        cast(forms.ModelMultipleChoiceField, self.fields["targets"]).queryset = CampaignTarget.objects.filter(
            campaign=campaign
        )
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("targets")) == bool(data.get("from_steward")):
            raise forms.ValidationError(
                _("请勾选要改派的目标企业，或选择一位原责任管家改派其全部目标（二选一）")
            )
        return data
