"""Forms of the listing pages: a new candidate, the list's filters, the forward move, the correction,
an intermediary, a problem and a support item. The services check every rule again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.capital import access, listings
from guanjia.capital.models import (
    LISTING_STAGES,
    Board,
    IntermediaryRole,
    ListingCandidate,
    ListingStage,
)
from guanjia.core.models import User
from guanjia.investment.models import IndustryChain
from guanjia.policies.models import Delivery


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )


class DeliveryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Delivery) -> str:
        amount = f"{obj.amount} 万元" if obj.amount is not None else ""
        return f"{obj.item.name}（{obj.disbursed_on or ''} {amount}）"


class CandidateForm(forms.Form):
    enterprise: forms.ModelChoiceField = forms.ModelChoiceField(label=_("企业"), queryset=None)  # type: ignore[arg-type]
    board = forms.ChoiceField(label=_("拟上市板块"), choices=Board.choices)
    stage = forms.ChoiceField(label=_("当前阶段"), choices=ListingStage.choices)
    stage_entered_on = forms.DateField(label=_("进入当前阶段日期"), widget=_date_input())
    planned_year = forms.IntegerField(label=_("计划上市年份"), required=False, min_value=2000, max_value=2100)
    stock_code = forms.CharField(
        label=_("股票代码"), required=False, max_length=20, help_text=_("已上市的填写")
    )
    notes = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=listings.NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"stage_entered_on": access.today()})
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["enterprise"]).queryset = listings.enterprises_for_new(user)
        _style(self)


class FilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("阶段"), required=False, choices=[("", _("全部")), *ListingStage.choices]
    )
    board = forms.ChoiceField(label=_("板块"), required=False, choices=[("", _("全部")), *Board.choices])
    chain: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("产业链"), required=False, queryset=None, empty_label=_("全部")
    )  # type: ignore[arg-type]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Chains of the user's zones, read here for the filter only (the candidates are scoped already).
        chains = IndustryChain.objects.filter(zone_id__in=user.zone_ids()).order_by("zone_id", "name")
        cast(forms.ModelChoiceField, self.fields["chain"]).queryset = chains
        _style(self)


class MoveForm(forms.Form):
    """推进阶段: only later stages are offered."""

    to = forms.ChoiceField(label=_("推进到"))
    on = forms.DateField(label=_("日期"), widget=_date_input())
    stock_code = forms.CharField(
        label=_("股票代码"), required=False, max_length=20, help_text=_("推进到上市时填写")
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=listings.NOTE_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidate: ListingCandidate, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "move")
        kwargs.setdefault("initial", {"on": access.today(), "version": candidate.version})
        super().__init__(*args, **kwargs)
        later = LISTING_STAGES[LISTING_STAGES.index(candidate.stage) + 1 :]
        cast(forms.ChoiceField, self.fields["to"]).choices = [(s, listings.stage_label(s)) for s in later]
        _style(self)


class CorrectForm(forms.Form):
    """更正阶段（需填写原因）: the current stage (its date) or an earlier one."""

    to = forms.ChoiceField(label=_("更正为"))
    on = forms.DateField(label=_("进入该阶段日期"), widget=_date_input())
    reason = forms.CharField(label=_("更正原因"), max_length=listings.NOTE_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidate: ListingCandidate, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "correct")
        kwargs.setdefault("initial", {"version": candidate.version, "to": candidate.stage})
        super().__init__(*args, **kwargs)
        stages = LISTING_STAGES[: LISTING_STAGES.index(candidate.stage) + 1]
        cast(forms.ChoiceField, self.fields["to"]).choices = [(s, listings.stage_label(s)) for s in stages]
        _style(self)


class IntermediaryForm(forms.Form):
    role = forms.ChoiceField(label=_("机构类型"), choices=IntermediaryRole.choices)
    firm = forms.CharField(label=_("机构名称"), max_length=listings.FIRM_MAX)
    contact_person = forms.CharField(label=_("联系人"), required=False, max_length=listings.PERSON_MAX)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=listings.PHONE_MAX)
    engaged_on = forms.DateField(label=_("签约日期"), required=False, widget=_date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "intermediary")
        super().__init__(*args, **kwargs)
        _style(self)


class ProblemForm(forms.Form):
    text = forms.CharField(
        label=_("问题描述"), max_length=listings.PROBLEM_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "problem")
        super().__init__(*args, **kwargs)
        _style(self)


class SupportForm(forms.Form):
    what = forms.CharField(
        label=_("支持事项"), required=False, max_length=listings.WHAT_MAX, help_text=_("关联政策兑现时可不填")
    )
    amount = forms.DecimalField(
        label=_("金额（万元）"), required=False, max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    granted_on = forms.DateField(label=_("给予日期"), widget=_date_input())
    delivery = DeliveryChoiceField(label=_("关联政策兑现"), required=False, queryset=None)  # type: ignore[arg-type]

    def __init__(self, *args: Any, candidate: ListingCandidate, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "support")
        kwargs.setdefault("initial", {"granted_on": access.today()})
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["delivery"]).queryset = listings.deliveries_for(candidate)
        _style(self)
