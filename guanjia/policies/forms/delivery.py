"""Forms of the delivery pages: the list's filters and the steps of a delivery.

They check the shape of the input (an amount is a number of 万元 ≥ 0 within the item's maximum, a date is
not in the future); the rules of the steps are the service's (guanjia.policies.delivery), whose refusals
the pages show as form errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit
from guanjia.policies import delivery as service
from guanjia.policies.access import today
from guanjia.policies.models import Delivery, DeliveryStatus, Policy


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DeliveryFilterForm(forms.Form):
    """The list's filters: the choices are the policies and zones of the deliveries the user sees."""

    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *DeliveryStatus.choices], required=False
    )
    policy = forms.ModelChoiceField(
        label=_("政策"), queryset=Policy.objects.none(), required=False, empty_label=_("全部")
    )
    zone = forms.ModelChoiceField(
        label=_("园区"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部")
    )
    overdue = forms.BooleanField(label=_("只看逾期未兑现"), required=False)

    def __init__(self, *args: Any, deliveries: QuerySet[Delivery], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = cast(forms.ModelChoiceField, self.fields["policy"])
        policy.queryset = Policy.objects.filter(
            pk__in=deliveries.order_by().values("item__policy_id")
        ).order_by("title", "pk")
        zone = cast(forms.ModelChoiceField, self.fields["zone"])
        zone.queryset = OrgUnit.objects.filter(pk__in=deliveries.order_by().values("zone_id")).order_by(
            "code"
        )
        for name in ("status", "policy", "zone"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"

    def filters(self) -> dict[str, Any]:
        """The valid filters, as delivery.filter_deliveries takes them (none when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"] or "",
            "policy": data["policy"],
            "zone": data["zone"],
            "overdue": True if data["overdue"] else None,
        }


class _StepForm(TablerWidgetsMixin, forms.Form):
    """One step's form; its fields' ids start with `slot`, since the page shows several steps' forms."""

    slot = "step"
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.slot}_%s")
        super().__init__(*args, **kwargs)
        self.describe_help()

    def describe_help(self) -> None:
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self.slot}_{name}_help"


class ApplyForm(_StepForm):
    slot = "apply"
    note = forms.CharField(
        label=_("申请说明"),
        max_length=service.NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("选填：需要说明的情况"),
    )


class ApproveForm(_StepForm):
    slot = "approve"
    note = forms.CharField(
        label=_("审核意见"),
        max_length=service.NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(_StepForm):
    slot = "reject"
    reason = forms.CharField(
        label=_("未通过原因"),
        max_length=service.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("企业可以看到该原因"),
    )


class DisburseForm(_StepForm):
    slot = "disburse"
    amount = forms.DecimalField(
        label=_("兑现金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    disbursed_on = forms.DateField(label=_("兑现日期"), widget=_date_input())
    note = forms.CharField(label=_("说明"), max_length=service.NOTE_MAX, required=False)

    def __init__(self, *args: Any, delivery: Delivery, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delivery = delivery
        maximum = delivery.item.max_amount
        if maximum is not None:
            self.fields["amount"].help_text = _("该事项最高 %(max)s 万元") % {"max": service.money(maximum)}
            self.describe_help()

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data.get("amount")
        maximum = self.delivery.item.max_amount
        if amount is not None and maximum is not None and amount > maximum:
            raise forms.ValidationError(
                _("不能超过该事项的最高金额 %(max)s 万元") % {"max": service.money(maximum)}
            )
        return amount

    def clean_disbursed_on(self) -> Any:
        day = self.cleaned_data.get("disbursed_on")
        if day is not None and day > today():
            raise forms.ValidationError(_("不能晚于今天"))
        approved_on = service.approval_day(self.delivery)
        if day is not None and approved_on is not None and day < approved_on:
            raise forms.ValidationError(
                _("不能早于审核通过日期（%(day)s）") % {"day": approved_on.isoformat()}
            )
        return day
