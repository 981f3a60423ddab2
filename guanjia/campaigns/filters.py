"""Filters of the campaign API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign, CampaignStatus
from guanjia.core.api_common import IdFilter


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=CampaignStatus.choices,
        method="by_status",
        help_text=_("按北京时间的今天推算"),
    )
    zone = IdFilter(label=_("园区"), field_name="zones", help_text=_("覆盖该园区的"))

    class Meta:
        model = Campaign
        fields: list[str] = []

    def by_status(self, queryset: QuerySet[Campaign], name: str, value: str) -> QuerySet[Campaign]:
        return queryset.with_status(value, services.today())  # type: ignore[attr-defined]
