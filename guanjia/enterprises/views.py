from django.http import Http404


def enterprise_list(request, *args, **kwargs):
    raise Http404


def my_enterprises(request, *args, **kwargs):
    raise Http404


def enterprise_create(request, *args, **kwargs):
    raise Http404


def enterprise_detail(request, *args, **kwargs):
    raise Http404


def enterprise_edit(request, *args, **kwargs):
    raise Http404


def contact_add(request, *args, **kwargs):
    raise Http404


def steward_assign(request, *args, **kwargs):
    raise Http404


def invite(request, *args, **kwargs):
    raise Http404


def enterprise_export(request, *args, **kwargs):
    raise Http404


def import_upload(request, *args, **kwargs):
    raise Http404


def import_template(request, *args, **kwargs):
    raise Http404


def import_job(request, *args, **kwargs):
    raise Http404


def import_progress(request, *args, **kwargs):
    raise Http404


def import_confirm(request, *args, **kwargs):
    raise Http404


def stewards(request, *args, **kwargs):
    raise Http404


def steward_handover(request, *args, **kwargs):
    raise Http404


def portal(request, *args, **kwargs):
    raise Http404


def accept_invite(request, *args, **kwargs):
    raise Http404
