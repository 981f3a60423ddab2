"""Knowledge-base links on other apps' pages (the appeals app loads them, and imports nothing of ours)."""

from __future__ import annotations

from django import template

from guanjia.appeals.models import Appeal
from guanjia.knowledge.access import may_turn_into_entry

register = template.Library()


@register.inclusion_tag("knowledge/_from_appeal_button.html", takes_context=True)
def entry_from_appeal_button(context: template.Context, appeal: Appeal) -> dict:
    """转为知识条目, on the page of an answered 咨询 appeal, for who may turn it into an entry."""
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = user is not None and user.is_authenticated and may_turn_into_entry(user, appeal)
    return {"appeal": appeal, "shown": shown}
