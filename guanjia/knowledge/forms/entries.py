"""Forms of the knowledge base pages, and the entry list's filters (shared by the list page and the API).

They check the shape of the input; the rules are the services' (guanjia/knowledge/entries.py), whose
refusals the pages show next to the field they name.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import AppealCategory
from guanjia.core.api_common import IdFilter
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit
from guanjia.knowledge import entries as services
from guanjia.knowledge.models import Entry, EntryStatus

SEARCH_MAX = 100


class EntryFilter(django_filters.FilterSet):
    """The entry list's filters: category, status and keeping department (ids)."""

    category = IdFilter(label=_("类别"), field_name="category_id", help_text=_("诉求类别 id"))
    status = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=EntryStatus.choices,
        help_text=_("draft 草稿、published 已发布、archived 已停用"),
    )
    department = IdFilter(label=_("维护部门"), field_name="department_id", help_text=_("维护部门 id"))

    class Meta:
        model = Entry
        fields: list[str] = []


def categories() -> QuerySet[AppealCategory]:
    return AppealCategory.objects.filter(is_active=True).select_related("parent").order_by("position", "code")


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class EntryForm(TablerWidgetsMixin, forms.Form):
    """A new entry, or the edit of one (its department never changes)."""

    question = forms.CharField(
        label=_("问题"),
        max_length=services.QUESTION_MAX,
        help_text=_("企业会怎么问，就怎么写，如：公司变更经营范围需要哪些材料？"),
    )
    answer = forms.CharField(
        label=_("解答"),
        max_length=services.ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("办理依据、所需材料、办理地点和时限；写清楚企业下一步该做什么"),
    )
    keywords = forms.CharField(
        label=_("关键词/同义词"),
        max_length=services.KEYWORDS_MAX,
        required=False,
        help_text=_("企业可能用的其他说法，以空格分隔，如：执照 变更 增项"),
    )
    category = CategoryChoiceField(
        label=_("类别"), queryset=AppealCategory.objects.none(), required=False, empty_label=_("不分类")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = categories()


class FromAppealForm(EntryForm):
    """An entry made of an answered 咨询 appeal: the department that keeps it is one that answered it."""

    department = DepartmentChoiceField(label=_("维护部门"), queryset=OrgUnit.objects.none(), empty_label=None)

    def __init__(self, *args: Any, departments: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = OrgUnit.objects.filter(pk__in=[unit.pk for unit in departments]).order_by("name")
        self.order_fields(["department", "question", "answer", "keywords", "category"])


class FeedbackForm(forms.Form):
    """问题已解决 / 没有解决, and the search that led to the entry."""

    resolved = forms.TypedChoiceField(
        label=_("是否解决"),
        choices=[("1", _("问题已解决")), ("0", _("没有解决"))],
        coerce=lambda value: value == "1",
    )
    q = forms.CharField(label=_("搜索词"), max_length=services.QUERY_MAX, required=False)
