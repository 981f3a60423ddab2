"""Forms of the target library: the list's filters (one filter set for the page and the API), the target
form, and the upload."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.api import StrictBooleanFilter
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Scale
from guanjia.investment import targets
from guanjia.investment.access import zones_of
from guanjia.investment.models import ChainNode, IndustryChain, Target


def _style(fields: dict[str, forms.Field]) -> None:
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )


def node_label(node: ChainNode) -> str:
    return f"{node.chain.name} / {node.name}"


class TargetFilter(django_filters.FilterSet):
    """The list's filters: text (name or USCC), zone, chain, node, scale, listed."""

    q = django_filters.CharFilter(label=_("搜索"), method="search", help_text=_("企业名称或统一社会信用代码"))
    zone = django_filters.ModelChoiceFilter(
        label=_("园区"), queryset=OrgUnit.objects.none(), empty_label=_("全部园区")
    )
    chain = django_filters.ModelChoiceFilter(
        label=_("产业链"),
        field_name="nodes__chain",
        queryset=IndustryChain.objects.none(),
        empty_label=_("全部产业链"),
        distinct=True,
        help_text=_("覆盖该产业链任一环节的企业"),
    )
    node = django_filters.ModelChoiceFilter(
        label=_("链环节"),
        field_name="nodes",
        queryset=ChainNode.objects.none(),
        empty_label=_("全部环节"),
        distinct=True,
        help_text=_("覆盖该环节的企业"),
    )
    scale = django_filters.ChoiceFilter(label=_("企业规模"), choices=Scale.choices, empty_label=_("全部规模"))
    listed = StrictBooleanFilter(label=_("是否上市"), help_text=_("true：上市企业；false：未上市企业"))

    class Meta:
        model = Target
        fields = ["q", "zone", "chain", "node", "scale", "listed"]

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, prefix: Any = None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        zone_ids = user.zone_ids() if isinstance(user, User) else []
        filters = self.filters
        filters["zone"].queryset = zones_of(user) if isinstance(user, User) else OrgUnit.objects.none()
        filters["chain"].queryset = IndustryChain.objects.filter(zone_id__in=zone_ids).order_by(
            "zone_id", "name"
        )
        filters["node"].queryset = targets.zone_nodes(zone_ids)
        form_fields = self.form.fields
        cast(forms.ModelChoiceField, form_fields["node"]).label_from_instance = node_label  # type: ignore[method-assign,assignment]
        cast(forms.ChoiceField, form_fields["listed"]).widget.choices = [  # type: ignore[attr-defined]
            ("", _("全部")),
            ("true", _("上市")),
            ("false", _("未上市")),
        ]
        _style(form_fields)

    def search(self, queryset: QuerySet[Target], name: str, value: str) -> QuerySet[Target]:
        value = value.strip()
        if not value:
            return queryset
        # A USCC by prefix; a name by substring.
        return queryset.filter(Q(uscc__startswith=value.upper()) | Q(name__icontains=value))


def node_choices(zone_ids: list[int]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The nodes a target may cover, grouped by chain (with its zone where there are several)."""
    several = len(set(zone_ids)) > 1
    groups: dict[str, list[tuple[int, str]]] = {}
    for node in targets.zone_nodes(zone_ids).select_related("chain__zone"):
        group = f"{node.chain.zone.name} · {node.chain.name}" if several else node.chain.name
        groups.setdefault(group, []).append((node.pk, f"{node.get_segment_display()} · {node.name}"))
    return list(groups.items())


class TargetForm(forms.Form):
    """A target's fields; the zone only when creating, and only for a user with several zones."""

    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    name = forms.CharField(label=_("企业名称"), max_length=targets.NAME_MAX)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("18 位，境外企业可不填；本园区目标企业库中不能重复"),
    )
    headquarters = forms.CharField(
        label=_("总部所在地"),
        max_length=targets.HEADQUARTERS_MAX,
        required=False,
        help_text=_("如 江苏省苏州市"),
    )
    scale = forms.ChoiceField(label=_("企业规模"), choices=Scale.choices, initial=Scale.MEDIUM)
    listed = forms.BooleanField(label=_("上市企业"), required=False)
    stock_code = forms.CharField(
        label=_("股票代码"),
        max_length=targets.STOCK_CODE_MAX,
        required=False,
        help_text=_("上市企业填写，如 300750.SZ、00700.HK"),
    )
    nodes = forms.TypedMultipleChoiceField(
        label=_("覆盖环节"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("本园区产业链中该企业能补上的环节；按住 Ctrl 或 Shift 可多选"),
    )
    notes = forms.CharField(
        label=_("备注"),
        max_length=targets.NOTES_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, target: Target | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = zones_of(user)
        if target is not None:
            del self.fields["zone"]
            zone_ids = [target.zone_id]
        elif zones.count() > 1:
            cast(forms.ModelChoiceField, self.fields["zone"]).queryset = zones
            zone_ids = [zone.pk for zone in zones]
        else:
            del self.fields["zone"]
            zone_ids = [zone.pk for zone in zones]
        self.default_zone = zones.first() if target is None else None
        cast(forms.ChoiceField, self.fields["nodes"]).choices = node_choices(zone_ids)
        _style(self.fields)

    def clean_uscc(self) -> str:
        cleaned, problems = targets.normalise({"uscc": self.cleaned_data.get("uscc", "")})
        if problems:
            raise forms.ValidationError(problems[0][1])
        return str(cleaned["uscc"])

    def chosen_zone(self) -> OrgUnit | None:
        return self.cleaned_data.get("zone") or self.default_zone

    def chosen_nodes(self) -> list[ChainNode]:
        ids = self.cleaned_data.get("nodes") or []
        return list(ChainNode.objects.filter(pk__in=ids).select_related("chain"))

    def values(self) -> dict[str, Any]:
        """The target's fields as the services take them."""
        return {name: self.cleaned_data[name] for name in targets.EDITABLE_FIELDS}


class TargetImportForm(forms.Form):
    zone = forms.ModelChoiceField(label=_("导入到园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    file = forms.FileField(
        label=_("表格文件"),
        help_text=_(".xlsx 或 .csv，表头与导入模板相同"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = zones_of(user)
        if zones.count() > 1:
            cast(forms.ModelChoiceField, self.fields["zone"]).queryset = zones
        else:
            del self.fields["zone"]
        self.default_zone = zones.first()
        _style(self.fields)

    def chosen_zone(self) -> OrgUnit | None:
        return self.cleaned_data.get("zone") or self.default_zone
