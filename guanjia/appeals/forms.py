from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import AppealCategory
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit


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
