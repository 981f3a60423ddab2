"""The appeal pages: who may open which page and use which form, and what each shows."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.appeals import lifecycle, permissions
from guanjia.appeals.models import (
    Appeal,
    Assignment,
    Channel,
    Outcome,
    Rating,
    RatingLevel,
    Status,
)

BJ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=BJ)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def _submit(cast, land, title="二期厂房容积率调整", **kwargs) -> Appeal:
    return lifecycle.submit_appeal(
        cast.ent_a1,
        title=title,
        body="想了解提高容积率的程序。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        **kwargs,
    )


def _dispatched(cast, land, **kwargs) -> Appeal:
    appeal = _submit(cast, land, **kwargs)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    return appeal


def _answered(cast, land) -> Appeal:
    appeal = _dispatched(cast, land)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    lifecycle.answer_appeal(appeal, answer="请按程序申报。", outcome=Outcome.EXPLAINED, by=cast.handler_a)
    return appeal


def _act(client, appeal, action, data=None, **extra):
    appeal.refresh_from_db()
    payload = {"version": appeal.version, **(data or {})}
    return client.post(reverse("appeals:act", args=[appeal.pk, action]), payload, **extra)


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- submit -------------------------------------------------------------------


SUBMIT = {"title": "厂房消防验收咨询", "body": "新厂房何时可以申请消防验收？", "handling": "consult"}


def test_enterprise_user_submits_from_the_portal(routed, land, login):
    client = login(routed.ent_user_a1)
    portal = client.get(reverse("enterprises:portal")).content.decode()
    assert reverse("appeals:submit", args=[routed.ent_a1.pk]) in portal
    url = reverse("appeals:submit", args=[routed.ent_a1.pk])
    assert "企业门户" in client.get(url).content.decode()
    response = client.post(url, {**SUBMIT, "category": land.pk, "urgent": "on"})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert (appeal.channel, appeal.category, appeal.urgent, appeal.submitted_by) == (
        Channel.PORTAL,
        land,
        True,
        routed.ent_user_a1,
    )


def test_steward_and_dispatcher_submit_through_their_channels(routed, land, login):
    cast = routed
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    assert login(cast.steward_a).post(url, SUBMIT).status_code == 302
    dispatcher = login(cast.dispatcher_a)
    assert "外部工单号" in dispatcher.get(url).content.decode()
    response = dispatcher.post(
        url, {**SUBMIT, "external_ticket": "12345-2026-0001", "external_due": "2026-03-05"}
    )
    assert response.status_code == 302
    steward_made, phone_made = Appeal.objects.order_by("pk")
    assert steward_made.channel == Channel.STEWARD and steward_made.category is None
    assert phone_made.channel == Channel.PHONE and phone_made.external_ticket == "12345-2026-0001"
    assert phone_made.external_due == datetime(2026, 3, 6, 0, 0, tzinfo=BJ)  # 24:00 of the day given


def test_who_may_not_submit(routed, login):
    cast = routed
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    # Sees the enterprise, but has no channel to submit through: 403.
    for user in (cast.supervisor_a, cast.leader_a, cast.promoter_a):
        assert login(user).get(url).status_code == 403, user
        assert login(user).post(url, SUBMIT).status_code == 403, user
    # Does not see the enterprise at all: 404.
    for user in (cast.steward_a2, cast.steward_b, cast.handler_a, cast.outsider, cast.sysadmin, cast.auditor):
        assert login(user).get(url).status_code == 404, user
    # Another enterprise's user.
    assert login(cast.ent_user_a1).get(reverse("appeals:submit", args=[cast.ent_a2.pk])).status_code == 404
    assert not Appeal.objects.exists()


def test_a_form_error_shows_a_chinese_message_and_writes_nothing(routed, login):
    cast = routed
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    response = login(cast.ent_user_a1).post(url, {"title": "", "body": "   ", "handling": "normal"})
    page = response.content.decode()
    assert response.status_code == 200 and "标题：该字段是必填项。" in page and "诉求内容：" in page
    response = login(cast.dispatcher_a).post(url, SUBMIT)  # a 12345 transfer needs its ticket
    assert "外部工单号：该字段是必填项。" in response.content.decode()
    assert not Appeal.objects.exists()


# --- the appeal page: who sees it ------------------------------------------------


def test_who_opens_the_appeal_page(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land)
    url = reverse("appeals:detail", args=[appeal.pk])
    for user in (
        cast.ent_user_a1,
        cast.steward_a,
        cast.dispatcher_a,
        cast.supervisor_a,
        cast.leader_a,
        cast.leader_city,
        cast.handler_a,
        cast.head_a,
    ):
        response = login(user).get(url)
        assert response.status_code == 200, user
        assert appeal.title in response.content.decode()
    for user in (
        cast.steward_a2,  # another enterprise's steward
        cast.steward_b,
        cast.handler_centre,  # a department the appeal was not given to
        cast.dispatcher_b,  # another zone
        cast.promoter_a,
        cast.outsider,
        cast.sysadmin,
        cast.secadmin,
        cast.auditor,
    ):
        assert login(user).get(url).status_code == 404, user
        assert _act(login(user), appeal, "sign").status_code == 404, user
    assert Appeal.objects.get(pk=appeal.pk).status == Status.DISPATCHED


def test_the_page_shows_deadlines_assignments_timeline_and_only_allowed_forms(routed, land, login, monday):
    cast = routed
    appeal = _dispatched(cast, land)
    page = login(cast.handler_a).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    # 一般: 5 working days after Monday 2026-03-02 is Monday 2026-03-09, 24:00; 5 working days left.
    assert "2026-03-09 24:00" in page and "剩 5 个工作日" in page
    assert "高新区市场监管局" in page and "主办" in page
    for step in ("提交", "交办", "受理"):
        assert step in page
    assert f"appeals/{appeal.pk}/act/sign/" in page
    assert "act/answer/" not in page and "act/dispatch/" not in page
    dispatcher_page = (
        login(cast.dispatcher_a).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    )
    assert "act/sign/" not in dispatcher_page and "act/dispatch/" not in dispatcher_page
    owner_page = login(cast.ent_user_a1).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    # The enterprise may add material (附件) while the appeal is handled; no transition is its own now.
    main = owner_page.split('id="main"')[1]
    assert main.count("<form") == 1 and f'action="/appeals/{appeal.pk}/attachments/"' in main


def test_a_deadline_in_an_uncovered_year_is_marked_provisional(routed, land, login):
    cast = routed
    with time_machine.travel(datetime(2026, 12, 30, 10, 0, tzinfo=BJ), tick=False):
        appeal = _dispatched(cast, land)
        page = login(cast.handler_a).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "临时" in page


def test_confidential_hides_the_enterprise_from_the_handler_only(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land, confidential=True)
    name = cast.ent_a1.name
    handler_page = login(cast.handler_a).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert name not in handler_page and "（企业要求保密）" in handler_page
    assert "ent_user_a1" not in handler_page and "13812345678" not in handler_page
    worklist = login(cast.head_a).get(reverse("appeals:worklist")).content.decode()
    assert appeal.title in worklist and name not in worklist and "（企业要求保密）" in worklist
    for user in (cast.dispatcher_a, cast.steward_a, cast.ent_user_a1, cast.supervisor_a):
        page = login(user).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
        assert name in page and "（企业要求保密）" not in page, user


def test_phones_are_masked_for_roles_that_do_not_need_them(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land)
    url = reverse("appeals:detail", args=[appeal.pk])
    assert "13812345678" in login(cast.dispatcher_a).get(url).content.decode()
    for user in (cast.leader_a, cast.handler_a):
        page = login(user).get(url).content.decode()
        assert "13812345678" not in page and "138****5678" in page, user


# --- the dispatcher's queue -----------------------------------------------------


def test_the_queue_is_the_dispatchers_oldest_first_with_overdue_marked(routed, land, login):
    cast = routed
    with time_machine.travel(MONDAY, tick=False):
        old = _submit(cast, land, title="早提交的诉求")
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=BJ), tick=False):
        new = _submit(cast, land, title="新提交的诉求")
        returned = _dispatched(cast, land, title="被退回的诉求")
        lifecycle.return_appeal(returned, reason="不归本部门管", by=cast.handler_a)
        _dispatched(cast, land, title="已交办的诉求")
        page = login(cast.dispatcher_a).get(reverse("appeals:queue")).content.decode()
    assert page.index(old.title) < page.index(new.title)
    assert "被退回的诉求" in page and "不归本部门管" in page and "已交办的诉求" not in page
    assert page.count("queue-overdue") == 1  # the old one: accept by 2026-03-03 24:00
    assert new.title not in login(cast.dispatcher_b).get(reverse("appeals:queue")).content.decode()
    for user in (
        cast.handler_a,
        cast.steward_a,
        cast.ent_user_a1,
        cast.supervisor_a,
        cast.outsider,
        cast.sysadmin,
    ):
        assert login(user).get(reverse("appeals:queue")).status_code == 403, user


def test_dispatch_preselects_the_routed_department_and_keeps_to_the_zone(routed, land, login):
    cast = routed
    appeal = _submit(cast, land)
    client = login(cast.dispatcher_a)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert f'<option value="{cast.market_a.pk}" selected>' in page
    assert "经开区企业服务中心" not in page  # departments of the appeal's zone only
    response = _act(client, appeal, "dispatch", {"dispatch-lead": cast.centre_b.pk})
    assert response.status_code == 200 and "交办未提交" in response.content.decode()
    assert "主办部门：" in response.content.decode()
    assert not Assignment.objects.exists()
    response = _act(
        client,
        appeal,
        "dispatch",
        {"dispatch-lead": cast.market_a.pk, "dispatch-co": [cast.centre_a.pk], "dispatch-category": land.pk},
    )
    assert response.status_code == 302
    assert set(Assignment.objects.values_list("department__code", "is_lead")) == {
        ("zone-a-market", True),
        ("zone-a-centre", False),
    }
    assert Appeal.objects.get(pk=appeal.pk).status == Status.DISPATCHED


def test_decline_needs_a_reason_and_advice(routed, land, login):
    cast = routed
    appeal = _submit(cast, land)
    client = login(cast.dispatcher_a)
    response = _act(client, appeal, "decline", {"decline-reason": "属于民事纠纷", "decline-advice": ""})
    assert (
        "不予受理未提交" in response.content.decode()
        and "办理建议：该字段是必填项。" in response.content.decode()
    )
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SUBMITTED
    _act(
        client,
        appeal,
        "decline",
        {"decline-reason": "属于民事纠纷", "decline-advice": "建议通过法律途径解决"},
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.DECLINED
    page = login(cast.ent_user_a1).get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "建议通过法律途径解决" in page


def test_a_refusal_of_the_service_is_shown_naming_what_failed(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land)
    # The steward sees the appeal but may not sign: the service refuses, the page says so.
    response = _act(login(cast.steward_a), appeal, "sign", follow=True)
    assert "签收未成功：只有高新区市场监管局的承办人可以办理" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).status == Status.DISPATCHED


def test_a_stale_page_is_refused_with_a_clear_message(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land)
    version = appeal.version
    url = reverse("appeals:act", args=[appeal.pk, "sign"])
    assert login(cast.handler_a).post(url, {"version": version}).status_code == 302
    response = login(cast.head_a).post(url, {"version": version}, follow=True)
    assert "签收未成功" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).events.filter(action="sign").count() == 1


# --- the department's worklist --------------------------------------------------


def test_the_worklist_tabs(routed, land, login):
    cast = routed
    with time_machine.travel(MONDAY, tick=False):
        to_sign = _dispatched(cast, land, title="待签收的诉求")
        late = _dispatched(cast, land, title="会超期的诉求", urgent=True)  # answer by Tuesday 24:00
        lifecycle.sign_appeal(late, by=cast.handler_a)
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=BJ), tick=False):
        soon = _dispatched(cast, land, title="快到期的诉求", urgent=True)  # answer by Thursday 24:00
        lifecycle.sign_appeal(soon, by=cast.handler_a)
        client = login(cast.handler_a)
        pages = {
            tab: client.get(reverse("appeals:worklist"), {"tab": tab}).content.decode()
            for tab in ("sign", "doing", "soon", "overdue")
        }
        wrong = login(cast.handler_centre).get(reverse("appeals:worklist")).content.decode()
    assert to_sign.title in pages["sign"] and late.title not in pages["sign"]
    assert (
        late.title in pages["doing"] and soon.title in pages["doing"] and to_sign.title not in pages["doing"]
    )
    assert soon.title in pages["soon"] and late.title not in pages["soon"]
    assert late.title in pages["overdue"] and soon.title not in pages["overdue"]
    for title in (to_sign.title, late.title, soon.title):
        assert title not in wrong
    for user in (
        cast.dispatcher_a,
        cast.steward_a,
        cast.ent_user_a1,
        cast.leader_a,
        cast.outsider,
        cast.auditor,
    ):
        assert login(user).get(reverse("appeals:worklist")).status_code == 403, user


def test_handler_signs_from_the_worklist_and_answers(routed, land, login):
    cast = routed
    appeal = _dispatched(cast, land)
    client = login(cast.handler_a)
    worklist = reverse("appeals:worklist") + "?tab=sign"
    response = _act(client, appeal, "sign", {"next": worklist})
    assert response.status_code == 302 and response["Location"] == worklist
    response = _act(client, appeal, "answer", {"answer-outcome": Outcome.SOLVED, "answer-answer": ""})
    assert "答复未提交：答复内容：该字段是必填项。" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SIGNED
    _act(client, appeal, "answer", {"answer-outcome": Outcome.SOLVED, "answer-answer": "已协调办理"})
    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED


def test_rating_reopens_or_closes_and_recording_on_behalf_is_marked(routed, land, login):
    cast = routed
    appeal = _answered(cast, land)
    url = reverse("appeals:detail", args=[appeal.pk])
    assert "act/rate/" in login(cast.ent_user_a1).get(url).content.decode()
    assert "act/rate_on_behalf/" in login(cast.steward_a).get(url).content.decode()
    assert "act/rate" not in login(cast.handler_a).get(url).content.decode()
    response = _act(login(cast.ent_user_a1), appeal, "rate", {"rate-comment": "没解决"})
    assert "评价未提交" in response.content.decode() and not Rating.objects.exists()
    _act(
        login(cast.ent_user_a1), appeal, "rate", {"rate-level": RatingLevel.DISSATISFIED, "rate-solved": "0"}
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.SIGNED and appeal.reopen_count == 1
    lifecycle.answer_appeal(appeal, answer="再次答复", outcome=Outcome.SOLVED, by=cast.handler_a)
    _act(
        login(cast.steward_a),
        appeal,
        "rate_on_behalf",
        {"rate_on_behalf-level": RatingLevel.SATISFIED, "rate_on_behalf-solved": "1"},
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
    assert list(Rating.objects.values_list("on_behalf", flat=True)) == [False, True]
    assert "回访代录" in login(cast.ent_user_a1).get(url).content.decode()


def test_available_actions_mirror_the_services(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    assert permissions.available_actions(appeal, cast.dispatcher_a) == ["dispatch", "decline"]
    assert permissions.available_actions(appeal, cast.handler_a) == []
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert permissions.available_actions(appeal, cast.handler_a) == ["sign", "return"]
    assert permissions.available_actions(appeal, cast.handler_centre) == []
    assert permissions.available_actions(appeal, cast.dispatcher_a) == []
    with time_machine.travel(MONDAY, tick=False):
        lifecycle.sign_appeal(appeal, by=cast.head_a)
        assert permissions.available_actions(appeal, cast.handler_a) == [
            "return",
            "answer",
            "pause",
            "extend",
        ]
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=BJ), tick=False):
        assert permissions.available_actions(appeal, cast.handler_a) == [
            "answer",
            "pause",
            "extend",
        ]  # the return window closed
    lifecycle.answer_appeal(appeal, answer="x", outcome=Outcome.SOLVED, by=cast.handler_a)
    assert permissions.available_actions(appeal, cast.ent_user_a1) == ["rate"]
    assert permissions.available_actions(appeal, cast.steward_a) == ["rate_on_behalf"]
    assert permissions.available_actions(appeal, cast.dispatcher_a) == ["rate_on_behalf"]
    assert permissions.available_actions(appeal, cast.steward_a2) == []
    assert permissions.available_actions(appeal, cast.leader_a) == []


# --- lists --------------------------------------------------------------------


def test_my_appeals_shows_the_next_step(routed, land, login):
    cast = routed
    answered = _answered(cast, land)
    waiting = _submit(cast, land, title="还在等受理的诉求")
    other = lifecycle.submit_appeal(
        cast.ent_a2, title="别家企业的诉求", body="b", channel=Channel.STEWARD, by=cast.steward_a2
    )
    page = login(cast.ent_user_a1).get(reverse("appeals:mine")).content.decode()
    assert answered.title in page and "已答复，请查看答复并评价" in page
    assert waiting.title in page and "等待园区受理" in page
    assert other.title not in page
    for user in (cast.steward_a, cast.dispatcher_a, cast.handler_a, cast.outsider, cast.sysadmin):
        assert login(user).get(reverse("appeals:mine")).status_code == 403, user


def test_the_stewards_list_and_the_zone_list(routed, land, login):
    cast = routed
    with time_machine.travel(MONDAY, tick=False):
        mine = _submit(cast, land, title="管家甲企业的诉求")
        other = lifecycle.submit_appeal(
            cast.ent_a2, title="管家乙企业的诉求", body="b", channel=Channel.STEWARD, by=cast.steward_a2
        )
    page = login(cast.steward_a).get(reverse("appeals:stewarded")).content.decode()
    assert mine.title in page and other.title not in page
    zone = login(cast.supervisor_a)
    page = zone.get(reverse("appeals:list")).content.decode()
    assert mine.title in page and other.title in page
    page = zone.get(reverse("appeals:list"), {"enterprise": cast.ent_a2.pk}).content.decode()
    assert mine.title not in page and other.title in page
    lifecycle.dispatch_appeal(mine, by=cast.dispatcher_a)
    page = zone.get(reverse("appeals:list"), {"status": "dispatched"}).content.decode()
    assert mine.title in page and other.title not in page
    page = zone.get(reverse("appeals:list"), {"overdue": "on"}).content.decode()
    assert other.title in page and mine.title not in page  # accept by 2026-03-03: long past
    page = login(cast.dispatcher_b).get(reverse("appeals:list")).content.decode()
    assert mine.title not in page and other.title not in page  # another zone
    for user in (cast.handler_a, cast.ent_user_a1, cast.promoter_a, cast.sysadmin):
        assert login(user).get(reverse("appeals:list")).status_code == 403, user
    for user in (cast.dispatcher_a, cast.ent_user_a1, cast.outsider):
        assert login(user).get(reverse("appeals:stewarded")).status_code == 403, user


def test_navigation_and_enterprise_page_links(routed, login):
    cast = routed
    expected = {
        cast.ent_user_a1: "我的诉求",
        cast.steward_a: "我服务企业的诉求",
        cast.dispatcher_a: "诉求受理",
        cast.handler_a: "部门工作台",
        cast.head_a: "部门工作台",
        cast.supervisor_a: "诉求总览",
    }
    for user, label in expected.items():
        assert label in login(user).get(reverse("home")).content.decode(), user
    assert "部门工作台" not in login(cast.dispatcher_a).get(reverse("home")).content.decode()
    submit = reverse("appeals:submit", args=[cast.ent_a1.pk])
    detail = reverse("enterprises:detail", args=[cast.ent_a1.pk])
    assert submit in login(cast.steward_a).get(detail).content.decode()
    assert submit in login(cast.dispatcher_a).get(detail).content.decode()
    assert submit not in login(cast.supervisor_a).get(detail).content.decode()


# --- query counts -----------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["appeals:queue", "appeals:worklist", "appeals:list", "appeals:mine"])
def test_list_queries_do_not_grow_with_rows(routed, land, login, page):
    cast = routed
    user = {
        "appeals:queue": cast.dispatcher_a,
        "appeals:worklist": cast.handler_a,
        "appeals:list": cast.supervisor_a,
        "appeals:mine": cast.ent_user_a1,
    }[page]
    client = login(user)

    def add(n: int) -> None:
        for i in range(n):
            appeal = _submit(cast, land, title=f"诉求{i}", confidential=i % 2 == 0)
            if page != "appeals:queue":
                lifecycle.dispatch_appeal(appeal, co=[cast.centre_a], by=cast.dispatcher_a)

    add(2)
    client.get(reverse(page))  # warm the session and the calendar
    few = _queries(client, reverse(page))
    add(18)
    many = _queries(client, reverse(page))
    assert few == many, (few, many)


def test_list_export_is_scoped_hides_confidential_enterprises_and_is_audited(routed, land, login):
    import io

    from openpyxl import load_workbook

    from guanjia.core.models import AuditRecord

    cast = routed
    secret = lifecycle.submit_appeal(
        cast.ent_a1,
        title="保密的诉求",
        body="b",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        confidential=True,
    )
    lifecycle.dispatch_appeal(secret, by=cast.dispatcher_a)
    lifecycle.submit_appeal(
        cast.ent_b1, title="经开区的诉求", body="b", channel=Channel.STEWARD, by=cast.steward_b
    )

    def rows(user, url):
        response = login(user).get(url, {"format": "xlsx"})
        assert response.status_code == 200 and response["Content-Type"].endswith("sheet"), response.content[
            :300
        ]
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        return [list(r) for r in sheet.iter_rows(values_only=True)][1:]

    zone = rows(cast.dispatcher_a, reverse("appeals:list"))
    assert [r[1] for r in zone] == ["保密的诉求"]  # zone B's appeal is not zone A's business
    assert zone[0][2] == cast.ent_a1.name  # the zone's staff see the enterprise
    assert AuditRecord.objects.filter(action="appeal.export", actor=cast.dispatcher_a).exists()
    own = rows(cast.ent_user_a1, reverse("appeals:mine"))
    assert [r[1] for r in own] == ["保密的诉求"]
    for who in ("handler_a", "steward_a2", "outsider"):
        assert (
            login(getattr(cast, who)).get(reverse("appeals:list"), {"format": "xlsx"}).status_code == 403
        ), who


def test_supervisor_escalates_from_the_appeal_page_and_nobody_else_can(routed, land, login):
    from guanjia.appeals.models import Escalation
    from guanjia.core.models import Notification

    cast = routed
    appeal = lifecycle.submit_appeal(
        cast.ent_a1, title="督办测试", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1, category=land
    )
    url = reverse("appeals:detail", args=[appeal.pk])
    act = reverse("appeals:act", args=[appeal.pk, "escalate"])
    assert "督办意见" not in login(cast.supervisor_a).get(url).content.decode()  # nobody holds it yet
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    appeal.refresh_from_db()
    assert "督办意见" in login(cast.supervisor_a).get(url).content.decode()
    for who in ("dispatcher_a", "leader_a", "handler_a", "steward_a"):
        assert "督办意见" not in login(getattr(cast, who)).get(url).content.decode(), who
        login(getattr(cast, who)).post(act, {"escalate-note": "请加快", "version": appeal.version})
    assert not Escalation.objects.exists()
    response = login(cast.supervisor_a).post(
        act, {"escalate-note": "请本周内答复", "version": appeal.version}
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get()
    assert escalation.by == cast.supervisor_a and escalation.level == Escalation.Level.MANUAL
    assert Notification.objects.filter(user=cast.head_a).exists()
    empty = login(cast.supervisor_a).post(act, {"escalate-note": "", "version": appeal.version})
    assert "督办意见" in empty.content.decode() and Escalation.objects.count() == 1
