"""Filters of the visit API."""

from __future__ import annotations

import django_filters

from guanjia.core.api_common import IdFilter
from guanjia.visits.models import Mode, Visit


class VisitFilter(django_filters.FilterSet):
    enterprise = IdFilter(field_name="enterprise_id")
    steward = IdFilter(field_name="steward_id")
    visited_from = django_filters.DateFilter(field_name="visited_on", lookup_expr="gte")
    visited_to = django_filters.DateFilter(field_name="visited_on", lookup_expr="lte")
    mode = django_filters.ChoiceFilter(choices=Mode.choices)

    class Meta:
        model = Visit
        fields: list[str] = []
