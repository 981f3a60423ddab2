"""Smart dispatch on other apps' pages: the desk's two lazy cards on the appeal page and the intake panel
beside the appeal form (the appeals app loads these tags, and imports nothing of ours)."""

from __future__ import annotations

from typing import Any

from django import template

from guanjia.appeals.models import OPEN_STATUSES, Appeal
from guanjia.dispatch import access
from guanjia.enterprises.models import Enterprise

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@register.inclusion_tag("dispatch/_suggestions_card.html", takes_context=True)
def dispatch_suggestions(context: template.Context, appeal: Appeal) -> dict:
    """智能分派建议, for the desk's readers while the appeal waits for dispatch (its body comes by HTMX)."""
    user = _user(context)
    shown = user is not None and appeal.status in access.WAITING and access.reads_desk(user, appeal)
    return {"appeal": appeal, "shown": shown}


@register.inclusion_tag("dispatch/_similar_card.html", takes_context=True)
def dispatch_similar(context: template.Context, appeal: Appeal) -> dict:
    """相似诉求, for the desk's readers while the appeal is open (its body comes by HTMX)."""
    user = _user(context)
    shown = user is not None and appeal.status in OPEN_STATUSES and access.reads_desk(user, appeal)
    return {"appeal": appeal, "shown": shown}


@register.inclusion_tag("dispatch/_intake_panel.html", takes_context=True)
def intake_similar_panel(context: template.Context, enterprise: Enterprise) -> dict:
    """您可能在重复提交, beside the appeal form: follows what is typed in the title and the body."""
    user = _user(context)
    return {"enterprise": enterprise, "shown": user is not None and access.may_search(user)}


@register.filter
def percent(value: float | None) -> int:
    """0.834 → 83 (for the bars and their text); None → 0."""
    if value is None:
        return 0
    return max(0, min(100, round(float(value) * 100)))
