"""Forms of the lead pages, and the lead list's filters (shared by the list page and the API)."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import User
from guanjia.investment import leads as lead_services
from guanjia.investment.access import promoters_of_zone, today, zones_of
from guanjia.investment.models import (
    ChainNode,
    IndustryChain,
    Lead,
    LeadLog,
    LeadSource,
    LeadStatus,
    Target,
)

SEARCH_MAX = 100


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


class NodeChoiceField(forms.ModelChoiceField):
    """A link, named with its chain: 新能源 · 正极材料."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.chain.name} · {obj.name}"


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


def _user_of(request: HttpRequest | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def visible_chains(user: User | None) -> QuerySet[IndustryChain]:
    return IndustryChain.objects.visible_to(user).order_by("name", "pk")


def visible_nodes(user: User | None) -> QuerySet[ChainNode]:
    return (
        ChainNode.objects.visible_to(user).select_related("chain").order_by("chain__name", "position", "pk")
    )


def promoters_for(user: User) -> QuerySet[User]:
    """The promoters a user's leads may be given to: those of the user's zones."""
    ids: set[int] = set()
    for zone in zones_of(user):
        ids.update(promoters_of_zone(zone).values_list("pk", flat=True))
    return User.objects.filter(pk__in=ids).order_by("full_name", "pk")


# --- the list's filters ---------------------------------------------------------------------------


class OwnerField(forms.CharField):
    """ "mine" (the caller's own leads) or a user id."""

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if text and text != "mine" and not text.isdigit():
            raise forms.ValidationError(
                _("负责人：只能是 mine 或用户 id，收到的是 %(value)s"), params={"value": text[:20]}
            )
        return text


class OwnerFilter(django_filters.CharFilter):
    field_class = OwnerField


class NodeFilter(django_filters.ModelChoiceFilter):
    field_class = NodeChoiceField


class LeadFilter(django_filters.FilterSet):
    """The lead list's filters, each left empty does not filter."""

    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=LeadStatus.choices, empty_label=_("全部状态")
    )
    source = django_filters.ChoiceFilter(
        label=_("线索来源"), choices=LeadSource.choices, empty_label=_("全部来源")
    )
    chain = django_filters.ModelChoiceFilter(
        label=_("产业链"),
        field_name="node__chain",
        queryset=lambda request: visible_chains(_user_of(request)),
        empty_label=_("全部产业链"),
        help_text=_("产业链 id：其环节上的线索"),
    )
    node = NodeFilter(
        label=_("链环节"),
        field_name="node",
        queryset=lambda request: visible_nodes(_user_of(request)),
        empty_label=_("全部环节"),
        help_text=_("链环节 id"),
    )
    owner = OwnerFilter(
        label=_("负责人"),
        method="by_owner",
        help_text=_("mine：我负责的；或负责人（招商专员）的用户 id"),
    )
    search = django_filters.CharFilter(
        label=_("搜索"),
        method="by_text",
        max_length=SEARCH_MAX,
        help_text=_("目标企业名称、来源说明或线索说明中含有的文字"),
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self.form)

    def by_owner(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        if value == "mine":
            user = _user_of(self.request)
            return queryset.filter(owner_id=user.pk if user else None)
        return queryset.filter(owner_id=int(value))

    def by_text(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(target__name__icontains=text) | Q(source_detail__icontains=text) | Q(summary__icontains=text)
        )


# --- writing --------------------------------------------------------------------------------------


class LeadForm(forms.Form):
    """A new lead (with its first contact), or the edit of one (without owner and contact)."""

    target = forms.ModelChoiceField(
        label=_("目标企业"), queryset=Target.objects.none(), empty_label=_("请选择目标企业")
    )
    node = NodeChoiceField(
        label=_("链环节"),
        queryset=ChainNode.objects.none(),
        required=False,
        empty_label=_("（不指定）"),
        help_text=_("不选时，若目标企业只覆盖一个环节，即取该环节"),
    )
    source = forms.ChoiceField(label=_("线索来源"), choices=[("", _("请选择来源")), *LeadSource.choices])
    source_detail = forms.CharField(
        label=_("来源说明"),
        max_length=lead_services.SOURCE_DETAIL_MAX,
        required=False,
        help_text=_("如：某基金推荐、某展会结识、某挂职干部引荐"),
    )
    owner = OwnerChoiceField(label=_("负责人"), queryset=User.objects.none(), empty_label=None)
    summary = forms.CharField(
        label=_("线索说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("投资意向、规模、需求等"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=lead_services.NAME_MAX, required=False)
    contact_position = forms.CharField(label=_("职务"), max_length=lead_services.POSITION_MAX, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=lead_services.PHONE_MAX, required=False)
    contact_email = forms.EmailField(label=_("邮箱"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    CONTACT_FIELDS = ("contact_name", "contact_position", "contact_phone", "contact_email")

    def __init__(
        self,
        *args: Any,
        user: User,
        editing: bool = False,
        targets: QuerySet[Target] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        target = cast(forms.ModelChoiceField, self.fields["target"])
        target.queryset = (targets if targets is not None else Target.objects.visible_to(user)).order_by(
            "name", "pk"
        )
        cast(forms.ModelChoiceField, self.fields["node"]).queryset = visible_nodes(user)
        if editing:
            for name in ("owner", *self.CONTACT_FIELDS):
                del self.fields[name]
        else:
            cast(forms.ModelChoiceField, self.fields["owner"]).queryset = promoters_for(user)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.editing:
            others = [data.get(name) for name in self.CONTACT_FIELDS[1:]]
            if any(others) and not data.get("contact_name"):
                self.add_error("contact_name", _("填写了联系方式时，请填写联系人姓名"))
        return data

    def contacts(self) -> list[lead_services.ContactDetails]:
        data = self.cleaned_data
        if not data.get("contact_name"):
            return []
        return [
            lead_services.ContactDetails(
                name=data["contact_name"],
                position=data.get("contact_position", ""),
                phone=data.get("contact_phone", ""),
                email=data.get("contact_email", ""),
            )
        ]


class MoveForm(forms.Form):
    to = forms.ChoiceField(label=_("改为"), choices=LeadStatus.choices)
    reason = forms.CharField(label=_("原因"), max_length=lead_services.REASON_MAX, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReassignForm(forms.Form):
    owner = OwnerChoiceField(label=_("改由"), queryset=User.objects.none(), empty_label=_("请选择招商专员"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, lead: Lead, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = promoters_of_zone(lead.zone).exclude(pk=lead.owner_id)
        _style(self)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("联系人"), max_length=lead_services.NAME_MAX)
    position = forms.CharField(label=_("职务"), max_length=lead_services.POSITION_MAX, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=lead_services.PHONE_MAX, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "contact")
        super().__init__(*args, **kwargs)
        _style(self)


class LogForm(forms.Form):
    happened_on = forms.DateField(
        label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mode = forms.ChoiceField(label=_("方式"), choices=LeadLog.Mode.choices)
    summary = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "log")
        kwargs.setdefault("initial", {"happened_on": today()})
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_happened_on(self) -> Any:
        value = self.cleaned_data["happened_on"]
        if value and value > today():
            raise forms.ValidationError(_("不能晚于今天"))
        return value
