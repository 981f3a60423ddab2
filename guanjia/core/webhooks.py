"""Department group robots (钉钉 / 企业微信 群机器人): their configuration, and what they post.

`notify_unit()` writes one outbox message per active robot of a department in
the caller's transaction; the worker posts it (`post()`, called by
`outbox.send`). The payload holds an event name, an identifier and a link, and
the robot's id — never a secret, an appeal's title or text, or personal data
(DESIGN.md). The sentence the group reads is a fixed one per event, built at
send time from those three values.

The secret (DingTalk's 加签) and the address are read from the robot's row at
send time: a message written before the admin replaced a leaked token goes to
the new address, and a robot that was deactivated or deleted gets nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanjia.core import audit, outbox
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import DepartmentWebhook, OrgUnit, OutboxMessage, User
from guanjia.core.roles import Role

Kind = DepartmentWebhook.Kind

# The hosts the two robots are served from; another host needs the admin's explicit consent
# (a relay or an egress gateway on the intranet), so that a typing mistake cannot send elsewhere.
OFFICIAL_HOSTS = {Kind.DINGTALK: "oapi.dingtalk.com", Kind.WECOM: "qyapi.weixin.qq.com"}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
TIMEOUT_SECONDS = 10

TEST_EVENT = "test"

# One fixed sentence per event: the appeal's number and a link, nothing else. Every sentence starts
# with 【管家平台】, so that a DingTalk robot secured by the keyword 管家 accepts all of them.
EVENT_SENTENCES: dict[str, str] = {
    "dispatched": gettext_noop("【管家平台】诉求 #%(ref)s 已交办到本部门，请及时签收：%(link)s"),
    "reopened": gettext_noop("【管家平台】诉求 #%(ref)s 企业评价不满意，已退回本部门重办：%(link)s"),
    "warning": gettext_noop("【管家平台】预警：诉求 #%(ref)s 答复期限将至，请抓紧办理：%(link)s"),
    "yellow": gettext_noop("【管家平台】催办：诉求 #%(ref)s 已超过办理期限，请尽快办理：%(link)s"),
    "red": gettext_noop("【管家平台】红牌：诉求 #%(ref)s 超期 3 个工作日未答复：%(link)s"),
    "leader": gettext_noop("【管家平台】领导协调：诉求 #%(ref)s 已提请领导协调：%(link)s"),
    "manual": gettext_noop("【管家平台】督办：诉求 #%(ref)s 被督办，请加快办理：%(link)s"),
    # A sweep's digest for one department: `ref` is then how many appeals, the link the worklist tab.
    "warning.many": gettext_noop("【管家平台】预警：本部门 %(ref)s 件诉求答复期限将至，请抓紧办理：%(link)s"),
    "yellow.many": gettext_noop(
        "【管家平台】催办：本部门 %(ref)s 件诉求已超过办理期限，请尽快办理：%(link)s"
    ),
    "red.many": gettext_noop("【管家平台】红牌：本部门 %(ref)s 件诉求超期 3 个工作日未答复：%(link)s"),
    "extension_requested": gettext_noop("【管家平台】诉求 #%(ref)s 有延期申请待审批：%(link)s"),
    "answer_pending_approval": gettext_noop("【管家平台】诉求 #%(ref)s 的答复待部门负责人审核：%(link)s"),
    TEST_EVENT: gettext_noop("【管家平台】群机器人测试消息（机器人 #%(ref)s），收到即表示配置正确：%(link)s"),
}
GENERIC_SENTENCE = gettext_noop("【管家平台】诉求 #%(ref)s 有新的办理动态，请登录查看：%(link)s")


class RobotRefused(Exception):
    """The robot answered, but refused the message (errcode ≠ 0): retried like any failure."""


def message_text(event: str, ref: int, link: str) -> str:
    """The sentence a robot posts for an event: fixed wording, the number and the link only."""
    return _(EVENT_SENTENCES.get(event, GENERIC_SENTENCE)) % {"ref": ref, "link": link}


def _absolute(link: str) -> str:
    # A relative path on this site, as notifications take it: an absolute URL could point away.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError(f"robot link must be a relative path, got {link!r}")
    return f"{settings.SITE_URL}{link}" if link else f"{settings.SITE_URL}/"


def _payload(robot: DepartmentWebhook, *, event: str, ref: int, link: str) -> dict[str, Any]:
    return {"format": robot.kind, "webhook_id": robot.pk, "event": event, "ref": ref, "link": link}


@dataclass(frozen=True)
class UnitEvent:
    """Something a unit's robots should hear of: an event name, an appeal number and a relative link."""

    unit_id: int
    event: str
    ref: int
    link: str


def notify_unit(unit_id: int, *, event: str, ref: int, link: str) -> int:
    """Enqueue one message per active robot of the unit, in the caller's transaction; returns how many."""
    return notify_units([UnitEvent(unit_id, event, ref, link)])


def notify_units(events: list[UnitEvent]) -> int:
    """notify_unit for many events with one query for the robots and one insert (a sweep's batch)."""
    links = [_absolute(item.link) for item in events]  # refuse a bad link before anything is read
    robots: dict[int, list[DepartmentWebhook]] = {}
    units = {item.unit_id for item in events}
    for robot in DepartmentWebhook.objects.filter(unit_id__in=units, is_active=True).order_by("pk"):
        robots.setdefault(robot.unit_id, []).append(robot)
    messages = [
        outbox.message(
            OutboxMessage.Channel.WEBHOOK,
            robot.url,
            payload=_payload(robot, event=item.event, ref=item.ref, link=link),
        )
        for item, link in zip(events, links, strict=True)
        for robot in robots.get(item.unit_id, [])
    ]
    outbox.enqueue_many(messages)
    return len(messages)


# --- Sending (called by outbox.send in the worker) ----------------------------------------------


def _signed_url(url: str, secret: str, now: float | None = None) -> str:
    """DingTalk's 加签: timestamp in ms and sign = base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    timestamp = str(round((time.time() if now is None else now) * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A robot endpoint never redirects; following one would post the message to wherever it points.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def post(message: OutboxMessage) -> None:
    """Post one robot message; raises on failure, outbox.Undeliverable when the robot is gone."""
    payload = message.payload
    robot = DepartmentWebhook.objects.filter(pk=payload.get("webhook_id")).first()
    if robot is None:
        raise outbox.Undeliverable(_("群机器人已删除，消息不再发送"))
    if not robot.is_active and payload.get("event") != TEST_EVENT:
        raise outbox.Undeliverable(_("群机器人已停用，消息不再发送"))
    if robot.kind != payload.get("format"):
        raise outbox.Undeliverable(_("群机器人的类型已改变，消息不再发送"))
    text = message_text(
        str(payload.get("event", "")), int(payload.get("ref") or 0), str(payload.get("link", ""))
    )
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode("utf-8")
    url = robot.url
    if robot.kind == Kind.DINGTALK and robot.secret:
        url = _signed_url(url, robot.secret)
    request = urllib.request.Request(  # noqa: S310 - the address is a system admin's setting, checked on save
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    try:
        # Built per message: it reads the proxy variables (an egress proxy to reach the robots) as they are now.
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        # str(exc) names the status only; the address (with its access token) stays out of last_error.
        raise RuntimeError(f"robot answered HTTP {exc.code}") from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RobotRefused("robot answered something that is not JSON") from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise RobotRefused(f"errcode {errcode}: {str(errmsg)[:200]}")


# --- Configuration (the system admin's work) ----------------------------------------------------


def _require_sysadmin(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.SYSADMIN):
        raise NotAllowed(_("只有系统管理员可以配置群机器人"))


def local_endpoints_allowed() -> bool:
    """Plain-http loopback addresses, for a robot simulator while developing and testing."""
    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def check_url(url: str, kind: str, *, other_host: bool = False) -> str:
    """The robot address, refused with a reason unless it is https on the robot's own host.

    Another https host is accepted when the admin says so (`other_host`): a relay or
    gateway on the intranet. Plain http only to 127.0.0.1/localhost in debug or tests.
    """
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise ServiceError(_("Webhook 地址应以 https:// 开头"))
    if parts.username or parts.password or parts.fragment:
        raise ServiceError(_("Webhook 地址不能包含用户名、密码或 # 片段"))
    local = host in LOCAL_HOSTS and local_endpoints_allowed()
    if parts.scheme != "https" and not local:
        raise ServiceError(_("Webhook 地址必须使用 https"))
    official = OFFICIAL_HOSTS[Kind(kind)]
    if host != official and not local and not other_host:
        raise ServiceError(
            _("%(kind)s的地址应在 %(host)s 上；确需使用其他地址（如内网转发网关）时，请勾选“使用其他主机”")
            % {"kind": Kind(kind).label, "host": official}
        )
    return url


def masked_url(url: str) -> str:
    """The address with its token hidden: the access token lets anyone post to the group."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    shown = "&".join(f"{k}={v[:4]}…" if v else f"{k}=" for k, v in query)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{shown}" if shown else "")


def masked_secret(secret: str) -> str:
    if not secret:
        return ""
    return f"{secret[:3]}…{secret[-2:]}" if len(secret) > 8 else "…"


def _audit_detail(robot: DepartmentWebhook) -> dict[str, Any]:
    # Never the address or the secret themselves: the audit log is read by the auditor.
    return {
        "unit": robot.unit_id,
        "kind": robot.kind,
        "host": urllib.parse.urlsplit(robot.url).hostname,
        "is_active": robot.is_active,
        "has_secret": bool(robot.secret),
    }


def save_webhook(
    *,
    unit: OrgUnit,
    kind: str,
    url: str = "",
    secret: str = "",
    is_active: bool = True,
    other_host: bool = False,
    clear_secret: bool = False,
    webhook: DepartmentWebhook | None = None,
    by: User | None,
) -> DepartmentWebhook:
    """Create or change a department's robot. An empty url or secret keeps the current one."""
    _require_sysadmin(by)
    if unit.kind != OrgUnit.Kind.DEPARTMENT:
        raise ServiceError(_("群机器人只能配置给部门"))
    kind = Kind(kind)
    url = url.strip()
    secret = secret.strip()
    if webhook is None and not url:
        raise ServiceError(_("请填写 Webhook 地址"))
    if webhook is not None and not url and kind != webhook.kind:
        url = webhook.url  # the kept address must suit the new kind as well
    if url:
        url = check_url(url, kind, other_host=other_host)
    if secret and kind != Kind.DINGTALK:
        raise ServiceError(_("只有钉钉群机器人使用加签密钥；企业微信群机器人请留空"))
    clash = DepartmentWebhook.objects.filter(unit=unit, kind=kind)
    if webhook is not None:
        clash = clash.exclude(pk=webhook.pk)
    if clash.exists():
        raise ServiceError(
            _("%(unit)s 已配置%(kind)s，请修改原有配置") % {"unit": unit.name, "kind": kind.label}
        )
    with transaction.atomic():
        before = _audit_detail(webhook) if webhook is not None else None
        robot = webhook or DepartmentWebhook()
        url_changed = bool(url) and url != robot.url
        robot.unit, robot.kind, robot.is_active = unit, kind, is_active
        if url:
            robot.url = url
        if secret:
            robot.secret = secret
        elif clear_secret or kind != Kind.DINGTALK:
            robot.secret = ""
        try:
            with transaction.atomic():
                robot.save()
        except IntegrityError as exc:
            raise ServiceError(
                _("%(unit)s 已配置%(kind)s，请修改原有配置") % {"unit": unit.name, "kind": kind.label}
            ) from exc
        audit.record(
            by,
            "webhook.update" if before else "webhook.create",
            robot,
            summary=f"{'修改' if before else '新建'}{unit.name}的{kind.label}",
            detail={
                **_audit_detail(robot),
                "before": before,
                "url_changed": url_changed,
                "secret_changed": bool(secret)
                or (before is not None and before["has_secret"] and not robot.secret),
                "other_host": other_host,
            },
        )
    return robot


def set_webhook_active(webhook: DepartmentWebhook, active: bool, *, by: User | None) -> None:
    """Deactivate (messages not yet sent are then dropped) or reactivate a robot."""
    _require_sysadmin(by)
    with transaction.atomic():
        DepartmentWebhook.objects.filter(pk=webhook.pk).update(is_active=active)
        webhook.is_active = active
        audit.record(
            by,
            "webhook.enable" if active else "webhook.disable",
            webhook,
            summary=f"{'启用' if active else '停用'}{webhook.unit.name}的{webhook.get_kind_display()}",
            detail=_audit_detail(webhook),
        )


def delete_webhook(webhook: DepartmentWebhook, *, by: User | None) -> None:
    _require_sysadmin(by)
    with transaction.atomic():
        detail = _audit_detail(webhook)
        pk = webhook.pk
        if not DepartmentWebhook.objects.filter(pk=pk).delete()[0]:
            raise ServiceError(_("该群机器人已被删除"))
        audit.record(
            by,
            "webhook.delete",
            object_type="core.departmentwebhook",
            object_id=str(pk),
            summary=f"删除{webhook.unit.name}的{webhook.get_kind_display()}",
            detail=detail,
        )


def send_test(webhook: DepartmentWebhook, *, by: User | None) -> OutboxMessage:
    """Enqueue a test message to one robot (active or not: the admin checks it before switching it on)."""
    _require_sysadmin(by)
    with transaction.atomic():
        message = outbox.enqueue(
            OutboxMessage.Channel.WEBHOOK,
            webhook.url,
            payload=_payload(webhook, event=TEST_EVENT, ref=webhook.pk, link=_absolute("/")),
        )
        audit.record(
            by,
            "webhook.test",
            webhook,
            summary=f"向{webhook.unit.name}的{webhook.get_kind_display()}发送测试消息",
            detail={"message": message.pk},
        )
    return message


def last_deliveries(webhook_ids: Iterable[int]) -> dict[int, OutboxMessage]:
    """Each robot's newest outbox message, in two queries whatever the number of robots."""
    ids = list(webhook_ids)
    if not ids:
        return {}
    of_robot = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK).annotate(
        robot_id=Cast(KeyTextTransform("webhook_id", "payload"), IntegerField())
    )
    newest = (
        DepartmentWebhook.objects.filter(pk__in=ids)
        .annotate(last_id=Subquery(of_robot.filter(robot_id=OuterRef("pk")).order_by("-id").values("id")[:1]))
        .values_list("pk", "last_id")
    )
    by_message = {last_id: pk for pk, last_id in newest if last_id is not None}
    return {by_message[m.pk]: m for m in OutboxMessage.objects.filter(pk__in=list(by_message))}
