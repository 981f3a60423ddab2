"""Pages: industry chains (产业链图谱) — the list, a chain's map with its gaps (补链) and thin links (强链延链),
a node with its enterprises and targets, and the promoters' forms for chains, nodes and placements.

The zone's promoters and leaders read; the promoters write. A chain, node or placement out of the
user's zones is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.forms import form_errors_message
from guanjia.enterprises.models import Enterprise
from guanjia.investment import chains
from guanjia.investment.access import may_keep
from guanjia.investment.forms.chains import ChainForm, EnterpriseSearchForm, LeaderForm, NodeForm, PlaceForm
from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement, Segment
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

SEARCH_RESULTS = 20
NOT_KEEPER = gettext_lazy("只有本园区的招商专员可以修改产业链")


def _chain(request: AuthedRequest, pk: int) -> IndustryChain:
    return get_object_or_404(IndustryChain.objects.visible_to(request.user).select_related("zone"), pk=pk)


def _kept_chain(request: AuthedRequest, pk: int) -> IndustryChain:
    chain = _chain(request, pk)
    require_keeper(request, chain.zone_id, NOT_KEEPER)
    return chain


def _node(request: AuthedRequest, pk: int) -> ChainNode:
    return get_object_or_404(
        ChainNode.objects.visible_to(request.user).select_related("chain", "chain__zone", "parent"), pk=pk
    )


def _kept_node(request: AuthedRequest, pk: int) -> ChainNode:
    node = _node(request, pk)
    require_keeper(request, node.chain.zone_id, NOT_KEEPER)
    return node


def _kept_placement(request: AuthedRequest, pk: int) -> NodePlacement:
    placement = get_object_or_404(
        NodePlacement.objects.visible_to(request.user).select_related("node__chain__zone", "enterprise"),
        pk=pk,
    )
    require_keeper(request, placement.node.chain.zone_id, NOT_KEEPER)
    return placement


# --- the list -----------------------------------------------------------------------------------------


@role_required(*READERS)
def chain_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    chain_rows = (
        IndustryChain.objects.visible_to(user).select_related("zone").order_by("zone__code", "name", "pk")
    )
    page = Paginator(chain_rows, 30).get_page(request.GET.get("page"))
    context = {
        "page_title": _("产业链图谱"),
        "page": page,
        "summaries": chains.chain_summaries(list(page)),
        "can_create": may_keep(user),
        "strong_score": chains.STRONG_SCORE,
    }
    return render(request, "investment/chains/list.html", context)


@role_required(*KEEPERS)
def chain_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ChainForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            chain = chains.create_chain(
                zone=data["zone"], name=data["name"], description=data["description"], by=user
            )
            messages.success(request, _("已新建产业链“%(name)s”，请添加环节") % {"name": chain.name})
            return redirect("investment:chain", pk=chain.pk)
    return render(
        request,
        "investment/chains/chain_form.html",
        {"page_title": _("新建产业链"), "form": form, "chain": None},
    )


@role_required(*KEEPERS)
def chain_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    chain = _kept_chain(request, pk)
    if request.method == "POST":
        form = ChainForm(request.POST, user=request.user, chain=chain)
        if form.is_valid():
            data = form.cleaned_data
            with refusal_as_form_error(form):
                chains.update_chain(
                    chain,
                    by=request.user,
                    version=version_shown(data, chain.version),
                    name=data["name"],
                    description=data["description"],
                )
                messages.success(request, _("已保存产业链“%(name)s”") % {"name": chain.name})
                return redirect("investment:chain", pk=chain.pk)
    else:
        form = ChainForm(
            user=request.user,
            chain=chain,
            initial={"name": chain.name, "description": chain.description, "version": chain.version},
        )
    context = {"page_title": _("修改产业链"), "form": form, "chain": chain}
    return render(request, "investment/chains/chain_form.html", context)


# --- the map ------------------------------------------------------------------------------------------


def _score(strength: chains.NodeStrength) -> str:
    """10.0 → "10", 10.5 → "10.5" (as the table's floatformat shows it)."""
    text = format(strength.score, "f")
    return text[:-2] if text.endswith(".0") else text


def _tree(chain_map: chains.ChainMap) -> dict[str, Any]:
    """The ECharts tree: the chain, its three segments, then the nodes as they hang."""
    children: dict[int | None, list[chains.MapRow]] = {}
    for row in chain_map.rows:
        parent = row.node.parent_id if row.depth else None
        children.setdefault(parent, []).append(row)

    def item(row: chains.MapRow) -> dict[str, Any]:
        s = row.strength
        return {
            "name": s.node.name,
            "strength": s.strength,
            "label": s.label,
            "count": s.count,
            "leaders": s.leaders,
            "score": _score(s),
            "tip": _("%(name)s：%(label)s，企业 %(count)d 家，龙头 %(leaders)d 家，得分 %(score)s")
            % {
                "name": s.node.name,
                "label": s.label,
                "count": s.count,
                "leaders": s.leaders,
                "score": _score(s),
            },
            "url": reverse("investment:chain-node", kwargs={"pk": s.node.pk}),
            "children": [item(child) for child in children.get(s.node.pk, [])],
        }

    segments = []
    for segment, label, _rows in chain_map.segments():
        tops = [row for row in children.get(None, []) if row.node.segment == segment]
        segments.append({"name": label, "segment": segment, "children": [item(row) for row in tops]})
    return {"name": chain_map.chain.name, "children": segments}


@role_required(*READERS)
def chain_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    chain = _chain(request, pk)
    chain_map = chains.chain_map(chain)
    context = {
        "page_title": chain.name,
        "chain": chain,
        "map": chain_map,
        "tree": _tree(chain_map),
        "can_keep": may_keep(request.user, chain.zone_id),
        "strong_score": chains.STRONG_SCORE,
        "thin_supply": chains.THIN_SUPPLY,
    }
    return render(request, "investment/chains/detail.html", context)


# --- nodes --------------------------------------------------------------------------------------------


def _node_values(form: NodeForm) -> dict[str, Any]:
    data = form.cleaned_data
    parent = data["parent"]
    return {
        "name": data["name"],
        "parent": parent,
        # Under a parent the node takes the parent's segment, whatever the select still shows.
        "segment": None if parent is not None else data["segment"],
        "position": data["position"],
        "description": data["description"],
    }


@role_required(*KEEPERS)
def node_new(request: AuthedRequest, pk: int) -> HttpResponse:
    chain = _kept_chain(request, pk)
    if request.method == "POST":
        form = NodeForm(request.POST, chain=chain)
        if form.is_valid():
            with refusal_as_form_error(form):
                node = chains.add_node(chain, by=request.user, **_node_values(form))
                messages.success(request, _("已添加环节“%(name)s”") % {"name": node.name})
                return redirect("investment:chain", pk=chain.pk)
    else:
        initial: dict[str, Any] = {"segment": request.GET.get("segment", "")}
        parent = request.GET.get("parent", "")
        if parent.isdigit():
            initial["parent"] = int(parent)
        form = NodeForm(chain=chain, initial=initial)
    context = {"page_title": _("添加环节"), "form": form, "chain": chain, "node": None}
    return render(request, "investment/chains/node_form.html", context)


@role_required(*KEEPERS)
def node_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    node = _kept_node(request, pk)
    chain = node.chain
    if request.method == "POST":
        form = NodeForm(request.POST, chain=chain, node=node)
        if form.is_valid():
            with refusal_as_form_error(form):
                chains.update_node(
                    node, by=request.user, version=form.cleaned_data["version"], **_node_values(form)
                )
                messages.success(request, _("已保存环节“%(name)s”") % {"name": node.name})
                return redirect("investment:chain-node", pk=node.pk)
    else:
        form = NodeForm(
            chain=chain,
            node=node,
            initial={
                "name": node.name,
                "parent": node.parent_id,
                "segment": node.segment,
                "position": node.position,
                "description": node.description,
                "version": chain.version,
            },
        )
    context = {"page_title": _("修改环节"), "form": form, "chain": chain, "node": node}
    return render(request, "investment/chains/node_form.html", context)


@post_action(*KEEPERS)
def node_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    node = _kept_node(request, pk)
    with refusal_as_message(request):
        chains.remove_node(node, by=request.user, version=posted_version(request))
        messages.success(request, _("已删除环节“%(name)s”") % {"name": node.name})
        return redirect("investment:chain", pk=node.chain_id)
    return redirect("investment:chain-node", pk=node.pk)


@role_required(*READERS)
def node_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    chain = node.chain
    user = request.user
    strengths = chains.node_strengths(chain)
    strength = strengths[node.pk]
    placements = list(
        NodePlacement.objects.filter(node=node)
        .select_related("enterprise")
        .order_by("-is_leader", "enterprise__name")
    )
    can_keep = may_keep(user, chain.zone_id)
    search = EnterpriseSearchForm(request.GET or None)
    found: list[Enterprise] = []
    query = ""
    if can_keep and search.is_valid():
        query = search.cleaned_data["q"].strip()
        if query:
            found = list(
                Enterprise.objects.visible_to(user)
                .filter(zone_id=chain.zone_id)
                .filter(Q(uscc__startswith=query.upper()) | Q(name__icontains=query))
                .exclude(pk__in=[p.enterprise_id for p in placements])
                .order_by("name", "pk")[:SEARCH_RESULTS]
            )
    children = [s for s in strengths.values() if s.node.parent_id == node.pk]
    context = {
        "page_title": node.name,
        "chain": chain,
        "node": node,
        "strength": strength,
        "children": children,
        "placements": placements,
        "targets": list(node.targets.order_by("name", "pk")),
        "can_keep": can_keep,
        "search": search,
        "query": query,
        "found": found,
        "search_results": SEARCH_RESULTS,
        "strong_score": chains.STRONG_SCORE,
        "segment_label": Segment(node.segment).label,
    }
    return render(request, "investment/chains/node.html", context)


# --- placements ---------------------------------------------------------------------------------------


@post_action(*KEEPERS)
def node_place(request: AuthedRequest, pk: int) -> HttpResponse:
    node = _kept_node(request, pk)
    form = PlaceForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, form_errors_message(form))
        return redirect("investment:chain-node", pk=node.pk)
    enterprise = form.cleaned_data["enterprise"]
    with refusal_as_message(request):
        chains.place_enterprise(node, enterprise, by=request.user, is_leader=form.cleaned_data["is_leader"])
        messages.success(request, _("已将“%(enterprise)s”列入本环节") % {"enterprise": enterprise.name})
    return redirect("investment:chain-node", pk=node.pk)


@post_action(*KEEPERS)
def placement_leader(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = _kept_placement(request, pk)
    form = LeaderForm(request.POST)
    form.is_valid()  # an unchecked box is simply False
    is_leader = bool(form.cleaned_data.get("is_leader"))
    with refusal_as_message(request):
        chains.set_leader(placement, is_leader=is_leader, by=request.user)
        text = (
            _("已将“%(enterprise)s”设为龙头企业") if is_leader else _("已取消“%(enterprise)s”的龙头企业标记")
        )
        messages.success(request, text % {"enterprise": placement.enterprise.name})
    return redirect("investment:chain-node", pk=placement.node_id)


@post_action(*KEEPERS)
def node_unplace(request: AuthedRequest, pk: int) -> HttpResponse:
    placement = _kept_placement(request, pk)
    with refusal_as_message(request):
        chains.unplace(placement, by=request.user)
        messages.success(
            request, _("已将“%(enterprise)s”移出本环节") % {"enterprise": placement.enterprise.name}
        )
    return redirect("investment:chain-node", pk=placement.node_id)


urlpatterns: list[URLPattern] = [
    path("investment/chains/", chain_list, name="chains"),
    path("investment/chains/new/", chain_new, name="chain-new"),
    path("investment/chains/<int:pk>/", chain_detail, name="chain"),
    path("investment/chains/<int:pk>/edit/", chain_edit, name="chain-edit"),
    path("investment/chains/<int:pk>/nodes/new/", node_new, name="node-new"),
    path("investment/chains/nodes/<int:pk>/", node_detail, name="chain-node"),
    path("investment/chains/nodes/<int:pk>/edit/", node_edit, name="node-edit"),
    path("investment/chains/nodes/<int:pk>/delete/", node_delete, name="node-delete"),
    path("investment/chains/nodes/<int:pk>/place/", node_place, name="node-place"),
    path("investment/chains/placements/<int:pk>/leader/", placement_leader, name="placement-leader"),
    path("investment/chains/placements/<int:pk>/remove/", node_unplace, name="node-unplace"),
]
