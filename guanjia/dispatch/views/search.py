"""全文搜索: appeals, answers and the knowledge base in one page, each kind within the user's scope
(guanjia.dispatch.searching), for every business account; the 三员 get 403 (access.may_search).

Tabs 全部 / 诉求 / 答复 / 知识库 with how many each kind found (shown as "20+" beyond the page's
size); the enterprise of a confidential appeal is never named to its handling department.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals.presentation import HIDDEN_ENTERPRISE
from guanjia.core.decorators import AuthedRequest
from guanjia.core.views_common import allowed_if
from guanjia.dispatch import access, searching

RESULTS = 20
QUERY_MAX = 100
TABS = (
    ("", gettext_lazy("全部")),
    (searching.APPEAL, gettext_lazy("诉求")),
    (searching.ANSWER, gettext_lazy("答复")),
    (searching.KNOWLEDGE, gettext_lazy("知识库")),
)
KIND_LABELS = {
    searching.APPEAL: gettext_lazy("诉求"),
    searching.ANSWER: gettext_lazy("答复"),
    searching.KNOWLEDGE: gettext_lazy("知识库"),
}


def _shown(count: int) -> str:
    return f"{RESULTS}+" if count > RESULTS else str(count)


@allowed_if(access.may_search, gettext_lazy("管理员账号不能搜索业务数据"))
def search_page(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:QUERY_MAX]
    kind = request.GET.get("kind", "")
    if kind not in KIND_LABELS:
        kind = ""
    counts: dict[str, int] = {}
    results: list[searching.Found] = []
    if q:
        # One more than the page shows: a tab says "20+" when there are more.
        each = searching.find_each(request.user, q, limit=RESULTS + 1)
        counts = {name: len(found) for name, found in each.items()}
        results = each[kind][:RESULTS] if kind else searching.merge(each, RESULTS)
    total = sum(counts.values())
    tabs = [
        {
            "kind": name,
            "label": label,
            "active": name == kind,
            "count": _shown(counts.get(name, 0) if name else total) if q else "",
            "url": "?" + urlencode({"q": q, **({"kind": name} if name else {})}),
        }
        for name, label in TABS
    ]
    rows = [
        {
            "found": found,
            "kind_label": KIND_LABELS[found.kind],
            "enterprise": found.enterprise_name
            or (HIDDEN_ENTERPRISE if found.kind != searching.KNOWLEDGE else ""),
        }
        for found in results
    ]
    context = {"page_title": _("全文搜索"), "q": q, "kind": kind, "tabs": tabs, "rows": rows}
    return render(request, "dispatch/search.html", context)


urlpatterns: list[URLPattern] = [path("search/", search_page, name="search")]
