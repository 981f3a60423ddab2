"""Forms of the talent pages. They check the shape of the input; the rules (who may, which states,
valid ID numbers, routes) are the service's (guanjia.talent.services), whose refusals the pages show next
to the field they name."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from guanjia.appeals import attachments
from guanjia.appeals.forms import MultipleFileField
from guanjia.core.errors import ServiceError
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.talent.models import RouteKind, ServiceKind, TalentApplication, TalentTier
from guanjia.talent.services import NAME_MAX, NOTE_MAX, POST_MAX, TEXT_MAX

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def refusal_on_form(form: forms.Form, exc: ServiceError) -> None:
    """A service's refusal shown next to the field it names (without repeating its label)."""
    name = getattr(exc, "field", None)
    message = str(exc)
    if name and name in form.fields and not form.fields[name].widget.is_hidden:
        form.add_error(name, message.removeprefix(f"{form.fields[name].label}："))
    else:
        form.add_error(None, message)


class _EnterpriseMixin:
    """The enterprise acted for: a steward picks among those it serves; an enterprise user's own is
    implied (a hidden field) when it has one only."""

    fields: dict[str, forms.Field]

    def setup_enterprise(self, user: User, enterprises: QuerySet[Enterprise]) -> None:
        field = cast(forms.ModelChoiceField, self.fields["enterprise"])
        field.queryset = enterprises.order_by("name")
        if not user.has_role(Role.STEWARD) and len(field.queryset) == 1:
            field.initial = field.queryset[0].pk
            field.widget = forms.HiddenInput()


class NeedForm(_EnterpriseMixin, TablerWidgetsMixin, forms.Form):
    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=Enterprise.objects.none())
    post = forms.CharField(label=_("岗位"), max_length=POST_MAX)
    count = forms.IntegerField(label=_("人数"), min_value=1, max_value=9999)
    by_date = forms.DateField(label=_("需求时间"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("说明"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, enterprises: QuerySet[Enterprise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_enterprise(user, enterprises)


class ApplicationForm(_EnterpriseMixin, TablerWidgetsMixin, forms.Form):
    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=Enterprise.objects.none())
    person_name = forms.CharField(label=_("姓名"), max_length=NAME_MAX)
    id_number = forms.CharField(label=_("身份证号"), max_length=18)
    phone = forms.CharField(label=_("手机号"), max_length=11)
    tier = forms.ModelChoiceField(
        label=_("申请类别"), queryset=TalentTier.objects.none(), empty_label=_("请选择")
    )
    documents = MultipleFileField(label=_("申请材料"), required=False)

    def __init__(self, *args: Any, user: User, enterprises: QuerySet[Enterprise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_enterprise(user, enterprises)
        cast(forms.ModelChoiceField, self.fields["tier"]).queryset = TalentTier.objects.filter(
            zone_id__in=enterprises.values("zone_id")
        ).order_by("position", "code")
        self.fields["documents"].help_text = _("学历、职称、业绩证明等；可多选，每个不超过 %(size)s") % {
            "size": filesizeformat(attachments.max_bytes())
        }
        self.fields["documents"].widget.attrs["aria-describedby"] = "id_documents_help"


def _talent_label(application: TalentApplication) -> str:
    return f"{application.person_name}（{application.tier}，{application.enterprise.name}）"


class ServiceRequestForm(TablerWidgetsMixin, forms.Form):
    application = forms.ModelChoiceField(
        label=_("人才"), queryset=TalentApplication.objects.none(), empty_label=_("请选择已认定的人才")
    )
    kind = forms.ChoiceField(label=_("服务事项"), choices=ServiceKind.choices)
    note = forms.CharField(
        label=_("需求说明"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, talent: QuerySet[TalentApplication], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["application"])
        field.queryset = talent.order_by("person_name", "pk")
        field.label_from_instance = _talent_label  # type: ignore[method-assign,assignment]


class DecideApplicationForm(TablerWidgetsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("认定结果"),
        choices=[("approve", _("通过认定")), ("reject", _("不予认定"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("未通过原因"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不予认定时必填，企业可见"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class DecideServiceForm(TablerWidgetsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("办理结果"),
        choices=[("grant", _("已办结")), ("decline", _("未予办理"))],
        widget=forms.RadioSelect,
    )
    result = forms.CharField(
        label=_("结果说明"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("办结时必填：企业在门户看到的办理结果"),
    )
    reason = forms.CharField(
        label=_("未予办理原因"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("未予办理时必填"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class TierForm(TablerWidgetsMixin, forms.Form):
    zone = forms.IntegerField(widget=forms.HiddenInput)
    tier = forms.IntegerField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(label=_("类别代码"), max_length=4, help_text=_("如 A、B、C"))
    name = forms.CharField(label=_("类别名称"), max_length=30)
    description = forms.CharField(
        label=_("认定条件"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    position = forms.IntegerField(label=_("排序"), min_value=0, max_value=999, initial=0)


class RouteForm(TablerWidgetsMixin, forms.Form):
    zone = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("事项"), choices=RouteKind.choices)
    department = forms.ModelChoiceField(
        label=_("责任部门"), queryset=OrgUnit.objects.none(), empty_label=_("请选择")
    )
    workdays = forms.IntegerField(label=_("办理时限（工作日）"), min_value=1, max_value=60, initial=5)

    def __init__(self, *args: Any, zone: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = OrgUnit.objects.filter(
            parent=zone, kind=OrgUnit.Kind.DEPARTMENT
        ).order_by("name")
