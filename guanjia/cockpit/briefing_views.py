"""The briefings page (周报/月报): the list of the user's scope, generating one on demand, downloads."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.cockpit import briefing, services
from guanjia.cockpit.briefing_forms import GenerateForm
from guanjia.cockpit.models import Briefing, BriefingFile
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.http import client_ip

PER_PAGE = 30


def _page(request: AuthedRequest, form: GenerateForm) -> HttpResponse:
    rows = (
        services.visible_to(request.user)
        .select_related("zone", "generated_by")
        .prefetch_related("files")
        .order_by("-starts_on", "kind", "zone__code", "pk")
    )
    kind = request.GET.get("kind", "")
    if kind in Briefing.Kind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for item in page:
        item.by_format = {f.format: f for f in item.files.all()}  # type: ignore[attr-defined]
    context = {
        "page_title": _("周报 / 月报"),
        "page": page,
        "form": form,
        "kind": kind,
        "kinds": Briefing.Kind.choices,
        "city_name": briefing.scope_name(None),
    }
    return render(request, "cockpit/briefings.html", context)


@role_required(*services.BRIEFING_ROLES)
def briefing_list(request: AuthedRequest) -> HttpResponse:
    """The briefings of the user's scope, newest period first, with the form that generates one."""
    return _page(request, GenerateForm(user=request.user))


@require_POST
@role_required(*services.BRIEFING_ROLES)
def briefing_generate(request: AuthedRequest) -> HttpResponse:
    """生成周报/月报 on demand: a leader or supervisor of the scope; an existing one is regenerated."""
    form = GenerateForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            result = services.generate_briefing(
                form.cleaned_data["kind"], form.zone(), by=request.user, start=form.cleaned_data["start"]
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            made = result.briefing
            template = (
                _("已生成%(kind)s（%(start)s 起）")
                if result.created
                else _("已重新生成%(kind)s（%(start)s 起）")
            )
            messages.success(
                request, template % {"kind": made.get_kind_display(), "start": made.starts_on.isoformat()}
            )
            return redirect("cockpit:briefings")
    return _page(request, form)


def _download(request: AuthedRequest, pk: int, fmt: str) -> HttpResponseBase:
    found = get_object_or_404(services.visible_to(request.user), pk=pk)
    stored = BriefingFile.objects.filter(briefing=found, format=fmt).select_related("briefing").first()
    if stored is None:
        raise Http404(_("该简报没有此格式的文件"))
    return services.download(stored, by=request.user, ip=client_ip(request))


@role_required(*services.BRIEFING_ROLES)
def briefing_pdf(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """A briefing's PDF, to those who see the briefing (audited); to everyone else it does not exist."""
    return _download(request, pk, BriefingFile.Format.PDF)


@role_required(*services.BRIEFING_ROLES)
def briefing_xlsx(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """A briefing's Excel workbook, to those who see the briefing (audited)."""
    return _download(request, pk, BriefingFile.Format.XLSX)
