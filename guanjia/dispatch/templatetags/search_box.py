"""The search box of the top bar (base.html): shown to the accounts that may search (business accounts)."""

from __future__ import annotations

from django import template

from guanjia.dispatch import access

register = template.Library()


@register.inclusion_tag("dispatch/_search_box.html", takes_context=True)
def search_box(context: template.Context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"shown": user is not None and user.is_authenticated and access.may_search(user)}
