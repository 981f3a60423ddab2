from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import AppealCategory, Handling, Outcome, RatingLevel, Status
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit
from guanjia.core.workcalendar import BEIJING


class CategoryForm(TablerWidgetsMixin, forms.ModelForm):
    class Meta:
        model = AppealCategory
        fields = list(CATEGORY_FIELDS)
        help_texts = {
            "code": _("字母、数字和连字符，如 land"),
            "extension_max_days": _("一件诉求各次延期合计不超过的工作日数"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = AppealCategory.objects.filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["parent"].required = False


class RouteForm(TablerWidgetsMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("园区"), queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE))
    category = forms.ModelChoiceField(
        label=_("诉求类别"), queryset=AppealCategory.objects.filter(is_active=True)
    )
    lead_department = forms.ModelChoiceField(
        label=_("默认主办部门"),
        queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT)
        .select_related("parent")
        .order_by("parent", "code"),
        help_text=_("必须是所选园区的部门"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].label_from_instance = lambda unit: f"{unit.parent} · {unit.name}"  # type: ignore[attr-defined]


class PageFormMixin(TablerWidgetsMixin):
    """Tabler classes, radios as form-check inputs, and aria-describedby that follows the form's prefix."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}_help"  # type: ignore[index]


def _category_choices(**kwargs) -> forms.ModelChoiceField:
    # Sub-categories follow their parent: ordered by the parent's place, then their own.
    queryset = (
        AppealCategory.objects.filter(is_active=True)
        .select_related("parent")
        .order_by(
            Coalesce("parent__position", "position"),
            Coalesce("parent__code", "code"),
            F("parent_id").asc(nulls_first=True),
            "position",
            "code",
        )
    )
    return forms.ModelChoiceField(label=_("诉求类别"), queryset=queryset, **kwargs)


class AppealForm(PageFormMixin, forms.Form):
    """What an enterprise, its steward or the dispatcher writes down when raising an appeal."""

    category = _category_choices(required=False, help_text=_("不确定可不选，由受理员分类"))
    title = forms.CharField(
        label=_("标题"), max_length=100, help_text=_("一句话概括，如：二期厂房容积率调整")
    )
    body = forms.CharField(
        label=_("诉求内容"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("遇到了什么问题、希望得到什么帮助；涉及的地点、时间、金额请写清楚"),
    )
    handling = forms.ChoiceField(label=_("办理类型"), choices=Handling.choices, initial=Handling.NORMAL)
    urgent = forms.BooleanField(label=_("紧急（1 个工作日内答复）"), required=False)
    confidential = forms.BooleanField(
        label=_("对承办部门隐去企业身份"),
        required=False,
        help_text=_("勾选后，承办部门看不到企业名称；受理员和服务管家仍可看到"),
    )

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()

    def clean_body(self) -> str:
        return self.cleaned_data["body"].strip()


class PhoneTransferForm(AppealForm):
    """The dispatcher records a phone call or a 12345 transfer, with the external ticket."""

    external_ticket = forms.CharField(
        label=_("外部工单号"),
        max_length=40,
        help_text=_("12345 热线转办单号；本中心接听的电话填“电话”加日期"),
    )
    external_due = forms.DateField(
        label=_("外部办理期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("转办单要求的期限（当日 24:00）；比本园区期限更早时以它为准"),
    )

    def external_due_at(self) -> datetime | None:
        day: date | None = self.cleaned_data.get("external_due")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BEIJING)


class DispatchForm(PageFormMixin, forms.Form):
    """交办: a lead department and optional co-departments, all of the appeal's zone."""

    lead = forms.ModelChoiceField(label=_("主办部门"), queryset=OrgUnit.objects.none())
    co = forms.ModelMultipleChoiceField(
        label=_("协办部门"),
        queryset=OrgUnit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("可多选，也可不选"),
    )
    category = _category_choices(required=False, help_text=_("可在交办时调整类别"))
    note = forms.CharField(label=_("交办意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, zone_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        departments = OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, parent_id=zone_id).order_by("code")
        self.fields["lead"].queryset = departments  # type: ignore[attr-defined]
        self.fields["co"].queryset = departments  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean()
        lead, co = self.cleaned_data.get("lead"), self.cleaned_data.get("co")
        if lead is not None and co and lead in co:
            self.add_error("co", _("主办部门不能同时是协办部门"))
        return cleaned


class DeclineForm(PageFormMixin, forms.Form):
    reason = forms.CharField(label=_("不予受理理由"), widget=forms.Textarea(attrs={"rows": 3}))
    advice = forms.CharField(
        label=_("办理建议"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("告诉企业可以通过什么途径解决"),
    )


class ReturnForm(PageFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("退回理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明为什么不属于本部门，以及建议由哪个部门办理"),
    )


class AnswerForm(PageFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("答复结果"), choices=Outcome.choices)
    answer = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 5}))


class RatingForm(PageFormMixin, forms.Form):
    level = forms.TypedChoiceField(
        label=_("评价"),
        choices=RatingLevel.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    solved = forms.TypedChoiceField(
        label=_("问题是否解决"),
        choices=[("1", _("已解决")), ("0", _("未解决"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AppealFilterForm(PageFormMixin, forms.Form):
    """Filters of the appeal lists: status, category, overdue."""

    status = forms.ChoiceField(label=_("状态"), choices=[("", _("全部"))] + Status.choices, required=False)
    category = forms.ModelChoiceField(
        label=_("诉求类别"),
        queryset=AppealCategory.objects.filter(parent__isnull=True),
        required=False,
        empty_label=_("全部"),
    )
    overdue = forms.BooleanField(label=_("仅看已超期"), required=False)


class EscalateForm(PageFormMixin, forms.Form):
    note = forms.CharField(label=_("督办意见"), widget=forms.Textarea(attrs={"rows": 3}))
    to_leader = forms.BooleanField(
        label=_("提请领导协调"),
        required=False,
        help_text=_("勾选后通知本园区领导协调，每个承办环节只能提请一次"),
    )
