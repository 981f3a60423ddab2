"""The target library (招商目标企业库): adding, editing and deleting targets, the list and its filters, a
target's page with its leads, and who may do what (a promoter of the zone writes, its leader reads,
another zone's promoter finds nothing, every other role is refused)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import Scale
from guanjia.enterprises.uscc import with_check_digit
from guanjia.investment import targets
from guanjia.investment.models import LeadStatus, Target
from guanjia.investment.tests.helpers import make_chain, make_lead, make_project, make_target, node
from guanjia.testing import run_concurrently

pytestmark = pytest.mark.django_db


def code(n: int) -> str:
    """A valid USCC (GB 32100 check digit), distinct for each n."""
    return with_check_digit(f"91320500MA1TGT{n:03d}")


def wrong_check_digit(valid: str) -> str:
    return valid[:17] + ("1" if valid[17] != "1" else "2")


def _create(cast, name: str = "宁德示例锂电股份有限公司", **fields):
    return targets.create_target(zone=cast.zone_a, by=cast.promoter_a, name=name, **fields)


# --- create --------------------------------------------------------------------------------------------


def test_a_promoter_adds_a_target_with_the_nodes_it_covers(cast, chain):
    cell, cathode = node(chain, "电芯"), node(chain, "正极材料")
    target = _create(
        cast,
        uscc=code(1).lower(),
        headquarters="福建省宁德市",
        scale=Scale.LARGE,
        listed=True,
        stock_code="300750.sz",
        nodes=[cell, cathode],
        notes="全球动力电池龙头",
    )
    target.refresh_from_db()
    assert target.zone == cast.zone_a
    assert target.uscc == code(1)  # normalised to upper case
    assert target.stock_code == "300750.SZ"
    assert set(target.nodes.all()) == {cell, cathode}
    assert target.created_by == cast.promoter_a
    record = AuditRecord.objects.get(action="investment.target_create")
    assert record.actor == cast.promoter_a and record.object_id == str(target.pk)


def test_names_and_codes_are_unique_in_a_zones_library_only(cast, promoter_b):
    _create(cast, uscc=code(1))
    with pytest.raises(ServiceError, match="企业名称：本园区目标企业库中已有“宁德示例锂电股份有限公司”"):
        _create(cast)
    with pytest.raises(
        ServiceError, match="统一社会信用代码：本园区目标企业库中的“宁德示例锂电股份有限公司”已使用"
    ):
        _create(cast, name="另一家", uscc=code(1))
    # Zone B keeps its own library: the same company may be a target there too.
    other = targets.create_target(
        zone=cast.zone_b, by=promoter_b, name="宁德示例锂电股份有限公司", uscc=code(1)
    )
    assert other.zone == cast.zone_b
    # Several targets without a known code (foreign companies) are fine.
    _create(cast, name="Example Battery GmbH")
    _create(cast, name="Example Cells Inc.")
    assert Target.objects.filter(zone=cast.zone_a, uscc="").count() == 2


def test_field_rules_name_the_field(cast, chain, promoter_b):
    with pytest.raises(ServiceError, match="统一社会信用代码：校验位错误：第 18 位应为"):
        _create(cast, uscc=wrong_check_digit(code(1)))
    with pytest.raises(ServiceError, match="企业名称：不能为空"):
        _create(cast, name="   ")
    with pytest.raises(ServiceError, match="股票代码：未上市的企业不填写股票代码"):
        _create(cast, stock_code="300750.SZ")
    with pytest.raises(ServiceError, match="股票代码：“30 0750”格式不正确"):
        _create(cast, listed=True, stock_code="30 0750")
    with pytest.raises(ServiceError, match="企业规模：应为"):
        _create(cast, scale="huge")
    zone_b_chain = make_chain(cast.zone_b, promoter_b, name="储能")
    with pytest.raises(ServiceError, match="覆盖环节：“电芯”不是本园区产业链的环节"):
        _create(cast, nodes=[node(zone_b_chain, "电芯")])
    assert not Target.objects.exists()


def test_only_a_promoter_of_the_zone_adds_targets(cast, promoter_b):
    for outsider in (cast.leader_a, cast.steward_a, promoter_b):
        with pytest.raises(NotAllowed):
            targets.create_target(zone=cast.zone_a, by=outsider, name="某企业")
    assert not Target.objects.exists()


# --- update --------------------------------------------------------------------------------------------


def test_an_edit_made_on_a_stale_version_is_refused(cast, chain):
    target = _create(cast, nodes=[node(chain, "电芯")])
    first = Target.objects.get(pk=target.pk)
    second = Target.objects.get(pk=target.pk)
    targets.update_target(first, by=cast.promoter_a, version=1, headquarters="福建省宁德市")
    with pytest.raises(Conflict, match="刚被他人修改"):
        targets.update_target(second, by=cast.promoter_a, version=1, headquarters="上海市")
    target.refresh_from_db()
    assert (target.headquarters, target.version) == ("福建省宁德市", 2)


def test_an_edit_changes_only_what_it_names_and_replaces_the_nodes(cast, chain):
    target = _create(cast, headquarters="福建省宁德市", nodes=[node(chain, "电芯")])
    targets.update_target(
        target,
        by=cast.promoter_a,
        version=1,
        listed=True,
        stock_code="300750.SZ",
        nodes=[node(chain, "储能系统")],
    )
    target.refresh_from_db()
    assert target.headquarters == "福建省宁德市"
    assert (target.listed, target.stock_code, target.version) == (True, "300750.SZ", 2)
    assert [n.name for n in target.nodes.all()] == ["储能系统"]
    record = AuditRecord.objects.get(action="investment.target_update")
    assert record.detail["changes"]["stock_code"] == ["", "300750.SZ"]
    with pytest.raises(ServiceError, match="股票代码：未上市的企业不填写股票代码"):
        targets.update_target(target, by=cast.promoter_a, version=2, listed=False)
    _create(cast, name="另一家")
    with pytest.raises(ServiceError, match="企业名称：本园区目标企业库中已有“另一家”"):
        targets.update_target(target, by=cast.promoter_a, version=2, name="另一家")


def test_a_leader_may_not_edit(cast):
    target = _create(cast)
    with pytest.raises(NotAllowed):
        targets.update_target(target, by=cast.leader_a, version=1, notes="领导批注")
    assert Target.objects.get(pk=target.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_two_promoters_editing_at_once_one_wins_the_other_is_told(cast):
    target = _create(cast)
    results = run_concurrently(
        lambda: targets.update_target(
            Target.objects.get(pk=target.pk), by=cast.promoter_a, version=1, headquarters="上海市"
        ),
        lambda: targets.update_target(
            Target.objects.get(pk=target.pk), by=cast.promoter_a, version=1, headquarters="深圳市"
        ),
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Target)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    target.refresh_from_db()
    assert target.version == 2
    assert target.headquarters == winners[0].headquarters


# --- delete --------------------------------------------------------------------------------------------


def test_a_target_that_leads_name_is_not_deleted_and_the_message_counts_them(cast):
    target = _create(cast)
    make_lead(target, cast.promoter_a)
    make_lead(target, cast.promoter_a, status=LeadStatus.ABANDONED, abandon_reason="无意向")
    with pytest.raises(ServiceError, match="有 2 条招商线索、0 个招商项目引用，不能删除"):
        targets.delete_target(target, by=cast.promoter_a)
    assert Target.objects.filter(pk=target.pk).exists()


def test_a_target_a_project_names_is_not_deleted(cast):
    target = _create(cast)
    make_project(cast.zone_a, cast.promoter_a, target=target)
    with pytest.raises(ServiceError, match="有 0 条招商线索、1 个招商项目引用"):
        targets.delete_target(target, by=cast.promoter_a)


def test_deleting_a_free_target(cast, chain):
    target = _create(cast, nodes=[node(chain, "电芯")])
    with pytest.raises(NotAllowed):
        targets.delete_target(target, by=cast.leader_a)
    with pytest.raises(Conflict):
        targets.delete_target(target, by=cast.promoter_a, version=7)
    targets.delete_target(target, by=cast.promoter_a, version=1)
    assert not Target.objects.filter(pk=target.pk).exists()
    record = AuditRecord.objects.get(action="investment.target_delete")
    assert record.object_id == str(target.pk) and record.detail["name"] == target.name


# --- pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def library(cast, chain, promoter_b):
    """Zone A: a listed 大型 cell maker, an unlisted 中型 cathode maker; zone B: one of its own."""
    cells = make_target(
        cast.zone_a,
        "宁德示例锂电股份有限公司",
        node(chain, "电芯"),
        uscc=code(1),
        scale=Scale.LARGE,
        listed=True,
        stock_code="300750.SZ",
    )
    cathode = make_target(cast.zone_a, "湖南示例正极材料有限公司", node(chain, "正极材料"), uscc=code(2))
    storage = make_chain(cast.zone_a, cast.promoter_a, name="储能")
    make_target(cast.zone_a, "示例储能集成有限公司", node(storage, "储能系统"))
    other = make_target(cast.zone_b, "经开区示例目标企业")
    return {"cells": cells, "cathode": cathode, "storage": storage, "other": other}


def _names(response) -> list[str]:
    return [target.name for target in response.context["page"]]


def test_the_list_searches_and_filters(cast, login, chain, library):
    client = login(cast.promoter_a)
    url = reverse("investment:targets")
    assert _names(client.get(url)) == [
        "宁德示例锂电股份有限公司",
        "湖南示例正极材料有限公司",
        "示例储能集成有限公司",
    ]
    assert _names(client.get(url, {"q": "正极"})) == ["湖南示例正极材料有限公司"]
    assert _names(client.get(url, {"q": code(1)[:17].lower()})) == ["宁德示例锂电股份有限公司"]
    assert _names(client.get(url, {"chain": chain.pk})) == [
        "宁德示例锂电股份有限公司",
        "湖南示例正极材料有限公司",
    ]
    response = client.get(url, {"node": node(chain, "正极材料").pk})
    assert _names(response) == ["湖南示例正极材料有限公司"]
    assert "正在查看覆盖“新能源 / 正极材料”的目标企业" in response.content.decode()
    assert _names(client.get(url, {"scale": Scale.LARGE})) == ["宁德示例锂电股份有限公司"]
    assert _names(client.get(url, {"listed": "true"})) == ["宁德示例锂电股份有限公司"]
    assert _names(client.get(url, {"listed": "false"})) == [
        "湖南示例正极材料有限公司",
        "示例储能集成有限公司",
    ]


def test_the_list_shows_each_zone_its_own_library(cast, login, library, promoter_b):
    assert _names(login(promoter_b).get(reverse("investment:targets"))) == ["经开区示例目标企业"]
    assert len(_names(login(cast.leader_a).get(reverse("investment:targets")))) == 3
    assert len(_names(login(cast.leader_city).get(reverse("investment:targets")))) == 4
    # Another zone's node filters nothing in: it is not among the choices.
    response = login(promoter_b).get(
        reverse("investment:targets"), {"node": node(library["storage"], "储能系统").pk}
    )
    assert response.context["filters"].form.errors


def test_the_list_costs_the_same_queries_for_few_or_many_targets(cast, login, chain, library):
    client = login(cast.promoter_a)
    url = reverse("investment:targets")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(10):
        target = make_target(cast.zone_a, f"示例目标企业{n}", node(chain, "电芯"), node(chain, "负极材料"))
        make_lead(target, cast.promoter_a)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("who", ["steward_a", "dispatcher_a", "ent_user_a1", "sysadmin", "outsider"])
def test_roles_without_investment_scope_are_refused(cast, login, library, who):
    client = login(getattr(cast, who))
    target = library["cells"]
    for url in (
        reverse("investment:targets"),
        reverse("investment:target", args=[target.pk]),
        reverse("investment:target-new"),
        reverse("investment:targets-import"),
        reverse("investment:targets-template"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("investment-target-list")).status_code == 403


def test_another_zones_promoter_finds_no_such_target(cast, login, library, promoter_b):
    client = login(promoter_b)
    target = library["cells"]
    assert client.get(reverse("investment:target", args=[target.pk])).status_code == 404
    assert client.get(reverse("investment:target-edit", args=[target.pk])).status_code == 404
    assert client.post(reverse("investment:target-delete", args=[target.pk])).status_code == 404
    assert client.get(reverse("investment-target-detail", args=[target.pk])).status_code == 404
    assert client.delete(reverse("investment-target-detail", args=[target.pk])).status_code == 404
    assert Target.objects.filter(pk=target.pk).exists()


def test_a_leader_reads_but_may_not_write(cast, login, library):
    client = login(cast.leader_a)
    target = library["cells"]
    page = client.get(reverse("investment:target", args=[target.pk]))
    assert page.status_code == 200
    assert 'data-testid="new-lead"' not in page.content.decode()
    assert client.get(reverse("investment:target-new")).status_code == 403
    assert client.post(reverse("investment:target-new"), {"name": "领导新增"}).status_code == 403
    assert (
        client.post(reverse("investment:target-edit", args=[target.pk]), {"name": "改名"}).status_code == 403
    )
    assert client.post(reverse("investment:target-delete", args=[target.pk])).status_code == 403
    assert client.get(reverse("investment:targets-import")).status_code == 403
    api = reverse("investment-target-detail", args=[target.pk])
    assert client.get(api).status_code == 200
    patch = client.patch(api, {"notes": "领导批注", "version": 1}, content_type="application/json")
    assert patch.status_code == 403
    assert client.delete(api).status_code == 403
    assert client.post(reverse("investment-target-list"), {"name": "领导新增"}).status_code == 403
    target.refresh_from_db()
    assert target.version == 1 and Target.objects.filter(zone=cast.zone_a).count() == 3


def test_the_target_page_lists_its_nodes_and_every_lead(cast, login, chain, library):
    target = library["cells"]
    make_lead(target, cast.promoter_a, node=node(chain, "电芯"))
    make_lead(target, cast.promoter_a, status=LeadStatus.ABANDONED, abandon_reason="无意向")
    make_lead(library["cathode"], cast.promoter_a)
    response = login(cast.promoter_a).get(reverse("investment:target", args=[target.pk]))
    html = response.content.decode()
    assert len(response.context["lead_rows"]) == 2
    assert "新能源 / 电芯" in html and f"?node={node(chain, '电芯').pk}" in html
    assert "放弃" in html


def _lead_new_url() -> str:
    try:
        return reverse("investment:lead-new")
    except NoReverseMatch:
        pytest.skip("the leads part (investment:lead-new) is not installed yet")


def test_new_lead_button_carries_the_target_and_its_only_node(cast, login, chain, library):
    base = _lead_new_url()
    client = login(cast.promoter_a)
    target = library["cells"]
    html = client.get(reverse("investment:target", args=[target.pk])).content.decode()
    expected = f'href="{base}?target={target.pk}&amp;node={node(chain, "电芯").pk}" data-testid="new-lead"'
    assert expected in html
    # Two nodes: the promoter picks the node on the lead form.
    target.nodes.add(node(chain, "储能系统"))
    html = client.get(reverse("investment:target", args=[target.pk])).content.decode()
    assert f'href="{base}?target={target.pk}" data-testid="new-lead"' in html


def test_the_lead_rows_link_to_their_lead(cast, login, library):
    lead = make_lead(library["cells"], cast.promoter_a)
    try:
        url = reverse("investment:lead", args=[lead.pk])
    except NoReverseMatch:
        pytest.skip("the leads part (investment:lead) is not installed yet")
    html = (
        login(cast.promoter_a).get(reverse("investment:target", args=[library["cells"].pk])).content.decode()
    )
    assert f'href="{url}"' in html


def test_adding_editing_and_deleting_through_the_pages(cast, login, chain):
    client = login(cast.promoter_a)
    response = client.post(
        reverse("investment:target-new"),
        {
            "name": "示例负极材料有限公司",
            "uscc": code(3),
            "scale": Scale.SMALL,
            "nodes": [node(chain, "负极材料").pk],
        },
    )
    target = Target.objects.get(name="示例负极材料有限公司")
    assert response.status_code == 302 and response["Location"] == reverse(
        "investment:target", args=[target.pk]
    )
    assert [n.name for n in target.nodes.all()] == ["负极材料"]

    bad = client.post(
        reverse("investment:target-new"),
        {"name": "坏代码企业", "uscc": wrong_check_digit(code(4)), "scale": "medium"},
    )
    assert bad.status_code == 200 and "校验位错误" in bad.content.decode()
    assert not Target.objects.filter(name="坏代码企业").exists()

    edit = reverse("investment:target-edit", args=[target.pk])
    form = client.get(edit).context["form"]
    assert form.initial["version"] == 1 and form.initial["nodes"] == [node(chain, "负极材料").pk]
    data = {
        "name": target.name,
        "uscc": code(3),
        "scale": Scale.MEDIUM,
        "headquarters": "湖南省长沙市",
        "version": 1,
    }
    assert client.post(edit, data).status_code == 302
    stale = client.post(edit, {**data, "headquarters": "上海市"})
    assert "刚被他人修改" in stale.content.decode()
    target.refresh_from_db()
    assert (target.headquarters, target.version, target.nodes.count()) == ("湖南省长沙市", 2, 0)

    make_lead(target, cast.promoter_a)
    refused = client.post(reverse("investment:target-delete", args=[target.pk]), {"version": 2}, follow=True)
    assert "有 1 条招商线索" in refused.content.decode()
    assert Target.objects.filter(pk=target.pk).exists()
    target.leads.all().delete()
    done = client.post(reverse("investment:target-delete", args=[target.pk]), {"version": 2})
    assert done.status_code == 302 and done["Location"] == reverse("investment:targets")
    assert not Target.objects.filter(pk=target.pk).exists()


def test_the_delete_page_takes_post_only(cast, login, library):
    response = login(cast.promoter_a).get(reverse("investment:target-delete", args=[library["cells"].pk]))
    assert response.status_code == 405


# --- API ------------------------------------------------------------------------------------------------


def test_the_api_lists_with_the_pages_filters(cast, login, chain, library):
    client = login(cast.leader_a)
    url = reverse("investment-target-list")
    body = client.get(url, {"node": node(chain, "电芯").pk}).json()
    assert [row["name"] for row in body["results"]] == ["宁德示例锂电股份有限公司"]
    row = body["results"][0]
    assert row["nodes"][0]["chain_name"] == "新能源" and row["lead_count"] == 0 and row["version"] == 1
    assert client.get(url, {"listed": "maybe"}).status_code == 400
    assert client.get(url, {"node": 999999}).status_code == 400
    assert [r["name"] for r in client.get(url, {"q": "正极"}).json()["results"]] == [
        "湖南示例正极材料有限公司"
    ]


def test_the_api_creates_edits_and_deletes(cast, login, chain):
    client = login(cast.promoter_a)
    url = reverse("investment-target-list")
    created = client.post(
        url,
        {
            "name": "示例电芯有限公司",
            "uscc": code(5),
            "nodes": [node(chain, "电芯").pk],
            "listed": True,
            "stock_code": "688001.SH",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["zone"] == cast.zone_a.pk
    detail = reverse("investment-target-detail", args=[pk])
    bad = client.post(
        url, {"name": "坏代码", "uscc": wrong_check_digit(code(6))}, content_type="application/json"
    )
    assert bad.status_code == 400 and "校验位错误" in bad.json()["uscc"][0]
    duplicate = client.post(url, {"name": "示例电芯有限公司"}, content_type="application/json")
    assert duplicate.status_code == 400 and "已有“示例电芯有限公司”" in duplicate.json()["detail"]

    patched = client.patch(
        detail, {"headquarters": "江苏省常州市", "version": 1}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert patched.json()["listed"] is True  # left out: unchanged
    stale = client.patch(detail, {"headquarters": "上海市", "version": 1}, content_type="application/json")
    assert stale.status_code == 409
    no_version = client.patch(detail, {"headquarters": "上海市"}, content_type="application/json")
    assert no_version.status_code == 400 and "version" in no_version.json()

    make_lead(Target.objects.get(pk=pk), cast.promoter_a)
    refused = client.delete(detail)
    assert refused.status_code == 400 and "有 1 条招商线索" in refused.json()["detail"]
    Target.objects.get(pk=pk).leads.all().delete()
    assert client.delete(detail).status_code == 204
    assert not Target.objects.filter(pk=pk).exists()


def test_the_api_refuses_nodes_of_another_zone(cast, login, promoter_b):
    zone_b_chain = make_chain(cast.zone_b, promoter_b, name="储能")
    response = login(cast.promoter_a).post(
        reverse("investment-target-list"),
        {"name": "示例企业", "nodes": [node(zone_b_chain, "电芯").pk]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "nodes" in response.json()
    assert not Target.objects.exists()
