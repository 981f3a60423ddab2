"""The delivery pages: the list with its filters and overdue flags, a delivery's page and its step forms,
the totals, the export, pushing from another page, and the enterprise's portal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from guanjia.core.models import AuditRecord, Notification
from guanjia.policies import delivery
from guanjia.policies.models import Delivery, DeliveryStatus
from guanjia.policies.tests.test_delivery import (
    BEIJING,
    keepers_policy,
    other_department_handler,
    other_enterprise_user,
    subsidy,
    walked,
)
from guanjia.testing import USCC_A1

PUSHED, APPLIED, APPROVED = DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED
DISBURSED, REJECTED = DeliveryStatus.DISBURSED, DeliveryStatus.REJECTED
LIST = "/policies/deliveries/"
PORTAL = "/portal/policies/"


@pytest.fixture
def policy(cast):
    return keepers_policy(cast)


@pytest.fixture
def item(policy):
    return subsidy(policy)


def page_of(d: Delivery) -> str:
    return f"/policies/deliveries/{d.pk}/"


def fresh(d: Delivery) -> Delivery:
    return Delivery.objects.get(pk=d.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- the list --------------------------------------------------------------------------------------------


def test_the_list_shows_what_each_reader_sees(cast, login, item):
    walked(cast, item, APPLIED)
    walked(cast, item, PUSHED, enterprise=cast.ent_a2)
    for user, names in (
        (cast.handler_a, {"示例智能制造有限公司", "示例新材料科技有限公司"}),
        (cast.leader_a, {"示例智能制造有限公司", "示例新材料科技有限公司"}),
        (cast.steward_a, {"示例智能制造有限公司"}),
    ):
        body = login(user).get(LIST).content.decode()
        for name in ("示例智能制造有限公司", "示例新材料科技有限公司"):
            assert (name in body) == (name in names), (user, name)
    for user in (cast.steward_b, other_department_handler(cast)):
        response = login(user).get(LIST)
        assert response.status_code == 200
        assert "暂无政策兑现记录" in response.content.decode()


@pytest.mark.parametrize("who", ["ent_user_a1", "promoter_a", "outsider", "sysadmin"])
def test_the_list_is_not_for_other_roles(cast, login, who):
    assert login(getattr(cast, who)).get(LIST).status_code == 403


def test_the_list_filters_and_flags_overdue_rows_in_red(
    cast, login, item, policy, django_assert_max_num_queries
):
    other = subsidy(policy, name="贷款贴息")
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        late = walked(cast, item, APPROVED)  # due 2026-11-23
        walked(cast, other, APPLIED, enterprise=cast.ent_a2)
    client = login(cast.handler_a)
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING), tick=False):
        # 13: the page's own reads, and the nav's checks (a handler sees 人才绿色通道 only where a talent
        # route names its department, one indexed EXISTS), whatever the number of rows.
        with django_assert_max_num_queries(13):
            body = client.get(LIST).content.decode()
        assert body.count('data-testid="overdue-row"') == 1
        assert 'class="text-danger"' in body and "逾期未兑现" in body
        overdue = client.get(LIST, {"overdue": "on"}).content.decode()
        assert "研发费用补贴" in overdue and "贷款贴息" not in overdue
        applied = client.get(LIST, {"status": APPLIED}).content.decode()
        assert "贷款贴息" in applied and page_of(late) not in applied
        by_zone = client.get(LIST, {"zone": cast.zone_a.pk, "policy": policy.pk}).content.decode()
        assert page_of(late) in by_zone
        wrong = client.get(LIST, {"policy": 999999}).content.decode()
        assert "选择一个有效的选项" in wrong


# --- one delivery and its steps --------------------------------------------------------------------------------


def test_a_keeper_sees_the_review_forms_and_a_leader_only_reads(cast, login, item):
    d = walked(cast, item, APPLIED)
    keeper = login(cast.handler_a).get(page_of(d)).content.decode()
    assert f'action="/policies/deliveries/{d.pk}/approve/"' in keeper
    assert f'action="/policies/deliveries/{d.pk}/reject/"' in keeper
    assert "办理记录" in keeper
    leader = login(cast.leader_a).get(page_of(d))
    assert leader.status_code == 200
    assert "/approve/" not in leader.content.decode()


def test_a_delivery_out_of_scope_is_not_found(cast, login, item):
    d = walked(cast, item, APPLIED)
    for user in (cast.steward_b, cast.steward_a2, other_department_handler(cast)):
        assert login(user).get(page_of(d)).status_code == 404, user
    assert login(cast.ent_user_a1).get(page_of(d)).status_code == 403  # its portal is its page


def test_the_steward_applies_for_its_enterprise_from_the_page(cast, login, item):
    d = walked(cast, item, PUSHED)
    client = login(cast.steward_a)
    assert f'action="/policies/deliveries/{d.pk}/apply/"' in client.get(page_of(d)).content.decode()
    response = client.post(f"{page_of(d)}apply/", {"version": d.version, "note": "企业电话确认"})
    assert response.status_code == 302 and response["Location"] == page_of(d)
    d = fresh(d)
    assert (d.status, d.applied_by) == (APPLIED, cast.steward_a)
    assert "服务管家代为申请" in client.get(page_of(d)).content.decode()


def test_approving_rejecting_and_disbursing_from_the_page(cast, login, item):
    d = walked(cast, item, APPLIED)
    client = login(cast.handler_a)
    assert client.post(f"{page_of(d)}approve/", {"version": d.version}).status_code == 302
    d = fresh(d)
    assert d.status == APPROVED and d.disburse_due is not None
    response = client.post(
        f"{page_of(d)}disburse/",
        {"version": d.version, "amount": "12.50", "disbursed_on": delivery.today().isoformat()},
    )
    assert response.status_code == 302
    assert (fresh(d).status, fresh(d).amount) == (DISBURSED, Decimal("12.50"))


@pytest.mark.parametrize(
    ("amount", "error"),
    [("-1", "大于或等于0"), ("50.01", "不能超过该事项的最高金额 50 万元"), ("", "该字段是必填项")],
)
def test_a_wrong_amount_is_shown_next_to_the_field(cast, login, item, amount, error):
    d = walked(cast, item, APPROVED)
    response = login(cast.handler_a).post(
        f"{page_of(d)}disburse/",
        {"version": d.version, "amount": amount, "disbursed_on": delivery.today().isoformat()},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert error in body and "兑现金额（万元）：" in body
    assert fresh(d).status == APPROVED


def test_a_future_disbursement_day_is_refused_on_the_form(cast, login, item):
    d = walked(cast, item, APPROVED)
    response = login(cast.handler_a).post(
        f"{page_of(d)}disburse/", {"version": d.version, "amount": "1", "disbursed_on": "2999-01-01"}
    )
    assert response.status_code == 200 and "不能晚于今天" in response.content.decode()


def test_a_rejection_without_a_reason_is_shown_on_the_form(cast, login, item):
    d = walked(cast, item, APPLIED)
    response = login(cast.handler_a).post(f"{page_of(d)}reject/", {"version": d.version, "reason": ""})
    assert response.status_code == 200
    assert "未通过原因：" in response.content.decode()
    assert fresh(d).status == APPLIED


def test_a_step_the_table_refuses_is_shown_and_changes_nothing(cast, login, item):
    d = walked(cast, item, PUSHED)
    response = login(cast.handler_a).post(f"{page_of(d)}approve/", {"version": d.version})
    assert response.status_code == 200
    assert "当前为“已推送”，不能改为“已审核”" in response.content.decode()
    assert fresh(d).status == PUSHED


def test_a_stale_page_is_sent_back_with_the_reason(cast, login, item):
    d = walked(cast, item, APPLIED)
    response = login(cast.handler_a).post(f"{page_of(d)}approve/", {"version": d.version - 1})
    assert response.status_code == 302
    assert any("刚被他人处理" in m for m in messages_of(response))
    assert fresh(d).status == APPLIED


def test_who_may_not_take_a_step_from_the_pages(cast, login, item):
    d = walked(cast, item, APPLIED)
    approve = f"{page_of(d)}approve/"
    assert login(cast.leader_a).post(approve, {"version": d.version}).status_code == 403
    assert login(cast.steward_a).post(approve, {"version": d.version}).status_code == 403
    assert login(other_department_handler(cast)).post(approve, {"version": d.version}).status_code == 404
    assert login(cast.handler_a).get(approve).status_code == 405
    assert fresh(d).status == APPLIED


# --- pushing from another page ------------------------------------------------------------------------------


def test_the_steward_pushes_from_the_enterprise_page_and_comes_back(cast, login, item):
    client = login(cast.steward_a)
    url = f"/policies/items/{item.pk}/push/{cast.ent_a1.pk}/"
    back = f"/enterprises/{cast.ent_a1.pk}/"
    response = client.post(url, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    d = Delivery.objects.get(item=item, enterprise=cast.ent_a1)
    assert d.channel == "steward"
    assert Notification.objects.filter(user=cast.ent_user_a1, link=PORTAL).exists()
    again = client.post(url, {"next": back})
    assert any("不能重复推送" in m for m in messages_of(again))
    assert client.post(url, {"next": "https://evil.example/"})["Location"] != "https://evil.example/"


def test_who_may_not_push_from_the_pages(cast, login, item):
    url = f"/policies/items/{item.pk}/push/{cast.ent_a1.pk}/"
    assert login(cast.steward_a2).post(url).status_code == 404  # not an enterprise it serves
    assert login(cast.steward_b).post(url).status_code == 404  # the policy does not reach zone B
    assert login(cast.leader_a).post(url).status_code == 403
    assert login(other_department_handler(cast)).post(url).status_code == 404
    outside = f"/policies/items/{item.pk}/push/{cast.ent_b1.pk}/"
    assert login(cast.handler_a).post(outside).status_code == 404
    assert not Delivery.objects.exists()


def test_a_keeper_pushes_to_all_and_grants_without_application(cast, login, item, policy):
    client = login(cast.handler_a)
    response = client.post(f"/policies/items/{item.pk}/push-all/")
    assert response.status_code == 302 and response["Location"] == f"{LIST}?policy={policy.pk}"
    assert Delivery.objects.filter(item=item, status=PUSHED).count() == 2
    auto = subsidy(policy, name="免申即享补贴", auto_grant=True)
    client.post(f"/policies/items/{auto.pk}/auto-grant/")
    assert Delivery.objects.filter(item=auto, status=APPLIED, channel="auto").count() == 2
    refused = client.post(f"/policies/items/{item.pk}/auto-grant/")
    assert any("未标记为免申即享" in m for m in messages_of(refused))
    assert login(cast.steward_a).post(f"/policies/items/{item.pk}/push-all/").status_code == 403
    assert (
        login(other_department_handler(cast)).post(f"/policies/items/{item.pk}/push-all/").status_code == 403
    )


# --- totals and export ---------------------------------------------------------------------------------------


def test_the_totals_page_counts_per_policy_and_per_zone(cast, login, item, policy):
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=BEIJING), tick=False):
        walked(cast, item, DISBURSED)
        walked(cast, item, APPROVED, enterprise=cast.ent_a2)
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=BEIJING), tick=False):
        response = login(cast.leader_a).get("/policies/deliveries/totals/")
    body = response.content.decode()
    assert response.status_code == 200
    assert policy.title in body and "高新区" in body
    assert "30.00" in body  # the disbursed amount
    assert f"?policy={policy.pk}&amp;overdue=on" in body
    assert login(cast.ent_user_a1).get("/policies/deliveries/totals/").status_code == 403


def test_the_export_is_the_filtered_list_with_the_uscc_as_text_and_is_audited(cast, login, item, policy):
    walked(cast, item, APPLIED)
    walked(cast, subsidy(policy, name="贷款贴息"), PUSHED)
    response = login(cast.handler_a).get("/policies/deliveries/export/", {"status": APPLIED})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][4] == "统一社会信用代码"
    assert len(rows) == 2
    assert rows[1][2] == "研发费用补贴" and rows[1][4] == USCC_A1
    assert sheet.cell(row=2, column=5).data_type == "s"
    record = AuditRecord.objects.get(action="policies.delivery_export")
    assert record.detail == {"rows": 1, "filters": {"status": APPLIED}}


def test_the_export_is_scoped_and_refuses_bad_filters(cast, login, item):
    walked(cast, item, APPLIED)
    sheet = load_workbook(BytesIO(login(cast.steward_b).get("/policies/deliveries/export/").content)).active
    assert len(list(sheet.iter_rows(values_only=True))) == 1  # the headers only
    bad = login(cast.handler_a).get("/policies/deliveries/export/", {"status": "nonsense"})
    assert bad.status_code == 302 and bad["Location"].startswith(LIST)
    assert login(cast.ent_user_a1).get("/policies/deliveries/export/").status_code == 403


# --- the enterprise's portal ------------------------------------------------------------------------------------


def test_the_enterprise_sees_its_benefits_and_applies_on_its_portal(cast, login, item, policy):
    subsidy(policy, name="人才安居补贴")  # qualifies, never pushed
    client = login(cast.ent_user_a1)
    before = client.get(PORTAL).content.decode()
    assert "研发费用补贴" in before and "人才安居补贴" in before
    assert "请联系您的服务管家" in before
    assert 'data-testid="apply"' not in before

    d = delivery.push(item, cast.ent_a1, by=cast.steward_a)
    pushed = client.get(PORTAL).content.decode()
    assert f'action="/policies/deliveries/{d.pk}/apply/"' in pushed
    assert "已推送/办理中的政策" in pushed

    response = client.post(f"/policies/deliveries/{d.pk}/apply/", {"version": d.version})
    assert response.status_code == 302 and response["Location"] == PORTAL
    d = fresh(d)
    assert (d.status, d.applied_by) == (APPLIED, cast.ent_user_a1)
    assert "承办部门审核中" in client.get(PORTAL).content.decode()
    again = client.post(f"/policies/deliveries/{d.pk}/apply/", {"version": d.version})
    assert any("不能改为" in m for m in messages_of(again))


def test_the_portal_shows_what_happened_to_a_delivery(cast, login, item, policy):
    walked(cast, item, DISBURSED)
    walked(cast, subsidy(policy, name="贷款贴息"), REJECTED)
    body = login(cast.ent_user_a1).get(PORTAL).content.decode()
    assert "已兑现 30.00 万元" in body
    assert "未通过：材料不全" in body


def test_the_portal_is_the_enterprise_user_s_own(cast, login, item):
    d = walked(cast, item, PUSHED)
    stranger = other_enterprise_user(cast)
    body = login(stranger).get(PORTAL).content.decode()
    assert f"/policies/deliveries/{d.pk}/apply/" not in body
    assert (
        login(stranger).post(f"/policies/deliveries/{d.pk}/apply/", {"version": d.version}).status_code == 404
    )
    assert fresh(d).status == PUSHED
    for user in (cast.steward_a, cast.handler_a, cast.leader_a):
        assert login(user).get(PORTAL).status_code == 403


def test_the_disbursement_form_offers_today(cast, login, item):
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING), tick=False):
        d = walked(cast, item, APPROVED)
        body = login(cast.handler_a).get(page_of(d)).content.decode()
    assert 'value="2026-11-20"' in body
    assert date(2026, 11, 27).isoformat() in body  # the due day
