"""Pages of funds and financing matchmaking (产业基金 / 投融资对接).

Promoters and leaders of a zone: the funds, the enterprises' financing needs with the funds that fit
them, roadshows and what they brought; promoters write. A steward reads the needs of the enterprises
it serves (without the funds' scores). An enterprise user follows its own enterprise's needs from the
portal (/portal/financing/): posts, edits, withdraws, and sees their status, the roadshows it was
invited to and the outcomes — never a fund's score for another enterprise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.forms import form_errors_message
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.investment import financing
from guanjia.investment.access import may_keep, today
from guanjia.investment.forms.financing import (
    FundForm,
    InviteForm,
    NeedFilterForm,
    NeedForm,
    OutcomeForm,
    RoadshowForm,
    TotalsForm,
)
from guanjia.investment.models import (
    FinancingNeed,
    FinancingNeedStatus,
    Fund,
    Roadshow,
)
from guanjia.investment.views.common import (
    KEEPERS,
    READERS,
    post_action,
    posted_version,
    refusal_as_form_error,
    refusal_as_message,
    require_keeper,
    version_shown,
)

# A steward reads the needs of the enterprises it serves (FinancingNeed.objects.visible_to).
NEED_READERS = (*READERS, Role.STEWARD)
MATCHES_SHOWN = 20  # needs listed on a fund's page
NEED_FORM = "investment/financing/need_form.html"


# --- funds -----------------------------------------------------------------------------------------


def _fund(request: AuthedRequest, pk: int) -> Fund:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(Fund.objects.visible_to(request.user).select_related("zone"), pk=pk)


def _kept_fund(request: AuthedRequest, pk: int) -> Fund:
    fund = _fund(request, pk)
    require_keeper(request, fund.zone_id, _("只有本园区的招商专员可以修改基金"))
    return fund


def _fund_row(user: Any, fund: Fund) -> dict[str, Any]:
    return {
        "fund": fund,
        "phone": financing.fund_phone_for(user, fund),
        "stages": [financing.stage_label(s) for s in fund.stages],
        "kinds": [financing.kind_label(k) for k in fund.kinds],
    }


@role_required(*READERS)
def fund_list(request: AuthedRequest) -> HttpResponse:
    funds = (
        Fund.objects.visible_to(request.user)
        .select_related("zone")
        .annotate(
            invested=Coalesce(
                Sum("outcomes__amount"), Value(0), output_field=DecimalField(max_digits=14, decimal_places=2)
            ),
            deals=Count("outcomes"),
        )
        .order_by("name", "pk")
    )
    page = Paginator(funds, 30).get_page(request.GET.get("page"))
    context = {
        "page_title": _("产业基金"),
        "page": page,
        "rows": [_fund_row(request.user, f) for f in page],
        "can_create": may_keep(request.user),
    }
    return render(request, "investment/financing/funds.html", context)


@role_required(*READERS)
def fund_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    fund = _fund(request, pk)
    outcomes = fund.outcomes.select_related("need__enterprise", "roadshow").order_by("-invested_on", "-pk")
    context = {
        "page_title": fund.name,
        "fund": fund,
        "row": _fund_row(request.user, fund),
        "chains": fund.focus_chains.order_by("name"),
        "nodes": fund.focus_nodes.select_related("chain").order_by("chain__name", "position"),
        "matches": financing.matches_for_fund(fund, limit=MATCHES_SHOWN),
        "outcomes": outcomes,
        "invested": sum((o.amount for o in outcomes), start=financing.ZERO),
        "roadshows": fund.roadshows.order_by("-held_on", "-pk"),
        "can_edit": may_keep(request.user, fund.zone_id),
    }
    return render(request, "investment/financing/fund.html", context)


def _fund_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in financing.FUND_FIELDS}


@role_required(*KEEPERS)
def fund_new(request: AuthedRequest) -> HttpResponse:
    form = FundForm(request.POST or None, user=request.user, initial={"kinds": ["equity"]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            fund = financing.create_fund(zone=data["zone"], by=request.user, **_fund_values(data))
            messages.success(request, _("已添加基金“%(name)s”") % {"name": fund.name})
            return redirect("investment:fund", pk=fund.pk)
    return render(
        request, "investment/financing/fund_form.html", {"page_title": _("添加产业基金"), "form": form}
    )


@role_required(*KEEPERS)
def fund_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    fund = _kept_fund(request, pk)
    if request.method == "POST":
        form = FundForm(request.POST, user=request.user, fund=fund)
        if form.is_valid():
            data = form.cleaned_data
            with refusal_as_form_error(form):
                financing.update_fund(
                    fund, by=request.user, version=version_shown(data, fund.version), **_fund_values(data)
                )
                messages.success(request, _("已保存"))
                return redirect("investment:fund", pk=fund.pk)
    else:
        form = FundForm(
            user=request.user,
            fund=fund,
            initial={
                **{
                    name: getattr(fund, name)
                    for name in financing.FUND_FIELDS
                    if not name.startswith("focus_")
                },
                "focus_chains": list(fund.focus_chains.values_list("pk", flat=True)),
                "focus_nodes": list(fund.focus_nodes.values_list("pk", flat=True)),
                "version": fund.version,
            },
        )
    context = {"page_title": _("修改产业基金"), "form": form, "fund": fund}
    return render(request, "investment/financing/fund_form.html", context)


# --- financing needs (staff) -----------------------------------------------------------------------


def _need(request: AuthedRequest, pk: int) -> FinancingNeed:
    return get_object_or_404(
        FinancingNeed.objects.visible_to(request.user).select_related("enterprise", "enterprise__zone"), pk=pk
    )


def _kept_need(request: AuthedRequest, pk: int) -> FinancingNeed:
    need = _need(request, pk)
    require_keeper(request, need.enterprise.zone_id, _("只有本园区的招商专员可以办理该融资需求"))
    return need


@role_required(*NEED_READERS)
def need_list(request: AuthedRequest) -> HttpResponse:
    filters = NeedFilterForm(request.GET or None)
    needs = FinancingNeed.objects.visible_to(request.user)
    enterprise = None
    if filters.is_valid():
        data = filters.cleaned_data
        if data["kind"]:
            needs = needs.filter(kind=data["kind"])
        if data["status"]:
            needs = needs.filter(status=data["status"])
        if data["enterprise"]:
            needs = needs.filter(enterprise_id=data["enterprise"])
            enterprise = Enterprise.objects.visible_to(request.user).filter(pk=data["enterprise"]).first()
    needs = needs.select_related("enterprise", "enterprise__zone").annotate(raised=financing.raised())
    page = Paginator(needs.order_by("-created_at", "-pk"), 30).get_page(request.GET.get("page"))
    context = {
        "page_title": _("融资需求"),
        "page": page,
        "filters": filters,
        "enterprise": enterprise,
        "can_create": may_keep(request.user),
    }
    return render(request, "investment/financing/needs.html", context)


def _need_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in financing.NEED_FIELDS}


def _new_need(
    request: AuthedRequest,
    enterprises: QuerySet[Enterprise],
    *,
    posted: str,
    done: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The form of a new need for one of `enterprises` (preselected by ?enterprise=); once posted, the
    message `posted` and the need's page `done`."""
    initial: dict[str, Any] = {"kind": "equity"}
    if request.GET.get("enterprise", "").isdigit():
        initial["enterprise"] = int(request.GET["enterprise"])
    form = NeedForm(request.POST or None, enterprises=enterprises, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            need = financing.post_need(data["enterprise"], by=request.user, **_need_values(data))
            messages.success(request, posted)
            return redirect(done, pk=need.pk)
    return render(request, NEED_FORM, {**context, "form": form})


@role_required(*KEEPERS)
def need_new(request: AuthedRequest) -> HttpResponse:
    enterprises = Enterprise.objects.filter(zone_id__in=request.user.zone_ids()).order_by("name", "pk")
    return _new_need(
        request,
        enterprises,
        posted=_("已登记融资需求"),
        done="investment:need",
        context={"page_title": _("登记融资需求"), "back": "investment:needs"},
    )


def _need_context(need: FinancingNeed) -> dict[str, Any]:
    outcomes = list(need.outcomes.select_related("fund", "roadshow").order_by("-invested_on", "-pk"))
    return {
        "need": need,
        "outcomes": outcomes,
        "raised": sum((o.amount for o in outcomes), start=financing.ZERO),
        "roadshows": need.roadshows.order_by("-held_on", "-pk"),
        "is_open": need.status == FinancingNeedStatus.OPEN,
    }


@role_required(*NEED_READERS)
def need_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    keeper = may_keep(request.user, need.enterprise.zone_id)
    context = {
        **_need_context(need),
        "page_title": _("融资需求：%(name)s") % {"name": need.enterprise.name},
        # Funds and their scores are the promoters' and leaders' (a steward sees the need, not the funds).
        "matches": financing.matches_for_need(need) if financing.reads_matches(request.user) else None,
        "link_roadshows": financing.reads_matches(request.user),
        "can_keep": keeper,
        "outcome_form": OutcomeForm(need=need, initial={"invested_on": today()}) if keeper else None,
    }
    return render(request, "investment/financing/need.html", context)


def _edit_need(request: AuthedRequest, need: FinancingNeed, *, done: str, back: str) -> HttpResponse:
    if need.status != FinancingNeedStatus.OPEN:
        messages.error(request, _("该融资需求%(status)s，不能修改") % {"status": need.get_status_display()})
        return redirect(done, pk=need.pk)
    if request.method == "POST":
        form = NeedForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            with refusal_as_form_error(form):
                financing.update_need(
                    need, by=request.user, version=version_shown(data, need.version), **_need_values(data)
                )
                messages.success(request, _("已保存"))
                return redirect(done, pk=need.pk)
    else:
        form = NeedForm(
            initial={**{n: getattr(need, n) for n in financing.NEED_FIELDS}, "version": need.version}
        )
    context = {"page_title": _("修改融资需求"), "form": form, "need": need, "back": back}
    return render(request, NEED_FORM, context)


@role_required(*KEEPERS)
def need_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    return _edit_need(request, _kept_need(request, pk), done="investment:need", back="investment:needs")


def _withdraw(request: AuthedRequest, need: FinancingNeed, *, done: str) -> HttpResponse:
    with refusal_as_message(request):
        financing.withdraw_need(need, by=request.user, version=posted_version(request, need.version))
        messages.success(request, _("已撤回该融资需求"))
    return redirect(done, pk=need.pk)


@post_action(*KEEPERS)
def need_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    return _withdraw(request, _kept_need(request, pk), done="investment:need")


@post_action(*KEEPERS)
def need_fulfil(request: AuthedRequest, pk: int) -> HttpResponse:
    need = _kept_need(request, pk)
    with refusal_as_message(request):
        financing.mark_fulfilled(need, by=request.user, version=posted_version(request, need.version))
        messages.success(request, _("已标记为已融资"))
    return redirect("investment:need", pk=need.pk)


def _record_outcome(
    request: AuthedRequest, form: OutcomeForm, need: FinancingNeed, roadshow: Roadshow | None
) -> None:
    if not form.is_valid():
        messages.error(request, form_errors_message(form))
        return
    data = form.cleaned_data
    with refusal_as_message(request):
        financing.record_outcome(
            need,
            by=request.user,
            amount=data["amount"],
            invested_on=data["invested_on"],
            fund=data["fund"],
            investor=data["investor"],
            roadshow=roadshow,
        )
        need.refresh_from_db(fields=["status"])
        if need.status == FinancingNeedStatus.FULFILLED:
            messages.success(request, _("已登记对接成果；该融资需求已标记为已融资"))
        else:
            messages.success(request, _("已登记对接成果"))


@post_action(*KEEPERS)
def need_outcome(request: AuthedRequest, pk: int) -> HttpResponse:
    need = _kept_need(request, pk)
    form = OutcomeForm(request.POST, need=need)
    roadshow = form.cleaned_data.get("roadshow") if form.is_valid() else None
    _record_outcome(request, form, need, roadshow)
    return redirect("investment:need", pk=need.pk)


# --- roadshows -------------------------------------------------------------------------------------


def _roadshow(request: AuthedRequest, pk: int) -> Roadshow:
    return get_object_or_404(Roadshow.objects.visible_to(request.user).select_related("zone"), pk=pk)


def _kept_roadshow(request: AuthedRequest, pk: int) -> Roadshow:
    roadshow = _roadshow(request, pk)
    require_keeper(request, roadshow.zone_id, _("只有本园区的招商专员可以办理路演"))
    return roadshow


def _period(form: TotalsForm) -> tuple[date, date]:
    """The totals' period: the form's dates, or this calendar year (Beijing time)."""
    this_year = today().year
    start, end = date(this_year, 1, 1), date(this_year, 12, 31)
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    return start, end


@role_required(*READERS)
def roadshow_list(request: AuthedRequest) -> HttpResponse:
    roadshows = (
        Roadshow.objects.visible_to(request.user)
        .select_related("zone")
        .annotate(fund_count=Count("funds", distinct=True), need_count=Count("needs", distinct=True))
        .order_by("-held_on", "-pk")
    )
    page = Paginator(roadshows, 20).get_page(request.GET.get("page"))
    totals_form = TotalsForm(request.GET or None)
    start, end = _period(totals_form)
    outcomes = financing.outcomes_visible_to(request.user).filter(
        invested_on__gte=start, invested_on__lte=end
    )
    per_fund = financing.invested_per_fund(outcomes)
    context = {
        "page_title": _("路演与对接成果"),
        "page": page,
        "totals_form": totals_form,
        "start": start,
        "end": end,
        "per_fund": per_fund,
        "per_month": financing.invested_per_month(outcomes),
        "grand_total": sum((t.amount for t in per_fund), start=financing.ZERO),
        "grand_count": sum(t.count for t in per_fund),
        "can_create": may_keep(request.user),
    }
    return render(request, "investment/financing/roadshows.html", context)


@role_required(*KEEPERS)
def roadshow_new(request: AuthedRequest) -> HttpResponse:
    form = RoadshowForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            roadshow = financing.create_roadshow(
                zone=data["zone"],
                by=request.user,
                title=data["title"],
                held_on=data["held_on"],
                location=data["location"],
            )
            messages.success(request, _("已新建路演，请邀请基金和企业"))
            return redirect("investment:roadshow", pk=roadshow.pk)
    context = {"page_title": _("新建路演"), "form": form}
    return render(request, "investment/financing/roadshow_form.html", context)


@role_required(*READERS)
def roadshow_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    roadshow = _roadshow(request, pk)
    keeper = may_keep(request.user, roadshow.zone_id)
    needs: QuerySet[FinancingNeed] = roadshow.needs.select_related("enterprise").order_by(
        "enterprise__name", "pk"
    )
    context = {
        "page_title": roadshow.title,
        "roadshow": roadshow,
        "funds": roadshow.funds.order_by("name", "pk"),
        "needs": needs,
        "outcomes": roadshow.outcomes.select_related("need__enterprise", "fund").order_by(
            "-invested_on", "-pk"
        ),
        "can_keep": keeper,
        "invite_form": InviteForm(roadshow=roadshow) if keeper else None,
        "outcome_form": OutcomeForm(roadshow=roadshow, initial={"invested_on": today()}) if keeper else None,
    }
    return render(request, "investment/financing/roadshow.html", context)


@post_action(*KEEPERS)
def roadshow_invite(request: AuthedRequest, pk: int) -> HttpResponse:
    roadshow = _kept_roadshow(request, pk)
    form = InviteForm(request.POST, roadshow=roadshow)
    if not form.is_valid():
        messages.error(request, form_errors_message(form))
        return redirect("investment:roadshow", pk=roadshow.pk)
    with refusal_as_message(request):
        result = financing.invite_to_roadshow(
            roadshow, by=request.user, funds=form.cleaned_data["funds"], needs=form.cleaned_data["needs"]
        )
        messages.success(
            request,
            _("已邀请基金 %(funds)d 家、企业融资需求 %(needs)d 项")
            % {"funds": result.funds, "needs": result.needs},
        )
    return redirect("investment:roadshow", pk=roadshow.pk)


@post_action(*KEEPERS)
def roadshow_outcome(request: AuthedRequest, pk: int) -> HttpResponse:
    roadshow = _kept_roadshow(request, pk)
    form = OutcomeForm(request.POST, roadshow=roadshow)
    need = form.cleaned_data.get("need") if form.is_valid() else None
    if need is None:
        messages.error(request, form_errors_message(form))
    else:
        _record_outcome(request, form, need, roadshow)
    return redirect("investment:roadshow", pk=roadshow.pk)


# --- the enterprise's portal -----------------------------------------------------------------------


def _my_needs(request: AuthedRequest) -> QuerySet[FinancingNeed]:
    """The needs of the user's own enterprises (another enterprise's need is a 404)."""
    return FinancingNeed.objects.visible_to(request.user).filter(
        enterprise__in=financing.member_enterprises(request.user)
    )


def _my_need(request: AuthedRequest, pk: int) -> FinancingNeed:
    return get_object_or_404(_my_needs(request).select_related("enterprise"), pk=pk)


@role_required(Role.ENTERPRISE_USER)
def my_needs(request: AuthedRequest) -> HttpResponse:
    needs = (
        _my_needs(request)
        .select_related("enterprise")
        .annotate(raised=financing.raised(), roadshow_count=Count("roadshows"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(needs, 20).get_page(request.GET.get("page"))
    context = {
        "page_title": _("融资需求"),
        "page": page,
        "can_post": financing.member_enterprises(request.user).exists(),
    }
    return render(request, "investment/financing/portal_needs.html", context)


@role_required(Role.ENTERPRISE_USER)
def my_need_new(request: AuthedRequest) -> HttpResponse:
    # Several enterprises: the form asks which (preselected by ?enterprise=); one: no question asked.
    enterprises = financing.member_enterprises(request.user)
    if not enterprises.exists():
        messages.error(request, _("您的账号尚未绑定企业，请联系您的服务管家。"))
        return redirect("investment:my-needs")
    return _new_need(
        request,
        enterprises,
        posted=_("已发布融资需求，园区招商专员将为您对接合适的基金"),
        done="investment:my-need",
        context={
            "page_title": _("发布融资需求"),
            "back": "investment:my-needs",
            "only_enterprise": enterprises[0] if len(enterprises) == 1 else None,
        },
    )


@role_required(Role.ENTERPRISE_USER)
def my_need(request: AuthedRequest, pk: int) -> HttpResponse:
    need = _my_need(request, pk)
    context = {**_need_context(need), "page_title": _("我的融资需求")}
    return render(request, "investment/financing/portal_need.html", context)


@role_required(Role.ENTERPRISE_USER)
def my_need_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    return _edit_need(request, _my_need(request, pk), done="investment:my-need", back="investment:my-needs")


@post_action(Role.ENTERPRISE_USER)
def my_need_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    return _withdraw(request, _my_need(request, pk), done="investment:my-need")


urlpatterns = [
    path("investment/funds/", fund_list, name="funds"),
    path("investment/funds/new/", fund_new, name="fund-new"),
    path("investment/funds/<int:pk>/", fund_detail, name="fund"),
    path("investment/funds/<int:pk>/edit/", fund_edit, name="fund-edit"),
    path("investment/financing/", need_list, name="needs"),
    path("investment/financing/new/", need_new, name="need-new"),
    path("investment/financing/<int:pk>/", need_detail, name="need"),
    path("investment/financing/<int:pk>/edit/", need_edit, name="need-edit"),
    path("investment/financing/<int:pk>/withdraw/", need_withdraw, name="need-withdraw"),
    path("investment/financing/<int:pk>/fulfil/", need_fulfil, name="need-fulfil"),
    path("investment/financing/<int:pk>/outcome/", need_outcome, name="need-outcome"),
    path("investment/roadshows/", roadshow_list, name="roadshows"),
    path("investment/roadshows/new/", roadshow_new, name="roadshow-new"),
    path("investment/roadshows/<int:pk>/", roadshow_detail, name="roadshow"),
    path("investment/roadshows/<int:pk>/invite/", roadshow_invite, name="roadshow-invite"),
    path("investment/roadshows/<int:pk>/outcome/", roadshow_outcome, name="roadshow-outcome"),
    path("portal/financing/", my_needs, name="my-needs"),
    path("portal/financing/new/", my_need_new, name="my-need-new"),
    path("portal/financing/<int:pk>/", my_need, name="my-need"),
    path("portal/financing/<int:pk>/edit/", my_need_edit, name="my-need-edit"),
    path("portal/financing/<int:pk>/withdraw/", my_need_withdraw, name="my-need-withdraw"),
]
