"""One filter set for the enterprise list page, its export and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanjia.core.api import StrictBooleanFilter
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, Scale, Tag, Tier


class EnterpriseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    zone = django_filters.ModelChoiceFilter(
        label=_("园区"), queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE), empty_label=_("全部园区")
    )
    tier = django_filters.ChoiceFilter(label=_("企业分级"), choices=Tier.choices, empty_label=_("全部分级"))
    scale = django_filters.ChoiceFilter(label=_("企业规模"), choices=Scale.choices, empty_label=_("全部规模"))
    industry_section = django_filters.CharFilter(label=_("行业门类"), lookup_expr="exact")
    industry_division = django_filters.CharFilter(label=_("行业大类"), lookup_expr="exact")
    tag = django_filters.ModelChoiceFilter(
        label=_("标签"), field_name="tags", queryset=Tag.objects.all(), empty_label=_("全部标签")
    )
    steward = django_filters.ModelChoiceFilter(
        label=_("服务管家"),
        queryset=User.objects.filter(role_grants__role=Role.STEWARD),
        empty_label=_("全部管家"),
    )
    no_steward = StrictBooleanFilter(label=_("未分配管家"), field_name="steward", lookup_expr="isnull")

    class Meta:
        model = Enterprise
        fields = ["q", "zone", "tier", "scale", "industry_section", "industry_division", "tag", "steward"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A USCC is searched by prefix (uses the unique index); names and addresses by substring.
        return queryset.filter(
            Q(uscc__startswith=value.upper()) | Q(name__icontains=value) | Q(address__icontains=value)
        )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone_ids = user.zone_ids()
            self.filters["zone"].queryset = OrgUnit.objects.filter(pk__in=zone_ids)
            self.filters["steward"].queryset = (
                User.objects.filter(role_grants__role=Role.STEWARD)
                .filter(Q(unit_id__in=zone_ids) | Q(unit__parent_id__in=zone_ids))
                .order_by("username")
            )
        for f in self.form.fields.values():
            css = "form-select" if hasattr(f, "choices") else "form-control"
            f.widget.attrs.setdefault("class", css)
