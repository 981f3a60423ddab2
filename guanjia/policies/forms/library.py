"""Forms of the policy library pages, and the policy list's filters (shared by the list page and the API).

They check the shape of the input and the ranges a keeper sees at once; the rules themselves are the
services' (guanjia/policies/library.py), whose refusals the pages show next to the field they name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.forms import MultipleFileField, files_help
from guanjia.core.api_common import IdFilter
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit
from guanjia.enterprises.industries import DIVISION_CHOICES
from guanjia.enterprises.models import Scale, Tag, Tier
from guanjia.policies import library as services
from guanjia.policies.access import coverage_zones, today
from guanjia.policies.models import BenefitCategory, BenefitItem, Policy

SEARCH_MAX = 100


# 现行有效: not expired (in force, or published and about to be); 已失效: expired; 全部.
STATE_CHOICES = [
    ("current", _("现行有效")),
    ("expired", _("已失效")),
    ("all", _("全部")),
]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _checkboxes() -> forms.CheckboxSelectMultiple:
    return forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


def _money_field(label: Any, **options: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        **options,
    )


# --- the list's filters -------------------------------------------------------------------------------


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class DepartmentFilter(django_filters.ModelChoiceFilter):
    field_class = DepartmentChoiceField


def departments_of(policies: QuerySet[Policy]) -> QuerySet[OrgUnit]:
    """The responsible departments of `policies` (the department filter's choices)."""
    return OrgUnit.objects.filter(pk__in=policies.values("department_id")).order_by("name", "pk")


class PolicyFilter(django_filters.FilterSet):
    """The policy list's filters: a search in the title and 文号, the state, the department."""

    search = django_filters.CharFilter(
        label=_("搜索"),
        method="by_text",
        max_length=SEARCH_MAX,
        help_text=_("政策名称或文号中含有的文字"),
    )
    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=STATE_CHOICES,
        method="by_state",
        empty_label=None,
        help_text=_("current：现行有效（未失效，含尚未生效的）；expired：已失效；all：全部。默认 current"),
    )
    department = DepartmentFilter(
        label=_("承办部门"),
        queryset=lambda request: departments_of(Policy.objects.visible_to(getattr(request, "user", None))),
        empty_label=_("全部部门"),
        help_text=_("承办部门 id"),
    )

    class Meta:
        model = Policy
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # 现行有效 unless asked otherwise: the list a reader wants.
        if data is None or "state" not in data or not data.get("state"):
            data = data.copy() if data is not None else {}
            data["state"] = "current"
        super().__init__(data, *args, **kwargs)
        for field in self.form.fields.values():
            widget = field.widget
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )

    def by_text(self, queryset: QuerySet[Policy], name: str, value: str) -> QuerySet[Policy]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(title__icontains=text) | Q(document_number__icontains=text))

    def by_state(self, queryset: QuerySet[Policy], name: str, value: str) -> QuerySet[Policy]:
        on = today()
        if value == "expired":
            return queryset.filter(expires_on__lt=on)
        if value == "all":
            return queryset
        return queryset.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))


class BenefitItemFilter(django_filters.FilterSet):
    policy = IdFilter(
        label=_("政策"), field_name="policy_id", min_value=1, max_value=2**31 - 1, help_text=_("政策 id")
    )

    class Meta:
        model = BenefitItem
        fields: list[str] = []


# --- writing --------------------------------------------------------------------------------------


class PolicyForm(TablerWidgetsMixin, forms.Form):
    """A new policy, or the edit of one (its department is the keeper's own and never changes)."""

    title = forms.CharField(label=_("政策名称"), max_length=services.TITLE_MAX)
    issuer = forms.CharField(
        label=_("发文机关"), max_length=services.ISSUER_MAX, help_text=_("如：示例市人民政府办公室")
    )
    document_number = forms.CharField(
        label=_("文号"),
        max_length=services.NUMBER_MAX,
        required=False,
        help_text=_("如：示政办规〔2026〕3号"),
    )
    effective_on = forms.DateField(label=_("生效日期"), widget=_date_input())
    expires_on = forms.DateField(
        label=_("失效日期"), widget=_date_input(), required=False, help_text=_("长期有效的不填")
    )
    full_text = forms.CharField(
        label=_("政策原文"), required=False, widget=forms.Textarea(attrs={"rows": 12})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        effective, expires = data.get("effective_on"), data.get("expires_on")
        if effective and expires and expires < effective:
            self.add_error("expires_on", _("不能早于生效日期"))
        return data


class TagChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class ZoneChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class BenefitItemForm(TablerWidgetsMixin, forms.Form):
    """A benefit item and who qualifies for it: every condition left empty does not restrict."""

    name = forms.CharField(
        label=_("兑现事项"), max_length=services.ITEM_NAME_MAX, help_text=_("如：研发费用补贴")
    )
    category = forms.ChoiceField(label=_("类别"), choices=BenefitCategory.choices)
    summary = forms.CharField(label=_("支持内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    max_amount = _money_field(_("最高金额（万元）"), help_text=_("不设上限的不填"))
    auto_grant = forms.BooleanField(
        label=_("免申即享"), required=False, help_text=_("符合条件的企业无需申请，由部门直接兑现")
    )
    disburse_within_days = forms.IntegerField(
        label=_("兑现时限（工作日）"), min_value=1, max_value=services.DAYS_MAX, initial=20
    )
    # --- eligibility
    zones = ZoneChoiceField(
        label=_("适用园区"),
        queryset=OrgUnit.objects.none(),
        widget=_checkboxes(),
        required=False,
        help_text=_("不选即本政策覆盖的全部园区"),
    )
    divisions = forms.MultipleChoiceField(
        label=_("行业大类"),
        choices=DIVISION_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("可多选（按住 Ctrl 或 Shift）；不选即不限行业"),
    )
    scales = forms.MultipleChoiceField(
        label=_("企业规模"),
        choices=Scale.choices,
        widget=_checkboxes(),
        required=False,
        help_text=_("不选即不限"),
    )
    tiers = forms.MultipleChoiceField(
        label=_("企业分级"),
        choices=Tier.choices,
        widget=_checkboxes(),
        required=False,
        help_text=_("不选即不限"),
    )
    tags = TagChoiceField(
        label=_("企业标签（任一）"),
        queryset=Tag.objects.none(),
        widget=_checkboxes(),
        required=False,
        help_text=_("具有所选标签之一即可；不选即不限"),
    )
    min_years = forms.IntegerField(
        label=_("成立满（年）"), min_value=0, max_value=services.YEARS_MAX, required=False
    )
    max_years = forms.IntegerField(
        label=_("成立不满（年）"),
        min_value=1,
        max_value=services.YEARS_MAX,
        required=False,
        help_text=_("按周年计：成立满 3 年自第三个周年日起，成立不满 5 年至第五个周年日前一天"),
    )
    capital_min = _money_field(_("注册资本下限（万元）"), help_text=_("含本数"))
    capital_max = _money_field(_("注册资本上限（万元）"), help_text=_("含本数"))
    other_conditions = forms.CharField(
        label=_("其他条件（人工判断）"),
        max_length=services.OTHER_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("无法结构化的条件，如“上年度研发投入不低于 500 万元”，由工作人员审核时判断"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # The eligibility part of ITEM_FIELDS: from the zones on.
    CONDITION_FIELDS = services.ITEM_FIELDS[services.ITEM_FIELDS.index("zones") :]

    def __init__(self, *args: Any, policy: Policy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = cast(forms.ModelMultipleChoiceField, self.fields["zones"])
        zones.queryset = coverage_zones(policy).order_by("name", "pk")
        tags = cast(forms.ModelMultipleChoiceField, self.fields["tags"])
        tags.queryset = Tag.objects.order_by("name", "pk")

    @classmethod
    def initial_of(cls, item: BenefitItem) -> dict[str, Any]:
        return {
            "name": item.name,
            "category": item.category,
            "summary": item.summary,
            "max_amount": item.max_amount,
            "auto_grant": item.auto_grant,
            "disburse_within_days": item.disburse_within_days,
            "zones": [zone.pk for zone in item.zones.all()],
            "divisions": item.division_list,
            "scales": item.scale_list,
            "tiers": item.tier_list,
            "tags": [tag.pk for tag in item.tags.all()],
            "min_years": item.min_years,
            "max_years": item.max_years,
            "capital_min": item.capital_min,
            "capital_max": item.capital_max,
            "other_conditions": item.other_conditions,
            "version": item.version,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min_years"), data.get("max_years")
        if low is not None and high is not None and high <= low:
            self.add_error("max_years", _("应大于成立满（年）"))
        low, high = data.get("capital_min"), data.get("capital_max")
        if low is not None and high is not None and high < low:
            self.add_error("capital_max", _("不能低于注册资本下限"))
        return data

    def values(self) -> dict[str, Any]:
        """The cleaned fields as the services take them."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class AttachmentsForm(forms.Form):
    """政策附件: the published document, application forms."""

    attachments = MultipleFileField(label=_("附件"), help_text=files_help)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = self.fields["attachments"].widget
        widget.attrs.setdefault("class", "form-control")
        widget.attrs.setdefault("aria-describedby", "id_attachments_help")
