"""Pages of the policy library (政策库): the list with its search and filters, a policy with its benefit
items and attachments, and the forms that keep them.

Every business account whose zones a policy covers reads it (Policy.objects.visible_to: out of scope is
a 404); only its keepers, the handlers and the head of its responsible department, write it. A role
that never keeps a policy gets 403 on every write page; a keeper of another department gets 403 on a
policy it sees, and 404 on one it does not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import ServiceError
from guanjia.core.http import client_ip
from guanjia.policies import library as services
from guanjia.policies.access import keeps_some_policy, may_keep, may_read
from guanjia.policies.forms.library import (
    STATE_CHOICES,
    AttachmentsForm,
    BenefitItemForm,
    PolicyFilter,
    PolicyForm,
)
from guanjia.policies.models import BenefitItem, Policy, PolicyAttachment

PAGE_SIZE = 20


# --- who may: readers and keepers -------------------------------------------------------------------


def reader_required(view: Callable) -> Callable:
    """Logged in, and a business account the policy library reaches (access.may_read); else 403."""

    @wraps(view)
    @login_required
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_read(request.user):
            raise PermissionDenied(_("您的账号无权查看政策库"))
        return view(request, *args, **kwargs)

    return wrapper


def keeper_required(view: Callable) -> Callable:
    """Logged in, and a handler or head of a department (access.keeps_some_policy); else 403."""

    @wraps(view)
    @login_required
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not keeps_some_policy(request.user):
            raise PermissionDenied(_("只有部门承办人或部门负责人可以维护政策"))
        return view(request, *args, **kwargs)

    return wrapper


def _visible(request: AuthedRequest) -> QuerySet[Policy]:
    return Policy.objects.visible_to(request.user)


def _policy(request: AuthedRequest, pk: int) -> Policy:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(_visible(request).select_related("department", "created_by"), pk=pk)


def _kept_policy(request: AuthedRequest, pk: int) -> Policy:
    policy = _policy(request, pk)
    if not may_keep(request.user, policy):
        raise PermissionDenied(_("只有该政策承办部门的工作人员可以维护该政策"))
    return policy


def _kept_item(request: AuthedRequest, pk: int) -> BenefitItem:
    item = get_object_or_404(
        BenefitItem.objects.filter(policy__in=_visible(request)).select_related("policy__department"), pk=pk
    )
    if not may_keep(request.user, item.policy):
        raise PermissionDenied(_("只有该政策承办部门的工作人员可以维护其兑现事项"))
    return item


def _refusal_on_form(form: Any, exc: ServiceError) -> None:
    """A service's refusal shown next to the field it names (without repeating the field's label,
    which the template puts before every error), else above the form."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if field and field in form.fields:
        prefix = f"{form.fields[field].label}："
        form.add_error(field, message.removeprefix(prefix))
    else:
        form.add_error(None, message)


def _version(data: dict[str, Any], current: int) -> int:
    version = data.get("version")
    return version if version is not None else current


def item_url(item: BenefitItem) -> str:
    """The benefit item's page (the matching part's), or "" while that page does not exist."""
    try:
        return reverse("policies:item", args=[item.pk])
    except NoReverseMatch:
        return ""


# --- the list ---------------------------------------------------------------------------------------


@reader_required
def policy_list(request: AuthedRequest) -> HttpResponse:
    visible = _visible(request)
    filters = PolicyFilter(request.GET, queryset=visible, request=request)
    rows = (
        filters.qs.select_related("department")
        .annotate(item_count=Count("items"))
        .order_by("-effective_on", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for policy in page:
        policy.state, policy.state_label = services.state_of(policy)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("政策库"),
        "filters": filters,
        "states": STATE_CHOICES,
        "page": page,
        "query_string": query.urlencode(),
        "can_create": keeps_some_policy(request.user),
    }
    return render(request, "policies/library/list.html", context)


# --- a new policy, and its edit ---------------------------------------------------------------------


@keeper_required
def policy_new(request: AuthedRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            policy = services.create_policy(
                by=request.user,
                title=data["title"],
                issuer=data["issuer"],
                document_number=data["document_number"],
                effective_on=data["effective_on"],
                expires_on=data["expires_on"],
                full_text=data["full_text"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已新建政策：%(title)s") % {"title": policy.title})
            return redirect("policies:detail", pk=policy.pk)
    context = {"page_title": _("新建政策"), "form": form, "department": request.user.unit}
    return render(request, "policies/library/policy_form.html", context)


@keeper_required
def policy_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = _kept_policy(request, pk)
    initial = {name: getattr(policy, name) for name in services.POLICY_FIELDS}
    form = PolicyForm(request.POST or None, initial={**initial, "version": policy.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_policy(
                policy,
                by=request.user,
                version=_version(data, policy.version),
                **{name: data[name] for name in services.POLICY_FIELDS},
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("policies:detail", pk=policy.pk)
    context = {
        "page_title": _("修改政策"),
        "form": form,
        "policy": policy,
        "department": policy.department,
    }
    return render(request, "policies/library/policy_form.html", context)


# --- a policy ---------------------------------------------------------------------------------------


def _detail(
    request: AuthedRequest, policy: Policy, *, attachments_form: AttachmentsForm | None = None
) -> HttpResponse:
    keeper = may_keep(request.user, policy)
    items = (
        policy.items.prefetch_related("zones", "tags")
        .annotate(delivery_count=Count("deliveries"))
        .order_by("pk")
    )
    rows = [{"item": item, "conditions": services.describe(item), "url": item_url(item)} for item in items]
    state, state_label = services.state_of(policy)
    context = {
        "page_title": policy.title,
        "policy": policy,
        "state": state,
        "state_label": state_label,
        "keeper": keeper,
        "items": rows,
        "attachments": services.attachments_of(policy),
        "attachments_form": attachments_form or (AttachmentsForm() if keeper else None),
    }
    return render(request, "policies/library/detail.html", context)


@reader_required
def policy_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _policy(request, pk))


@require_POST
@keeper_required
def attachments_add(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = _kept_policy(request, pk)
    form = AttachmentsForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, policy, attachments_form=form)
    try:
        rows = services.add_attachments(policy, form.cleaned_data["attachments"], by=request.user)
    except ServiceError as exc:
        form.add_error("attachments", str(exc))
        return _detail(request, policy, attachments_form=form)
    messages.success(request, _("已上传附件 %(n)s 个") % {"n": len(rows)})
    return redirect("policies:detail", pk=policy.pk)


@reader_required
def attachment_download(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """A policy's file, to those who read the policy; to everyone else it does not exist."""
    attachment = get_object_or_404(
        PolicyAttachment.objects.filter(policy__in=_visible(request)).select_related("policy"), pk=pk
    )
    return services.download(attachment, by=request.user, ip=client_ip(request))


# --- benefit items ----------------------------------------------------------------------------------


@keeper_required
def item_new(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = _kept_policy(request, pk)
    form = BenefitItemForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            item = services.add_item(policy, by=request.user, **values)
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已新增兑现事项：%(name)s") % {"name": item.name})
            return redirect("policies:detail", pk=policy.pk)
    context = {"page_title": _("新增兑现事项"), "form": form, "policy": policy}
    return render(request, "policies/library/item_form.html", context)


@keeper_required
def item_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _kept_item(request, pk)
    policy = item.policy
    form = BenefitItemForm(request.POST or None, policy=policy, initial=BenefitItemForm.initial_of(item))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            services.update_item(
                item, by=request.user, version=_version(form.cleaned_data, item.version), **values
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存兑现事项：%(name)s") % {"name": item.name})
            return redirect("policies:detail", pk=policy.pk)
    context = {
        "page_title": _("修改兑现事项"),
        "form": form,
        "policy": policy,
        "item": item,
        "has_deliveries": services.has_deliveries(item),
    }
    return render(request, "policies/library/item_form.html", context)


@require_POST
@keeper_required
def item_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _kept_item(request, pk)
    raw = request.POST.get("version", "")
    version = int(raw) if raw.isdigit() else (item.version if raw == "" else 0)
    try:
        services.remove_item(item, by=request.user, version=version)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除兑现事项：%(name)s") % {"name": item.name})
    return redirect("policies:detail", pk=item.policy_id)


urlpatterns: list[URLPattern] = [
    path("policies/", policy_list, name="index"),
    path("policies/new/", policy_new, name="new"),
    path("policies/<int:pk>/", policy_detail, name="detail"),
    path("policies/<int:pk>/edit/", policy_edit, name="edit"),
    path("policies/<int:pk>/items/new/", item_new, name="item-new"),
    path("policies/<int:pk>/attachments/", attachments_add, name="attachments-add"),
    path("policies/items/<int:pk>/edit/", item_edit, name="item-edit"),
    path("policies/items/<int:pk>/delete/", item_delete, name="item-delete"),
    path("policies/attachments/<int:pk>/", attachment_download, name="attachment"),
]
