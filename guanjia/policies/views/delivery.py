"""Pages of the policies app: delivery (政策兑现).

Staff (the policy's keepers, the enterprise's steward, the zone's leaders, supervisors and dispatchers)
follow deliveries on the list, the detail page and the totals, and export the list; the keepers approve,
reject and record the money paid; a steward pushes a benefit to an enterprise it serves and may apply on
its behalf. The enterprise user sees its benefits and deliveries on its portal (/portal/policies/) and
applies there. Every read goes through Delivery.objects.visible_to: out of scope is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.policies import delivery as service
from guanjia.policies import exporting, matching
from guanjia.policies.access import enterprises_for, may_keep, today
from guanjia.policies.forms.delivery import (
    ApplyForm,
    ApproveForm,
    DeliveryFilterForm,
    DisburseForm,
    RejectForm,
)
from guanjia.policies.models import (
    POLICY_KEEPERS,
    POLICY_OVERSEERS,
    BenefitItem,
    Delivery,
    DeliveryStatus,
    Policy,
)

KEEPERS = tuple(POLICY_KEEPERS)
# Who follows deliveries on the staff pages (what each sees: Delivery.objects.visible_to).
READERS = (*KEEPERS, Role.STEWARD, *POLICY_OVERSEERS)
PUSHERS = (*KEEPERS, Role.STEWARD)
APPLIERS = (Role.ENTERPRISE_USER, Role.STEWARD)
PER_PAGE = 30
DETAIL = "policies/delivery/detail.html"


def post_action(*roles: str) -> Callable[[Callable], Callable]:
    """A POST-only action of `roles`: another method is a 405, another role a 403."""

    def decorator(view: Callable) -> Callable:
        return require_POST(role_required(*roles)(view))

    return decorator


def _back(request: AuthedRequest, default: str) -> HttpResponse:
    """To the page the form came from (`next`, a path of this site), else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _item(request: AuthedRequest, pk: int) -> BenefitItem:
    """A benefit item of a policy the user may read (else 404)."""
    return get_object_or_404(
        BenefitItem.objects.filter(policy__in=Policy.objects.visible_to(request.user)).select_related(
            "policy"
        ),
        pk=pk,
    )


def _delivery(request: AuthedRequest, pk: int) -> Delivery:
    return get_object_or_404(
        Delivery.objects.visible_to(request.user).select_related(
            "item__policy__department", "enterprise", "zone", "pushed_by", "applied_by", "approved_by"
        ),
        pk=pk,
    )


def _query_string(request: AuthedRequest) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


def _json_filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {name: getattr(value, "pk", value) for name, value in filters.items() if value not in (None, "")}


# --- pushing ------------------------------------------------------------------------------------------


@post_action(*PUSHERS)
def push(request: AuthedRequest, item_pk: int, enterprise_pk: int) -> HttpResponse:
    item = _item(request, item_pk)
    enterprise = get_object_or_404(enterprises_for(request.user, item.policy), pk=enterprise_pk)
    if not service.may_push(request.user, item, enterprise):
        raise PermissionDenied(_("只有该企业的服务管家或该政策承办部门的工作人员可以推送"))
    try:
        delivery = service.push(item, enterprise, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return _back(request, "policies:deliveries")
    messages.success(
        request, _("已向“%(enterprise)s”推送“%(item)s”") % {"enterprise": enterprise.name, "item": item.name}
    )
    return _back(request, reverse("policies:delivery", kwargs={"pk": delivery.pk}))


def _kept_item(request: AuthedRequest, pk: int) -> BenefitItem:
    item = _item(request, pk)
    if not may_keep(request.user, item.policy):
        raise PermissionDenied(_("只有该政策承办部门的工作人员可以执行此操作"))
    return item


def _list_of(item: BenefitItem) -> str:
    return f"{reverse('policies:deliveries')}?{urlencode({'policy': item.policy_id})}"


@post_action(*KEEPERS)
def push_all(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _kept_item(request, pk)
    try:
        count = service.push_all(item, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        if count:
            messages.success(
                request, _("已向 %(n)d 家符合条件的企业推送“%(item)s”") % {"n": count, "item": item.name}
            )
        else:
            messages.info(request, _("没有尚未推送的符合条件企业"))
    return _back(request, _list_of(item))


@post_action(*KEEPERS)
def auto_grant(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _kept_item(request, pk)
    try:
        count = service.auto_grant(item, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        if count:
            messages.success(
                request,
                _("免申即享：%(n)d 家符合条件的企业已直接进入兑现审核") % {"n": count},
            )
        else:
            messages.info(request, _("没有尚未纳入的符合条件企业"))
    return _back(request, _list_of(item))


# --- the list, the totals, the export ------------------------------------------------------------------


def _filtered(request: AuthedRequest) -> tuple[DeliveryFilterForm, Any]:
    visible = Delivery.objects.visible_to(request.user)
    form = DeliveryFilterForm(request.GET or None, deliveries=visible)
    return form, service.filter_deliveries(visible, **form.filters())


@role_required(*READERS)
def delivery_list(request: AuthedRequest) -> HttpResponse:
    form, deliveries = _filtered(request)
    rows = (
        service.with_overdue(deliveries)
        .select_related("item__policy", "enterprise", "zone")
        .order_by("-pushed_at", "-pk")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_title": _("政策兑现"),
        "page": page,
        "filters": form,
        "query_string": _query_string(request),
    }
    return render(request, "policies/delivery/list.html", context)


@role_required(*READERS)
def delivery_export(request: AuthedRequest) -> HttpResponse:
    form, deliveries = _filtered(request)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("筛选条件有误，请修改后再导出"))
        query = _query_string(request)
        return redirect(f"{reverse('policies:deliveries')}{'?' + query if query else ''}")
    return exporting.export_deliveries(deliveries, request.user, filters=_json_filters(form.filters()))


@role_required(*READERS)
def delivery_totals(request: AuthedRequest) -> HttpResponse:
    totals = service.totals(Delivery.objects.visible_to(request.user))
    tables = [
        {
            "key": "policy",
            "title": _("按政策"),
            "heading": _("政策"),
            "param": "policy",
            "rows": totals.by_policy,
        },
        {"key": "zone", "title": _("按园区"), "heading": _("园区"), "param": "zone", "rows": totals.by_zone},
    ]
    context = {
        "page_title": _("政策兑现统计"),
        "totals": totals,
        "tables": tables,
        "statuses": DeliveryStatus.choices,
    }
    return render(request, "policies/delivery/totals.html", context)


# --- one delivery -------------------------------------------------------------------------------------


def _detail(request: AuthedRequest, delivery: Delivery, **bound: forms.Form) -> HttpResponse:
    """The delivery's page with the forms of the steps the user may take; `bound` replaces one of them
    by the form as posted (with its errors)."""
    actions = service.actions_for(request.user, delivery)
    initial = {"version": delivery.version}
    step_forms: dict[str, forms.Form | None] = {
        "apply_form": ApplyForm(initial=initial) if "apply" in actions else None,
        "approve_form": ApproveForm(initial=initial) if "approve" in actions else None,
        "reject_form": RejectForm(initial=initial) if "reject" in actions else None,
        "disburse_form": (
            DisburseForm(delivery=delivery, initial={**initial, "disbursed_on": today()})
            if "disburse" in actions
            else None
        ),
    }
    step_forms.update(bound)
    context = {
        "page_title": _("政策兑现：%(item)s") % {"item": delivery.item.name},
        "delivery": delivery,
        "events": delivery.events.select_related("by").order_by("at", "pk"),
        "overdue": service.is_overdue(delivery),
        "on_behalf": service.applied_on_behalf(delivery),
        **step_forms,
    }
    return render(request, DETAIL, context)


@role_required(*READERS)
def delivery_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _delivery(request, pk))


def _step(
    request: AuthedRequest,
    delivery: Delivery,
    form: forms.Form,
    slot: str,
    write: Callable[[dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Run one step from its posted form: on success back to the page with `done`; a stale page is sent
    back to the page as it is now; any other refusal shows the form again with the reason."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("policies:delivery", pk=delivery.pk)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("policies:delivery", pk=delivery.pk)
    return _detail(request, _delivery(request, delivery.pk), **{slot: form})


def _require_review(request: AuthedRequest, delivery: Delivery) -> None:
    if not service.may_review(request.user, delivery):
        raise PermissionDenied(_("只有该政策承办部门的工作人员可以审核和登记兑现"))


@post_action(*APPLIERS)
def delivery_apply(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = _delivery(request, pk)
    if not service.may_apply(request.user, delivery):
        raise PermissionDenied(_("只有该企业的用户或其服务管家可以申请"))
    form = ApplyForm(request.POST)

    def write(data: dict[str, Any]) -> Any:
        return service.apply(delivery, by=request.user, note=data["note"], version=data["version"])

    if not service.is_member(request.user, delivery.enterprise):
        return _step(request, delivery, form, "apply_form", write, _("已代企业提交申请"))
    # The enterprise applies from its portal: back there, with the outcome as a message.
    if not form.is_valid():
        messages.error(request, "；".join(f"{e}" for errors in form.errors.values() for e in errors))
    else:
        try:
            write(form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已提交申请，请等待承办部门审核"))
    return redirect("policies:portal")


@post_action(*KEEPERS)
def delivery_approve(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = _delivery(request, pk)
    _require_review(request, delivery)
    return _step(
        request,
        delivery,
        ApproveForm(request.POST),
        "approve_form",
        lambda data: service.approve(delivery, by=request.user, note=data["note"], version=data["version"]),
        _("已审核通过"),
    )


@post_action(*KEEPERS)
def delivery_reject(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = _delivery(request, pk)
    _require_review(request, delivery)
    return _step(
        request,
        delivery,
        RejectForm(request.POST),
        "reject_form",
        lambda data: service.reject(
            delivery, by=request.user, reason=data["reason"], version=data["version"]
        ),
        _("已记录为未通过"),
    )


@post_action(*KEEPERS)
def delivery_disburse(request: AuthedRequest, pk: int) -> HttpResponse:
    delivery = _delivery(request, pk)
    _require_review(request, delivery)
    return _step(
        request,
        delivery,
        DisburseForm(request.POST, delivery=delivery),
        "disburse_form",
        lambda data: service.disburse(
            delivery,
            by=request.user,
            amount=data["amount"],
            disbursed_on=data["disbursed_on"],
            note=data["note"],
            version=data["version"],
        ),
        _("已登记兑现"),
    )


# --- the enterprise's portal ---------------------------------------------------------------------------


@role_required(Role.ENTERPRISE_USER)
def portal(request: AuthedRequest) -> HttpResponse:
    user = request.user
    # Read through visible_to, narrowed to the user's own memberships (an account with a staff role
    # besides would otherwise get a section per enterprise it serves).
    enterprises = (
        Enterprise.objects.visible_to(user)
        .filter(pk__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values("enterprise_id"))
        .order_by("name", "pk")
    )
    mine = Delivery.objects.visible_to(user).filter(enterprise__in=enterprises)
    sections = []
    for enterprise in enterprises:
        benefits = list(
            matching.benefits_for(enterprise).select_related("policy").order_by("policy__title", "pk")
        )
        reached = {
            d.item_id: d for d in mine.filter(enterprise=enterprise, item__in=[b.pk for b in benefits])
        }
        sections.append({"enterprise": enterprise, "benefits": [(b, reached.get(b.pk)) for b in benefits]})
    rows = mine.select_related("item__policy", "enterprise").order_by("-pushed_at", "-pk")
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    context = {
        "page_title": _("政策直达"),
        "sections": sections,
        "page": page,
        "several": len(enterprises) > 1,
    }
    return render(request, "policies/delivery/portal.html", context)


urlpatterns = [
    path("policies/items/<int:item_pk>/push/<int:enterprise_pk>/", push, name="push"),
    path("policies/items/<int:pk>/push-all/", push_all, name="push-all"),
    path("policies/items/<int:pk>/auto-grant/", auto_grant, name="auto-grant"),
    path("policies/deliveries/", delivery_list, name="deliveries"),
    path("policies/deliveries/export/", delivery_export, name="deliveries-export"),
    path("policies/deliveries/totals/", delivery_totals, name="totals"),
    path("policies/deliveries/<int:pk>/", delivery_detail, name="delivery"),
    path("policies/deliveries/<int:pk>/apply/", delivery_apply, name="delivery-apply"),
    path("policies/deliveries/<int:pk>/approve/", delivery_approve, name="delivery-approve"),
    path("policies/deliveries/<int:pk>/reject/", delivery_reject, name="delivery-reject"),
    path("policies/deliveries/<int:pk>/disburse/", delivery_disburse, name="delivery-disburse"),
    path("portal/policies/", portal, name="portal"),
]
