"""`{% visit_origin appeal %}`: the appeal page's "来自走访 #N（日期）", for those who may see the visit."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from guanjia.visits.models import Visit

register = template.Library()


@register.simple_tag(takes_context=True)
def visit_origin(context: dict[str, Any], appeal: Any) -> SafeString | str:
    request = context.get("request")
    user = getattr(request, "user", None)
    visit = Visit.objects.visible_to(user).done().filter(appeal_links__appeal=appeal).first()
    if visit is None or visit.visited_on is None:  # appeals are raised from visits made, never plans
        return ""
    label = _("来自走访 #%(pk)s（%(day)s）") % {"pk": visit.pk, "day": visit.visited_on.isoformat()}
    return format_html(
        '<a href="{}" data-testid="visit-origin">{}</a>', reverse("visits:detail", args=[visit.pk]), label
    )
