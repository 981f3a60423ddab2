from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin, mobile_field, username_field
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Contact, Enterprise, Tag
from guanjia.enterprises.services import EDITABLE_FIELDS, stewards_of_zones
from guanjia.enterprises.uscc import clean_uscc


def _division_choices() -> list[tuple[str, str]]:
    from guanjia.enterprises.industries import DIVISION_CHOICES

    return [("", str(_("（未填写）"))), *DIVISION_CHOICES]


class EnterpriseForm(TablerWidgetsMixin, forms.ModelForm):
    """Registry fields of an enterprise; the section is derived from the division."""

    industry_division = forms.ChoiceField(
        label=_("行业（国民经济行业分类大类）"), required=False, choices=_division_choices
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("标签"), queryset=Tag.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Enterprise
        # The section is derived from the division (service_data), never typed in.
        fields = ["uscc", *(f for f in EDITABLE_FIELDS if f != "industry_section"), "tags", "zone"]
        widgets = {"founded_on": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"uscc": _("18 位，字母大写；不使用 I、O、Z、S、V")}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = OrgUnit.objects.filter(pk__in=user.zone_ids())  # type: ignore[attr-defined]
        self.fields["tags"].widget.attrs.pop("class", None)
        if self.instance.pk:
            # The USCC and zone are the enterprise's identity and place; they are not edited here.
            del self.fields["uscc"]
            del self.fields["zone"]

    def clean_uscc(self) -> str:
        try:
            return clean_uscc(self.cleaned_data.get("uscc", ""))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc

    def service_data(self) -> dict:
        from guanjia.enterprises.industries import section_of

        data = {k: v for k, v in self.cleaned_data.items() if k not in {"tags", "zone"}}
        division = data.get("industry_division") or ""
        data["industry_section"] = section_of(division) if division else ""
        return data


class ContactForm(TablerWidgetsMixin, forms.ModelForm):
    phone = forms.RegexField(
        label=_("联系电话"),
        regex=r"^[0-9+\-() ]{5,20}$",
        required=False,
        error_messages={"invalid": _("请填写有效的电话号码")},
    )

    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "is_primary"]


class StewardAssignForm(TablerWidgetsMixin, forms.Form):
    steward = forms.ModelChoiceField(label=_("新的服务管家"), queryset=User.objects.none())
    reason = forms.CharField(label=_("调整原因"), max_length=200)

    def __init__(self, *args, zone_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["steward"].queryset = stewards_of_zones([zone_id])  # type: ignore[attr-defined]


class HandoverForm(TablerWidgetsMixin, forms.Form):
    from_steward = forms.ModelChoiceField(label=_("移交的管家"), queryset=User.objects.none())
    to_steward = forms.ModelChoiceField(
        label=_("接手的管家"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("留空则按负载逐家分配给负载最轻的管家"),
    )
    reason = forms.CharField(label=_("原因"), max_length=200, initial=_("管家离岗交接"))

    def __init__(self, *args, zone_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        stewards = stewards_of_zones(zone_ids)
        self.fields["from_steward"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(role_grants__role=Role.STEWARD, stewarded_enterprises__zone_id__in=zone_ids)
            .distinct()
            .order_by("username")
        )
        self.fields["to_steward"].queryset = stewards  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("from_steward") and cleaned.get("from_steward") == cleaned.get("to_steward"):
            raise ValidationError(_("移交与接手的管家不能是同一人"))
        return cleaned


class InvitationForm(TablerWidgetsMixin, forms.Form):
    name = forms.CharField(label=_("被邀请人姓名"), max_length=50)
    phone = mobile_field()
    email = forms.EmailField(label=_("邮箱"), required=False)


class AcceptInvitationForm(TablerWidgetsMixin, forms.Form):
    uscc = forms.CharField(
        label=_("企业统一社会信用代码"), max_length=18, help_text=_("用于确认您所在的企业")
    )
    username = username_field()
    password = forms.CharField(label=_("设置密码"), widget=forms.PasswordInput, min_length=8)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致"))
        return cleaned
