"""The filters of the pipeline page, its export and the projects export (all GET forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.investment import access
from guanjia.investment.models import IndustryChain, LeadSource, Stage

MIN_YEAR = 2000
MAX_YEAR = 2100
BY_CHOICES = [("month", _("按月")), ("quarter", _("按季度"))]
# A zone or chain that the user cannot see is "not found", not a form error (as everywhere else).
SCOPE_FIELDS = ("zone", "chain")


class ScopeForm(TablerWidgetsMixin, forms.Form):
    """Zone (for a user of several zones), chain and source."""

    zone = forms.ModelChoiceField(
        label=_("园区"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部园区")
    )
    chain = forms.ModelChoiceField(
        label=_("产业链"), queryset=IndustryChain.objects.none(), required=False, empty_label=_("全部产业链")
    )
    source = forms.ChoiceField(
        label=_("线索来源"), choices=[("", _("全部来源")), *LeadSource.choices], required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        zones = access.zones_of(user)
        self.fields["zone"].queryset = zones  # type: ignore[attr-defined]
        self.fields["chain"].queryset = (  # type: ignore[attr-defined]
            IndustryChain.objects.visible_to(user).select_related("zone").order_by("zone__code", "name")
        )
        # The zone filter is shown to a user of several zones (a city's); a zone of another city or
        # zone is refused (404) for everyone.
        self.many_zones = len(user.zone_ids()) > 1
        if self.many_zones:
            self.fields["chain"].label_from_instance = lambda chain: f"{chain.zone.name} · {chain.name}"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        zone, chain = cleaned.get("zone"), cleaned.get("chain")
        if zone is not None and chain is not None and chain.zone_id != zone.pk:
            # Both are the user's to see, they just do not go together: say so, drop the chain.
            self.add_error(
                None,
                _("产业链“%(chain)s”不属于%(zone)s，已按整个园区统计")
                % {"chain": chain.name, "zone": zone.name},
            )
            cleaned.pop("chain", None)
        return cleaned

    def out_of_scope(self) -> bool:
        """A zone or chain was asked for that the user may not see (the view answers 404)."""
        return self.is_bound and any(name in self.errors for name in SCOPE_FIELDS)

    def value(self, name: str, default: Any = None) -> Any:
        """A field's cleaned value, or `default` when it is missing or invalid (its error is shown)."""
        if not self.is_bound:
            return default
        self.is_valid()  # keeps the valid fields in cleaned_data
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value


class PipelineForm(ScopeForm):
    """The pipeline page: a year, a period for the investment chart, and the scope."""

    year = forms.IntegerField(
        label=_("年度"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        required=False,
        help_text=_("线索漏斗统计当年新建的线索；投资统计按当年签约和到资"),
        error_messages={
            "invalid": _("年度：请填写四位数年份，例如 2026"),
            "min_value": _("年度：不能早于 %(limit_value)s 年"),
            "max_value": _("年度：不能晚于 %(limit_value)s 年"),
        },
    )
    by = forms.ChoiceField(label=_("投资统计周期"), choices=BY_CHOICES, required=False)

    field_order = ["year", "zone", "chain", "source", "by"]


class ProjectsExportForm(ScopeForm):
    """The projects export: the scope and a stage."""

    stage = forms.ChoiceField(
        label=_("当前阶段"), choices=[("", _("全部阶段")), *Stage.choices], required=False
    )
