"""部门群机器人: DingTalk and WeCom posts through the outbox, the escalation sweep's messages, and the admin page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanjia.appeals import escalation, lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Channel
from guanjia.core import outbox, webhooks
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, DepartmentWebhook, OutboxMessage
from guanjia.core.roles import Role
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
SECRET = "SEC0123456789abcdef0123456789abcdef"
TITLE = "二期厂房容积率调整"


@dataclass
class Robot:
    """A stand-in for the DingTalk / WeCom robot endpoints on 127.0.0.1."""

    base: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})

    def url(self, path: str = "/robot/send?access_token=tok123456789") -> str:
        return f"{self.base}{path}"


@pytest.fixture
def robot(monkeypatch) -> Iterator[Robot]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    state: Robot

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(body.decode("utf-8"))}
            )
            reply = json.dumps(state.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Robot(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _add(cast, robot: Robot, kind: str, **kwargs: Any) -> DepartmentWebhook:
    return webhooks.save_webhook(
        unit=kwargs.pop("unit", cast.market_a), kind=kind, url=robot.url(), by=cast.sysadmin, **kwargs
    )


def _webhook_messages(event: str | None = None):
    messages = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK).order_by("id")
    return [m for m in messages if event is None or m.payload.get("event") == event]


# --- Sending ------------------------------------------------------------------------------------


def test_dingtalk_post_is_text_with_a_verifiable_signature(cast, robot):
    hook = _add(cast, robot, "dingtalk", secret=SECRET)
    assert webhooks.notify_unit(cast.market_a.pk, event="dispatched", ref=42, link="/appeals/42/") == 1
    message = _webhook_messages()[0]
    assert message.recipient == hook.url
    assert message.payload == {
        "format": "dingtalk",
        "webhook_id": hook.pk,
        "event": "dispatched",
        "ref": 42,
        "link": "http://127.0.0.1:8000/appeals/42/",
    }
    assert SECRET not in json.dumps(message.payload)

    before = int(time.time() * 1000)
    assert outbox.deliver_pending() == 1
    [post] = robot.received
    assert post["body"] == {
        "msgtype": "text",
        "text": {
            "content": "【管家平台】诉求 #42 已交办到本部门，请及时签收：http://127.0.0.1:8000/appeals/42/"
        },
    }
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(post["path"]).query)
    assert query["access_token"] == ["tok123456789"]
    timestamp = query["timestamp"][0]
    assert before <= int(timestamp) <= int(time.time() * 1000)
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]  # parse_qs undoes the url-encoding DingTalk asks for
    assert "%2B" in post["path"] or "+" not in expected  # the base64 '+' is sent encoded
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT


def test_wecom_post_is_text_and_unsigned(cast, robot):
    _add(cast, robot, "wecom")
    webhooks.notify_unit(cast.market_a.pk, event="no-such-event", ref=7, link="/appeals/7/")
    assert outbox.deliver_pending() == 1
    [post] = robot.received
    assert "timestamp" not in post["path"] and "sign" not in post["path"]
    assert post["body"]["msgtype"] == "text"
    assert post["body"]["text"]["content"] == (
        "【管家平台】诉求 #7 有新的办理动态，请登录查看：http://127.0.0.1:8000/appeals/7/"
    )


def test_every_event_has_a_sentence_with_the_number_and_link_only():
    for event in (
        "dispatched",
        "warning",
        "yellow",
        "red",
        "leader",
        "manual",
        "extension_requested",
        "answer_pending_approval",
    ):
        assert event in webhooks.EVENT_SENTENCES
        text = webhooks.message_text(event, 99, "https://x.example/appeals/99/")
        assert "#99" in text and text.endswith("https://x.example/appeals/99/") and "管家平台" in text
    with pytest.raises(ValueError, match="relative path"):
        webhooks.notify_unit(1, event="red", ref=1, link="https://evil.example/")


@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_nonzero_errcode_is_retried_with_backoff_then_failed(cast, robot):
    robot.answer = {"errcode": 310000, "errmsg": "sign not match"}
    _add(cast, robot, "dingtalk", secret=SECRET)
    webhooks.notify_unit(cast.market_a.pk, event="red", ref=5, link="/appeals/5/")
    assert outbox.deliver_pending() == 0
    [message] = _webhook_messages()
    assert message.status == OutboxMessage.Status.PENDING
    assert "310000" in message.last_error and "sign not match" in message.last_error
    assert message.available_at > timezone.now()
    assert SECRET not in message.last_error and "tok123456789" not in message.last_error
    assert outbox.deliver_pending() == 0  # backoff: not due yet
    assert len(robot.received) == 1
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        outbox.deliver_pending()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 2
    assert len(robot.received) == 2


def test_deactivated_or_deleted_robot_fails_without_sending(cast, robot):
    ding = _add(cast, robot, "dingtalk")
    wecom = _add(cast, robot, "wecom")
    assert webhooks.notify_unit(cast.market_a.pk, event="yellow", ref=3, link="/appeals/3/") == 2
    webhooks.set_webhook_active(ding, False, by=cast.sysadmin)
    webhooks.delete_webhook(wecom, by=cast.sysadmin)
    assert outbox.deliver_pending() == 0
    assert robot.received == []
    errors = {m.payload["format"]: (m.status, m.attempts, m.last_error) for m in _webhook_messages()}
    assert errors["dingtalk"][:2] == (OutboxMessage.Status.FAILED, 1) and "停用" in errors["dingtalk"][2]
    assert errors["wecom"][:2] == (OutboxMessage.Status.FAILED, 1) and "删除" in errors["wecom"][2]
    # A deactivated robot is not written to at all any more.
    assert webhooks.notify_unit(cast.market_a.pk, event="yellow", ref=4, link="/appeals/4/") == 0


def test_plain_webhooks_without_a_format_keep_their_generic_json(cast, robot):
    OutboxMessage.objects.create(
        channel="webhook", recipient=robot.url("/hook"), payload={"ref": 8, "link": "/x/"}
    )
    assert outbox.deliver_pending() == 1
    assert robot.received[0]["body"]["ref"] == 8 and "msgtype" not in robot.received[0]["body"]


# --- The escalation sweep -----------------------------------------------------------------------

DISPATCHED = datetime(2026, 2, 13, 15, 0, tzinfo=BJ)  # answer due 24:00 on 27 February (see test_escalation)


def test_sweep_escalation_enqueues_one_message_per_robot_once(cast, robot):
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD, phone="13900000009")
    ding = _add(cast, robot, "dingtalk", secret=SECRET)
    wecom = _add(cast, robot, "wecom")
    _add(cast, robot, "wecom", unit=cast.centre_a)  # another department's robot hears nothing
    _add(cast, robot, "dingtalk", unit=cast.centre_a, is_active=False)
    with time_machine.travel(DISPATCHED, tick=False):
        appeal = lifecycle.submit_appeal(
            cast.ent_a1,
            title=TITLE,
            body="想了解提高容积率的程序。",
            channel=Channel.PORTAL,
            by=cast.ent_user_a1,
        )
        lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a, category=land)
        lifecycle.sign_appeal(appeal, by=cast.handler_a)

    with time_machine.travel(datetime(2026, 2, 28, 9, 0, tzinfo=BJ), tick=False):
        assert escalation.sweep().yellow == 1
        assert escalation.sweep().total == 0
    yellow = _webhook_messages("yellow")
    assert sorted(m.payload["webhook_id"] for m in yellow) == sorted([ding.pk, wecom.pk])
    assert {m.payload["ref"] for m in yellow} == {appeal.pk}

    escalation.escalate_by_hand(appeal, note="请加快办理", by=cast.supervisor_a)
    assert len(_webhook_messages("manual")) == 2

    outbox.deliver_pending()
    sent = [m for m in _webhook_messages() if m.payload["event"] in ("yellow", "manual")]
    assert {m.status for m in sent} == {OutboxMessage.Status.SENT}
    # Neither what is stored nor what the groups read names the appeal's text, the enterprise or a phone.
    stored = json.dumps([m.payload for m in _webhook_messages()], ensure_ascii=False)
    posted = json.dumps([r["body"] for r in robot.received], ensure_ascii=False)
    for leak in (TITLE, "容积率", cast.ent_a1.name, "13812345678", "13900000009", cast.market_a.name):
        assert leak not in stored and leak not in posted, leak
    # Both robots of the department: 交办, 催办 and 督办 each once.
    assert len(robot.received) == 6
    assert sorted(m.payload["event"] for m in _webhook_messages()) == sorted(
        ["dispatched", "dispatched", "yellow", "yellow", "manual", "manual"]
    )
    assert all(f"#{appeal.pk}" in r["body"]["text"]["content"] for r in robot.received)


# --- Configuration: rules, page and API ---------------------------------------------------------


def test_addresses_are_checked(cast):
    save = webhooks.save_webhook
    with pytest.raises(ServiceError, match="https"):
        save(unit=cast.market_a, kind="dingtalk", url="http://oapi.dingtalk.com/robot/send", by=cast.sysadmin)
    with pytest.raises(ServiceError, match="oapi.dingtalk.com"):
        save(unit=cast.market_a, kind="dingtalk", url="https://example.com/robot", by=cast.sysadmin)
    with pytest.raises(ServiceError, match="qyapi.weixin.qq.com"):
        save(unit=cast.market_a, kind="wecom", url="https://oapi.dingtalk.com/robot/send", by=cast.sysadmin)
    with pytest.raises(ServiceError, match="用户名"):
        save(unit=cast.market_a, kind="wecom", url="https://u:p@qyapi.weixin.qq.com/x", by=cast.sysadmin)
    with pytest.raises(ServiceError, match="只能配置给部门"):
        save(unit=cast.zone_a, kind="wecom", url="https://qyapi.weixin.qq.com/x", by=cast.sysadmin)
    with pytest.raises(ServiceError, match="加签"):
        save(
            unit=cast.market_a,
            kind="wecom",
            url="https://qyapi.weixin.qq.com/x",
            secret="S",
            by=cast.sysadmin,
        )
    with pytest.raises(NotAllowed):
        save(unit=cast.market_a, kind="wecom", url="https://qyapi.weixin.qq.com/x", by=cast.dispatcher_a)
    relay = save(
        unit=cast.market_a,
        kind="dingtalk",
        url="https://relay.zone.internal/ding",
        other_host=True,
        by=cast.sysadmin,
    )
    assert relay.url == "https://relay.zone.internal/ding"
    save(
        unit=cast.market_a,
        kind="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        by=cast.sysadmin,
    )
    with pytest.raises(ServiceError, match="已配置"):
        save(unit=cast.market_a, kind="wecom", url="https://qyapi.weixin.qq.com/x", by=cast.sysadmin)
    with override_settings(TESTING=False, DEBUG=False), pytest.raises(ServiceError, match="https"):
        webhooks.check_url("http://127.0.0.1:9/robot", "dingtalk")


def test_system_admin_configures_robots_on_the_page(cast, login):
    client = login(cast.sysadmin)
    assert client.get(reverse("core:robots")).status_code == 200
    url = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789"
    response = client.post(
        reverse("core:robots"),
        {"unit": cast.market_a.pk, "kind": "dingtalk", "url": url, "secret": SECRET, "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    hook = DepartmentWebhook.objects.get()
    assert (hook.unit, hook.kind, hook.url, hook.secret, hook.is_active) == (
        cast.market_a,
        "dingtalk",
        url,
        SECRET,
        True,
    )
    page = client.get(reverse("core:robots")).content.decode()
    assert "SEC…ef" in page and SECRET not in page and "abcdef0123456789" not in page
    assert "尚未发送" in page
    edit = client.get(reverse("core:robot-edit", args=[hook.pk])).content.decode()
    assert SECRET not in edit and "abcdef0123456789" not in edit

    # Editing with the address and secret left empty keeps both.
    client.post(reverse("core:robot-edit", args=[hook.pk]), {"unit": cast.market_a.pk, "kind": "dingtalk"})
    hook.refresh_from_db()
    assert (hook.url, hook.secret, hook.is_active) == (url, SECRET, False)
    client.post(reverse("core:robot-active", args=[hook.pk]), {"active": "1"})
    hook.refresh_from_db()
    assert hook.is_active

    # A host that is not DingTalk's needs the box ticked.
    response = client.post(
        reverse("core:robot-edit", args=[hook.pk]),
        {
            "unit": cast.market_a.pk,
            "kind": "dingtalk",
            "url": "https://relay.zone.internal/ding",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "使用其他主机" in response.content.decode()

    client.post(reverse("core:robot-test", args=[hook.pk]))
    [message] = _webhook_messages("test")
    assert message.payload["webhook_id"] == hook.pk
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.FAILED, last_error="RobotRefused: errcode 300001: token is not exist"
    )
    page = client.get(reverse("core:robots")).content.decode()
    assert "发送失败" in page and "token is not exist" in page

    client.post(reverse("core:robot-delete", args=[hook.pk]))
    assert not DepartmentWebhook.objects.exists()
    actions = list(
        AuditRecord.objects.filter(object_type="core.departmentwebhook").values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        ["webhook.create", "webhook.update", "webhook.enable", "webhook.test", "webhook.delete"]
    )
    audit_text = json.dumps(list(AuditRecord.objects.values("summary", "detail")), ensure_ascii=False)
    assert SECRET not in audit_text and "abcdef0123456789" not in audit_text


@pytest.mark.parametrize(
    "who", ["secadmin", "auditor", "dispatcher_a", "supervisor_a", "handler_a", "outsider"]
)
def test_other_roles_may_not_touch_robots(cast, login, who):
    hook = webhooks.save_webhook(
        unit=cast.market_a, kind="wecom", url="https://qyapi.weixin.qq.com/x?key=k", by=cast.sysadmin
    )
    client = login(getattr(cast, who))
    assert client.get(reverse("core:robots")).status_code == 403
    assert client.get(reverse("core:robot-edit", args=[hook.pk])).status_code == 403
    for name in ("core:robot-active", "core:robot-delete", "core:robot-test"):
        assert client.post(reverse(name, args=[hook.pk]), {"active": "0"}).status_code == 403, name
    assert client.get("/api/department-webhooks/").status_code == 403
    assert client.post(f"/api/department-webhooks/{hook.pk}/test/").status_code == 403
    hook.refresh_from_db()
    assert hook.is_active and not _webhook_messages()
    assert "部门群机器人" not in client.get(reverse("home")).content.decode()


def test_api_hides_the_address_and_secret(cast, login):
    client = login(cast.sysadmin)
    response = client.post(
        "/api/department-webhooks/",
        {
            "unit": cast.market_a.pk,
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789",
            "secret": SECRET,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_secret"] is True and "secret" not in body and "url" not in body
    assert "abcdef0123456789" not in json.dumps(body)
    pk = body["id"]
    response = client.patch(
        f"/api/department-webhooks/{pk}/", {"is_active": False}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert DepartmentWebhook.objects.get(pk=pk).secret == SECRET
    assert client.post(f"/api/department-webhooks/{pk}/test/").status_code == 202
    listing = client.get("/api/department-webhooks/").json()
    assert SECRET not in json.dumps(listing)
    assert client.delete(f"/api/department-webhooks/{pk}/").status_code == 204
    assert AuditRecord.objects.filter(action="webhook.delete", object_id=str(pk)).exists()


def test_editing_keeps_clears_or_rechecks(cast):
    ding = webhooks.save_webhook(
        unit=cast.market_a,
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=t",
        secret=SECRET,
        by=cast.sysadmin,
    )
    webhooks.save_webhook(
        webhook=ding, unit=cast.market_a, kind="dingtalk", clear_secret=True, by=cast.sysadmin
    )
    ding.refresh_from_db()
    assert ding.secret == "" and ding.url.endswith("access_token=t")
    # Changing the type re-checks the kept address against the new type's host.
    with pytest.raises(ServiceError, match="qyapi.weixin.qq.com"):
        webhooks.save_webhook(webhook=ding, unit=cast.market_a, kind="wecom", by=cast.sysadmin)
    assert webhooks.masked_url(ding.url) == "https://oapi.dingtalk.com/robot/send?access_token=t…"


def test_the_list_page_does_not_query_per_robot(cast, login):
    client = login(cast.sysadmin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("core:robots")).status_code == 200
        return len(captured)

    hook = webhooks.save_webhook(
        unit=cast.market_a, kind="wecom", url="https://qyapi.weixin.qq.com/x?key=k", by=cast.sysadmin
    )
    webhooks.send_test(hook, by=cast.sysadmin)
    one = queries()
    for unit in (cast.centre_a, cast.centre_b):
        more = webhooks.save_webhook(
            unit=unit, kind="wecom", url="https://qyapi.weixin.qq.com/x?key=k", by=cast.sysadmin
        )
        webhooks.send_test(more, by=cast.sysadmin)
    assert queries() == one
