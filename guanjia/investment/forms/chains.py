"""Forms of the chain pages: a chain, a node, placing an enterprise on a node, its 龙头 flag."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.investment import chains
from guanjia.investment.access import zones_of
from guanjia.investment.models import ChainNode, IndustryChain, Segment


class ChainForm(TablerWidgetsMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    name = forms.CharField(
        label=_("产业链名称"), max_length=chains.NAME_MAX, help_text=_("如：新能源、集成电路")
    )
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, chain: IndustryChain | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if chain is not None:
            del self.fields["zone"]  # a chain stays in its zone
        else:
            cast(forms.ModelChoiceField, self.fields["zone"]).queryset = zones_of(user)


class NodeForm(TablerWidgetsMixin, forms.Form):
    name = forms.CharField(label=_("环节名称"), max_length=chains.NAME_MAX, help_text=_("如：正极材料、电芯"))
    parent = forms.ModelChoiceField(
        label=_("上级环节"),
        queryset=ChainNode.objects.none(),
        required=False,
        empty_label=_("（无：作为链段的顶层环节）"),
        help_text=_("有上级环节时，链段随上级环节"),
    )
    segment = forms.ChoiceField(
        label=_("链段"), choices=[("", _("（随上级环节）")), *Segment.choices], required=False
    )
    position = forms.IntegerField(
        label=_("排序"), min_value=0, required=False, help_text=_("数字小的在前；不填则排在最后")
    )
    description = forms.CharField(label=_("说明"), max_length=chains.NODE_DESCRIPTION_MAX, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, chain: IndustryChain, node: ChainNode | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        nodes = ChainNode.objects.filter(chain=chain).order_by("position", "pk")
        if node is not None:
            # Neither the node itself nor one of its descendants may become its parent.
            nodes = nodes.exclude(pk__in={node.pk, *chains.descendants_of(node, nodes)})
        cast(forms.ModelChoiceField, self.fields["parent"]).queryset = nodes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("parent") and not data.get("segment") and "segment" not in self.errors:
            self.add_error("segment", _("没有上级环节时，请选择上游、中游或下游"))
        return data


class PlaceForm(forms.Form):
    """Place an enterprise (chosen from the search results on the node page) on the node."""

    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=Enterprise.objects.none())
    is_leader = forms.BooleanField(label=_("龙头企业"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["enterprise"]).queryset = Enterprise.objects.visible_to(user)


class LeaderForm(forms.Form):
    is_leader = forms.BooleanField(label=_("龙头企业"), required=False)


class EnterpriseSearchForm(forms.Form):
    q = forms.CharField(
        label=_("查找本园区企业"),
        max_length=50,
        required=False,
        help_text=_("企业名称的一部分，或统一社会信用代码的开头"),
    )
