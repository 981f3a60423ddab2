from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import F
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanjia.appeals import attachments
from guanjia.appeals.lifecycle import HANDLING
from guanjia.appeals.models import Appeal, AppealCategory, Handling, Outcome, RatingLevel, Review, Status
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
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


class MultipleFileInput(forms.FileInput):
    """A file input that lets the user pick several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input, each cleaned as a FileField; their content is checked by the
    attachments service (guanjia.appeals.attachments), which names a refused file."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        # Empty files are let through here so that the service's message can name them.
        super().__init__(allow_empty_file=True, **kwargs)
        self.widget.attrs.setdefault("accept", attachments.ACCEPT)

    def clean(self, data, initial=None):
        picked = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not picked:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(MultipleFileField, self).clean(item, initial) for item in picked]


def _files_help() -> str:
    return gettext("可多选，一次最多 %(count)s 个，每个不超过 %(size)s；支持 %(allowed)s") % {
        "count": attachments.MAX_FILES,
        "size": filesizeformat(attachments.max_bytes()),
        "allowed": attachments.ALLOWED_LABEL,
    }


# Read at render time: the limits are settings.
files_help = lazy(_files_help, str)()


class AttachmentForm(PageFormMixin, forms.Form):
    """补充附件 on the appeal page."""

    # Not `files`: that is the form's own attribute holding the uploaded files.
    attachments = MultipleFileField(label=_("附件"), help_text=files_help)


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
    attachments = MultipleFileField(label=_("附件"), required=False, help_text=files_help)

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


# --- the handling steps around the transitions (lifecycle.py); the services still decide ----------


def _text(label, *, help_text="", rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, help_text=help_text, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class PauseForm(PageFormMixin, forms.Form):
    """要求补充材料: the lead department tells the enterprise what it needs; the clock stops meanwhile."""

    request = _text(
        _("需要补充的材料"),
        help_text=_("写清材料名称和要求。等待期间暂停计时：每次交办最多 2 次，每次最长 5 个工作日"),
    )


class ResumeForm(PageFormMixin, forms.Form):
    """The material came: the clock runs again."""

    reply = _text(_("补充说明"), help_text=_("说明已补充了哪些材料；提交后恢复计时，答复期限顺延"))


class ExtensionForm(PageFormMixin, forms.Form):
    """申请延期 by the lead department, decided by a supervisor of the zone."""

    days = forms.IntegerField(label=_("延期工作日"), min_value=1)
    reason = _text(_("延期理由"))

    def __init__(self, *args, days_left: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.days_left = days_left
        if days_left is not None:
            field = self.fields["days"]
            field.widget.attrs["max"] = days_left
            field.help_text = _("还可申请 %(left)s 个工作日（本诉求各次延期合计不超过类别上限）") % {
                "left": days_left
            }
            field.widget.attrs["aria-describedby"] = f"{self['days'].auto_id}_help"

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if self.days_left is not None and days > self.days_left:
            raise forms.ValidationError(
                _("最多还能申请 %(left)s 个工作日"), params={"left": max(self.days_left, 0)}
            )
        return days


class OpinionForm(PageFormMixin, forms.Form):
    """协办意见 of a co-handling department, given once."""

    opinion = _text(
        _("协办意见"), help_text=_("本部门对该诉求的意见，供主办部门答复时采用；每次协办只能提交一次")
    )


class ApproveAnswerForm(PageFormMixin, forms.Form):
    """The department head approves the waiting answer, optionally with edited text."""

    answer = _text(
        _("审核后的答复"),
        rows=5,
        required=False,
        help_text=_("可直接修改后发出；留空则按承办人的原稿发出"),
    )


class RejectAnswerForm(PageFormMixin, forms.Form):
    note = _text(_("退回修改意见"), help_text=_("告诉承办人需要怎样修改；答复退回后由承办人重新提交"))


class CoordinateForm(PageFormMixin, forms.Form):
    """领导协调 after the second reopen: the decision the department's final answer follows."""

    decision = _text(
        _("协调意见"), rows=4, help_text=_("写明由谁、如何办理；部门据此作出的下一次答复为最终答复")
    )


class MergeForm(PageFormMixin, forms.Form):
    """合并 a duplicate into a master appeal of the same zone that a department is handling."""

    master = forms.IntegerField(
        label=_("主诉求编号"),
        min_value=1,
        help_text=_("本园区已交办、尚未答复的同类诉求的编号（# 后的数字）"),
    )
    note = _text(_("合并说明"), rows=2, required=False)

    def __init__(self, *args, appeal: Appeal, user: User | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.appeal = appeal
        self.user = user

    def clean_master(self) -> Appeal:
        number = self.cleaned_data["master"]
        # Only among the appeals the user may see: the form must not tell anyone else what exists.
        master = Appeal.objects.visible_to(self.user).filter(pk=number, zone_id=self.appeal.zone_id).first()
        if master is None:
            raise forms.ValidationError(_("#%(ref)s 不是本园区的诉求"), params={"ref": number})
        if master.pk == self.appeal.pk:
            raise forms.ValidationError(_("不能合并到本诉求自身"))
        if master.master_id is not None or master.status not in HANDLING:
            raise forms.ValidationError(
                _("#%(ref)s 当前为“%(status)s”，主诉求须为已交办、尚未答复的诉求"),
                params={"ref": number, "status": master.get_status_display()},
            )
        return master


class ExtensionDecisionForm(PageFormMixin, forms.Form):
    """A supervisor's decision on one extension request."""

    decision = forms.ChoiceField(
        label=_("审批结果"),
        choices=[("", _("（请选择）")), ("approve", _("批准延期")), ("deny", _("不批准"))],
    )
    note = _text(_("审批意见"), rows=2, required=False, help_text=_("不批准时必填"))

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("decision") == "deny" and not self.cleaned_data.get("note", "").strip():
            self.add_error("note", _("不批准延期时请写明理由"))
        return cleaned


class ReviewDecisionForm(PageFormMixin, forms.Form):
    """A supervisor's 复核 decision: on a disputed rating (uphold or change its level), or on a
    decline rated dissatisfied (uphold, or send the appeal back to 待受理)."""

    decision = forms.ChoiceField(label=_("复核决定"))
    level = forms.TypedChoiceField(
        label=_("复核后评价"),
        choices=[("", _("（改判时选择）")), *RatingLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    note = _text(_("复核意见"), rows=2)

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        field = self.fields["decision"]
        if review.kind == Review.Kind.DECLINE:
            field.choices = [  # type: ignore[attr-defined]
                ("", _("（请选择）")),
                (Review.State.UPHELD, _("维持不予受理")),
                (Review.State.REOPENED, Review.State.REOPENED.label),
            ]
            del self.fields["level"]
        else:
            field.choices = [  # type: ignore[attr-defined]
                ("", _("（请选择）")),
                (Review.State.UPHELD, Review.State.UPHELD.label),
                (Review.State.CHANGED, Review.State.CHANGED.label),
            ]

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("decision") == Review.State.CHANGED:
            level = self.cleaned_data.get("level")
            if level is None:
                self.add_error("level", _("改判时请选择复核后的评价"))
            elif level == self.review.rating.level:
                self.add_error("level", _("与原评价相同，请选择“维持原评价”"))
        return cleaned


class DisputeForm(PageFormMixin, forms.Form):
    """申请复核 of a rating by the rated department."""

    reason = _text(
        _("申请复核理由"),
        help_text=_("说明评价与事实不符之处；评价后 5 个工作日内可申请，每条评价只能申请一次"),
    )
