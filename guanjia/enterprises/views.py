"""Pages of the enterprise registry, the steward's pages and the enterprise portal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import form_errors_message
from guanjia.core.masking import phone_for, sees_personal_data
from guanjia.core.roles import REGISTRY_KEEPERS, ZONE_WIDE_ROLES, Role
from guanjia.enterprises import services
from guanjia.enterprises.filters import EnterpriseFilter
from guanjia.enterprises.forms import (
    AcceptInvitationForm,
    ContactForm,
    EnterpriseForm,
    HandoverForm,
    InvitationForm,
    StewardAssignForm,
)
from guanjia.enterprises.models import Contact, Enterprise, EnterpriseMembership, StewardAssignment

REGISTRY_READERS = ZONE_WIDE_ROLES | {Role.STEWARD}


def _list_queryset(request: AuthedRequest):
    return (
        Enterprise.objects.visible_to(request.user)
        .select_related("zone", "steward")
        .prefetch_related("tags")
        .order_by("name")
    )


def _render_list(request: AuthedRequest, queryset, *, title: str, mine: bool) -> HttpResponse:
    filterset = EnterpriseFilter(request.GET or None, queryset=queryset, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "page_title": title,
        "mine": mine,
        "can_create": request.user.has_any_role(REGISTRY_KEEPERS),
    }
    template = "enterprises/_table.html" if request.headers.get("HX-Request") else "enterprises/list.html"
    return render(request, template, context)


@role_required(*ZONE_WIDE_ROLES)
def enterprise_list(request: AuthedRequest) -> HttpResponse:
    return _render_list(request, _list_queryset(request), title=_("企业库"), mine=False)


@role_required(Role.STEWARD)
def my_enterprises(request: AuthedRequest) -> HttpResponse:
    queryset = _list_queryset(request).filter(steward=request.user)
    return _render_list(request, queryset, title=_("我的企业"), mine=True)


def _visible_enterprise(request: AuthedRequest, pk: int) -> Enterprise:
    # Outside the user's scope is a 404, not a 403: we do not confirm that it exists.
    return get_object_or_404(
        Enterprise.objects.visible_to(request.user).select_related("zone", "steward"), pk=pk
    )


def _take_posted_version(request: AuthedRequest, enterprise: Enterprise) -> None:
    """Judge a write against the version the user's page showed: a concurrent change is refused, not overwritten."""
    try:
        enterprise.version = int(request.POST.get("version", enterprise.version))
    except ValueError:
        enterprise.version = 0


@role_required(*REGISTRY_READERS, Role.ENTERPRISE_USER)
def enterprise_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = _visible_enterprise(request, pk)
    if request.user.has_role(Role.ENTERPRISE_USER) and not request.user.has_any_role(REGISTRY_READERS):
        return redirect("enterprises:portal")
    contacts = [{"contact": c, "phone": phone_for(request.user, c.phone)} for c in enterprise.contacts.all()]
    history = StewardAssignment.objects.filter(enterprise=enterprise).select_related("steward", "assigned_by")
    keeper = services.can_keep_registry(request.user, enterprise.zone_id)
    context = {
        "enterprise": enterprise,
        "contacts": contacts,
        "history": history,
        "can_edit": services.can_edit(request.user, enterprise),
        "can_assign": keeper,
        "can_invite": request.user.has_role(Role.STEWARD) and enterprise.steward_id == request.user.pk,
        "assign_form": StewardAssignForm(zone_id=enterprise.zone_id) if keeper else None,
        "suggested": services.suggest_steward(enterprise.zone_id, exclude=enterprise.steward)
        if keeper
        else None,
        "contact_form": ContactForm() if services.can_edit(request.user, enterprise) else None,
        "invitations": enterprise.invitations.select_related("created_by")[:10]
        if request.user.has_any_role(REGISTRY_READERS)
        else [],
        "members": EnterpriseMembership.objects.filter(enterprise=enterprise).select_related("user"),
        "unmasked": sees_personal_data(request.user),
    }
    return render(request, "enterprises/detail.html", context)


@role_required(*REGISTRY_KEEPERS)
def enterprise_create(request: AuthedRequest) -> HttpResponse:
    form = EnterpriseForm(request.POST or None, user=request.user)
    contact_form = ContactForm(request.POST or None, prefix="contact")
    if request.method == "POST" and form.is_valid():
        contact_ok = not contact_form["name"].value() or contact_form.is_valid()
        if contact_ok:
            contacts = [contact_form.cleaned_data] if contact_form["name"].value() else []
            try:
                enterprise = services.create_enterprise(
                    data=form.service_data(),
                    zone=form.cleaned_data["zone"],
                    tags=form.cleaned_data["tags"],
                    contacts=contacts,
                    by=request.user,
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已新增企业 %(name)s") % {"name": enterprise.name})
                return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request,
        "enterprises/form.html",
        {"form": form, "contact_form": contact_form, "page_title": _("新增企业")},
    )


@role_required(*REGISTRY_READERS)
def enterprise_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = _visible_enterprise(request, pk)
    if not services.can_edit(request.user, enterprise):
        raise PermissionDenied
    # The form gets an instance of its own: validation writes into it, and update_enterprise
    # compares the untouched `enterprise` with the cleaned data to know what changed.
    form = EnterpriseForm(request.POST or None, instance=_visible_enterprise(request, pk), user=request.user)
    if request.method == "POST":
        _take_posted_version(request, enterprise)
        if form.is_valid():
            try:
                services.update_enterprise(
                    enterprise, data=form.service_data(), tags=form.cleaned_data["tags"], by=request.user
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存"))
                return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request,
        "enterprises/form.html",
        {"form": form, "enterprise": enterprise, "page_title": _("编辑企业信息")},
    )


@require_POST
@role_required(*REGISTRY_READERS)
def contact_add(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = _visible_enterprise(request, pk)
    if not services.can_edit(request.user, enterprise):
        raise PermissionDenied
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.save_contact(enterprise, data=form.cleaned_data, by=request.user)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已添加联系人"))
    else:
        messages.error(request, form_errors_message(form))
    return redirect("enterprises:detail", pk=pk)


@require_POST
@role_required(*REGISTRY_KEEPERS)
def steward_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = _visible_enterprise(request, pk)
    _take_posted_version(request, enterprise)
    form = StewardAssignForm(request.POST, zone_id=enterprise.zone_id)
    if form.is_valid():
        try:
            services.assign_steward(
                enterprise, form.cleaned_data["steward"], reason=form.cleaned_data["reason"], by=request.user
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("服务管家已调整为 %(name)s") % {"name": form.cleaned_data["steward"]})
    else:
        messages.error(request, form_errors_message(form))
    return redirect("enterprises:detail", pk=pk)


@role_required(*REGISTRY_KEEPERS, Role.LEADER)
def stewards(request: AuthedRequest) -> HttpResponse:
    zones = []
    from guanjia.core.models import OrgUnit

    for zone in OrgUnit.objects.filter(pk__in=request.user.zone_ids()):
        zones.append(
            {
                "zone": zone,
                "loads": services.steward_loads(zone.pk),
                "unassigned": Enterprise.objects.visible_to(request.user)
                .filter(zone=zone, steward__isnull=True)
                .count(),
            }
        )
    form = (
        HandoverForm(zone_ids=request.user.zone_ids())
        if request.user.has_any_role(REGISTRY_KEEPERS)
        else None
    )
    return render(
        request,
        "enterprises/stewards.html",
        {"zones": zones, "form": form, "page_title": _("管家负载与交接")},
    )


@require_POST
@role_required(*REGISTRY_KEEPERS)
def steward_handover(request: AuthedRequest) -> HttpResponse:
    form = HandoverForm(request.POST, zone_ids=request.user.zone_ids())
    if form.is_valid():
        try:
            done = services.handover(
                form.cleaned_data["from_steward"],
                to=form.cleaned_data["to_steward"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已完成交接：%(n)s 家企业") % {"n": len(done)})
    else:
        messages.error(request, form_errors_message(form))
    return redirect("enterprises:stewards")


@role_required(Role.STEWARD)
def invite(request: AuthedRequest, pk: int) -> HttpResponse:
    enterprise = _visible_enterprise(request, pk)
    if enterprise.steward_id != request.user.pk:
        raise PermissionDenied
    form = InvitationForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            _invitation, token = services.invite_enterprise_user(
                enterprise, by=request.user, **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            link = services.invitation_link(token)
            form = InvitationForm()
    return render(
        request,
        "enterprises/invite.html",
        {"enterprise": enterprise, "form": form, "link": link, "page_title": _("邀请企业用户")},
    )


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.open_invitation(token)
    except ServiceError as exc:
        return render(request, "enterprises/accept_invite.html", {"error": str(exc)}, status=410)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token,
                uscc=form.cleaned_data["uscc"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("账号已开通，欢迎使用"))
            return redirect("enterprises:portal")
    return render(request, "enterprises/accept_invite.html", {"form": form, "invitation": invitation})


@role_required(Role.ENTERPRISE_USER)
def portal(request: AuthedRequest) -> HttpResponse:
    enterprises = (
        Enterprise.objects.visible_to(request.user)
        .select_related("zone", "steward")
        .prefetch_related(
            "tags", Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id"))
        )
    )
    cards = [
        {
            "enterprise": e,
            "contacts": [{"contact": c, "phone": phone_for(request.user, c.phone)} for c in e.contacts.all()],
            "steward_phone": phone_for(request.user, e.steward.phone) if e.steward is not None else "",
        }
        for e in enterprises
    ]
    return render(request, "enterprises/portal.html", {"cards": cards, "page_title": _("我的企业主页")})
