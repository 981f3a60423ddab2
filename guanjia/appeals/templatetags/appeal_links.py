"""Links from an enterprise's pages into its appeals: submit one, and list them, for who may."""

from __future__ import annotations

from django import template
from django.urls import reverse

from guanjia.appeals import permissions
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise

register = template.Library()


@register.inclusion_tag("appeals/_enterprise_links.html", takes_context=True)
def enterprise_appeal_links(context: template.Context, enterprise: Enterprise) -> dict:
    user = context["request"].user
    channel = permissions.submit_channel(enterprise, user)
    if user.has_role(Role.STEWARD) and enterprise.steward_id == user.pk:
        listing = f"{reverse('appeals:stewarded')}?enterprise={enterprise.pk}"
    elif user.has_any_role(permissions.ZONE_STAFF_ROLES) and enterprise.zone_id in user.zone_ids():
        listing = f"{reverse('appeals:list')}?enterprise={enterprise.pk}"
    elif channel is not None:
        listing = reverse("appeals:mine")
    else:
        listing = ""
    return {"enterprise": enterprise, "may_submit": channel is not None, "listing": listing}
