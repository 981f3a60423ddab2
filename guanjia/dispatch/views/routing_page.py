"""The routing page (智能分派模型): a zone's active model and its scores, the training runs, how often the
dispatchers took the suggestions, and the keyword rules that stand in while a zone has little history;
for the keepers, the 重新训练 button and the rules' edit form.

Who reads and who keeps is guanjia.dispatch.access: a zone the user does not read is a 404 (a user who
reads no zone at all gets 403); a reader who does not keep gets 403 on the writes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.views_common import version_shown
from guanjia.dispatch import access, routing, rules, tasks
from guanjia.dispatch.forms import KeywordRuleForm, RetrainForm
from guanjia.dispatch.models import KeywordRule, RoutingModel

RUNS_SHOWN = 20
ADOPTION_DAYS = 30


def _zones(user: User) -> list[OrgUnit]:
    zone_ids = access.routing_zone_ids(user)
    if not zone_ids:
        raise PermissionDenied(_("只有本园区的受理员、效能督查和领导可以查看智能分派模型"))
    return list(OrgUnit.objects.filter(pk__in=zone_ids).order_by("name", "pk"))


def _chosen_zone(zones: list[OrgUnit], value: Any) -> OrgUnit:
    """The zone asked for (?zone=, or the form's), among the user's; none asked: the first."""
    if value in (None, ""):
        return zones[0]
    try:
        zone_id = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    for zone in zones:
        if zone.pk == zone_id:
            return zone
    raise Http404


def _routing_url(zone: OrgUnit) -> str:
    return f"{reverse('dispatch:routing')}?{urlencode({'zone': zone.pk})}"


def _runs(zone: OrgUnit) -> list[RoutingModel]:
    # The blob (a pickled pipeline, megabytes) is never read to list the runs: a run that was not
    # promoted keeps an empty one, which is all the list needs to know.
    return list(
        RoutingModel.objects.filter(zone=zone)
        .defer("blob")
        .annotate(promoted=ExpressionWrapper(~Q(blob=b""), output_field=BooleanField()))
        .select_related("trained_by")
        .order_by("-created_at", "-id")[:RUNS_SHOWN]
    )


@require_GET
@login_required
def routing_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    zones = _zones(user)
    zone = _chosen_zone(zones, request.GET.get("zone"))
    active = (
        RoutingModel.objects.filter(zone=zone, is_active=True)
        .defer("blob")
        .select_related("trained_by")
        .first()
    )
    now = timezone.now()
    keeper = access.keeps_routing(user, zone.pk)
    context = {
        "page_title": _("智能分派模型"),
        "zones": zones,
        "zone": zone,
        "active": active,
        "runs": _runs(zone),
        "adoption": routing.adoption([zone.pk], since=now - timedelta(days=ADOPTION_DAYS), until=now),
        "adoption_days": ADOPTION_DAYS,
        "keeper": keeper,
        "retrain_form": RetrainForm(initial={"zone": zone.pk}) if keeper else None,
        "rules": list(KeywordRule.objects.select_related("category", "category__parent")),
    }
    return render(request, "dispatch/routing.html", context)


@require_POST
@login_required
def retrain(request: AuthedRequest) -> HttpResponse:
    """重新训练: enqueue the zone's training run (tasks.retrain_zone); the page shows it when it is done."""
    user = request.user
    zones = _zones(user)
    form = RetrainForm(request.POST)
    if not form.is_valid():
        raise Http404
    zone = _chosen_zone(zones, form.cleaned_data["zone"])
    if not access.keeps_routing(user, zone.pk):
        raise PermissionDenied(_("只有本园区的受理员或系统管理员可以重新训练模型"))
    tasks.retrain_zone(zone.pk, user.pk)
    messages.success(request, _("已开始训练，完成后刷新本页查看"))
    return redirect(_routing_url(zone))


def _back(request: AuthedRequest) -> str:
    """The routing page the edit came from (?zone= kept), for the return link and after saving."""
    zone = request.GET.get("zone", "")
    url = reverse("dispatch:routing")
    return f"{url}?{urlencode({'zone': zone})}" if zone.isdigit() else url


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """A category's keyword rule: its words, saved against the version the form showed."""
    user = request.user
    if not access.keeps_routing(user):
        raise PermissionDenied(_("只有受理员或系统管理员可以修改关键词规则"))
    rule = get_object_or_404(KeywordRule.objects.select_related("category"), pk=pk)
    initial = {"words": rule.words, "version": rule.version}
    form = KeywordRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rules.save_rule(rule, words=data["words"], version=version_shown(data, rule.version), by=user)
        except (Conflict, NotAllowed) as exc:
            form.add_error(None, str(exc))
        except ServiceError as exc:
            # The words' refusals name the field ("关键词：…"); the form shows them next to it.
            form.add_error("words", str(exc).removeprefix(f"{form.fields['words'].label}："))
        else:
            messages.success(request, _("已保存“%(category)s”的关键词规则") % {"category": rule.category})
            return redirect(_back(request))
    context = {"page_title": _("修改关键词规则"), "rule": rule, "form": form, "back": _back(request)}
    return render(request, "dispatch/rule_form.html", context)


urlpatterns: list[URLPattern] = [
    path("dispatch/routing/", routing_page, name="routing"),
    path("dispatch/routing/retrain/", retrain, name="retrain"),
    path("dispatch/routing/rules/<int:pk>/", rule_edit, name="rule-edit"),
]
