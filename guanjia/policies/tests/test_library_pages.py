"""The policy library's pages: the list (search, state, department), a policy with its items and
attachments, and the keepers' forms, with the refusals shown next to the field they name."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership, Tag
from guanjia.policies.access import today
from guanjia.policies.models import BenefitItem, Delivery, Policy, PolicyAttachment, PushChannel
from guanjia.policies.tests.helpers import make_department, make_head, make_item, make_policy
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
INDEX = "/policies/"


@pytest.fixture(autouse=True)
def _attachments_dir(settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"


@pytest.fixture
def policy(cast):
    return make_policy(cast.market_a, title="高新区研发补贴办法", document_number="高新管〔2026〕8号")


@pytest.fixture
def ent_user_b1(cast):
    user = make_user("ent_user_b1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=user, enterprise=cast.ent_b1)
    return user


@pytest.fixture
def handler_b(cast):
    market_b = make_department(cast.zone_b, "zone-b-market", "经开区市场监管局")
    return make_user("handler_b", market_b, Role.HANDLER)


@pytest.fixture
def handler_centre(cast):
    return make_user("handler_centre", cast.centre_a, Role.HANDLER)


def titles(response) -> list[str]:
    return [policy.title for policy in response.context["page"]]


def item_form(**fields):
    data = {"name": "研发费用补贴", "category": "subsidy", "disburse_within_days": "20"}
    data.update(fields)
    return data


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_the_policies_covering_the_reader(cast, login, policy, ent_user_b1):
    city_dept = make_department(cast.city, "city-tech", "示例市科技局")
    city_policy = make_policy(city_dept, title="全市科技创新券")
    zone_b_policy = make_policy(make_department(cast.zone_b, "zone-b-tax"), title="经开区税费减免")

    assert set(titles(login(cast.ent_user_a1).get(INDEX))) == {policy.title, city_policy.title}
    assert set(titles(login(ent_user_b1).get(INDEX))) == {city_policy.title, zone_b_policy.title}
    assert set(titles(login(cast.steward_a).get(INDEX))) == {policy.title, city_policy.title}
    assert len(titles(login(cast.leader_city).get(INDEX))) == 3


@pytest.mark.parametrize("who", ["outsider", "sysadmin", "auditor"])
def test_the_list_is_refused_to_accounts_the_library_does_not_reach(cast, login, who):
    assert login(getattr(cast, who)).get(INDEX).status_code == 403


def test_the_list_searches_title_and_document_number_and_filters_state_and_department(cast, login, policy):
    old = make_policy(
        cast.market_a,
        title="旧版人才政策",
        document_number="高新管〔2019〕2号",
        effective_on=date(2019, 1, 1),
        expires_on=date(2020, 12, 31),
    )
    upcoming = make_policy(cast.market_a, title="明年起施行的政策", effective_on=today() + timedelta(days=30))
    tax = make_policy(make_department(cast.zone_a, "zone-a-tax", "高新区税务局"), title="税务政策")
    client = login(cast.steward_a)

    default = client.get(INDEX)
    assert set(titles(default)) == {policy.title, upcoming.title, tax.title}  # 现行有效 (not expired)
    assert "尚未生效" in default.content.decode()
    assert titles(client.get(INDEX, {"state": "expired"})) == [old.title]
    assert len(titles(client.get(INDEX, {"state": "all"}))) == 4
    assert titles(client.get(INDEX, {"search": "研发"})) == [policy.title]
    assert titles(client.get(INDEX, {"search": "〔2019〕", "state": "all"})) == [old.title]
    assert titles(client.get(INDEX, {"department": tax.department_id})) == [tax.title]
    refused = client.get(INDEX, {"state": "nonsense"})
    assert refused.status_code == 200 and refused.context["filters"].errors


def test_keepers_see_the_new_button_others_do_not(cast, login, policy):
    assert 'data-testid="policy-new"' in login(cast.handler_a).get(INDEX).content.decode()
    assert 'data-testid="policy-new"' in login(make_head(cast.market_a)).get(INDEX).content.decode()
    for who in (cast.steward_a, cast.leader_a, cast.ent_user_a1):
        assert 'data-testid="policy-new"' not in login(who).get(INDEX).content.decode()


def test_the_list_pages_and_its_queries_do_not_grow_with_it(cast, login):
    for n in range(25):
        make_item(make_policy(cast.market_a, title=f"政策 {n:02d}"))
    client = login(cast.steward_a)
    with CaptureQueriesContext(connection) as first:
        page1 = client.get(INDEX)
    assert len(page1.context["page"]) == 20
    make_policy(cast.market_a, title="再一个")
    with CaptureQueriesContext(connection) as again:
        client.get(INDEX)
    assert len(again) == len(first)
    assert len(login(cast.steward_a).get(INDEX, {"page": 2}).context["page"]) == 6


# --- a policy ---------------------------------------------------------------------------------------


def test_a_policy_page_shows_the_document_and_each_items_conditions(cast, login, policy):
    item = make_item(policy, scales=["small"], min_years=3, other_conditions="须为本地纳税企业")
    response = login(cast.ent_user_a1).get(f"/policies/{policy.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "高新区研发补贴办法",
        "高新管〔2026〕8号",
        "企业规模",
        "小型",
        "成立满 3 年",
        "须为本地纳税企业",
    ):
        assert text in page
    with contextlib.suppress(NoReverseMatch):  # the matching part's page, once it is there
        assert reverse("policies:item", args=[item.pk]) in page
    assert 'data-testid="policy-actions"' not in page  # a reader, not a keeper


def test_an_enterprise_user_of_another_zone_does_not_see_a_zone_only_policy(cast, login, policy, ent_user_b1):
    assert login(ent_user_b1).get(f"/policies/{policy.pk}/").status_code == 404
    assert login(cast.ent_user_a1).get(f"/policies/{policy.pk}/").status_code == 200
    assert login(cast.steward_b).get(f"/policies/{policy.pk}/").status_code == 404
    assert login(cast.outsider).get(f"/policies/{policy.pk}/").status_code == 403


# --- writing a policy -------------------------------------------------------------------------------


def test_a_keeper_creates_and_edits_a_policy_through_the_form(cast, login):
    client = login(cast.handler_a)
    assert client.get("/policies/new/").status_code == 200
    created = client.post(
        "/policies/new/",
        {
            "title": "高新区人才新政",
            "issuer": "高新区管委会",
            "effective_on": "2026-03-01",
            "full_text": "第一条",
        },
    )
    policy = Policy.objects.get(title="高新区人才新政")
    assert created.url == f"/policies/{policy.pk}/"
    assert policy.department == cast.market_a

    edited = client.post(
        f"/policies/{policy.pk}/edit/",
        {
            "title": "高新区人才新政（修订）",
            "issuer": "高新区管委会",
            "effective_on": "2026-03-01",
            "version": 1,
        },
    )
    assert edited.status_code == 302
    assert Policy.objects.get(pk=policy.pk).title == "高新区人才新政（修订）"


def test_the_policy_form_shows_errors_next_to_the_field(cast, login, policy):
    response = login(cast.handler_a).post(
        f"/policies/{policy.pk}/edit/",
        {"title": "", "issuer": "x", "effective_on": "2026-03-01", "expires_on": "2026-01-01", "version": 1},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["expires_on"] == ["不能早于生效日期"]
    assert "title" in form.errors
    assert "失效日期：不能早于生效日期" in response.content.decode()


def test_a_stale_policy_form_is_refused_with_a_message(cast, login, policy):
    client = login(cast.handler_a)
    data = {"title": "改一", "issuer": "高新区管委会", "effective_on": "2026-03-01", "version": 1}
    assert client.post(f"/policies/{policy.pk}/edit/", data).status_code == 302
    stale = client.post(f"/policies/{policy.pk}/edit/", {**data, "title": "改二"})
    assert stale.status_code == 200
    assert "刚被他人修改" in stale.content.decode()
    assert Policy.objects.get(pk=policy.pk).title == "改一"


def test_who_may_not_write_a_policy(cast, login, policy, handler_b, handler_centre):
    for who in (cast.steward_a, cast.leader_a, cast.ent_user_a1, cast.dispatcher_a):
        client = login(who)
        assert client.get("/policies/new/").status_code == 403
        assert client.get(f"/policies/{policy.pk}/edit/").status_code == 403
    # A keeper of another department of the zone sees the policy but does not keep it: 403.
    assert login(handler_centre).get(f"/policies/{policy.pk}/edit/").status_code == 403
    # A keeper of another zone does not see it at all: 404.
    assert login(handler_b).get(f"/policies/{policy.pk}/edit/").status_code == 404
    assert login(handler_b).post(f"/policies/{policy.pk}/items/new/", item_form()).status_code == 404
    assert not BenefitItem.objects.exists()


# --- benefit items ----------------------------------------------------------------------------------


def test_a_keeper_adds_an_item_with_its_conditions_from_the_form(cast, login, policy):
    tag = Tag.objects.create(name="高新技术企业")
    client = login(cast.handler_a)
    page = client.get(f"/policies/{policy.pk}/items/new/")
    assert page.status_code == 200
    assert [zone.pk for zone in page.context["form"].fields["zones"].queryset] == [cast.zone_a.pk]
    response = client.post(
        f"/policies/{policy.pk}/items/new/",
        item_form(
            zones=[cast.zone_a.pk],
            divisions=["39", "26"],
            scales=["small", "micro"],
            tiers=["key"],
            tags=[tag.pk],
            min_years="2",
            max_years="8",
            capital_min="100",
            capital_max="100",
            max_amount="30.5",
            auto_grant="on",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    item = BenefitItem.objects.get()
    assert (item.divisions, item.scales, item.tiers, item.auto_grant) == (
        ",26,39,",
        ",micro,small,",
        ",key,",
        True,
    )
    assert (item.min_years, item.max_years, item.capital_min, item.max_amount) == (
        2,
        8,
        Decimal("100.00"),
        Decimal("30.50"),
    )
    assert list(item.tags.all()) == [tag]


def test_the_item_form_shows_range_errors_next_to_the_field(cast, login, policy):
    response = login(cast.handler_a).post(
        f"/policies/{policy.pk}/items/new/",
        item_form(min_years="5", max_years="5", capital_min="200", capital_max="100", max_amount="-1"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["max_years"] == ["应大于成立满（年）"]
    assert errors["capital_max"] == ["不能低于注册资本下限"]
    assert "max_amount" in errors
    assert "成立不满（年）：应大于成立满（年）" in response.content.decode()
    assert not BenefitItem.objects.exists()


def test_the_item_form_refuses_a_zone_outside_the_coverage_and_unknown_codes(cast, login, policy):
    client = login(cast.handler_a)
    response = client.post(
        f"/policies/{policy.pk}/items/new/",
        item_form(zones=[cast.zone_b.pk], scales=["huge"], divisions=["XX"]),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"zones", "scales", "divisions"}
    assert not BenefitItem.objects.exists()


def test_a_keeper_edits_an_item_and_a_stale_form_is_refused(cast, login, policy):
    item = make_item(policy, scales=["small"])
    client = login(cast.handler_a)
    page = client.get(f"/policies/items/{item.pk}/edit/")
    assert page.context["form"].initial["scales"] == ["small"]
    assert (
        client.post(f"/policies/items/{item.pk}/edit/", item_form(scales=["large"], version=1)).status_code
        == 302
    )
    assert BenefitItem.objects.get(pk=item.pk).scales == ",large,"
    stale = client.post(f"/policies/items/{item.pk}/edit/", item_form(scales=["micro"], version=1))
    assert stale.status_code == 200 and "刚被他人修改" in stale.content.decode()
    assert BenefitItem.objects.get(pk=item.pk).scales == ",large,"


def test_an_item_is_deleted_unless_it_has_deliveries(cast, login, policy):
    kept = make_item(policy, name="已有兑现的事项")
    Delivery.objects.create(item=kept, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD)
    spare = make_item(policy, name="无人兑现的事项")
    client = login(cast.handler_a)

    detail = client.get(f"/policies/{policy.pk}/").content.decode()
    assert detail.count('data-testid="item-delete"') == 1
    assert client.get(f"/policies/items/{spare.pk}/delete/").status_code == 405
    response = client.post(f"/policies/items/{kept.pk}/delete/", {"version": 1}, follow=True)
    assert "已有企业兑现记录，不能删除" in response.content.decode()
    assert BenefitItem.objects.filter(pk=kept.pk).exists()
    client.post(f"/policies/items/{spare.pk}/delete/", {"version": 1})
    assert not BenefitItem.objects.filter(pk=spare.pk).exists()
    assert login(cast.steward_a).post(f"/policies/items/{kept.pk}/delete/").status_code == 403


# --- attachments ------------------------------------------------------------------------------------


def test_a_keeper_uploads_attachments_and_readers_download_them(cast, login, policy, ent_user_b1):
    client = login(cast.handler_a)
    response = client.post(
        f"/policies/{policy.pk}/attachments/",
        {"attachments": [SimpleUploadedFile("政策原文.pdf", PDF, "application/pdf")]},
    )
    assert response.status_code == 302
    attachment = PolicyAttachment.objects.get()
    download = login(cast.ent_user_a1).get(f"/policies/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment;" in download["Content-Disposition"]
    assert login(ent_user_b1).get(f"/policies/attachments/{attachment.pk}/").status_code == 404


def test_an_attachment_is_refused_by_its_content(cast, login, policy):
    response = login(cast.handler_a).post(
        f"/policies/{policy.pk}/attachments/",
        {
            "attachments": [
                SimpleUploadedFile("申报表.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
            ]
        },
    )
    assert response.status_code == 200
    assert "“申报表.pdf”不是允许上传的文件类型" in response.content.decode()
    assert not PolicyAttachment.objects.exists()


def test_only_keepers_upload_attachments(cast, login, policy, handler_centre):
    upload = {"attachments": [SimpleUploadedFile("a.pdf", PDF)]}
    assert login(cast.steward_a).post(f"/policies/{policy.pk}/attachments/", upload).status_code == 403
    upload = {"attachments": [SimpleUploadedFile("a.pdf", PDF)]}
    assert login(handler_centre).post(f"/policies/{policy.pk}/attachments/", upload).status_code == 403
    assert login(cast.handler_a).get(f"/policies/{policy.pk}/attachments/").status_code == 405
    assert not PolicyAttachment.objects.exists()
