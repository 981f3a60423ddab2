import random
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OutboxMessage
from guanjia.enterprises import services
from guanjia.enterprises.models import Enterprise, EnterpriseMembership, StewardAssignment, Tier
from guanjia.enterprises.uscc import clean_uscc, with_check_digit
from guanjia.testing import make_enterprise

REAL_CODES = ["914403001922038216", "91440300708461136T", "91310000631696382C"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_uscc_codes_are_valid(code):
    assert clean_uscc(code) == code
    assert clean_uscc(f" {code.lower()} ") == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("914403001922038217", "校验位错误：第 18 位应为 6，实为 7"),
        ("91440300708461136X", "校验位错误：第 18 位应为 T，实为 X"),
        ("9131000063169638", "应为 18 位"),
        ("91310000631696382I", "不允许的字符：I"),
        ("", "不能为空"),
    ],
)
def test_corrupted_uscc_codes_are_refused_with_the_reason(code, message):
    with pytest.raises(ValidationError) as info:
        clean_uscc(code)
    assert message in info.value.messages[0]


def test_uscc_check_agrees_with_stdnum_on_random_codes():
    from stdnum.cn import uscc as stdnum_uscc

    rng = random.Random(4754)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(3000):
        head = "".join(rng.choice("0123456789" if rng.random() < 0.9 else alphabet) for _ in range(8))
        stem = head + "".join(rng.choice(alphabet) for _ in range(9))
        code = with_check_digit(stem) if rng.random() < 0.5 else stem + rng.choice(alphabet)
        try:
            clean_uscc(code)
            ours = True
        except ValidationError:
            ours = False
        assert ours == stdnum_uscc.is_valid(code), code


def test_uscc_with_letters_in_the_division_code_is_refused():
    with pytest.raises(ValidationError, match="前 8 位"):
        clean_uscc(with_check_digit("9132A591MA1XY0000"))


def test_uscc_typed_as_a_number_is_refused():
    with pytest.raises(ValidationError, match="必须是文本"):
        clean_uscc(9.14403001922038e17)


def test_steward_sees_only_its_enterprises_in_pages(cast, login):
    client = login(cast.steward_a)
    mine = client.get(reverse("enterprises:mine")).content.decode()
    assert cast.ent_a1.name in mine and cast.ent_a2.name not in mine
    assert client.get(reverse("enterprises:detail", args=[cast.ent_a1.pk])).status_code == 200
    assert client.get(reverse("enterprises:detail", args=[cast.ent_b1.pk])).status_code == 404
    assert client.get(reverse("enterprises:detail", args=[cast.ent_a2.pk])).status_code == 404
    assert (
        client.get(reverse("enterprises:list")).status_code == 403
    )  # the zone-wide registry is not its page


def test_zone_registry_is_scoped_to_the_zone(cast, login):
    page = login(cast.dispatcher_a).get(reverse("enterprises:list")).content.decode()
    assert cast.ent_a1.name in page and cast.ent_a2.name in page and cast.ent_b1.name not in page
    assert (
        login(cast.dispatcher_a).get(reverse("enterprises:detail", args=[cast.ent_b1.pk])).status_code == 404
    )
    city = login(cast.leader_city).get(reverse("enterprises:list")).content.decode()
    assert cast.ent_b1.name in city


def test_list_search_and_filters(cast, login):
    client = login(cast.dispatcher_a)
    page = client.get(reverse("enterprises:list"), {"q": "新材料"}).content.decode()
    assert cast.ent_a2.name in page and cast.ent_a1.name not in page
    page = client.get(reverse("enterprises:list"), {"q": cast.ent_a1.uscc[:10]}).content.decode()
    assert cast.ent_a1.name in page
    page = client.get(reverse("enterprises:list"), {"tier": Tier.KEY}).content.decode()
    assert cast.ent_a1.name in page and cast.ent_a2.name not in page
    partial = client.get(
        reverse("enterprises:list"), {"q": "新材料"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in partial and cast.ent_a2.name in partial


def test_list_page_query_count_does_not_grow_with_rows(cast, login):
    client = login(cast.dispatcher_a)
    client.get(reverse("enterprises:list"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("enterprises:list")).status_code == 200
    for i in range(30):
        make_enterprise(with_check_digit(f"91320500MA1{i:06d}"), f"批量企业{i}", cast.zone_a, cast.steward_a)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("enterprises:list")).content.decode()
    assert "批量企业29" in page
    # 16: the page's own queries, the session and user, and the navigation's (unread notices; whether the
    # user is on a service unit's staff).
    assert len(many) == len(few) <= 16


@pytest.mark.parametrize(
    ("who", "masked"),
    [
        ("leader_a", True),
        ("promoter_a", True),
        ("dispatcher_a", False),
        ("supervisor_a", False),
        ("steward_a", False),
    ],
)
def test_contact_phones_are_masked_by_role_in_pages(cast, login, who, masked):
    page = (
        login(getattr(cast, who)).get(reverse("enterprises:detail", args=[cast.ent_a1.pk])).content.decode()
    )
    assert ("138****5678" in page) is masked
    assert ("13812345678" in page) is not masked


def test_enterprise_user_sees_only_its_own_enterprise(cast, login):
    client = login(cast.ent_user_a1)
    portal = client.get(reverse("enterprises:portal")).content.decode()
    assert cast.ent_a1.name in portal and cast.steward_a.full_name in portal
    assert cast.ent_a2.name not in portal
    assert client.get(reverse("enterprises:detail", args=[cast.ent_a2.pk])).status_code == 404
    assert client.get(reverse("enterprises:list")).status_code == 403
    assert client.get(reverse("enterprises:create")).status_code == 403


def test_create_enterprise_through_the_form(cast, login):
    client = login(cast.dispatcher_a)
    data = {
        "name": "新登记科技有限公司",
        "scale": "small",
        "tier": "general",
        "industry_division": "65",
        "zone": cast.zone_a.pk,
        "contact-name": "赵敏",
        "contact-phone": "13700001111",
    }
    data["uscc"] = with_check_digit("91320594MA1MXXX0T")
    response = client.post(reverse("enterprises:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    enterprise = Enterprise.objects.get(uscc=data["uscc"])
    assert enterprise.industry_section == "I" and enterprise.contacts.get().phone == "13700001111"
    assert AuditRecord.objects.filter(action="enterprise.create", object_id=str(enterprise.pk)).exists()


def test_wrong_check_digit_in_the_form_names_the_field(cast, login):
    response = login(cast.dispatcher_a).post(
        reverse("enterprises:create"),
        {
            "uscc": "914403001922038217",
            "name": "错码公司",
            "scale": "small",
            "tier": "general",
            "zone": cast.zone_a.pk,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "统一社会信用代码：统一社会信用代码校验位错误：第 18 位应为 6，实为 7" in page
    assert not Enterprise.objects.filter(name="错码公司").exists()


def test_who_may_not_create(cast, login):
    for who in ("steward_a", "leader_a", "promoter_a", "handler_a", "sysadmin", "outsider"):
        assert login(getattr(cast, who)).get(reverse("enterprises:create")).status_code == 403, who
    with pytest.raises(NotAllowed):
        services.create_enterprise(
            data={"uscc": REAL_CODES[0], "name": "x"}, zone=cast.zone_b, by=cast.dispatcher_a
        )


def test_duplicate_uscc_is_refused(cast):
    with pytest.raises(ServiceError, match="已登记"):
        services.create_enterprise(
            data={"uscc": cast.ent_a1.uscc, "name": "重复"}, zone=cast.zone_a, by=cast.dispatcher_a
        )


def test_steward_edits_its_own_enterprise_but_not_others(cast, login):
    client = login(cast.steward_a)
    response = client.post(
        reverse("enterprises:edit", args=[cast.ent_a1.pk]),
        {
            "name": "示例智能制造股份有限公司",
            "scale": "medium",
            "tier": "key",
            "version": cast.ent_a1.version,
        },
    )
    assert response.status_code == 302
    assert Enterprise.objects.get(pk=cast.ent_a1.pk).name == "示例智能制造股份有限公司"
    assert client.get(reverse("enterprises:edit", args=[cast.ent_a2.pk])).status_code == 404
    assert login(cast.leader_a).get(reverse("enterprises:edit", args=[cast.ent_a1.pk])).status_code == 403


def test_concurrent_edit_is_refused_not_overwritten(cast):
    first = Enterprise.objects.get(pk=cast.ent_a1.pk)
    second = Enterprise.objects.get(pk=cast.ent_a1.pk)
    services.update_enterprise(first, data={"address": "经三路 1 号"}, by=cast.dispatcher_a)
    with pytest.raises(Conflict, match="已被他人修改"):
        services.update_enterprise(second, data={"address": "纬二路 9 号"}, by=cast.supervisor_a)
    assert Enterprise.objects.get(pk=cast.ent_a1.pk).address == "经三路 1 号"


def test_reassignment_keeps_history_and_one_active_steward(cast, login):
    client = login(cast.dispatcher_a)
    response = client.post(
        reverse("enterprises:steward-assign", args=[cast.ent_a1.pk]),
        {"steward": cast.steward_a2.pk, "reason": "片区调整", "version": cast.ent_a1.version},
    )
    assert response.status_code == 302
    history = list(StewardAssignment.objects.filter(enterprise=cast.ent_a1).order_by("started_at"))
    assert [a.steward for a in history] == [cast.steward_a, cast.steward_a2]
    assert history[0].ended_at is not None and history[1].ended_at is None
    assert Enterprise.objects.get(pk=cast.ent_a1.pk).steward == cast.steward_a2
    detail = client.get(reverse("enterprises:detail", args=[cast.ent_a1.pk])).content.decode()
    assert "片区调整" in detail


def test_who_may_not_reassign(cast, login):
    for who in ("steward_a", "leader_a", "ent_user_a1"):
        response = login(getattr(cast, who)).post(
            reverse("enterprises:steward-assign", args=[cast.ent_a1.pk]),
            {"steward": cast.steward_a2.pk, "reason": "x"},
        )
        assert response.status_code in (403, 404), who
    with pytest.raises(ServiceError, match="不是该企业所在园区的服务管家"):
        services.assign_steward(cast.ent_a1, cast.steward_b, reason="跨区", by=cast.dispatcher_a)
    assert Enterprise.objects.get(pk=cast.ent_a1.pk).steward == cast.steward_a


def test_balancing_suggestion_and_handover(cast, login):
    for i in range(3):
        make_enterprise(
            with_check_digit(f"91320500MA2{i:06d}"),
            f"管家甲企业{i}",
            cast.zone_a,
            cast.steward_a,
            tier=Tier.KEY,
        )
    # steward_a is now heavy; the suggestion for zone A is steward_a2.
    assert services.suggest_steward(cast.zone_a.pk) == cast.steward_a2
    loads = {load.steward: load.weighted for load in services.steward_loads(cast.zone_a.pk)}
    assert loads[cast.steward_a] == 12 and loads[cast.steward_a2] == 1

    page = login(cast.dispatcher_a).get(reverse("enterprises:stewards")).content.decode()
    assert "建议优先分配" in page
    response = login(cast.dispatcher_a).post(
        reverse("enterprises:handover"),
        {"from_steward": cast.steward_a.pk, "to_steward": "", "reason": "调岗"},
    )
    assert response.status_code == 302
    assert not Enterprise.objects.filter(steward=cast.steward_a).exists()
    assert Enterprise.objects.filter(steward=cast.steward_a2).count() == 5
    assert AuditRecord.objects.filter(action="enterprise.handover").exists()
    assert login(cast.steward_a).get(reverse("enterprises:stewards")).status_code == 403


def test_invitation_end_to_end(cast, login):
    client = login(cast.steward_a)
    response = client.post(
        reverse("enterprises:invite", args=[cast.ent_a1.pk]), {"name": "李会计", "phone": "13900001234"}
    )
    page = response.content.decode()
    found = re.search(r'value="(http[^"]+/invite/[^"]+/)"', page)
    assert found, page
    link = found.group(1)
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.recipient == "13900001234"
    assert cast.ent_a1.name not in str(sms.payload) and "link" in sms.payload  # identifier and link only

    token_path = link.split("127.0.0.1:8000")[-1].replace("http://testserver", "")
    visitor = Client()
    wrong = visitor.post(
        token_path,
        {
            "uscc": cast.ent_a2.uscc,
            "username": "li_kj",
            "password": "Qy-pass-2026x",
            "password2": "Qy-pass-2026x",
        },
    )
    assert "不一致" in wrong.content.decode()
    ok = visitor.post(
        token_path,
        {
            "uscc": cast.ent_a1.uscc,
            "username": "li_kj",
            "password": "Qy-pass-2026x",
            "password2": "Qy-pass-2026x",
        },
    )
    assert ok.status_code == 302
    membership = EnterpriseMembership.objects.get(user__username="li_kj")
    assert membership.enterprise == cast.ent_a1
    assert cast.ent_a1.name in visitor.get(reverse("enterprises:portal")).content.decode()
    again = Client().get(token_path)
    assert again.status_code == 410 and "已被使用" in again.content.decode()


def test_only_the_enterprises_steward_invites(cast, login):
    assert login(cast.steward_a2).get(reverse("enterprises:invite", args=[cast.ent_a1.pk])).status_code == 404
    assert (
        login(cast.dispatcher_a).get(reverse("enterprises:invite", args=[cast.ent_a1.pk])).status_code == 403
    )
    with pytest.raises(NotAllowed):
        services.invite_enterprise_user(cast.ent_a1, name="x", phone="13900000000", by=cast.steward_a2)


def test_home_page_is_role_aware(cast, login):
    assert "服务企业" in login(cast.steward_a).get(reverse("home")).content.decode()
    assert "企业库概况" in login(cast.leader_a).get(reverse("home")).content.decode()
    auditor_home = login(cast.auditor).get(reverse("home")).content.decode()
    assert "审计日志" in auditor_home and "企业库" not in auditor_home


def test_who_may_not_reach_the_remaining_pages(cast, login):
    for who in ("dispatcher_a", "leader_a", "ent_user_a1", "auditor"):
        assert login(getattr(cast, who)).get(reverse("enterprises:mine")).status_code == 403, who
    for who in ("steward_a", "dispatcher_a", "leader_city", "sysadmin"):
        assert login(getattr(cast, who)).get(reverse("enterprises:portal")).status_code == 403, who
    contact = {"name": "新联系人", "phone": "13700000000"}
    assert (
        login(cast.leader_a)
        .post(reverse("enterprises:contact-add", args=[cast.ent_a1.pk]), contact)
        .status_code
        == 403
    )
    assert (
        login(cast.steward_a2)
        .post(reverse("enterprises:contact-add", args=[cast.ent_a1.pk]), contact)
        .status_code
        == 404
    )
    assert not cast.ent_a1.contacts.filter(name="新联系人").exists()
    login(cast.steward_a).post(reverse("enterprises:contact-add", args=[cast.ent_a1.pk]), contact)
    assert cast.ent_a1.contacts.filter(name="新联系人").exists()
    handover = {"from_steward": cast.steward_a.pk, "to_steward": cast.steward_a2.pk, "reason": "x"}
    for who in ("steward_a", "leader_a"):
        assert login(getattr(cast, who)).post(reverse("enterprises:handover"), handover).status_code == 403, (
            who
        )
    assert Enterprise.objects.get(pk=cast.ent_a1.pk).steward == cast.steward_a


def test_the_django_admin_is_the_system_admins_read_only_window(cast, login):
    assert login(cast.sysadmin).get("/admin/enterprises/enterprise/").status_code == 200
    assert (
        login(cast.sysadmin).get(f"/admin/enterprises/enterprise/{cast.ent_a1.pk}/delete/").status_code == 403
    )
    for who in ("secadmin", "auditor", "dispatcher_a", "leader_city"):
        response = login(getattr(cast, who)).get("/admin/enterprises/enterprise/")
        assert response.status_code == 302 and "/login/" in response["Location"], who
