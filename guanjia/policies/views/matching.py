"""Pages of the policies app: matching (政策直达 — who qualifies for what).

- A benefit item's page: its conditions, the enterprises that qualify now and those that miss by one
  condition (and which), each with its delivery and, for who may push (the enterprise's steward, the
  policy's keepers), a push button; the keepers also push to all at once and start 免申即享. Whoever
  reads the policy opens it (Policy.objects.visible_to, else 404); the lists show the enterprises the
  user may see (access.enterprises_for: the keepers see the whole coverage).
- The "可享政策" card of an enterprise's page (an HTMX partial): the benefits it qualifies for now, to
  whoever may see the enterprise (Enterprise.objects.visible_to, else 404).
- The steward's worklist (/policies/my-enterprises/): its enterprises × their benefits not yet pushed.

Every list is computed by guanjia.policies.matching in the database; the pages' query counts do not grow
with the enterprises or the items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property, wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise
from guanjia.policies import library, matching
from guanjia.policies.access import enterprises_for, may_keep, may_read, today
from guanjia.policies.delivery import may_push
from guanjia.policies.models import BenefitItem, Delivery, Policy

PER_PAGE = 30
STEWARD_PER_PAGE = 20
# Who opens an enterprise's page (guanjia.enterprises.views.enterprise_detail), and its benefits card.
ENTERPRISE_READERS = (*ZONE_WIDE_ROLES, Role.STEWARD, Role.ENTERPRISE_USER)


class CountedPaginator(Paginator):
    """A paginator told its count: matching.counts() counted both lists of an item in one pass."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def reader_required(view: Callable) -> Callable:
    """Logged in, and a business account the policy library reaches (access.may_read); else 403."""

    @wraps(view)
    @login_required
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_read(request.user):
            raise PermissionDenied(_("您的账号无权查看政策库"))
        return view(request, *args, **kwargs)

    return wrapper


def _deliveries(
    request: AuthedRequest, items: Iterable[int], enterprises: Iterable[int]
) -> dict[Any, Delivery]:
    """The deliveries the user may see of these items to these enterprises, by (item, enterprise): one query."""
    found = Delivery.objects.visible_to(request.user).filter(
        item_id__in=set(items), enterprise_id__in=set(enterprises)
    )
    return {(d.item_id, d.enterprise_id): d for d in found}


def _row(
    request: AuthedRequest, item: BenefitItem, enterprise: Enterprise, deliveries: dict
) -> dict[str, Any]:
    delivery = deliveries.get((item.pk, enterprise.pk))
    return {
        "item": item,
        "enterprise": enterprise,
        "delivery": delivery,
        # A push is offered where none was made yet (the service refuses a second one anyway).
        "can_push": delivery is None and may_push(request.user, item, enterprise),
    }


# --- a benefit item's page ---------------------------------------------------------------------------


@reader_required
def item_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        BenefitItem.objects.filter(policy__in=Policy.objects.visible_to(request.user))
        .select_related("policy__department__parent")
        .prefetch_related("tags", "zones"),
        pk=pk,
    )
    day = today()
    among = enterprises_for(request.user, item.policy)
    listed = ("name", "pk")
    qualifying, near_misses = matching.counts(item, on=day, among=among)
    page = CountedPaginator(
        matching.qualifying(item, on=day, among=among).order_by(*listed), PER_PAGE, count=qualifying
    ).get_page(request.GET.get("page"))
    near_page = CountedPaginator(
        matching.near_miss_queryset(item, on=day, among=among).order_by(*listed), PER_PAGE, count=near_misses
    ).get_page(request.GET.get("near"))
    deliveries = _deliveries(request, [item.pk], [e.pk for e in page])
    near = [matching.near_miss(e, on=day) for e in near_page]
    state, state_label = library.state_of(item.policy, day)
    context = {
        "page_title": item.name,
        "item": item,
        "policy": item.policy,
        "state": state,
        "state_label": state_label,
        "in_force": matching.in_force(item.policy, day),
        "conditions": library.describe(item),
        "page": page,
        "rows": [_row(request, item, e, deliveries) for e in page],
        "near_page": near_page,
        "near": [{"miss": miss, "asked": matching.requirement_text(item, miss.missed)} for miss in near],
        # Each list's pager keeps the other list's page.
        "keep_page": urlencode({"near": near_page.number}),
        "keep_near": urlencode({"page": page.number}),
        "keeper": may_keep(request.user, item.policy),
        "here": request.get_full_path(),
    }
    return render(request, "policies/matching/item.html", context)


# --- an enterprise's benefits (the card on its page) ---------------------------------------------------


@role_required(*ENTERPRISE_READERS)
def enterprise_benefits(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = get_object_or_404(Enterprise.objects.visible_to(request.user).select_related("zone"), pk=pk)
    items = list(matching.benefits_for(enterprise).select_related("policy__department"))
    deliveries = _deliveries(request, [i.pk for i in items], [enterprise.pk])
    context = {
        "enterprise": enterprise,
        "rows": [_row(request, item, enterprise, deliveries) for item in items],
        "reads_policies": may_read(request.user),
        "here": reverse("enterprises:detail", args=[enterprise.pk]),
    }
    return render(request, "policies/matching/_enterprise_benefits.html", context)


# --- the steward's worklist ----------------------------------------------------------------------------


@role_required(Role.STEWARD)
def steward_benefits(request: AuthedRequest) -> HttpResponse:
    worklist = matching.steward_worklist(request.user)
    page = Paginator(worklist.enterprises, STEWARD_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_title": _("服务企业可享政策"),
        "page": page,
        "rows": [{"enterprise": e, "items": worklist.pending(e)} for e in page],
        "here": request.get_full_path(),
    }
    return render(request, "policies/matching/steward.html", context)


urlpatterns = [
    path("policies/items/<int:pk>/", item_detail, name="item"),
    path("policies/enterprises/<int:pk>/benefits/", enterprise_benefits, name="enterprise-benefits"),
    path("policies/my-enterprises/", steward_benefits, name="steward-benefits"),
]
