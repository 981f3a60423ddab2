"""Pages for importing enterprises from a spreadsheet and exporting the registry."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import TablerWidgetsMixin
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import REGISTRY_KEEPERS, ZONE_WIDE_ROLES, Role
from guanjia.enterprises import exporting, importing, tasks
from guanjia.enterprises.filters import EnterpriseFilter
from guanjia.enterprises.models import Enterprise, ImportJob
from guanjia.enterprises.services import can_keep_registry

EXPORTERS = ZONE_WIDE_ROLES | {Role.STEWARD}
RUNNING = (ImportJob.Status.VALIDATING, ImportJob.Status.WRITING)


class ImportUploadForm(TablerWidgetsMixin, forms.Form):
    zone = forms.ModelChoiceField(label=gettext_lazy("导入到园区"), queryset=OrgUnit.objects.none())
    file = forms.FileField(
        label=gettext_lazy("企业名录文件"),
        help_text=gettext_lazy("支持 .xlsx 和 .csv（UTF-8 或 GB18030 编码）；表头须与导入模板一致。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        zone_ids = [zone_id for zone_id in user.zone_ids() if can_keep_registry(user, zone_id)]
        zones = OrgUnit.objects.filter(pk__in=zone_ids, kind=OrgUnit.Kind.ZONE).order_by("code")
        field = cast(forms.ModelChoiceField, self.fields["zone"])
        field.queryset = zones
        if len(zone_ids) == 1:
            field.initial = zone_ids[0]
            field.empty_label = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("“%(name)s”文件过大：%(size).1f MB，最大允许 %(max)d MB，请拆分后分批导入")
                % {
                    "name": upload.name,
                    "size": upload.size / 1024 / 1024,
                    "max": settings.IMPORT_MAX_BYTES // 1024 // 1024,
                }
            )
        return upload


def _job_for(request: AuthedRequest, pk: int) -> ImportJob:
    # Someone else's job is "not found", not "forbidden": its existence is not for them to know.
    return get_object_or_404(
        ImportJob.objects.visible_to(request.user).select_related("zone", "created_by"), pk=pk
    )


def _progress_context(job: ImportJob) -> dict:
    processed = min(job.processed_rows, job.total_rows) if job.total_rows else job.processed_rows
    return {
        "job": job,
        "running": job.status in RUNNING,
        "percent": min(job.progress_percent, 100),
        "processed": processed,
    }


@role_required(*REGISTRY_KEEPERS)
def import_upload(request: AuthedRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = importing.start_import(
                upload=form.cleaned_data["file"], zone=form.cleaned_data["zone"], by=request.user
            )
        except ServiceError as exc:
            form.add_error("file", str(exc))
        else:
            tasks.start_validation(job)
            return redirect("enterprises:import-job", pk=job.pk)
    jobs = (
        ImportJob.objects.visible_to(request.user)
        .select_related("zone", "created_by")
        .order_by("-created_at")[:10]
    )
    context = {
        "form": form,
        "jobs": jobs,
        "columns": importing.COLUMNS,
        "max_mb": settings.IMPORT_MAX_BYTES // 1024 // 1024,
        "background_rows": settings.IMPORT_BACKGROUND_ROWS,
        "page_title": _("批量导入企业"),
    }
    return render(request, "enterprises/import_upload.html", context)


@require_GET
@role_required(*REGISTRY_KEEPERS)
def import_template(request: AuthedRequest) -> HttpResponse:
    response = HttpResponse(
        importing.build_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(True, _("企业导入模板.xlsx"))
    return response


@role_required(*REGISTRY_KEEPERS)
def import_job(request: AuthedRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    context = _progress_context(job)
    context.update(
        {
            "errors": job.errors if job.status in (ImportJob.Status.INVALID, ImportJob.Status.FAILED) else [],
            "can_confirm": job.status == ImportJob.Status.VALID and job.created_by_id == request.user.pk,
            "page_title": _("导入：%(name)s") % {"name": job.original_name},
        }
    )
    return render(request, "enterprises/import_job.html", context)


@role_required(*REGISTRY_KEEPERS)
def import_progress(request: AuthedRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    response = render(request, "enterprises/import_progress.html", _progress_context(job))
    if job.status not in RUNNING and request.headers.get("HX-Request"):
        # Finished: reload the page, which then shows the report or the result instead of polling.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(*REGISTRY_KEEPERS)
def import_confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    try:
        job = importing.confirm_import(job, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("enterprises:import-job", pk=job.pk)
    job = tasks.start_writing(job)
    if job.status == ImportJob.Status.DONE:
        messages.success(request, _("已导入 %(n)d 家企业") % {"n": job.written_rows})
    elif job.status in (ImportJob.Status.INVALID, ImportJob.Status.FAILED):
        messages.error(request, _("确认时发现问题，未写入任何数据，详见下方错误清单"))
    return redirect("enterprises:import-job", pk=job.pk)


@require_GET
@role_required(*EXPORTERS)
def enterprise_export(request: AuthedRequest) -> HttpResponseBase:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in exporting.FORMATS:
        return HttpResponseBadRequest(_("导出格式只能是 xlsx 或 csv"))
    filterset = EnterpriseFilter(
        request.GET, queryset=Enterprise.objects.visible_to(request.user), request=request
    )
    if not filterset.is_valid():
        return HttpResponseBadRequest(_("筛选条件无效，请返回企业库重新选择"))
    queryset = filterset.qs
    filters = {key: value for key, value in request.GET.items() if key != "format" and value}
    count = exporting.record_export(request.user, queryset, fmt=fmt, filters=filters)
    filename = exporting.filename(fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            exporting.iter_csv(queryset, request.user), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    response = FileResponse(
        exporting.write_xlsx(queryset, request.user),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Export-Rows"] = str(count)
    return response
