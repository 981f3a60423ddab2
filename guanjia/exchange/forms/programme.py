"""Forms of the programme pages: a pairing, a secondment, a cadre's note, activity and sourced lead, and a
promoter's take or decline of a sourced lead.

They check the shape of the input; the rules (zones, periods, states) are the services' (programme.py,
sourcing.py), whose refusals the pages show as form errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.exchange import programme, sourcing
from guanjia.exchange.models import Pairing, SecondmentKind, SourcedLeadStatus
from guanjia.investment.access import promoters_of_zone
from guanjia.investment.models import ChainNode


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _describe_prefixed(form: forms.Form) -> None:
    """Point each widget's aria-describedby at its help text's id, which a prefix changes."""
    for name, field in form.fields.items():
        if field.help_text:
            field.widget.attrs["aria-describedby"] = f"{form[name].auto_id}_help"


class LocalUnitField(forms.ModelChoiceField):
    """The zone itself, or one of its departments named with its zone: 高新区 · 市场监管局."""

    def label_from_instance(self, obj: Any) -> str:
        if obj.kind == OrgUnit.Kind.DEPARTMENT and obj.parent is not None:
            return f"{obj.parent.name} · {obj.name}"
        return str(obj.name)


class PairingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.local_unit} ↔ {obj.partner_unit}（{obj.partner_province}{obj.partner_city}）"


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        unit = f"（{obj.unit}）" if obj.unit_id else ""
        return f"{obj}{unit}"


class NodeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.chain.name} · {obj.name}"


class PairingForm(TablerWidgetsMixin, forms.Form):
    local_unit = LocalUnitField(
        label=_("本地单位"),
        queryset=OrgUnit.objects.none(),
        empty_label=_("请选择本园区或部门"),
        help_text=_("本园区，或本园区的一个部门"),
    )
    partner_unit = forms.CharField(
        label=_("结对单位"), max_length=programme.PARTNER_UNIT_MAX, help_text=_("如：昆山高新区管委会")
    )
    partner_city = forms.CharField(label=_("所在城市"), max_length=programme.PARTNER_CITY_MAX)
    partner_province = forms.CharField(label=_("所在省份"), max_length=programme.PARTNER_PROVINCE_MAX)
    started_on = forms.DateField(label=_("结对日期"), widget=_date_input())
    ended_on = forms.DateField(
        label=_("结束日期"), widget=_date_input(), required=False, help_text=_("仍在结对中的不填")
    )
    focus = forms.CharField(
        label=_("合作重点"),
        required=False,
        max_length=programme.LONG_TEXT_MAX,
        widget=_textarea(),
        help_text=_("如：产业链招商、营商环境、干部交流"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, pairing: Pairing | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if pairing is not None:
            zones = [pairing.zone_id]  # a pairing stays in its zone
        else:
            zones = list(programme.keeper_zones(user).values_list("pk", flat=True))
        field = self.fields["local_unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = programme.local_units(zones).select_related("parent")


class SecondmentForm(TablerWidgetsMixin, forms.Form):
    pairing = PairingChoiceField(
        label=_("结对关系"), queryset=Pairing.objects.none(), empty_label=_("请选择结对关系")
    )
    cadre = PersonField(
        label=_("挂职干部"),
        queryset=User.objects.none(),
        empty_label=_("请选择挂职干部"),
        help_text=_("本园区持有“挂职干部”角色的在岗人员"),
    )
    host_unit = forms.CharField(label=_("挂职单位"), max_length=programme.HOST_UNIT_MAX)
    post = forms.CharField(label=_("挂职岗位"), max_length=programme.POST_MAX)
    kind = forms.ChoiceField(label=_("类型"), choices=SecondmentKind.choices)
    starts_on = forms.DateField(label=_("开始日期"), widget=_date_input())
    ends_on = forms.DateField(label=_("结束日期"), widget=_date_input())
    tasks = forms.CharField(
        label=_("任务"),
        required=False,
        max_length=programme.LONG_TEXT_MAX,
        widget=_textarea(),
        help_text=_("挂职期间的学习和工作任务"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, user: User, pairings: QuerySet[Pairing], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        pairing_field = self.fields["pairing"]
        cadre_field = self.fields["cadre"]
        assert isinstance(pairing_field, forms.ModelChoiceField)
        assert isinstance(cadre_field, forms.ModelChoiceField)
        pairing_field.queryset = pairings.select_related("local_unit").order_by("-started_on", "pk")
        if editing:
            del self.fields["pairing"]  # a secondment stays with its pairing
        zones = set(pairings.values_list("zone_id", flat=True))
        cadre_field.queryset = programme.cadres_of_zones(zones).select_related("unit")


class NoteForm(TablerWidgetsMixin, forms.Form):
    title = forms.CharField(label=_("标题"), max_length=programme.TITLE_MAX)
    observed_on = forms.DateField(label=_("日期"), widget=_date_input(), help_text=_("挂职期间，不晚于今天"))
    body = forms.CharField(
        label=_("内容"),
        max_length=programme.LONG_TEXT_MAX,
        widget=_textarea(8),
        help_text=_("所见所学、可借鉴之处"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ActivityForm(TablerWidgetsMixin, forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=programme.TITLE_MAX)
    held_on = forms.DateField(label=_("活动日期"), widget=_date_input(), help_text=_("挂职期间，不晚于今天"))
    place = forms.CharField(label=_("地点"), max_length=programme.PLACE_MAX, required=False)
    participants = forms.CharField(
        label=_("参加单位"),
        max_length=programme.PARTICIPANTS_MAX,
        required=False,
        help_text=_("多个单位用顿号分隔"),
    )
    outcome = forms.CharField(
        label=_("成效"), max_length=programme.LONG_TEXT_MAX, required=False, widget=_textarea()
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SourcedLeadForm(TablerWidgetsMixin, forms.Form):
    company_name = forms.CharField(label=_("企业名称"), max_length=sourcing.COMPANY_MAX)
    uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False, help_text=_("知道时填写，18 位")
    )
    industry = forms.CharField(label=_("所属行业"), max_length=sourcing.INDUSTRY_MAX, required=False)
    summary = forms.CharField(
        label=_("项目情况"),
        max_length=sourcing.SUMMARY_MAX,
        widget=_textarea(),
        help_text=_("投资意向、规模、用地需求、对接进展等"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=sourcing.CONTACT_NAME_MAX, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=sourcing.CONTACT_PHONE_MAX, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TakeForm(TablerWidgetsMixin, forms.Form):
    """The promoter's take: who owns the investment lead, and on which link of the zone's chains."""

    owner = PersonField(label=_("负责人"), queryset=User.objects.none(), empty_label=None)
    node = NodeField(
        label=_("链环节"),
        queryset=ChainNode.objects.none(),
        required=False,
        empty_label=_("（不指定）"),
        help_text=_("不选时，若目标企业只覆盖一个环节，即取该环节"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, zone: OrgUnit, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "take")
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        node_field = self.fields["node"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        assert isinstance(node_field, forms.ModelChoiceField)
        owner_field.queryset = promoters_of_zone(zone).select_related("unit")
        if not self.is_bound and "owner" not in self.initial:
            self.initial["owner"] = user.pk
        node_field.queryset = (
            ChainNode.objects.filter(chain__zone=zone)
            .select_related("chain")
            .order_by("chain__name", "position", "pk")
        )
        _describe_prefixed(self)


class DeclineForm(TablerWidgetsMixin, forms.Form):
    reason = forms.CharField(label=_("不予跟进原因"), max_length=sourcing.REASON_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class SourcedFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *SourcedLeadStatus.choices], required=False
    )
