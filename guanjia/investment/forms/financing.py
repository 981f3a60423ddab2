"""Forms of the financing pages: a fund, a financing need, a roadshow, its invitations, an outcome.

They check the shape of the input; the rules (ranges, zones, states) are the services' (financing.py),
whose refusals the pages show as form errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.investment.access import zones_of
from guanjia.investment.models import (
    ChainNode,
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    Fund,
    IndustryChain,
    InvestmentStage,
    Roadshow,
)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_field(label: Any, **options: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=14, decimal_places=2, **options)


def _positive(form: forms.Form, name: str) -> Decimal | None:
    value = form.cleaned_data.get(name)
    if value is not None and value <= 0:
        raise forms.ValidationError(_("必须大于 0"))
    return value


class NodeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.chain.name} › {obj.name}"


class NeedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.enterprise.name} · {obj.amount} 万元 · {obj.get_kind_display()}"


class NeedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.enterprise.name} · {obj.amount} 万元 · {obj.get_kind_display()}"


class FundForm(TablerWidgetsMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    name = forms.CharField(label=_("基金名称"), max_length=100)
    manager = forms.CharField(label=_("基金管理人"), max_length=100)
    size = _money_field(_("基金规模（万元）"), min_value=Decimal("0"))
    kinds = forms.MultipleChoiceField(
        label=_("投资方式"),
        choices=FinancingKind.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("基金提供的资金类型，产业基金一般为股权融资"),
    )
    stages = forms.MultipleChoiceField(
        label=_("投资阶段"),
        choices=InvestmentStage.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
        help_text=_("不选即不限阶段"),
    )
    ticket_min = _money_field(_("单笔投资下限（万元）"), min_value=Decimal("0"), initial=Decimal("0"))
    ticket_max = _money_field(_("单笔投资上限（万元）"))
    focus_chains = forms.ModelMultipleChoiceField(
        label=_("关注产业链"),
        queryset=IndustryChain.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
        help_text=_("关注整条产业链时选择；关注产业链与关注环节都不选即不限行业"),
    )
    focus_nodes = NodeChoiceField(
        label=_("关注环节"),
        queryset=ChainNode.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        required=False,
        help_text=_("可多选（按住 Ctrl 或 Shift）"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, fund: Fund | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone_ids = [fund.zone_id] if fund is not None else [z.pk for z in zones_of(user)]
        zone = cast(forms.ModelChoiceField, self.fields["zone"])
        zone.queryset = OrgUnit.objects.filter(pk__in=zone_ids).order_by("code")
        if fund is not None:
            del self.fields["zone"]  # a fund stays in its zone
        chains = cast(forms.ModelMultipleChoiceField, self.fields["focus_chains"])
        chains.queryset = IndustryChain.objects.filter(zone_id__in=zone_ids).order_by("zone_id", "name")
        nodes = cast(forms.ModelMultipleChoiceField, self.fields["focus_nodes"])
        nodes.queryset = (
            ChainNode.objects.filter(chain__zone_id__in=zone_ids)
            .select_related("chain")
            .order_by("chain__name", "position", "pk")
        )

    def clean_ticket_max(self) -> Decimal | None:
        return _positive(self, "ticket_max")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("ticket_min"), data.get("ticket_max")
        if low is not None and high is not None and high < low:
            self.add_error("ticket_max", _("不能低于单笔投资下限"))
        return data


class NeedForm(TablerWidgetsMixin, forms.Form):
    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=Enterprise.objects.none())
    amount = _money_field(_("融资金额（万元）"))
    kind = forms.ChoiceField(label=_("融资方式"), choices=FinancingKind.choices)
    stage = forms.ChoiceField(
        label=_("融资轮次"),
        choices=[("", _("不限 / 不适用")), *InvestmentStage.choices],
        required=False,
        help_text=_("仅股权融资填写"),
    )
    purpose = forms.CharField(label=_("资金用途"), max_length=200)
    needed_by = forms.DateField(label=_("需求时间"), widget=_date_input(), help_text=_("希望资金到位的日期"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, enterprises: QuerySet[Enterprise] | None = None, **kwargs: Any) -> None:
        """`enterprises`: the ones the user may post for (none when editing: the need keeps its enterprise)."""
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["enterprise"])
        if enterprises is None:
            del self.fields["enterprise"]
            return
        field.queryset = enterprises
        if len(enterprises) == 1:
            # One enterprise: nothing to choose (an enterprise user with one membership).
            field.widget = forms.HiddenInput()
            field.initial = enterprises[0].pk

    def clean_amount(self) -> Decimal | None:
        return _positive(self, "amount")


class NeedFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("融资方式"), choices=[("", _("全部")), *FinancingKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *FinancingNeedStatus.choices], required=False
    )
    enterprise = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("kind", "status"):
            self.fields[name].widget.attrs["class"] = "form-select"


class RoadshowForm(TablerWidgetsMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    title = forms.CharField(label=_("路演名称"), max_length=100)
    held_on = forms.DateField(label=_("举办日期"), widget=_date_input())
    location = forms.CharField(label=_("地点"), max_length=100, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = cast(forms.ModelChoiceField, self.fields["zone"])
        zone.queryset = zones_of(user)


class InviteForm(TablerWidgetsMixin, forms.Form):
    funds = forms.ModelMultipleChoiceField(
        label=_("邀请基金"),
        queryset=Fund.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )
    needs = NeedMultipleChoiceField(
        label=_("邀请企业（融资需求）"),
        queryset=FinancingNeed.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )

    def __init__(self, *args: Any, roadshow: Roadshow, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        funds = cast(forms.ModelMultipleChoiceField, self.fields["funds"])
        funds.queryset = Fund.objects.filter(zone_id=roadshow.zone_id).exclude(roadshows=roadshow)
        needs = cast(forms.ModelMultipleChoiceField, self.fields["needs"])
        needs.queryset = (
            FinancingNeed.objects.filter(
                enterprise__zone_id=roadshow.zone_id, status=FinancingNeedStatus.OPEN
            )
            .exclude(roadshows=roadshow)
            .select_related("enterprise")
            .order_by("enterprise__name", "pk")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("funds") and not data.get("needs"):
            raise forms.ValidationError(_("请至少选择一家基金或一项融资需求"))
        return data


class OutcomeForm(TablerWidgetsMixin, forms.Form):
    """An outcome for a need (need page: `need` given) or at a roadshow (roadshow page: `roadshow` given)."""

    need = NeedChoiceField(label=_("融资需求"), queryset=FinancingNeed.objects.none())
    fund = forms.ModelChoiceField(
        label=_("出资基金"),
        queryset=Fund.objects.none(),
        required=False,
        empty_label=_("（其他出资方，在下一栏填写）"),
    )
    investor = forms.CharField(
        label=_("出资方（非基金时）"), max_length=100, required=False, help_text=_("未选择出资基金时填写")
    )
    amount = _money_field(_("投资金额（万元）"))
    invested_on = forms.DateField(label=_("投资日期"), widget=_date_input())
    roadshow = forms.ModelChoiceField(
        label=_("路演"), queryset=Roadshow.objects.none(), required=False, empty_label=_("（无）")
    )

    def __init__(
        self,
        *args: Any,
        need: FinancingNeed | None = None,
        roadshow: Roadshow | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        zone_id = need.enterprise.zone_id if need is not None else cast(Roadshow, roadshow).zone_id
        fund = cast(forms.ModelChoiceField, self.fields["fund"])
        fund.queryset = Fund.objects.filter(zone_id=zone_id)
        if need is not None:
            del self.fields["need"]
            shows = cast(forms.ModelChoiceField, self.fields["roadshow"])
            shows.queryset = need.roadshows.order_by("-held_on", "-pk")
        else:
            del self.fields["roadshow"]
            needs = cast(forms.ModelChoiceField, self.fields["need"])
            needs.queryset = (
                cast(Roadshow, roadshow)
                .needs.exclude(status=FinancingNeedStatus.WITHDRAWN)
                .select_related("enterprise")
                .order_by("enterprise__name", "pk")
            )

    def clean_amount(self) -> Decimal | None:
        return _positive(self, "amount")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("fund") and not (data.get("investor") or "").strip():
            self.add_error("investor", _("请选择出资基金或填写出资方名称"))
        return data


class TotalsForm(forms.Form):
    """The period of the totals: a calendar range of investment dates."""

    start = forms.DateField(label=_("开始日期"), widget=_date_input(), required=False)
    end = forms.DateField(label=_("结束日期"), widget=_date_input(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
